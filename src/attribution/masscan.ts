/**
 * Masscan (github.com/robertdavidgraham/masscan): every probe's IP ID is the low 16 bits of
 * destination ^ destination port ^ its cookie. For TCP SYN the cookie is the sequence number —
 * in every version (release 1.3.2: window 1024, no options; master since late 2023: window 1025,
 * MSS 1460; neither is needed by the rule). For its DNS probes (UDP to port 53) the cookie's low
 * 16 bits are the query's transaction id (the payload's first two bytes). Its ICMP echo requests
 * carry a second cookie (of other inputs) as identifier and sequence, so their IP ID cannot be
 * checked from the packet; other UDP payloads are not looked at. IPv4 only (the IP ID).
 *
 * Chance: 2^-16 a packet (a random IP ID); two matched packets attribute an event.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { PacketBatch } from "../decode/packet_batch.ts";
 * import { masscan } from "./masscan.ts";
 * const b = new PacketBatch(1);
 * b.traffic[0] = 11; // TCPSYN
 * b.dst[0] = 0x0a4d0001;
 * b.dstPort[0] = 80;
 * b.tcpSeq[0] = 0x9abcdef0;
 * b.ipId[0] = (0x0a4d0001 ^ 80 ^ 0x9abcdef0) & 0xffff;
 * equal(masscan.test(b, 0), 1);
 * b.ipId[0] ^= 0x8000;
 * equal(masscan.test(b, 0), 0);
 * ```
 * @module
 */

import { Traffic } from "../decode/traffic.ts";
import { isZero } from "../fingerprints/fingerprint.ts";
import type { Tool } from "./tool.ts";

/** Masscan's SYN probes. */
export const masscan: Tool = {
  name: "masscan",
  label: "Masscan",
  versions: "1.0 – 1.3.2 and master (1.3.9-integration)",
  rule: "SYN: IP ID = (destination ^ destination port ^ sequence number) & 0xffff; UDP to port " +
    "53: IP ID = (destination ^ 53 ^ DNS transaction id) & 0xffff",
  traffic: [Traffic.TCPSYN, Traffic.UDP],
  ipv6: false,
  chance: 2 ** -16,
  test: (b, i) => {
    if (b.traffic[i] === Traffic.TCPSYN) {
      return isZero(((b.dst[i] ^ b.dstPort[i] ^ b.tcpSeq[i]) & 0xffff) ^ b.ipId[i]);
    }
    // UDP: a DNS query (two payload bytes at least) whose id ties to the IP ID.
    const h = b.udpHead[i];
    return b.dstPort[i] !== 53 || h < 0x20000
      ? 0
      : isZero(((b.dst[i] ^ 53 ^ h) & 0xffff) ^ b.ipId[i]);
  },
};

/**
 * Masscan (github.com/robertdavidgraham/masscan), TCP SYN: the IP ID is the low 16 bits of
 * destination ^ destination port ^ sequence number — in every version (release 1.3.2: window
 * 1024, no options; master since late 2023: window 1025, MSS 1460; neither is needed by the
 * rule). IPv4 only (the IP ID). Masscan's UDP and ICMP probes are not looked at: their formulas
 * are not verified on captures.
 *
 * Chance: 2^-16 a packet (a random IP ID); two matched packets attribute an event.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { PacketBatch } from "../decode/packet_batch.ts";
 * import { masscan } from "./masscan.ts";
 * const b = new PacketBatch(1);
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
  rule: "SYN: IP ID = (destination ^ destination port ^ sequence number) & 0xffff",
  traffic: [Traffic.TCPSYN],
  ipv6: false,
  chance: 2 ** -16,
  test: (b, i) => isZero(((b.dst[i] ^ b.dstPort[i] ^ b.tcpSeq[i]) & 0xffff) ^ b.ipId[i]),
};

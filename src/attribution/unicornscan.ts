/**
 * unicornscan (unicornscan.org, 0.4.x): the sequence number is a per-scan key XORed with the
 * destination and with (destination port << 16) + source port, so sequence ^ destination ^
 * ((destination port << 16) + source port) is one constant over a scan. Its shape is its default
 * profile's SYN: window 16384 and the options MSS, NOP, NOP, SACK-permitted, NOP, WS 0, NOP, NOP,
 * timestamp (TTL 64 is not needed); other profiles are not recognised. A rule about a sequence:
 * a packet of that shape matches when that value equals the event's previous such packet's, sent
 * to another destination. IPv4 only.
 *
 * Chance: 2^-32 a matched packet; one attributes an event.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { PacketBatch } from "../decode/packet_batch.ts";
 * import { unicornscan } from "./unicornscan.ts";
 * const b = new PacketBatch(2);
 * const key = 0x5eed1234;
 * b.allocExtras();
 * for (const [i, dst] of [0x0a000001, 0x0a000002].entries()) {
 *   b.dst[i] = dst;
 *   b.tcpWindow[i] = 16384;
 *   b.tcpOptLen[i] = 24;
 *   b.tcpOpts[i] = 0x32252422; // MSS NOP NOP SACK NOP WS NOP NOP (then the timestamp)
 *   b.tcpWscale[i] = 0;
 *   b.dstPort[i] = 80;
 *   b.srcPort[i] = 40000 + i;
 *   b.tcpSeq[i] = (key ^ dst ^ ((80 << 16) + 40000 + i)) >>> 0;
 * }
 * equal(unicornscan.test(b, 0), 1);
 * equal(unicornscan.value?.(b, 0), unicornscan.value?.(b, 1));
 * ```
 * @module
 */

import { Traffic } from "../decode/traffic.ts";
import { isZero } from "../fingerprints/fingerprint.ts";
import type { Tool } from "./tool.ts";

/** unicornscan's SYN probes. */
export const unicornscan: Tool = {
  name: "unicornscan",
  label: "unicornscan",
  versions: "0.4.x",
  rule: "SYN of the default profile (window 16384; MSS, NOP, NOP, SACK, NOP, WS 0, NOP, NOP, " +
    "timestamp) whose sequence ^ destination ^ ((destination port << 16) + source port) equals " +
    "the previous such packet's, to another destination",
  traffic: [Traffic.TCPSYN],
  ipv6: false,
  chance: 2 ** -32,
  // The option columns exist only for rows with options: not read for the others.
  test: (b, i) =>
    b.tcpOptLen[i] !== 24 ? 0 : isZero(b.tcpWindow[i] ^ 16384) &
      isZero(b.tcpOpts[i] ^ 0x32252422) & isZero(b.tcpWscale[i]),
  value: (b, i) => (b.tcpSeq[i] ^ b.dst[i] ^ ((b.dstPort[i] << 16) + b.srcPort[i])) >>> 0,
};

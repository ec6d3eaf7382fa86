/**
 * unicornscan (unicornscan.org, 0.4.x): the sequence number is a per-scan key XORed with the
 * destination and with (destination port << 16) + source port, so sequence ^ destination ^
 * ((destination port << 16) + source port) is one constant over a scan (its default profile:
 * TTL 64, window 16384, MSS, NOP, NOP, SACK-permitted, NOP, WS 0, NOP, NOP, timestamp — not
 * needed by the rule). A rule about a sequence: a packet matches when that value equals the
 * event's previous packet's, sent to another destination. Packets whose sequence number is
 * their destination (Mirai's, for which the value is constant too) are not of its shape.
 * IPv4 only.
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
 * for (const [i, dst] of [0x0a000001, 0x0a000002].entries()) {
 *   b.dst[i] = dst;
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
  rule: "SYN: sequence ^ destination ^ ((destination port << 16) + source port) equal to the " +
    "previous packet's, to another destination (sequence ≠ destination)",
  traffic: [Traffic.TCPSYN],
  ipv6: false,
  chance: 2 ** -32,
  test: (b, i) => isZero(b.tcpSeq[i] ^ b.dst[i]) ^ 1,
  value: (b, i) => (b.tcpSeq[i] ^ b.dst[i] ^ ((b.dstPort[i] << 16) + b.srcPort[i])) >>> 0,
};

/**
 * Masscan: the IP ID is the low 16 bits of destination ^ destination port ^ sequence number
 * (Merit's `Masscan`).
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { PacketBatch } from "../decode/packet_batch.ts";
 * import { masscan } from "./masscan.ts";
 * const b = new PacketBatch(1);
 * b.dst[0] = 0x0a000001;
 * b.dstPort[0] = 23;
 * b.tcpSeq[0] = 0x12345678;
 * b.ipId[0] = (0x0a000001 ^ 23 ^ 0x12345678) & 0xffff;
 * equal(masscan.test(b, 0), 1);
 * b.ipId[0] ^= 1;
 * equal(masscan.test(b, 0), 0);
 * ```
 * @module
 */

import { Traffic } from "../decode/traffic.ts";
import { type Fingerprint, isZero } from "./fingerprint.ts";

/** IP ID = (dst ^ dport ^ seq) & 0xffff on every TCP SYN. */
export const masscan: Fingerprint = {
  name: "masscan",
  label: "Masscan",
  key: "Masscan",
  traffic: [Traffic.TCPSYN],
  test: (b, i) => isZero(((b.dst[i] ^ b.dstPort[i] ^ b.tcpSeq[i]) & 0xffff) ^ b.ipId[i]),
};

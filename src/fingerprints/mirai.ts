/**
 * Mirai: the TCP sequence number equals the destination address (Merit's `Mirai`).
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { PacketBatch } from "../decode/packet_batch.ts";
 * import { mirai } from "./mirai.ts";
 * const b = new PacketBatch(1);
 * b.dst[0] = 0xc0a80001;
 * b.tcpSeq[0] = 0xc0a80001;
 * equal(mirai.test(b, 0), 1);
 * b.tcpSeq[0] = 0x40a80001; // the top bit off
 * equal(mirai.test(b, 0), 0);
 * ```
 * @module
 */

import { Traffic } from "../decode/traffic.ts";
import { type Fingerprint, isZero } from "./fingerprint.ts";

/** Sequence number = destination on every TCP SYN. */
export const mirai: Fingerprint = {
  name: "mirai",
  label: "Mirai",
  key: "Mirai",
  traffic: [Traffic.TCPSYN],
  test: (b, i) => isZero(b.tcpSeq[i] ^ b.dst[i]),
};

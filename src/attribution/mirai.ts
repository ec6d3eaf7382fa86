/**
 * Mirai and its variants, TCP SYN: the sequence number is the destination address (bots scan
 * 23/2323 and, in variants, 80, 8080, 8081, 8181, 9000, 5555, 7547, 8443, 37215; no options,
 * TTL 64, a fixed window and source port per bot — not needed by the rule). IPv4 only.
 *
 * Chance: 2^-32 a packet (a random sequence number); one matched packet attributes an event.
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
 * b.tcpSeq[0] = 0xc0a80000; // the lowest bit off
 * equal(mirai.test(b, 0), 0);
 * ```
 * @module
 */

import { Traffic } from "../decode/traffic.ts";
import { isZero } from "../fingerprints/fingerprint.ts";
import type { Tool } from "./tool.ts";

/** Mirai's SYN probes. */
export const mirai: Tool = {
  name: "mirai",
  label: "Mirai",
  versions: "Mirai (2016) and its variants",
  rule: "SYN: sequence number = destination address",
  traffic: [Traffic.TCPSYN],
  ipv6: false,
  chance: 2 ** -32,
  test: (b, i) => isZero(b.tcpSeq[i] ^ b.dst[i]),
};

/**
 * A scanner fingerprint: a test of one packet, true of an event when every packet of it passes
 * (as Merit's `Zmap`, `Masscan` and `Mirai` fields). Each rule lives in a file of its own and is
 * listed once in `registry.ts`; the event table, state files, JSON, `count` and `timeseries`
 * follow that list.
 *
 * @module
 */

import type { PacketBatch } from "../decode/packet_batch.ts";

/**
 * One rule.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import type { Fingerprint } from "./fingerprint.ts";
 * import { Traffic } from "../decode/traffic.ts";
 * import { isZero } from "./fingerprint.ts";
 * // IP ID 0 on every SYN: 1 when packet i matches, else 0, without branches.
 * const idZero: Fingerprint = {
 *   name: "idzero",
 *   label: "IdZero",
 *   key: "IdZero",
 *   traffic: [Traffic.TCPSYN],
 *   test: (b, i) => isZero(b.ipId[i]),
 * };
 * equal(idZero.key, "IdZero");
 * ```
 */
export interface Fingerprint {
  /** Lower-case name: `count`'s file names, `timeseries --by fingerprint`, the API. */
  readonly name: string;
  /** Name in `count`'s summary (e.g. "ZMap"). */
  readonly label: string;
  /** JSON key of the event field (Merit's spelling for the original three, e.g. "Zmap"). */
  readonly key: string;
  /** Traffic codes of the IPv4 events it applies to; other events never have it. */
  readonly traffic: readonly number[];
  /**
   * 1 if packet `i` of the batch matches, else 0 — computed without branches: which scanner sent
   * a packet is unpredictable, and a mispredicted test costs more than the arithmetic (~13 ns a
   * packet measured). Called for every IPv4 packet of an event it applies to.
   */
  readonly test: (b: PacketBatch, i: number) => number;
}

/**
 * 1 if the 32-bit value `x` is 0, else 0, without a branch (`x | -x` has its sign bit set for
 * every other value).
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { isZero } from "./fingerprint.ts";
 * equal(isZero(0), 1);
 * equal(isZero(0x80000000), 0);
 * equal(isZero(1), 0);
 * ```
 */
export function isZero(x: number): number {
  x |= 0;
  return ((x | -x) >>> 31) ^ 1;
}

/**
 * The fingerprint registry: every scanner rule, in the order of their JSON keys (after `RDNS`)
 * and of their bits (rule k is bit k: at most eight, a state file keeps them in a byte). To add a
 * rule: write its file (see {@link Fingerprint}) and list it here — the aggregator, state files,
 * JSON and NDJSON, `count` and `timeseries` follow this list.
 *
 * @module
 */

import type { PacketBatch } from "../decode/packet_batch.ts";
import type { Fingerprint } from "./fingerprint.ts";
import { masscan } from "./masscan.ts";
import { mirai } from "./mirai.ts";
import { zmap } from "./zmap.ts";

/**
 * Every registered fingerprint.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { FINGERPRINTS } from "./registry.ts";
 * deepEqual(FINGERPRINTS.map((f) => f.key), ["Zmap", "Masscan", "Mirai"]);
 * ```
 */
export const FINGERPRINTS: readonly Fingerprint[] = [
  zmap,
  masscan,
  mirai,
];

if (FINGERPRINTS.length > 8) throw new Error("at most 8 fingerprints (a state file keeps a byte)");

/**
 * Bits of every registered fingerprint.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { ALL_FINGERPRINTS } from "./registry.ts";
 * equal(ALL_FINGERPRINTS, 7);
 * ```
 */
export const ALL_FINGERPRINTS = (1 << FINGERPRINTS.length) - 1;

// Bits armed at the start of an IPv4 event, by traffic code.
const ARMED = new Uint8Array(256);
for (const [k, f] of FINGERPRINTS.entries()) for (const t of f.traffic) ARMED[t] |= 1 << k;

/**
 * The bits an event of this traffic starts with (set while every packet so far matched): those
 * of the rules that apply to it; none for IPv6.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { armedFingerprints } from "./registry.ts";
 * import { Traffic } from "../decode/traffic.ts";
 * equal(armedFingerprints(Traffic.TCPSYN, false), 7);
 * equal(armedFingerprints(Traffic.UDP, false), 0);
 * equal(armedFingerprints(Traffic.TCPSYN, true), 0);
 * ```
 */
export function armedFingerprints(traffic: number, v6: boolean): number {
  return v6 ? 0 : ARMED[traffic & 255];
}

const zero = (_b: PacketBatch, _i: number) => 0;

// One function testing every rule, each call site bound to one rule's test (so that the compiler
// inlines them into the aggregator's loop, as if written out there).
function compose(rules: readonly Fingerprint[]): (b: PacketBatch, i: number) => number {
  const [a = zero, b = zero, c = zero, d = zero, e = zero, f = zero, g = zero, h = zero] = rules
    .map((r) => r.test);
  if (rules.length <= 4) {
    return (x, i) => a(x, i) | (b(x, i) << 1) | (c(x, i) << 2) | (d(x, i) << 3);
  }
  return (x, i) =>
    a(x, i) | (b(x, i) << 1) | (c(x, i) << 2) | (d(x, i) << 3) | (e(x, i) << 4) |
    (f(x, i) << 5) | (g(x, i) << 6) | (h(x, i) << 7);
}

/**
 * The bits of the rules packet `i` of the batch matches (an event keeps `bits & match`).
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { matchFingerprints } from "./registry.ts";
 * import { PacketBatch } from "../decode/packet_batch.ts";
 * const b = new PacketBatch(1);
 * b.ipId[0] = 54321;
 * equal(matchFingerprints(b, 0) & 1, 1); // ZMap
 * ```
 */
export const matchFingerprints: (b: PacketBatch, i: number) => number = compose(FINGERPRINTS);

/**
 * The registered fingerprint named `name` (lower case), and its bit.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { fingerprintBit } from "./registry.ts";
 * equal(fingerprintBit("mirai"), 4);
 * equal(fingerprintBit("nosuch"), 0);
 * ```
 */
export function fingerprintBit(name: string): number {
  const k = FINGERPRINTS.findIndex((f) => f.name === name);
  return k < 0 ? 0 : 1 << k;
}

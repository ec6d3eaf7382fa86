/**
 * HyperLogLog's estimate from its registers (one byte each, a power of two of them): the raw
 * harmonic-mean estimate, or linear counting of the empty registers where that is the better one
 * (small counts). Shared by the DoS analysis's `DistinctCounter` and the signal series'
 * `SourceSketch`.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { hllEstimate } from "./hll.ts";
 * equal(hllEstimate(new Uint8Array(4096)), 0);
 * ```
 * @module
 */

/** The estimated number of distinct values behind registers `r`. */
export function hllEstimate(r: Uint8Array): number {
  const m = r.length;
  const alpha = 0.7213 / (1 + 1.079 / m);
  let sum = 0;
  let zeros = 0;
  for (let j = 0; j < m; j++) {
    sum += 2 ** -r[j];
    if (r[j] === 0) zeros++;
  }
  const e = alpha * m * m / sum;
  return Math.round(e <= 2.5 * m && zeros > 0 ? m * Math.log(m / zeros) : e);
}

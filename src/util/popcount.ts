/**
 * Bits set in a 32-bit word (the SWAR count: no table, no loop).
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { popcount } from "./popcount.ts";
 * equal(popcount(0b1011), 3);
 * equal(popcount(-1), 32);
 * ```
 *
 * @module
 */

/** The number of bits set in the low 32 bits of `x`. */
export function popcount(x: number): number {
  x = x - ((x >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
}

/**
 * How an event's IP IDs behave (its `IPIDClass`), from consecutive packets (IPv4 only): each
 * pair is equal, a small step up (1 to 1,024, modulo 2^16: a counter, with other traffic in
 * between) or anything else.
 *
 * - "constant": every pair equal (Linux's 0 with DF, old ZMap's 54321);
 * - "incrementing": every pair a small step up (a host-wide or per-destination counter);
 * - "random": at most one pair in 4,096 equal and at most one in 16 (plus one) a small step —
 *   what random IDs give (1 in 65,536 and 1 in 64 a pair): masscan, ZMap ≥ 4.1, nmap;
 * - "mixed": anything else (several senders behind one address, or a changing stack);
 * - "" for fewer than two packets, or IPv6.
 *
 * @module
 */

/** The largest step (modulo 2^16) between consecutive IP IDs that counts as incrementing. */
export const IPID_SMALL_STEP = 1024;

/**
 * The class from the number of consecutive pairs, the pairs equal and the pairs a small step.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { ipIdClass } from "./ipid_class.ts";
 * equal(ipIdClass(0, 0, 0), "");
 * equal(ipIdClass(9, 9, 0), "constant");
 * equal(ipIdClass(9, 0, 9), "incrementing");
 * equal(ipIdClass(1000, 0, 20), "random");
 * equal(ipIdClass(1000, 500, 20), "mixed");
 * ```
 */
export function ipIdClass(pairs: number, equal: number, step: number): string {
  if (pairs === 0) return "";
  if (equal === pairs) return "constant";
  if (step === pairs) return "incrementing";
  if (equal <= Math.floor(pairs / 4096) && step <= Math.floor(pairs / 16) + 1) return "random";
  return "mixed";
}

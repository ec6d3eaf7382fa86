/**
 * Sorted, distinct addresses as runs of consecutive ones: [start, length] pairs — the form state
 * files and packet statistics store a sweep's destinations in.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { runsOf } from "./runs.ts";
 * const [runs, n] = runsOf(Uint32Array.of(1, 2, 3, 7, 9, 10));
 * deepEqual([...runs.subarray(0, 2 * n)], [1, 3, 7, 1, 9, 2]);
 * ```
 *
 * @module
 */

/** The runs of `a` (ascending, distinct): [start, length] pairs in the first 2·n numbers; n. */
export function runsOf(a: ArrayLike<number>): [Float64Array, number] {
  const runs = new Float64Array(2 * a.length);
  let n = 0;
  for (let i = 0; i < a.length;) {
    const start = a[i];
    let len = 1;
    while (i + len < a.length && a[i + len] === start + len) len++;
    runs[2 * n] = start;
    runs[2 * n + 1] = len;
    n++;
    i += len;
  }
  return [runs, n];
}

// Reservoir sampling by skip counting. Algorithm R keeps packet k (k > S) with probability S/k,
// which costs a random number per packet. Instead, after each kept packet we draw the number of
// the next kept one directly: with k packets seen, the chance that none of k+1 .. m is kept is
//   g(m) = Π_{i<S} (k − i) / (m − i),
// so next = the smallest m > k with g(m) < u for u uniform in (0, 1]. The per-packet cost is
// then one comparison with the stored number, and the samples have Algorithm R's distribution.

/** One xorshift32 step (state must be non-zero). */
export function xorshift(x: number): number {
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  return x >>> 0;
}

function survive(k: number, m: number, S: number): number {
  let g = 1;
  for (let i = 0; i < S; i++) g *= (k - i) / (m - i);
  return g;
}

/**
 * The number of the next packet to keep after `k` packets (k ≥ S ≥ 1), for `u` in (0, 1].
 * Starts from the continuous solution and corrects it by exact steps.
 */
export function nextKept(k: number, S: number, u: number): number {
  const c = (S - 1) / 2;
  let m = Math.max(k + 1, Math.floor(c + (k - c) * Math.pow(u, -1 / S)));
  while (m > k + 1 && survive(k, m - 1, S) < u) m--;
  while (survive(k, m, S) >= u) m++;
  return m;
}

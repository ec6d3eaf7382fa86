import { equal, ok } from "node:assert/strict";
import { nextKept, xorshift } from "../../src/aggregation/_reservoir.ts";

// Runs the skip-counting sampler over n items with S slots, as the aggregator does.
function sampleOnce(n: number, S: number, seed: number): number[] {
  const slots: number[] = [];
  let x = seed;
  let next = 1;
  for (let k = 1; k <= n; k++) {
    if (k !== next) continue;
    let j = k - 1;
    if (k > S) {
      x = xorshift(x);
      j = Math.floor(x * 2.3283064365386963e-10 * S);
    }
    slots[j] = k;
    if (k < S) next = k + 1;
    else {
      x = xorshift(x);
      next = nextKept(k, S, x * 2.3283064365386963e-10);
    }
  }
  return slots;
}

Deno.test("skip counting keeps every item with probability S/n (chi-square over positions)", () => {
  for (const [n, S] of [[60, 3], [200, 1], [50, 10]]) {
    const runs = 20000;
    const count = new Array(n + 1).fill(0);
    for (let r = 1; r <= runs; r++) {
      const got = sampleOnce(n, S, Math.imul(r, 0x9e3779b1) >>> 0 || 1);
      equal(got.length, S);
      equal(new Set(got).size, S);
      for (const k of got) count[k]++;
    }
    const expected = (runs * S) / n;
    let chi = 0;
    for (let k = 1; k <= n; k++) chi += (count[k] - expected) ** 2 / expected;
    // n − 1 degrees of freedom; the 99.9th percentile is below 1.6 × (n − 1) + 25 for these n.
    ok(chi < 1.6 * (n - 1) + 25, `n=${n} S=${S}: chi-square ${chi.toFixed(1)}`);
  }
});

Deno.test("nextKept: the exact smallest m whose survival probability drops below u", () => {
  const survive = (k: number, m: number, S: number) => {
    let g = 1;
    for (let i = 0; i < S; i++) g *= (k - i) / (m - i);
    return g;
  };
  let x = 7;
  for (let t = 0; t < 5000; t++) {
    x = xorshift(x);
    const S = 1 + (x % 7);
    x = xorshift(x);
    const k = S + (x % 5000);
    x = xorshift(x);
    const u = x * 2.3283064365386963e-10;
    const m = nextKept(k, S, u);
    ok(m > k);
    ok(survive(k, m, S) < u, `k=${k} S=${S} u=${u} m=${m}`);
    ok(m === k + 1 || survive(k, m - 1, S) >= u, `k=${k} S=${S} u=${u} m=${m} not smallest`);
  }
  equal(nextKept(10, 3, 1), 11);
});

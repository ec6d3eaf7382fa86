import { deepEqual, equal } from "node:assert/strict";
import { SourceSet } from "../../src/analysis/_source_set.ts";

Deno.test("SourceSet keeps exactly the distinct sources (0, 2^32 − 1, text) through growth", () => {
  const s = new SourceSet();
  const ref = new Set<number | string>();
  let x = 3;
  for (let i = 0; i < 100000; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    const v: number | string = i % 97 === 0
      ? `2001:db8::${i % 300}`
      : i % 89 === 0
      ? [0, 0xffffffff, 1][i % 3]
      : x % 20000; // many repeats
    s.add(v);
    ref.add(v);
    if (i % 9973 === 0) equal(s.size, ref.size);
  }
  equal(s.size, ref.size);
  const p = s.pack();
  deepEqual(
    Array.from(p.u32),
    [...ref].filter((v) => typeof v === "number").sort((a, b) => +a - +b),
  );
  deepEqual(p.str, [...ref].filter((v) => typeof v === "string").sort());
});

import { deepEqual, equal, ok } from "node:assert/strict";
import { compareKeys, KeyTable } from "../../src/util/key_table.ts";
import { xorshift } from "../_helpers.ts";

Deno.test("KeyTable matches a Map under random add/delete, for 1- and 3-word keys", () => {
  for (const width of [1, 3]) {
    const t = new KeyTable(width, 4);
    const ref = new Map<string, number>(); // key -> value
    let vals = new Float64Array(t.capacity);
    let s = 12345;
    const rnd = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0);
    const key = new Uint32Array(width);
    for (let step = 0; step < 40000; step++) {
      for (let i = 0; i < width; i++) key[i] = rnd() % 3000;
      const k = key.join(",");
      if (rnd() % 3 === 0) {
        const e = t.find(key);
        equal(e >= 0, ref.has(k));
        if (e >= 0) {
          equal(vals[e], ref.get(k));
          const moved = t.delete(e);
          if (moved >= 0) vals[e] = vals[moved];
          ref.delete(k);
        }
      } else {
        const e = width === 1 ? t.add1(key[0]) : t.add(key);
        equal(t.added, !ref.has(k));
        if (t.capacity > vals.length) {
          const g = new Float64Array(t.capacity);
          g.set(vals);
          vals = g;
        }
        if (t.added) vals[e] = 0;
        vals[e]++;
        ref.set(k, (ref.get(k) ?? 0) + 1);
      }
      equal(t.size, ref.size);
    }
    for (const [k, v] of ref) {
      const e = t.find(Uint32Array.from(k.split(",").map(Number)));
      ok(e >= 0);
      equal(vals[e], v);
    }
  }
});

Deno.test("KeyTable add2 agrees with the generic add/find for two-word keys", () => {
  const t = new KeyTable(2, 4);
  const k = new Uint32Array(2);
  for (let i = 0; i < 5000; i++) {
    const a = (i * 2654435761) >>> 0;
    const b = (i % 7) << 16 | (i % 1000);
    const e = t.add2(a, b);
    ok(t.added);
    k[0] = a;
    k[1] = b;
    equal(t.find(k), e);
    equal(t.add(k), e);
    ok(!t.added);
  }
  for (let e = 4999; e >= 0; e -= 3) t.delete(e);
  for (let e = 0; e < t.size; e++) {
    k[0] = t.keys[2 * e];
    k[1] = t.keys[2 * e + 1];
    equal(t.add2(k[0], k[1]), e);
  }
});

Deno.test("sortedEntries: the order of compareKeys, for keys with shared prefixes, near ties and both widths", () => {
  const rnd = xorshift(99);
  for (const w of [2, 5]) {
    for (const size of [0, 1, 2, 3, 17, 1000, 20000]) {
      for (const shape of ["random", "shared prefix", "few values"]) {
        const t = new KeyTable(w, 16);
        const key = new Uint32Array(w);
        while (t.size < size) {
          for (let k = 0; k < w; k++) {
            key[k] = shape === "random"
              ? rnd(2 ** 32)
              : shape === "shared prefix"
              ? (k < w - 2 ? 0x20010db8 : k === w - 2 ? rnd(4) : rnd(2 ** 32))
              : rnd(3) * 0x40000000 + rnd(1024); // many keys agreeing on their top bits
          }
          t.add(key);
        }
        const want = Array.from({ length: t.size }, (_, e) => e)
          .sort((a, b) => compareKeys(t.keys, a * w, t.keys, b * w, w));
        deepEqual([...t.sortedEntries()], want, `${w} words, ${size} ${shape}`);
      }
    }
  }
});

import { equal, ok } from "node:assert/strict";
import { KeyTable } from "../../src/util/key_table.ts";

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

Deno.test("addHashed/findHashed with a hash made by another table of the width act as add/find", () => {
  for (const w of [3, 5]) {
    const a = new KeyTable(w, 4);
    const b = new KeyTable(w, 4);
    const other = new KeyTable(w, 1 << 16); // a different size: the hash is the key's alone
    const key = new Uint32Array(w);
    for (let i = 0; i < 5000; i++) {
      for (let k = 0; k < w; k++) key[k] = Math.imul(i % 3000, 0x9e3779b1 + k) >>> 0;
      const h = other.hash(key);
      b.touchHash(h);
      const ea = a.add(key);
      const added = a.added;
      equal(b.addHashed(key, 0, h), ea);
      equal(b.added, added);
      equal(b.findHashed(key, 0, h), a.find(key));
      equal(b.find(key), ea);
    }
    equal(a.size, 3000);
    equal(b.size, 3000);
    key.fill(7);
    equal(b.findHashed(key, 0, b.hash(key)), -1);
  }
});

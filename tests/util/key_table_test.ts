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

import { equal, ok } from "node:assert/strict";
import { TableArena } from "../../src/aggregation/_table_arena.ts";
import { xorshift } from "../_helpers.ts";

Deno.test("table arena: blocks never overlap, come back zeroed, merge with their buddies and let empty pages go", () => {
  const a = new TableArena();
  const rnd = xorshift(99);
  const held: { h: number; bits: number; tag: number }[] = [];
  let most = 0;
  for (let step = 0; step < 20000; step++) {
    if (held.length > 0 && (rnd(2) === 0 || held.length > 300)) {
      const { h, bits, tag } = held.splice(rnd(held.length), 1)[0];
      const page = a.page(h);
      const base = a.base(h);
      for (let i = 0; i < 1 << bits; i++) {
        if (page[base + i] !== tag) throw new Error(`block ${h} overwritten at word ${i}`);
      }
      a.give(bits, h);
    } else {
      const bits = 5 + rnd(10);
      const h = a.take(bits);
      const page = a.page(h);
      const base = a.base(h);
      ok(base % (1 << bits) === 0 && base + (1 << bits) <= page.length);
      for (let i = 0; i < 1 << bits; i++) {
        if (page[base + i] !== 0) throw new Error(`block ${h} handed out dirty`);
        page[base + i] = step + 1;
      }
      held.push({ h, bits, tag: step + 1 });
    }
    equal(a.inUse, held.length);
    most = Math.max(most, a.bytes);
  }
  for (const { h, bits } of held) a.give(bits, h);
  equal(a.inUse, 0);
  // Everything merged back into whole pages; all but a few spare ones were let go.
  ok(a.bytes <= 4 * 65536, `${a.bytes} bytes still held`);
  ok(most > 8 * 65536);
  // Small blocks use the memory big ones gave back (one size's peak is not kept apart).
  const big = [0, 1, 2, 3].map(() => a.take(14));
  for (const h of big) a.give(14, h);
  const before = a.bytes;
  const small = Array.from({ length: 2048 }, () => a.take(5));
  equal(a.bytes, before);
  for (const h of small) a.give(5, h);
});

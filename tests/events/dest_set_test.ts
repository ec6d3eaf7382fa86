import { deepEqual, equal, ok } from "node:assert/strict";
import { DestSets } from "../../src/events/dest_set.ts";

Deno.test("DestSets: exact counts through inline, array and bitmap containers; move and clear", () => {
  const s = new DestSets();
  const ref = new Map<number, Set<number>>();
  let x = 99;
  for (let i = 0; i < 200000; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    const slot = i % 7 === 0 ? 3 : i % 3; // slot 3 gets a sparse wide set, others dense
    const d = slot === 3 ? x : (0x0a000000 + (x & 0xfffff)) >>> 0;
    const before = s.count(slot);
    const r = s.add(slot, d);
    const set = ref.get(slot) ?? new Set();
    ref.set(slot, set);
    equal(r !== 0, !set.has(d));
    set.add(d);
    equal(s.count(slot), before + (r !== 0 ? 1 : 0));
  }
  for (const [slot, set] of ref) {
    equal(s.count(slot), set.size);
    equal(s.count24(slot), new Set([...set].map((d) => d >>> 8)).size);
    deepEqual(Array.from(s.values(slot)), [...set].sort((a, b) => a - b));
  }
  s.move(3, 9);
  equal(s.count(9), ref.get(3)!.size);
  equal(s.count(3), 0);
  s.clear(9);
  equal(s.count(9), 0);
  equal(s.add(9, 5), 3);
});

Deno.test("a scanner covering a whole /13 costs kilobytes", () => {
  const s = new DestSets();
  for (let i = 0; i < 1 << 19; i++) s.add(0, (0x0a000000 + ((i * 0x9e3779b1) & 0x7ffff)) >>> 0);
  equal(s.count(0), 1 << 19);
  equal(s.count24(0), 2048);
  ok(s.bytes(0) < 80 * 1024, `${s.bytes(0)} bytes`);
});

Deno.test("DestSets with bound rows, a wide inline area and tables reused after clear stay exact", () => {
  const slots = 64;
  const stride = 32;
  const rows = new Uint32Array(slots * stride);
  const s = new DestSets({ inline: 17 });
  s._bind(rows, stride, 14, slots);
  let x = 5;
  for (let round = 0; round < 6; round++) {
    const ref = new Map<number, Set<number>>();
    for (let i = 0; i < 40000; i++) {
      x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
      const slot = x % slots;
      // Slot sizes from a few addresses (inline) to thousands (hash sets, then containers).
      const span = 4 << (slot % 12);
      const d = (0x0a000000 + ((x >>> 8) % span) * 97) >>> 0;
      const set = ref.get(slot) ?? new Set();
      ref.set(slot, set);
      equal(s.add(slot, d) !== 0, !set.has(d));
      set.add(d);
    }
    for (const [slot, set] of ref) {
      equal(s.count(slot), set.size);
      equal(s.count24(slot), new Set([...set].map((d) => d >>> 8)).size);
      deepEqual(Array.from(s.values(slot)), [...set].sort((a, b) => a - b));
    }
    // Words outside the destination area are never touched.
    for (let slot = 0; slot < slots; slot++) {
      for (let w = 0; w < 14; w++) equal(rows[slot * stride + w], 0);
    }
    // End every set (tables go back to the pool) or move some; the next round reuses them.
    for (let slot = 0; slot < slots; slot++) {
      if (slot % 5 === 0 && slot + 1 < slots) s.move(slot, slot + 1);
      else s.clear(slot);
    }
    for (let slot = 0; slot < slots; slot++) s.clear(slot);
    for (let slot = 0; slot < slots; slot++) equal(s.count(slot), 0);
  }
});

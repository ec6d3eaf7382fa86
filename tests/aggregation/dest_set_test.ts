import { deepEqual, equal, ok } from "node:assert/strict";
import { DestSets } from "../../src/aggregation/dest_set.ts";
import { xorshift } from "../_helpers.ts";

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

Deno.test("deferred adds (push) give the same sets as add, through full logs, reads, clear and moves", () => {
  for (const log of [1, 7, 4096]) {
    const slots = 48;
    const s = new DestSets({ inline: 17, log });
    const ref = new Map<number, Set<number>>();
    const of = (slot: number) => ref.get(slot) ?? ref.set(slot, new Set()).get(slot)!;
    let x = 11;
    const next = () => x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    for (let i = 0; i < 60000; i++) {
      const r = next() % 1000;
      const slot = next() % slots;
      if (r < 2) { // an event ends: its pending adds go with it
        s.clear(slot);
        ref.delete(slot);
      } else if (r < 4) { // a swap-remove: `to`'s set is dropped, `from`'s pending adds follow
        const to = next() % slots;
        if (to === slot) continue;
        s.move(slot, to);
        ref.set(to, of(slot));
        ref.delete(slot);
      } else if (r < 10) { // a read in the middle applies that slot's pending adds
        equal(s.count(slot), of(slot).size);
        equal(s.count24(slot), new Set([...of(slot)].map((d) => d >>> 8)).size);
      } else {
        // Slot sizes from a few addresses (inline) to thousands (tables, then containers).
        const d = (0x0a000000 + (next() % (8 << (slot % 11))) * 131) >>> 0;
        if (r < 60) s.add(slot, d); // immediate and deferred adds mix freely
        else s.push(slot, d);
        of(slot).add(d);
      }
    }
    for (let slot = 0; slot < slots; slot++) {
      const set = of(slot);
      equal(s.count(slot), set.size, `log ${log}, slot ${slot}`);
      equal(s.count24(slot), new Set([...set].map((d) => d >>> 8)).size);
      deepEqual(Array.from(s.values(slot)), [...set].sort((a, b) => a - b));
    }
    // flush applies everything at once; a slot beyond the rows grows them on push.
    s.push(500, 0x0a000001);
    s.push(500, 0x0a000001);
    s.push(500, 0x0a000102);
    s.flush();
    equal(s.count(500), 2);
    equal(s.count24(500), 2);
    for (let slot = 0; slot <= 500; slot++) s.clear(slot);
    equal(s._tablesInUse, 0);
  }
});

Deno.test("deferred adds follow bound rows that the owner moves (swap-remove) and grows", () => {
  const stride = 32;
  let cap = 8;
  let rows = new Uint32Array(cap * stride);
  const s = new DestSets({ inline: 17, log: 64 });
  s._bind(rows, stride, 14, cap);
  for (let k = 0; k < 40; k++) s.push(2, (0x0a000000 + k * 300) >>> 0); // a medium set
  for (let k = 0; k < 5; k++) s.push(7, (0x0b000000 + k) >>> 0); // inline
  // The owner grows its rows (copying them) and rebinds: pending adds stay pending.
  const grown = new Uint32Array(16 * stride);
  grown.set(rows);
  rows = grown;
  cap = 16;
  s._bind(rows, stride, 14, cap);
  for (let k = 0; k < 3; k++) s.push(12, (0x0c000000 + k) >>> 0);
  // Entry 7 is removed: the last entry (12) takes its place, as EventTable.remove does.
  s.clear(7);
  rows.copyWithin(7 * stride, 12 * stride, 13 * stride);
  s._moved(12, 7);
  equal(s.count(7), 3);
  equal(s.count(12), 0);
  equal(s.count(2), 40);
  equal(s.count24(2), 40); // 300 apart: one address per /24
  deepEqual(Array.from(s.values(7)), [0x0c000000, 0x0c000001, 0x0c000002]);
});

// A random set of one of the shapes events have: a few addresses, a sparse spread, whole
// runs (a /24, a /16, most of a /13), holes in a dense sweep, address 0 and the top address.
function randomSet(seed: number): number[] {
  let x = seed;
  const rnd = (n: number) => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return x % n;
  };
  const out = new Set<number>();
  const base = (0x0a000000 + (rnd(8) << 16)) >>> 0;
  const shape = rnd(7);
  const n = [3, 12, 600, 3000, 5000, 30000, 1500][shape];
  for (let i = 0; i < n; i++) {
    if (shape >= 4 && rnd(10) > 0) { // runs, the state file's form of a sweep
      const start = base + rnd(shape === 6 ? 4096 : 1 << 19);
      for (let k = 0, len = 1 + rnd(shape === 5 ? 3000 : 300); k < len; k++) out.add(start + k);
      i += shape === 6 ? 100 : 40;
    } else out.add((base + rnd(shape >= 2 ? 1 << 19 : 1024)) >>> 0);
  }
  if (rnd(4) === 0) out.add(0);
  if (rnd(4) === 0) out.add(0xffffffff);
  return [...out].sort((a, b) => a - b);
}

function runsOf(v: number[]): number[] {
  const runs: number[] = [];
  for (let i = 0; i < v.length;) {
    let j = i + 1;
    while (j < v.length && v[j] === v[j - 1] + 1) j++;
    runs.push(v[i], j - i);
    i = j;
  }
  return runs;
}

function same(s: DestSets, slot: number, want: Set<number>, what: string): void {
  equal(s.count(slot), want.size, what);
  equal(s.count24(slot), new Set([...want].map((d) => d >>> 8)).size, what);
  const v = s.values(slot);
  const w = Uint32Array.from(want).sort();
  ok(v.length === w.length && v.every((x, i) => x === w[i]), `${what}: other addresses`);
}

Deno.test("addRuns and addAll (a state file's runs, two sets united) leave what adding each address does", () => {
  for (let round = 0; round < 60; round++) {
    const a = randomSet(round * 2 + 1);
    const b = randomSet(round * 2 + 2);
    const s = new DestSets();
    const o = new DestSets({ inline: round % 3 === 0 ? 17 : 8 });
    // Runs into an empty set and into one already holding a's addresses.
    s.addRuns(1, runsOf(a), runsOf(a).length / 2);
    same(s, 1, new Set(a), `round ${round}: runs into an empty set`);
    for (const d of a) s.add(2, d);
    s.addRuns(2, runsOf(b), runsOf(b).length / 2);
    same(s, 2, new Set([...a, ...b]), `round ${round}: runs into a set`);
    for (let i = 0; i < a.length; i += 3) s.add(6, a[i]); // a third of them there already
    s.addRuns(6, runsOf(a), runsOf(a).length / 2);
    same(s, 6, new Set(a), `round ${round}: runs over some of their addresses`);
    // b's set (its own sets, another inline size) united into a's, and into an empty slot.
    for (const d of b) o.push(5, d);
    for (const d of a) s.add(3, d);
    s.addAll(3, o, 5);
    same(s, 3, new Set([...a, ...b]), `round ${round}: united`);
    s.addAll(4, o, 5);
    same(s, 4, new Set(b), `round ${round}: into an empty slot`);
    same(o, 5, new Set(b), `round ${round}: the other set unchanged`);
    // The copies are sets of their own: adding to one leaves the other.
    s.add(4, 0x0b000001);
    equal(o.count(5), new Set(b).size);
  }
});

Deno.test("loaded sets (sorted until an address is added) unite, share, move and grow exactly", () => {
  for (let round = 0; round < 24; round++) {
    const a = randomSet(round * 2 + 101);
    const b = randomSet(round * 2 + 102);
    const A = new Set(a);
    const B = new Set(b);
    const AB = new Set([...a, ...b]);
    const s = new DestSets({ inline: 17 });
    const o = new DestSets();
    // A state file's two forms: runs, or (scattered addresses) the sorted addresses.
    const load = (x: DestSets, slot: number, v: number[]) =>
      (round + slot) % 2 === 0
        ? x.addRuns(slot, runsOf(v), runsOf(v).length / 2)
        : x.addSorted(slot, Uint32Array.from(v));
    load(s, 1, a);
    load(o, 2, b);
    // Loaded into loaded, both ways; into an empty slot (shared) and then changed on one side.
    s.addAll(1, o, 2);
    same(s, 1, AB, `round ${round}: loaded into loaded`);
    same(o, 2, B, `round ${round}: the other unchanged`);
    s.addAll(3, o, 2);
    same(s, 3, B, `round ${round}: loaded into an empty slot`);
    s.push(3, 0x0b000001);
    same(s, 3, new Set([...b, 0x0b000001]), `round ${round}: a shared set changed`);
    same(o, 2, B, `round ${round}: … its other slot not`);
    // A live set (added one by one, any shape) into a loaded one and the other way.
    for (const d of b) s.add(4, d);
    load(s, 5, a);
    s.addAll(5, s, 4);
    same(s, 5, AB, `round ${round}: live into loaded`);
    load(o, 6, a);
    s.addAll(4, o, 6);
    same(s, 4, AB, `round ${round}: loaded into live`);
    // Added to, one at a time and deferred; moved; cleared.
    load(s, 7, a);
    for (const d of b) s.push(7, d);
    same(s, 7, AB, `round ${round}: pushed onto loaded`);
    load(s, 8, b);
    s.add(8, a[0]);
    same(s, 8, new Set([...b, a[0]]), `round ${round}: added to loaded`);
    load(s, 9, a);
    s.move(9, 10);
    same(s, 10, A, `round ${round}: moved`);
    equal(s.count(9), 0);
    s.clear(10);
    equal(s.count(10), 0);
    load(s, 11, b);
    load(s, 11, a); // runs into a loaded set
    same(s, 11, AB, `round ${round}: runs into loaded`);
    // Overlapping: a set with itself, and with every other address of it.
    load(s, 12, a);
    s.addAll(12, s, 1);
    s.addAll(12, o, 6);
    same(s, 12, AB, `round ${round}: overlapping sets`);
    load(o, 13, a.filter((_, i) => i % 2 === 0));
    s.addAll(12, o, 13);
    same(s, 12, AB, `round ${round}: a subset`);
  }
  // Loaded halves of a whole /13 unite into a set of containers, as adding each address does.
  const s = new DestSets();
  const half = (odd: number) => {
    const v: number[] = [];
    for (let d = 0; d < 1 << 17; d++) if ((d & 1) === odd) v.push(0x0a000000 + d);
    return v;
  };
  s.addRuns(1, runsOf(half(0)), runsOf(half(0)).length / 2);
  s.addRuns(2, runsOf(half(1)), runsOf(half(1)).length / 2);
  s.addAll(1, s, 2);
  equal(s.count(1), 1 << 17);
  equal(s.count24(1), 512);
  ok(s.bytes(1) <= 20 * 8192, `${s.bytes(1)} bytes`);
  // Scattered addresses beyond a frozen set's size, given sorted, and added each: the same set.
  let x = 7;
  const scattered = new Set<number>();
  for (let i = 0; i < 150_000; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    scattered.add(0x0a000000 + (x >>> 13) + (i % 5 === 0 ? 1 << 20 : 0)); // a sparse /16 too
  }
  const sorted = Uint32Array.from(scattered).sort();
  s.addSorted(3, sorted.slice());
  same(s, 3, scattered, "scattered, given sorted");
  for (const d of sorted) s.add(4, d);
  equal(s.bytes(3), s.bytes(4));
  s.addSorted(4, sorted.slice(0, 1000)); // into a live set
  same(s, 4, scattered, "scattered, given again");
});

Deno.test("sets loaded from /16 bitmaps (a state file's dense form): big, frozen and into a set, then united", async () => {
  const { BITMAP_WORDS } = await import("../../src/aggregation/dest_set.ts");
  const bitmaps = (v: number[]) => {
    const highs = [...new Set(v.map((d) => d >>> 16))].sort((a, b) => a - b);
    const words = new Uint32Array(highs.length * BITMAP_WORDS);
    highs.forEach((h, i) => (words[i * BITMAP_WORDS] = h));
    for (const d of v) {
      const i = highs.indexOf(d >>> 16);
      words[i * BITMAP_WORDS + 1 + ((d & 0xffff) >>> 5)] |= 1 << (d & 31);
    }
    return { words, k: highs.length };
  };
  const dense = (seed: number, n: number, span: number) => {
    const rnd = xorshift(seed);
    const out = new Set<number>();
    while (out.size < n) out.add((0x0a000000 + rnd(span)) >>> 0);
    return [...out].sort((a, b) => a - b);
  };
  // Big (beyond 4,096), small enough to stay a sorted array, a handful.
  for (const [n, span] of [[200_000, 1 << 19], [3_000, 1 << 16], [5, 1 << 10]]) {
    const a = dense(n, n, span);
    const b = dense(n + 1, Math.ceil(n / 2), span);
    const s = new DestSets({ inline: 17 });
    const A = bitmaps(a);
    s.addBitmaps(1, A.words, A.k);
    same(s, 1, new Set(a), `${n}: loaded`);
    for (const d of b.slice(0, 3)) s.add(2, d); // into a set that has addresses already
    const B = bitmaps(b);
    s.addBitmaps(2, B.words, B.k);
    same(s, 2, new Set(b), `${n}: into a set`);
    s.addAll(1, s, 2);
    same(s, 1, new Set([...a, ...b]), `${n}: united`);
    s.add(1, 0x0b000000);
    equal(s.count(1), new Set([...a, ...b]).size + 1);
  }
});

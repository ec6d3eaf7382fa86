import { deepEqual, equal, ok } from "node:assert/strict";
import { SampleStore } from "../../src/aggregation/_sample_store.ts";
import { xorshift } from "../_helpers.ts";

Deno.test("sample store: frames of every length come back exactly, with and without the shared prefix", () => {
  const rnd = xorshift(7);
  const store = new SampleStore();
  const mac = Uint8Array.from({ length: 12 }, (_, i) => 0x10 + i);
  const held = new Map<number, Uint8Array>();
  const classes = new Set<number>();
  for (let step = 0; step < 20000; step++) {
    if (held.size > 0 && rnd(3) === 0) { // free one
      const [ref] = held.keys();
      store.free(ref);
      held.delete(ref);
      continue;
    }
    const len = [rnd(90), 60, 12, 11, 61, 74, 76, 77, 100 + rnd(200), 300 + rnd(2000)][rnd(10)];
    const frame = Uint8Array.from({ length: len }, () => rnd(256));
    if (rnd(4) !== 0) frame.set(mac.subarray(0, Math.min(len, 12))); // most start with the MACs
    const src = new Uint8Array(len + 40);
    const off = rnd(40);
    src.set(frame, off);
    const ref = store.put(src, off, len);
    src.fill(0xee); // the store holds its own copy
    held.set(ref, frame);
    if (ref > 0) classes.add((ref - 1) & 7);
  }
  deepEqual([...classes].sort(), [0, 1, 2, 3, 4]); // all slabs used, the prefix-less ones included
  for (const [ref, frame] of held) {
    deepEqual(store.get(ref, frame.length), frame);
    const out = new Uint8Array(frame.length + 9).fill(1);
    store.copyTo(ref, frame.length, out, 5);
    deepEqual(out.subarray(5, 5 + frame.length), frame);
    equal(out[4], 1);
    equal(out[5 + frame.length], 1);
  }
  ok(held.size > 1000);
});

Deno.test("sample store: word and byte copies agree for every alignment of source and destination", () => {
  const rnd = xorshift(11);
  const store = new SampleStore();
  const mac = Uint8Array.from({ length: 12 }, (_, i) => 0x20 + i);
  // Batches hand the store views into shared buffers: one view reused for many frames, views
  // that start off a word, frames at every offset.
  const backing = new Uint8Array(1 << 16);
  const views = [0, 1, 2, 3, 4].map((s) => backing.subarray(s, s + 30000));
  const held: [number, Uint8Array][] = [];
  for (let step = 0; step < 4000; step++) {
    const src = views[rnd(5)];
    const len = [60, 61, 62, 63, 54, 74, 12, 13, 100 + rnd(150), 300][rnd(10)];
    const off = rnd(20000);
    for (let k = 0; k < len; k++) src[off + k] = rnd(256);
    if (rnd(4) !== 0) src.set(mac.subarray(0, Math.min(len, 12)), off);
    // Near misses: the prefix with one bit off in any of its three words.
    if (len >= 12 && rnd(4) === 0) src[off + rnd(12)] ^= 1 << rnd(8);
    const ref = store.put(src, off, len);
    held.push([ref, src.slice(off, off + len)]);
  }
  backing.fill(0xee); // the store holds its own copies
  const out = new Uint8Array(600);
  for (const [ref, frame] of held) {
    const d = out.subarray(rnd(4));
    const at = rnd(8);
    d.fill(1);
    store.copyTo(ref, frame.length, d, at);
    deepEqual(d.subarray(at, at + frame.length), frame);
    equal(d[at + frame.length], 1);
    if (at > 0) equal(d[at - 1], 1);
    deepEqual(store.get(ref, frame.length), frame);
  }
});

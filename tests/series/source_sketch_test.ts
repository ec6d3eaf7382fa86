import { deepEqual, equal, ok, throws } from "node:assert/strict";
import {
  keyOf4,
  keyOf6,
  SKETCH_EXACT_LIMIT,
  SourceSketch,
} from "../../src/series/source_sketch.ts";

const k = new Uint32Array(2);
const add4 = (s: SourceSketch, a: number) => (keyOf4(a, k), s.add(k[0], k[1]));
const bytesOf = (s: SourceSketch) => {
  const b = new Uint8Array(s.byteLength);
  equal(s.write(new DataView(b.buffer), 0), b.length);
  return b;
};

Deno.test("IPv4 keys are one to one and never empty; IPv6 keys differ from every IPv4 key", () => {
  const seen = new Set<string>();
  for (const a of [0, 1, 2, 0x7fffffff, 0x80000000, 0xffffffff, 0x0a000001]) {
    keyOf4(a, k);
    ok(k[1] !== 0 && (k[1] & 1) === 0);
    seen.add(`${k[0]} ${k[1]}`);
  }
  equal(seen.size, 7);
  keyOf6(new Uint8Array(16), 0, k);
  equal(k[1] & 1, 1);
});

Deno.test("exact up to the limit, then a sketch within 3 %; merge is a union in any order", () => {
  const a = new SourceSketch();
  for (let i = 0; i < SKETCH_EXACT_LIMIT; i++) add4(a, i * 7);
  ok(a.exact);
  equal(a.count, SKETCH_EXACT_LIMIT);
  add4(a, 1); // not a multiple of 7: one more
  ok(!a.exact);
  for (const n of [5000, 100000, 1000000]) {
    const s = new SourceSketch();
    for (let i = 0; i < n; i++) add4(s, i * 2654435761);
    ok(Math.abs(s.count - n) / n < 0.03, `${s.count} for ${n}`);
  }
  // Two exact halves that overlap: their union exactly; in either order.
  const x = new SourceSketch();
  const y = new SourceSketch();
  for (let i = 0; i < 600; i++) add4(x, i);
  for (let i = 300; i < 900; i++) add4(y, i);
  const xy = new SourceSketch();
  xy.merge(x);
  xy.merge(y);
  const yx = new SourceSketch();
  yx.merge(y);
  yx.merge(x);
  equal(xy.count, 900);
  deepEqual(bytesOf(xy), bytesOf(yx));
  // Past the limit: the same registers whichever order.
  const big = [new SourceSketch(), new SourceSketch()];
  for (let i = 0; i < 3000; i++) add4(big[i % 2], i);
  const u1 = new SourceSketch();
  u1.merge(big[0]);
  u1.merge(big[1]);
  const u2 = new SourceSketch();
  u2.merge(big[1]);
  u2.merge(big[0]);
  deepEqual(bytesOf(u1), bytesOf(u2));
  ok(Math.abs(u1.count - 3000) < 150);
});

Deno.test("written and read back: equal sets give equal bytes; damage is refused", () => {
  const s = new SourceSketch();
  for (let i = 0; i < 100; i++) add4(s, i);
  const t = new SourceSketch();
  for (let i = 99; i >= 0; i--) add4(t, i);
  deepEqual(bytesOf(s), bytesOf(t));
  const b = bytesOf(s);
  const [r, end] = SourceSketch.read(new DataView(b.buffer), 0);
  equal(end, b.length);
  equal(r.count, 100);
  throws(() => SourceSketch.read(new DataView(b.buffer, 0, b.length - 1), 0), /cut short/);
  const dup = b.slice();
  dup.set(dup.subarray(4, 12), 12); // the second key = the first
  throws(() => SourceSketch.read(new DataView(dup.buffer), 0), /appears twice/);
  const many = new Uint8Array(8);
  new DataView(many.buffer).setUint32(0, SKETCH_EXACT_LIMIT + 1, true);
  throws(() => SourceSketch.read(new DataView(many.buffer), 0), /more than a sketch holds/);
  const h = new SourceSketch();
  for (let i = 0; i < 5000; i++) add4(h, i);
  const hb = bytesOf(h);
  equal(hb.length, 4 + 4096);
  equal(SourceSketch.read(new DataView(hb.buffer), 0)[0].count, h.count);
  hb[10] = 200;
  throws(() => SourceSketch.read(new DataView(hb.buffer), 0), /impossible registers/);
});

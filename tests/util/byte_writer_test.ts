import { deepEqual, equal } from "node:assert/strict";
import { ByteWriter } from "../../src/util/byte_writer.ts";
import { ByteReader } from "../../src/util/byte_reader.ts";

Deno.test("ByteWriter: little-endian fields, length-prefixed records, growth, pieces", () => {
  const w = new ByteWriter(16); // grows many times below
  w.begin();
  w.u8(0xab);
  w.u32(0xdeadbeef);
  w.f64(-1.5);
  w.u32s(Uint32Array.of(1, 0x01020304), 2); // bulk (a Uint32Array)
  w.u32s([5, 6, 7], 2); // one at a time (any numbers), only the first n
  w.f64s(Float64Array.of(2 ** 53, 0.25));
  w.json({ a: [1, "é"] });
  w.end();
  const at = w.reserve(3);
  w.buffer.set([9, 8, 7], at);
  const bytes = w.cut();
  equal(w.length, 0);
  const dv = new DataView(bytes.buffer);
  equal(dv.getUint32(0, true), bytes.length - 4 - 3); // the record's length, its prefix not in it
  deepEqual([...bytes.subarray(4, 9)], [0xab, 0xef, 0xbe, 0xad, 0xde]);
  deepEqual([...bytes.subarray(bytes.length - 3)], [9, 8, 7]);
  // Read back field by field.
  const r = new ByteReader(bytes, (what, at) => new RangeError(`${what} @${at}`));
  equal(r.count(1), bytes.length - 7);
  equal(r.u8(), 0xab);
  equal(r.u32(), 0xdeadbeef);
  equal(r.f64(), -1.5);
  deepEqual([...r.u32s(new Uint32Array(2))], [1, 0x01020304]);
  deepEqual([...r.u32s(new Float64Array(2))], [5, 6]);
  deepEqual([...r.f64s(new Float64Array(2))], [2 ** 53, 0.25]);
  deepEqual(r.json(), { a: [1, "é"] });
  deepEqual([...r.view(3)], [9, 8, 7]);
  r.end();
});

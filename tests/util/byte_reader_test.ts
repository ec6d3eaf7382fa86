import { deepEqual, equal, throws } from "node:assert/strict";
import { ByteReader } from "../../src/util/byte_reader.ts";

const fail = (what: string, at: number) => new RangeError(`${what} @${at}`);

Deno.test("ByteReader: every read beyond the end, lying count or bad JSON fails with the caller's error, at its offset", () => {
  const b = Uint8Array.of(2, 0, 0, 0, 0x7b, 0x7d, 0xff, 0xff, 0xff, 0x7f, 1);
  const r = new ByteReader(b, fail);
  deepEqual(r.json(), {});
  equal(r.p, 6);
  throws(() => r.count(1), /a count beyond the data @10/); // 2^31 - 1 items of a byte
  r.p = 6;
  throws(() => r.f64(), /the data ends early \(needs 8 more bytes\) @6/);
  throws(() => r.u32s(new Uint32Array(2)), /needs 8 more/);
  equal(r.p, 6); // a failed read does not move
  throws(() => r.end(), /5 bytes left over @6/);
  const bad = new ByteReader(Uint8Array.of(2, 0, 0, 0, 0x7b, 0x7b), fail, "a record is short");
  throws(() => bad.json(), /a header that is not JSON @4/);
  throws(
    () => new ByteReader(Uint8Array.of(1), fail, "a record is short").u32(),
    /a record is short/,
  );
});

Deno.test("ByteReader: reset onto records of one buffer; peek leaves the position; views and copies", () => {
  const b = Uint8Array.of(1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0);
  const dv = new DataView(b.buffer);
  const r = new ByteReader(new Uint8Array(0), fail);
  r.reset(b, dv, 4, 8);
  deepEqual([...r.peek(1, new Uint32Array(1))], [2]);
  equal(r.u32(), 2);
  throws(() => r.u8(), /ends early/); // the record ends at 8, the buffer does not
  r.reset(b, dv, 8, 12);
  const copy = r.bytes(2);
  const view = r.view(2);
  b[8] = 9;
  b[10] = 9;
  deepEqual([...copy, ...view], [3, 0, 9, 0]);
});

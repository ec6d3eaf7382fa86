import { deepEqual, equal, ok } from "node:assert/strict";
import { PacketBatch } from "../../src/decode/packet_batch.ts";

Deno.test("PacketBatch: the core columns are views of one buffer, aligned; grow keeps every row; a round trip through a worker", () => {
  const b = new PacketBatch(3);
  const cols = b.columns();
  const core = Object.entries(cols).filter(([, a]) => a.length > 0);
  ok(core.length >= 25);
  const buffers = new Set(core.map(([, a]) => a.buffer));
  equal(buffers.size, 1, "one buffer");
  for (const [k, a] of core) equal(a.byteOffset % a.BYTES_PER_ELEMENT, 0, `${k} aligned`);
  // Views do not overlap: writing each column's last row leaves the others.
  core.forEach(([, a], i) => (a[a.length - 1] = i + 1));
  core.forEach(([k, a], i) => equal(a[a.length - 1], i + 1, k));
  b.length = 3;
  b.tsSec[0] = 1603296000;
  b.src[2] = 0xc0000201;
  b.allocV6();
  b.src6[16 * 2] = 0x20;
  b.grow(100);
  equal(b.capacity, 100);
  deepEqual([b.tsSec[0], b.src[2], b.src6[32], b.ipFlags[2]], [
    1603296000,
    0xc0000201,
    0x20,
    core.findIndex(([k]) => k === "ipFlags") + 1,
  ]);
  equal(
    new Set(Object.values(b.columns()).filter((a) => a.length === 100).map((a) => a.buffer)).size,
    1,
  );
  // Transferred as the workers do (each buffer once), rebuilt on the other side.
  const sent = b.columns();
  const transfer = [
    ...new Set(Object.values(sent).filter((a) => a.byteLength > 0).map((a) => a.buffer)),
  ];
  const got = structuredClone(sent, { transfer: transfer as ArrayBuffer[] });
  const back = PacketBatch.fromColumns(3, "x", [], got);
  deepEqual([back.tsSec[0], back.src[2], back.src6[32], back.capacity], [
    1603296000,
    0xc0000201,
    0x20,
    100,
  ]);
  equal(b.tsSec.length, 0, "the sender's views are detached");
});

import { deepEqual, equal, throws } from "node:assert/strict";
import { readSeriesFile, SeriesFileWriter, writeSeriesFile } from "../../src/series/series_file.ts";
import { packState, unpackState } from "../../src/state/state_container.ts";
import { SourceSketch } from "../../src/series/source_sketch.ts";
import { DataError } from "../../src/errors.ts";

function sample(): Uint8Array {
  const sk = new SourceSketch();
  sk.add(5, 2);
  sk.add(6, 4);
  const w = new SeriesFileWriter(300, ["traffic"], ["total", "traffic=TCPSYN"]);
  w.bin(600, 2, true);
  w.cell(0, 10, 600, 2, sk);
  w.cell(1, 4, 240, 2, sk);
  w.bin(900, 1);
  w.cell(0, 3, 180, 1);
  return w.finish(600, 1000);
}

// The payload of a series file, changed by `f`, packed again.
function damaged(f: (p: Uint8Array, v: DataView, headEnd: number) => Uint8Array | void) {
  const p = unpackState(sample(), "DNSERIES", 1, "x").slice();
  const v = new DataView(p.buffer);
  return packState("DNSERIES", 1, f(p, v, 4 + v.getUint32(0, true)) ?? p);
}

const cells = (bytes: Uint8Array) => {
  const out: unknown[] = [];
  const f = readSeriesFile(bytes, "x");
  f.forEachCell((start, key, packets, b, sources, sketch) =>
    out.push([start, f.header.keys[key], packets, b, sources, sketch?.count ?? null])
  );
  return out;
};

Deno.test("a series file reads back what was written, and the same run gives the same bytes", () => {
  deepEqual(cells(sample()), [
    [600, "total", 10, 600, 2, 2],
    [600, "traffic=TCPSYN", 4, 240, 2, 2],
    [900, "total", 3, 180, 1, null],
  ]);
  deepEqual(sample(), sample());
  const h = readSeriesFile(sample(), "x").header;
  deepEqual([h.binSeconds, h.firstBin, h.lastBin, h.bins, h.firstPacket, h.lastPacket], [
    300,
    600,
    900,
    2,
    600,
    1000,
  ]);
  // writeSeriesFile orders cells by key, whatever the Map's order.
  const mk = (order: string[]) =>
    writeSeriesFile({
      binSeconds: 60,
      dims: [],
      firstPacket: 0,
      lastPacket: 59,
      late: 0,
      bins: [{
        start: 0,
        edge: false,
        cells: new Map(order.map((k) => [k, { packets: 1, bytes: 60, sources: 1, sketch: null }])),
      }],
    });
  deepEqual(cells(mk(["total", "tag=clean"])).map((c) => (c as unknown[])[1]), [
    "total",
    "tag=clean",
  ]);
});

Deno.test("damaged series files are refused with one line naming the file", () => {
  const cases: [string, Uint8Array, RegExp][] = [
    ["not a series file", packState("DNSTATE1", 1, new Uint8Array(8)), /magic|not a/],
    [
      "bin out of order",
      damaged((_p, v, o) => v.setFloat64(o + 13 + 2 * (24 + 4 + 16), 600, true)),
      /bin start 600 is not after the last/,
    ],
    ["unknown key", damaged((_p, v, o) => v.setUint32(o + 13, 9, true)), /impossible cell/],
    [
      "more sources than packets",
      damaged((_p, v, o) => v.setUint32(o + 13 + 20, 11, true)),
      /impossible cell/,
    ],
    [
      "sources disagree with the sketch",
      damaged((_p, v, o) => v.setUint32(o + 13 + 20, 3, true)),
      /disagree with its sketch/,
    ],
    ["cut short", damaged((p) => p.subarray(0, p.length - 5)), /cut short/],
    ["trailing bytes", damaged((p) => Uint8Array.from([...p, 0])), /bytes after the last bin/],
    ["header not JSON", damaged((p) => void (p[4] = 0x7b, p[5] = 0x7b)), /header is not JSON/],
  ];
  for (const [what, bytes, re] of cases) {
    throws(() => {
      const f = readSeriesFile(bytes, "/data/x.series");
      f.forEachCell(() => {});
    }, (e: Error) => {
      equal(e instanceof DataError, true, what);
      equal(/^[^\n]+$/.test(e.message) && re.test(e.message), true, `${what}: ${e.message}`);
      equal((e as DataError).file, "/data/x.series");
      return true;
    });
  }
  throws(() => new SeriesFileWriter(1, [], ["total"]).cell(0, 1, 1, 1), /more cells/);
});

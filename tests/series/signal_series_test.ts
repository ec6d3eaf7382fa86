import { deepEqual, equal, ok, rejects, throws } from "node:assert/strict";
import { SignalSeries } from "../../src/series/signal_series.ts";
import { SignalTable } from "../../src/series/signal_table.ts";
import { readSeriesFile } from "../../src/series/series_file.ts";
import { captureBatches } from "../../src/capture/open_capture.ts";
import type { PacketBatch } from "../../src/decode/packet_batch.ts";
import { tagPackets } from "../../src/attribution/tag_packets.ts";
import { trafficName } from "../../src/decode/traffic.ts";
import { TOOLS } from "../../src/attribution/tools.ts";
import { TAGS } from "../../src/tags/traffic_tags.ts";
import { formatIpv4, formatIpv6 } from "../../src/util/ip.ts";
import { generateFlood } from "../../src/synth/flood.ts";
import { DataError } from "../../src/errors.ts";
import { tempDir } from "../_helpers.ts";

const CAPTURES = [
  "testdata/demo/scan.pcap.gz",
  "testdata/real-scanners/scanners.pcap",
  "testdata/captures-modern/rsdos_synack.pcap",
];
const dir = tempDir("signal-series-");

// Every packet, decoded and tagged once, kept (batches of the pool are copied out by slicing).
async function packets(paths: string[]): Promise<PacketBatch[]> {
  const out: PacketBatch[] = [];
  for await (const b of await captureBatches(paths)) {
    tagPackets(b);
    out.push(b);
  }
  return out;
}

// The series counted the plain way: a Set of source texts per bin and key.
function naive(batches: PacketBatch[], bin: number) {
  const m = new Map<string, { packets: number; bytes: number; src: Set<string> }>();
  for (const b of batches) {
    for (let i = 0; i < b.length; i++) {
      if (b.ipVersion[i] === 0) continue;
      const start = Math.floor(b.tsSec[i] / bin) * bin;
      const src = b.ipVersion[i] === 4 ? formatIpv4(b.src[i]) : formatIpv6(b.src6, i * 16);
      const keys = ["total", `traffic=${trafficName(b.traffic[i])}`];
      TOOLS.forEach((t, k) => b.tools[i] & (1 << k) && keys.push(`tool=${t.name}`));
      TAGS.forEach((t, k) => b.tags[i] & (1 << k) && keys.push(`tag=${t}`));
      if ((b.tags[i] & 3) === 0) keys.push("tag=clean");
      for (const k of keys) {
        const id = `${start} ${k}`;
        let c = m.get(id);
        if (!c) m.set(id, c = { packets: 0, bytes: 0, src: new Set() });
        c.packets++;
        c.bytes += b.capLen[i];
        c.src.add(src);
      }
    }
  }
  return new Map([...m].map(([k, c]) => [k, [c.packets, c.bytes, c.src.size]]));
}

function cellsOf(s: SignalSeries) {
  const m = new Map<string, number[]>();
  for (const b of s.result()) {
    for (const [k, c] of b.cells) m.set(`${b.start} ${k}`, [c.packets, c.bytes, c.sources]);
  }
  return m;
}

const sorted = (m: Map<string, number[]>) => [...m].sort((a, b) => (a[0] < b[0] ? -1 : 1));

Deno.test("SignalSeries equals a plain count (Sets of addresses) on real captures, bin by bin", async () => {
  const batches = await packets(CAPTURES);
  for (const bin of [1, 60, 3600]) {
    const s = new SignalSeries({ binSeconds: bin });
    for (const b of batches) s.add(b);
    s.endInterval(Infinity);
    deepEqual(sorted(cellsOf(s)), sorted(naive(batches, bin)), `bins of ${bin} s`);
  }
});

Deno.test("IPv6 sources: exact within a run; two runs sharing a bin united within 5 % past the sketch's limit", async () => {
  const path = `${dir}/v6.pcap`;
  const f = Deno.openSync(path, { write: true, create: true, truncate: true });
  generateFlood({ packets: 20000, ipv6: true, gapMicros: 10 }, (b) => f.writeSync(b));
  f.close();
  const batches = await packets([path]);
  const one = new SignalSeries({ binSeconds: 3600 });
  for (const b of batches) one.add(b);
  one.endInterval(Infinity);
  const c = one.result()[0].cells.get("total")!;
  deepEqual([c.packets, c.sources], [20000, 20000]);
  // Halves in two runs: the bin is both runs' edge; their sketches are united.
  const parts = [0, 1].map((h) => {
    const s = new SignalSeries({ binSeconds: 3600 });
    for (const [k, b] of batches.entries()) if ((k < batches.length / 2) === (h === 0)) s.add(b);
    s.endInterval(Infinity);
    const p = `${dir}/v6-${h}.series`;
    Deno.writeFileSync(p, s.save());
    return p;
  });
  const t = await SignalTable.load(parts);
  const n = t.sourcesOf("total")![0];
  ok(Math.abs(n - 20000) / 20000 < 0.05, `${n}`);
  equal((await t.volumes(["total"])).get("total")!.packets[0], 20000);
});

Deno.test("runs split anywhere (mid-bin) and united from their files equal one run", async () => {
  const batches = await packets(CAPTURES.slice(0, 2));
  const one = new SignalSeries({ binSeconds: 300 });
  for (const b of batches) one.add(b);
  one.endInterval(Infinity);
  Deno.writeFileSync(`${dir}/one.series`, one.save());
  const whole = await SignalTable.load([`${dir}/one.series`]);
  const rows = batches.flatMap((b) => Array.from({ length: b.length }, (_, i) => [b, i] as const));
  for (const cuts of [[1], [7777], [3000, 12345], [rows.length - 1]]) {
    const bounds = [0, ...cuts, rows.length];
    const paths: string[] = [];
    for (let p = 0; p + 1 < bounds.length; p++) {
      const s = new SignalSeries({ binSeconds: 300 });
      // Row by row across batch boundaries: the split falls inside a batch and inside a bin.
      let i = bounds[p];
      while (i < bounds[p + 1]) {
        const [b, r] = rows[i];
        const end = Math.min(bounds[p + 1] - i + r, b.length);
        s.add(b, r, end);
        i += end - r;
      }
      s.endInterval(Infinity);
      paths.push(`${dir}/part-${cuts.join("-")}-${p}.series`);
      Deno.writeFileSync(paths.at(-1)!, s.save());
    }
    const t = await SignalTable.load(paths.reverse());
    deepEqual(t.keys.toSorted(), whole.keys.toSorted(), `cuts ${cuts}`);
    for (const k of whole.keys) deepEqual(t.sourcesOf(k), whole.sourcesOf(k), `${k} cuts ${cuts}`);
    deepEqual(t.packetTotals.toSorted(), whole.packetTotals.toSorted());
    const a = await t.volumes(["total"]);
    const b = await whole.volumes(["total"]);
    deepEqual(a.get("total"), b.get("total"));
  }
});

Deno.test("the same file twice overlaps: refused with the file named; other bin widths too", async () => {
  const s = new SignalSeries({ binSeconds: 60 });
  for await (const b of await captureBatches([CAPTURES[0]])) s.add(b);
  s.endInterval(Infinity);
  const p = `${dir}/a.series`;
  Deno.writeFileSync(p, s.save());
  await rejects(SignalTable.load([p, p]), (e: Error) => {
    ok(
      e instanceof DataError && /inputs overlap/.test(e.message) && e.message.includes(p),
      e.message,
    );
    return true;
  });
  const w = new SignalSeries({ binSeconds: 120 });
  for await (const b of await captureBatches([CAPTURES[0]])) w.add(b);
  w.endInterval(Infinity);
  Deno.writeFileSync(`${dir}/w.series`, w.save());
  await rejects(SignalTable.load([p, `${dir}/w.series`]), /bins of 120 s, but .* has bins of 60 s/);
});

Deno.test("a packet a bin out of order counts; one two bins out of order is late (counted apart, in no bin)", async () => {
  const batches = await packets([CAPTURES[0]]);
  const b0 = batches[0];
  const bin = (i: number) => Math.floor(b0.tsSec[i] / 60);
  let i1 = 0;
  while (bin(i1) === bin(0)) i1++; // the first packet of the second bin
  let i2 = i1;
  while (bin(i2) === bin(i1)) i2++; // ... of the third
  const s = new SignalSeries({ binSeconds: 60 });
  s.add(b0, 0, i1 + 1); // into the second bin: the first is still open
  s.add(b0, 0, 1); // the first packet again: one bin out of order, counted
  equal(s.late, 0);
  s.add(b0, i1 + 1, i2 + 1); // into the third bin: the first closes
  s.add(b0, 0, 1); // and again: late
  equal(s.late, 1);
  s.add(b0, i2 + 1, b0.length);
  s.endInterval(Infinity);
  const first = s.result()[0].cells.get("total")!;
  const plain = naive([b0], 60).get(`${bin(0) * 60} total`)!;
  deepEqual([first.packets, first.sources], [plain[0] + 1, plain[2]]);
  equal(readSeriesFile(s.save(), "x").header.late, 1);
});

Deno.test("country and AS series from a lookup, looked up once per source and bin", async () => {
  const asked = new Map<string, number>();
  const s = new SignalSeries({
    binSeconds: 3600,
    lookup: (v4) => {
      const k = formatIpv4(v4);
      asked.set(k, (asked.get(k) ?? 0) + 1);
      return { country: v4 % 2 ? "NL" : "", asn: v4 % 3 };
    },
  });
  const batches = await packets([CAPTURES[0]]);
  for (const b of batches) s.add(b);
  s.endInterval(Infinity);
  const cells = s.result()[0].cells;
  const total = cells.get("total")!;
  equal(cells.get("country=NL")!.sources + cells.get("country=??")!.sources, total.sources);
  equal(
    [0, 1, 2].reduce((n, a) => n + (cells.get(`asn=${a}`)?.packets ?? 0), 0),
    total.packets,
  );
  equal(asked.size, total.sources);
  ok([...asked.values()].every((n) => n === 1));
  throws(() => new SignalSeries({ binSeconds: 0 }), RangeError);
});

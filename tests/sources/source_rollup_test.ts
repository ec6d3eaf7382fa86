// Per-source roll-ups: real scanners and backscatter (their ground truth), destinations united
// across a source's events, each scan shape at its thresholds, intervals, aggressive scanners by
// dispersion and by percentile, excluded tags, and parse --sourceout end to end.

import { deepEqual, equal, ok } from "node:assert/strict";
import { SourceRollup } from "../../src/sources/source_rollup.ts";
import { PcapDecoderStream } from "../../src/capture/pcap_decoder_stream.ts";
import { tagPackets } from "../../src/attribution/tag_packets.ts";
import { capture, pkt, T0 } from "../aggregation/_events_helpers.ts";
import type { WritePacket } from "../../src/synth/pcap_writer.ts";
import { denoFlags, ENTRIES } from "../../src/cli/permissions.ts";
import { runCli } from "../_helpers.ts";
import { Tag } from "../../src/tags/traffic_tags.ts";

const dir = Deno.makeTempDirSync({ prefix: "rollup-" });

async function roll(bytes: Uint8Array, r = new SourceRollup()) {
  for await (const b of ReadableStream.from([bytes]).pipeThrough(new PcapDecoderStream())) {
    tagPackets(b);
    r.add(b, 0, b.length);
  }
  return r.finish();
}

Deno.test("real captures: masscan and ZMap horizontal, the DoS victim's backscatter", async () => {
  const m = await roll(Deno.readFileSync("testdata/captures-modern/masscan_master_syn.pcap"));
  deepEqual(
    m.map((s) => [s.Source, s.Packets, s.UniqueDests, s.Ports, s.EventKeys, s.Shape, s.Tool]),
    [
      ["192.0.2.21", 3072, 1024, 3, 3, "horizontal", "masscan"],
    ],
  );
  deepEqual(m[0].Tools, { masscan: 3072 });
  deepEqual(m[0].TrafficTypes, ["TCPSYN"]);
  equal(m[0].UniqueDest24s, 4); // 10.77.0.0/22
  const z = await roll(Deno.readFileSync("testdata/captures-modern/zmap4_syn_windows.pcap"));
  deepEqual(z.map((s) => [s.Source, s.Packets, s.UniqueDests, s.Ports, s.Shape, s.Tool]), [
    ["192.0.2.11", 2048, 1024, 2, "horizontal", "zmap"],
  ]);
  const d = await roll(Deno.readFileSync("testdata/captures-modern/rsdos_synack.pcap"));
  deepEqual(d.map((s) => [s.Source, s.Packets, s.UniqueDests, s.Shape]), [
    ["192.0.2.100", 1958, 844, "backscatter"],
  ]);
});

// Source S probing destination d on port p at second t.
const S = 0x01020304;
const D = 0x0a4d0000;
const probe = (t: number, d: number, port: number, extra = {}): WritePacket =>
  pkt(t, { src: S, dst: D + d, dport: port, ...extra });

Deno.test("destinations are united across a source's events, not summed", async () => {
  const p = [0, 1, 2, 3, 4].flatMap((d) => [probe(d, d, 23), probe(d + 0.5, d, 80)]);
  const [s] = await roll(capture(p));
  deepEqual([s.Packets, s.EventKeys, s.Ports, s.UniqueDests, s.UniqueDest24s], [10, 2, 2, 5, 1]);
});

Deno.test("scan shapes at their edges", async () => {
  const shapeOf = async (dests: number, ports: number) => {
    const p: WritePacket[] = [];
    for (let d = 0; d < dests; d++) {
      for (let q = 0; q < ports; q++) p.push(probe(p.length * 0.01, d, 1000 + q));
    }
    return (await roll(capture(p)))[0].Shape;
  };
  equal(await shapeOf(10, 3), "horizontal");
  equal(await shapeOf(9, 3), "other");
  equal(await shapeOf(10, 4), "other");
  equal(await shapeOf(3, 10), "vertical");
  equal(await shapeOf(4, 10), "other");
  equal(await shapeOf(10, 10), "both");
  // Backscatter: most packets SYN-ACK or RST.
  const bs = [0, 1, 2].map((k) => probe(k, k, 80, { flags: 0x12 }));
  equal((await roll(capture([...bs, probe(4, 9, 23)])))[0].Shape, "backscatter");
  equal(
    (await roll(capture([...bs.slice(0, 2), probe(4, 9, 23), probe(5, 8, 23)])))[0].Shape,
    "other",
  );
});

Deno.test("intervals: a record per source and interval, aligned to its multiples", async () => {
  const p = [probe(10, 1, 23), probe(3590, 2, 23), probe(3610, 3, 23)];
  const r = await roll(capture(p));
  deepEqual(r.map((s) => [s.IntervalStart, s.Packets]), [
    [
      new Date(Math.floor((T0 + 10) / 3600) * 3600000).toISOString().replace(
        ".000Z",
        ".000000000Z",
      ),
      2,
    ],
    [
      new Date(Math.floor((T0 + 3610) / 3600) * 3600000).toISOString().replace(
        ".000Z",
        ".000000000Z",
      ),
      1,
    ],
  ]);
  const r60 = await roll(capture(p), new SourceRollup({ interval: 60 }));
  equal(r60.length, 3);
});

Deno.test("aggressive: dispersion above 10 % of the telescope, or above the 99.99th percentile", async () => {
  const wide = Array.from({ length: 20 }, (_, d) => probe(d, d, 23));
  const [a] = await roll(capture(wide), new SourceRollup({ telescopeSize: 100 }));
  deepEqual([a.Dispersion, a.Aggressive, a.AggressiveWhy], [0.2, true, ["dispersion"]]);
  const [b] = await roll(capture(wide), new SourceRollup({ telescopeSize: 200 }));
  deepEqual([b.Dispersion, b.Aggressive], [0.1, false]);
  // 10,001 sources of one packet and one of 50: only that one is above the percentile.
  const p: WritePacket[] = [];
  for (let k = 0; k < 10001; k++) {
    p.push(pkt(k * 0.0001, { src: 0x05000000 + k, dst: D, dport: 23 }));
  }
  for (let k = 0; k < 50; k++) p.push(pkt(2 + k * 0.01, { src: S, dst: D + k, dport: 23 }));
  const r = await roll(capture(p));
  const flagged = r.filter((s) => s.Aggressive);
  deepEqual(flagged.map((s) => [s.Source, s.AggressiveWhy]), [["1.2.3.4", ["packets"]]]);
});

Deno.test("traffic tags summed; excluded tags left out as events leave them out", async () => {
  const p = [probe(0, 1, 443, { ttl: 250, window: 1025 }), probe(1, 2, 443), probe(2, 3, 443)];
  const [s] = await roll(capture(p));
  deepEqual(s.Tags, { spoofed: 1, erratic: 1 });
  const [x] = await roll(capture(p), new SourceRollup({ excludeTags: Tag.spoofed }));
  deepEqual([x.Packets, x.Tags], [2, {}]);
});

Deno.test("parse --sourceout writes the records; --source-interval needs it", async () => {
  const parse = (args: string[]) => runCli(ENTRIES.parse, args, denoFlags("parse"));
  const r = await parse([
    "--pcap",
    "testdata/captures-modern/masscan_master_syn.pcap",
    "--samples",
    "0",
    "--eventout",
    `${dir}/e.json`,
    "--sourceout",
    `${dir}/s.json`,
  ]);
  equal(r.code, 0, r.stderr);
  const recs = JSON.parse(Deno.readTextFileSync(`${dir}/s.json`));
  deepEqual(recs.map((s: { Source: string; UniqueDests: number }) => [s.Source, s.UniqueDests]), [
    ["192.0.2.21", 1024],
  ]);
  const bad = await parse([
    "--pcap",
    "testdata/captures-modern/masscan_master_syn.pcap",
    "--samples",
    "0",
    "--eventout",
    `${dir}/e2.json`,
    "--source-interval",
    "60",
  ]);
  equal(bad.code, 2);
  ok(/--source-interval needs --sourceout/.test(bad.stderr));
});

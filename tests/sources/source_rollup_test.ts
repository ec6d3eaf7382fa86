// Per-source roll-ups of events: real scanners and backscatter (their ground truth), destinations
// united across a source's events, each scan shape at its thresholds, attribution and tags summed
// (sequence tools included), aggressive scanners by dispersion and by percentile, IPv6, and parse
// --sourceout end to end (the whole run, rotation windows, a state kept open).

import { deepEqual, equal, ok } from "node:assert/strict";
import { SourceRollup } from "../../src/sources/source_rollup.ts";
import { EventAggregator } from "../../src/aggregation/event_aggregator.ts";
import { PcapDecoderStream } from "../../src/capture/pcap_decoder_stream.ts";
import { capture, pkt } from "../aggregation/_events_helpers.ts";
import { ethernet, ipv6Packet } from "../../src/synth/frames.ts";
import { pcapFile, type WritePacket } from "../../src/synth/pcap_writer.ts";
import { denoFlags, ENTRIES } from "../../src/cli/permissions.ts";
import { runCli, tempDir } from "../_helpers.ts";

const dir = tempDir("rollup-");

// Every event of a capture (ended, then open at its end) through a roll-up of the whole run.
async function roll(bytes: Uint8Array, r = new SourceRollup(), o = {}) {
  const agg = new EventAggregator({ destinations: true, ...o });
  for await (const b of ReadableStream.from([bytes]).pipeThrough(new PcapDecoderStream())) {
    for (const e of agg.add(b)) r.add(e);
  }
  for (const e of [...agg.sweepIdle(), ...agg.openEvents()]) r.add(e);
  return r.endWindow(null);
}

Deno.test("real captures: masscan and ZMap horizontal, the DoS victim's backscatter", async () => {
  const [m, ...none] = await roll(
    Deno.readFileSync("testdata/captures-modern/masscan_master_syn.pcap"),
  );
  equal(none.length, 0);
  deepEqual(
    [m.Source, m.Packets, m.Events, m.Ports, m.UniqueDests, m.UniqueDest24s, m.Shape, m.Tool],
    ["192.0.2.21", 3072, 3, 3, 1024, 4, "horizontal", "masscan"],
  );
  deepEqual(m.Tools, { masscan: 3072 });
  deepEqual(m.TrafficTypes, ["TCPSYN"]);
  deepEqual([m.WindowStart, m.WindowEnd], [null, null]);
  const [z] = await roll(Deno.readFileSync("testdata/captures-modern/zmap4_syn_windows.pcap"));
  deepEqual([z.Source, z.Packets, z.Events, z.UniqueDests, z.Shape, z.Tool], [
    "192.0.2.11",
    2048,
    2,
    1024,
    "horizontal",
    "zmap",
  ]);
  const [d] = await roll(Deno.readFileSync("testdata/captures-modern/rsdos_synack.pcap"));
  deepEqual([d.Source, d.Packets, d.UniqueDests, d.Shape], [
    "192.0.2.100",
    1958,
    844,
    "backscatter",
  ]);
});

const S = 0x01020304;
const D = 0x0a4d0000;
const probe = (t: number, d: number, port: number, extra = {}): WritePacket =>
  pkt(t, { src: S, dst: D + d, dport: port, ...extra });

Deno.test("destinations are united across a source's events, not summed", async () => {
  const p = [0, 1, 2, 3, 4].flatMap((d) => [probe(d, d, 23), probe(d + 0.5, d, 80)]);
  const [s] = await roll(capture(p));
  deepEqual([s.Packets, s.Events, s.Ports, s.UniqueDests, s.UniqueDest24s], [10, 2, 2, 5, 1]);
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
  const bs = [0, 1, 2].map((k) => probe(k, k, 80, { flags: 0x12 }));
  equal((await roll(capture([...bs, probe(4, 9, 23)])))[0].Shape, "backscatter");
  equal(
    (await roll(capture([...bs.slice(0, 2), probe(4, 9, 23), probe(5, 8, 23)])))[0].Shape,
    "other",
  );
});

Deno.test("attribution summed over events, a sequence tool included; tags summed", async () => {
  // nmap: window 1024, MSS alone, the same seq to other addresses, on two ports.
  const nm = { window: 1024, options: [2, 4, 5, 0xb4], seq: 0x1234, ttl: 50 };
  const p = [0, 1, 2].flatMap((d) => [probe(d, d, 22, nm), probe(d + 0.5, d, 3389, nm)]);
  const [s] = await roll(capture(p));
  deepEqual([s.Tools, s.Tool], [{ nmap: 4 }, "nmap"]);
  const q = [probe(0, 1, 443, { ttl: 250, window: 1025 }), probe(1, 2, 443), probe(2, 3, 23)];
  deepEqual((await roll(capture(q)))[0].Tags, { spoofed: 1, erratic: 2 });
});

Deno.test("aggressive: dispersion above 10 % of the telescope, or above the 99.99th percentile", async () => {
  const wide = Array.from({ length: 20 }, (_, d) => probe(d, d, 23));
  const [a] = await roll(capture(wide), new SourceRollup({ telescopeSize: 100 }));
  deepEqual([a.Dispersion, a.Aggressive, a.AggressiveWhy], [0.2, true, ["dispersion"]]);
  const [b] = await roll(capture(wide), new SourceRollup({ telescopeSize: 200 }));
  deepEqual([b.Dispersion, b.Aggressive], [0.1, false]);
  const p: WritePacket[] = [];
  for (let k = 0; k < 10001; k++) {
    p.push(pkt(k * 0.0001, { src: 0x05000000 + k, dst: D, dport: 23 }));
  }
  for (let k = 0; k < 50; k++) p.push(pkt(2 + k * 0.01, { src: S, dst: D + k, dport: 23 }));
  const flagged = (await roll(capture(p))).filter((s) => s.Aggressive);
  deepEqual(flagged.map((s) => [s.Source, s.AggressiveWhy]), [["1.2.3.4", ["packets"]]]);
  // With fewer than 10,000 sources the percentile flags nobody (the busiest is not "above" it).
  const few = [pkt(0, { src: 0x05000001, dst: D, dport: 23 }), ...p.slice(-50)];
  equal((await roll(capture(few))).filter((s) => s.Aggressive).length, 0);
});

Deno.test("IPv6 sources: destinations united by hash", async () => {
  const src = Uint8Array.from([0x2a, 0, ...new Array(13).fill(0), 9]);
  const dst = (k: number) => Uint8Array.from([0x24, 0, ...new Array(13).fill(0), k]);
  const frames = [1, 2, 3, 1, 2].map((k, n) => ({
    sec: 1700000000 + n,
    nsec: 0,
    data: ethernet(ipv6Packet({ src, dst: dst(k), proto: 6, dport: n < 3 ? 22 : 80, flags: 0x02 })),
  }));
  const [s] = await roll(pcapFile(frames, { linkType: 1 }));
  deepEqual([s.Source, s.Events, s.UniqueDests, s.Packets], ["2a00::9", 2, 3, 5]);
});

Deno.test("parse --sourceout: the run's events; per rotation window; not the events a state keeps", async () => {
  const parse = (args: string[]) => runCli(ENTRIES.parse, args, denoFlags("parse"));
  // Two hours of one source probing ten addresses on port 23 each hour, with a gap that ends
  // the first hour's event.
  const p = [
    ...Array.from({ length: 10 }, (_, d) => probe(d, d, 23)),
    ...Array.from({ length: 10 }, (_, d) => probe(3700 + d, d + 5, 23)),
  ];
  Deno.writeFileSync(`${dir}/two.pcap`, capture(p));
  const base = ["--pcap", `${dir}/two.pcap`, "--samples", "0", "--timeout", "600", "--quiet"];
  const r = await parse([...base, "--eventout", `${dir}/e.json`, "--sourceout", `${dir}/s.json`]);
  equal(r.code, 0, r.stderr);
  const whole = JSON.parse(Deno.readTextFileSync(`${dir}/s.json`));
  deepEqual(
    whole.map((s: Record<string, unknown>) => [s.Source, s.Events, s.Packets, s.UniqueDests]),
    [
      ["1.2.3.4", 2, 20, 15],
    ],
  );
  const rot = await parse([
    ...base,
    "--rotate",
    "3600",
    "--outdir",
    `${dir}/rot`,
    "--sourceout",
    `${dir}/r.json`,
  ]);
  equal(rot.code, 0, rot.stderr);
  const windows = JSON.parse(Deno.readTextFileSync(`${dir}/r.json`));
  deepEqual(
    windows.map((s: Record<string, unknown>) => [s.Packets, s.UniqueDests, s.WindowStart !== null]),
    [
      [10, 10, true],
    ],
  );
  // With --cacheout the last event stays open in the state: not in this run's roll-up.
  const kept = await parse([
    ...base,
    "--eventout",
    `${dir}/e2.json`,
    "--cacheout",
    `${dir}/k.state`,
    "--sourceout",
    `${dir}/k.json`,
  ]);
  equal(kept.code, 0, kept.stderr);
  const k = JSON.parse(Deno.readTextFileSync(`${dir}/k.json`));
  deepEqual(k.map((s: Record<string, unknown>) => [s.Events, s.Packets]), [[1, 10]]);
  ok(k[0].First < whole[0].Last);
});

Deno.test("/24s of a source: its one event's count (a set in table order), or of the united sorted sets", async () => {
  const S = 0xc6336405;
  // One event: 200 destinations over 5 /24s, sent in a scrambled order (a medium set).
  const one: WritePacket[] = [];
  for (let i = 0; i < 200; i++) {
    const k = (i * 73) % 200;
    one.push(pkt(i * 0.01, { src: S, dst: 0x0a000000 + (k % 5) * 256 + Math.floor(k / 5) }));
  }
  // Another source with two events (ports 23 and 80) sharing /24s.
  const two: WritePacket[] = [];
  for (let i = 0; i < 60; i++) {
    two.push(
      pkt(i * 0.01, { src: S + 1, dst: 0x0b000000 + (i % 3) * 256 + i, dport: i % 2 ? 23 : 80 }),
    );
  }
  const [a, b] = await roll(capture([...one, ...two]));
  deepEqual([a.Events, a.UniqueDests, a.UniqueDest24s], [1, 200, 5]);
  deepEqual([b.Events, b.UniqueDests, b.UniqueDest24s], [2, 60, 3]);
});

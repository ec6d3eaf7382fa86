import { deepEqual, ok } from "node:assert/strict";
import { type Analyzer, runAnalyzers } from "../../src/analysis/analyzer.ts";
import { PacketTimeSeries } from "../../src/analysis/packet_timeseries.ts";
import { captureBatches } from "../../src/capture/open_capture.ts";
import type { PacketBatch } from "../../src/decode/packet_batch.ts";
import { PacketStats } from "../../src/stats/packet_stats.ts";

// Batches kept (not pooled), so that the same rows can be fed in several splits.
async function batches(path: string): Promise<PacketBatch[]> {
  const out: PacketBatch[] = [];
  for await (const b of await captureBatches([path])) out.push(b);
  return out;
}

// One pass over every row, against the rows split at `cut` (a row inside a batch) into two
// analyzers merged afterwards — in either order of merging.
function splitEqualsWhole<R>(all: PacketBatch[], make: () => Analyzer<R>, cut: number): void {
  const whole = make();
  for (const b of all) whole.add(b, 0, b.length);
  const [a, z] = [make(), make()];
  let seen = 0;
  for (const b of all) {
    const k = Math.max(0, Math.min(b.length, cut - seen));
    if (k > 0) a.add(b, 0, k);
    if (k < b.length) z.add(b, k, b.length);
    seen += b.length;
  }
  const [a2, z2] = [make(), make()];
  seen = 0;
  for (const b of all) {
    const k = Math.max(0, Math.min(b.length, cut - seen));
    if (k > 0) a2.add(b, 0, k);
    if (k < b.length) z2.add(b, k, b.length);
    seen += b.length;
  }
  a.merge(z);
  z2.merge(a2);
  deepEqual(a.result(), whole.result());
  deepEqual(z2.result(), whole.result());
}

Deno.test("analyzers split anywhere and merged give one pass's results: PacketStats and PacketTimeSeries", async () => {
  const all = await batches("testdata/demo/scan.pcap.gz");
  const rows = all.reduce((n, b) => n + b.length, 0);
  ok(rows > 10000);
  for (const cut of [1, 7777, Math.floor(rows / 2), rows - 1]) {
    splitEqualsWhole(all, () => new PacketStats(20), cut);
    splitEqualsWhole(all, () => new PacketTimeSeries(60), cut);
  }
  // Real scanners and backscatter, IPv6 sources included.
  const real = await batches("testdata/real-scanners/scanners.pcap");
  ok(real.some((b) => b.ipVersion.subarray(0, b.length).includes(6)));
  const n = real.reduce((k, b) => k + b.length, 0);
  for (const cut of [1, Math.floor(n / 3), n - 1]) {
    splitEqualsWhole(real, () => new PacketStats(), cut);
    splitEqualsWhole(real, () => new PacketTimeSeries(1), cut);
  }
});

Deno.test("runAnalyzers gives every analyzer every row once", async () => {
  const [s, t] = [new PacketStats(), new PacketTimeSeries(600)];
  await runAnalyzers(await captureBatches(["testdata/demo/scan.pcap.gz"]), [s, t]);
  const packets = t.result().reduce((n, r) => n + r.packets, 0);
  deepEqual([s.result().packets, packets], [20000, s.result().ipPackets]);
});

Deno.test("PacketTimeSeries: saved and loaded then continued equals one pass; impossible states refused", async () => {
  const { packState } = await import("../../src/state/state_container.ts");
  const { DataError } = await import("../../src/errors.ts");
  const all = await batches("testdata/real-scanners/scanners.pcap");
  const whole = new PacketTimeSeries(1);
  for (const b of all) whole.add(b, 0, b.length);
  const half = Math.floor(all.length / 2);
  const first = new PacketTimeSeries(1);
  for (const b of all.slice(0, half || 1)) first.add(b, 0, b.length);
  const second = new PacketTimeSeries(1);
  second.load(first.save(), "s");
  for (const b of all.slice(half || 1)) second.add(b, 0, b.length);
  deepEqual(second.result(), whole.result());
  // Crafted bodies: each impossible field gives a DataError naming the file.
  const good = JSON.parse(
    new TextDecoder().decode(
      (await import("node:zlib")).gunzipSync(first.save().subarray(20)),
    ),
  );
  const bad = (change: (b: Record<string, unknown>) => void, why: RegExp) => {
    const b = structuredClone(good);
    change(b);
    const bytes = packState("DNPTSSTA", 1, new TextEncoder().encode(JSON.stringify(b)));
    try {
      new PacketTimeSeries(1).load(bytes, "crafted.state");
    } catch (e) {
      ok(e instanceof DataError && why.test(e.message), `${e}`);
      return;
    }
    throw new Error(`accepted: ${why}`);
  };
  bad((b) => (b.packets as number[])[0] = -1, /packet counts/);
  bad((b) => (b.sources as number[]).push(1), /do not fit/);
  bad((b) => b.binSeconds = 60, /--bin 60/);
  bad((b) => (b.starts as number[]).push((b.starts as number[])[0]), /./);
  bad((b) => (b.seen4 as number[]).push(...(b.seen4 as number[]).slice(0, 2)), /twice|counted/);
  bad((b) => (b.seen4 as number[]).push(1e9, 1), /cell/);
  bad((b) => (b.sources as number[])[(b.seen4 as number[])[0]] += 1, /counted/);
  bad((b) => b.tool = "x", /not a packet time-series state/);
});

Deno.test("intervals: beside the aggregator, each --rotate window's rows come before its endInterval, and the end of input ends the last", async () => {
  const { EventAggregator } = await import("../../src/aggregation/event_aggregator.ts");
  const { EventAggregatorStream } = await import(
    "../../src/aggregation/event_aggregator_stream.ts"
  );
  // Records, per interval, the packets added and the latest time; checks no row is late.
  class Intervals implements Analyzer<[number, number][]> {
    readonly name = "intervals";
    readonly ends: [number, number][] = [];
    #n = 0;
    #lastEnd = -Infinity;
    #max = -Infinity;
    add(b: PacketBatch, from: number, to: number) {
      for (let i = from; i < to; i++) {
        ok(b.tsSec[i] >= this.#lastEnd, "a row after its interval ended");
        this.#max = Math.max(this.#max, b.tsSec[i]);
        this.#n++;
      }
    }
    endInterval(end: number) {
      ok(this.#max < end, `a row of ${this.#max} before the interval ending at ${end} ended`);
      this.ends.push([end, this.#n]);
      this.#lastEnd = end;
      this.#n = 0;
    }
    merge() {}
    result() {
      return this.ends;
    }
  }
  const run = async (rotate: number) => {
    const a = new Intervals();
    const s = (await captureBatches(["testdata/demo/scan.pcap.gz"])).pipeThrough(
      new EventAggregatorStream(new EventAggregator({ timeout: 60 }), { rotate, analyzers: [a] }),
    );
    for await (const _ of s) { /* drain */ }
    return a.result();
  };
  const windows = await run(300);
  ok(windows.length >= 2, JSON.stringify(windows));
  ok(windows.every(([end], k) => end % 300 === 0 && (k === 0 || end === windows[k - 1][0] + 300)));
  deepEqual(windows.reduce((n, [, p]) => n + p, 0), 20000);
  deepEqual(await run(0), [[Infinity, 20000]]);
});

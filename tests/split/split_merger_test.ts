// Split and merge is exact: captures cut into blocks at many places, each block aggregated on its
// own (first events kept whole: `heads`), the blocks stitched by SplitMerger — the very events of
// one pass, byte for byte as JSON (samples, destinations, attribution, tags and order included),
// with filters and without, IPv4 and IPv6, one-packet events and long ones, blocks shorter than
// the timeout.

import { deepEqual, equal, ok, throws } from "node:assert/strict";
import { gunzipSync } from "node:zlib";
import {
  EventAggregator,
  type EventAggregatorOptions,
} from "../../src/aggregation/event_aggregator.ts";
import { PcapDecoderStream } from "../../src/capture/pcap_decoder_stream.ts";
import { compareEventOrder, type DarknetEvent } from "../../src/model/darknet_event.ts";
import { eventKey, keyString, SplitMerger } from "../../src/split/split_merger.ts";
import { generateScenario } from "../../src/synth/scenario.ts";
import { concat } from "../../src/synth/pcap_writer.ts";

// A classic pcap's header and its records (whole, header included).
function records(bytes: Uint8Array): { head: Uint8Array; recs: Uint8Array[] } {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const le = dv.getUint32(0, true) === 0xa1b2c3d4 || dv.getUint32(0, true) === 0xa1b23c4d;
  const recs: Uint8Array[] = [];
  for (let p = 24; p + 16 <= bytes.length;) {
    const len = dv.getUint32(p + 8, le);
    recs.push(bytes.subarray(p, p + 16 + len));
    p += 16 + len;
  }
  return { head: bytes.subarray(0, 24), recs };
}

async function* batches(bytes: Uint8Array) {
  yield* ReadableStream.from([bytes]).pipeThrough(new PcapDecoderStream());
}

async function onePass(bytes: Uint8Array, o: EventAggregatorOptions): Promise<string[]> {
  const agg = new EventAggregator(o);
  const out: DarknetEvent[] = [];
  for await (const b of batches(bytes)) out.push(...agg.add(b));
  out.push(...agg.sweepIdle(), ...agg.openEvents());
  return out.map((e) => JSON.stringify(e));
}

// Two lists each in event order, as one.
function interleave(a: DarknetEvent[], b: DarknetEvent[]): DarknetEvent[] {
  const out: DarknetEvent[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (j >= b.length || (i < a.length && compareEventOrder(a[i], b[j]) <= 0)) out.push(a[i++]);
    else out.push(b[j++]);
  }
  return out;
}

async function splitRun(blocks: Uint8Array[], o: EventAggregatorOptions) {
  const merger = new SplitMerger(o);
  const out: DarknetEvent[] = [];
  for (const bytes of blocks) {
    const heads = new EventAggregator(o);
    const agg = new EventAggregator({ ...o, heads });
    const own: DarknetEvent[] = [];
    let first: [number, number] | undefined;
    let earliest: [number, number] = [Infinity, 0];
    for await (const b of batches(bytes)) {
      for (let i = 0; i < b.length; i++) {
        if (b.ipVersion[i] === 0) continue;
        const t: [number, number] = [b.tsSec[i], b.tsNsec[i]];
        first ??= t;
        if (t[0] < earliest[0] || (t[0] === earliest[0] && t[1] < earliest[1])) earliest = t;
      }
      own.push(...agg.add(b));
    }
    own.push(...agg.sweepIdle());
    if (!first) continue;
    const headLimit: [number, number] = [first[0] + agg.timeout, first[1]];
    const { events, replaced } = merger.block({
      heads,
      tails: agg,
      clock: agg._internals.clock!,
      earliest,
      headLimit,
    });
    const isHead = (e: DarknetEvent) =>
      e.firstSec < headLimit[0] || (e.firstSec === headLimit[0] && e.firstNsec <= headLimit[1]);
    const kept = own.filter((e) => !(isHead(e) && replaced.has(keyString(eventKey(e)))));
    out.push(...interleave(kept, events));
  }
  out.push(...merger.finish());
  return { events: out.map((e) => JSON.stringify(e)), joined: merger.joined };
}

function cut(bytes: Uint8Array, at: number[]): Uint8Array[] {
  const { head, recs } = records(bytes);
  const bounds = [0, ...at, recs.length];
  const out: Uint8Array[] = [];
  for (let k = 0; k + 1 < bounds.length; k++) {
    out.push(concat([head, ...recs.slice(bounds[k], bounds[k + 1])]));
  }
  return out;
}

const demo = gunzipSync(Deno.readFileSync("testdata/demo/scan.pcap.gz"));
const scanners = Deno.readFileSync("testdata/real-scanners/scanners.pcap");

Deno.test("the demo capture cut into 2 to 7 blocks: the events of one pass, byte for byte", async () => {
  const n = records(demo).recs.length;
  for (const o of [{ samples: 3 }, { samples: 1, uniques: 2, timeout: 60 }, { timeout: 20 }]) {
    const want = await onePass(demo, o);
    for (const parts of [2, 3, 7]) {
      const at = Array.from({ length: parts - 1 }, (_, k) => Math.floor(((k + 1) * n) / parts) + k);
      const got = await splitRun(cut(demo, at), o);
      ok(got.joined > 0, `${JSON.stringify(o)} ${parts}: no event crossed a boundary`);
      equal(got.events.length, want.length, `${JSON.stringify(o)} ${parts} blocks`);
      deepEqual(got.events, want, `${JSON.stringify(o)} ${parts} blocks`);
    }
  }
});

Deno.test("real scanners (ZMap, masscan, nmap, Mirai-like; IPv6) cut anywhere: one pass's events", async () => {
  const n = records(scanners).recs.length;
  const o = { samples: 2, timeout: 300 };
  const want = await onePass(scanners, o);
  for (const at of [[1], [n >> 1], [n - 1], [17, 18, 19, 500, 2001], [n >> 3, n >> 2, n >> 1]]) {
    const got = await splitRun(cut(scanners, at), o);
    deepEqual(got.events, want, `cut at ${at}`);
  }
});

Deno.test("a generated scenario (one-off sources, gaps, sweeps) in blocks shorter than the timeout", async () => {
  const parts: Uint8Array[] = [];
  generateScenario(
    { packets: 40000, seed: 3, oneOffs: 3000, duration: 1200 },
    (b) => parts.push(b.slice()),
  );
  const bytes = concat(parts);
  const n = records(bytes).recs.length;
  for (const o of [{ samples: 2, timeout: 300 }, { samples: 1, timeout: 30, threshold: 2 }]) {
    const want = await onePass(bytes, o);
    const at = Array.from({ length: 11 }, (_, k) => Math.floor(((k + 1) * n) / 12));
    const got = await splitRun(cut(bytes, at), o);
    ok(got.joined > 100, `only ${got.joined} joined`);
    deepEqual(got.events, want, JSON.stringify(o));
  }
});

Deno.test("blocks out of time order are refused", async () => {
  const [a, b] = cut(demo, [records(demo).recs.length >> 1]);
  const o = { timeout: 60 };
  const merger = new SplitMerger(o);
  const run = async (bytes: Uint8Array) => {
    const heads = new EventAggregator(o);
    const agg = new EventAggregator({ ...o, heads });
    let first: [number, number] | undefined;
    for await (const x of batches(bytes)) {
      first ??= [x.tsSec[0], x.tsNsec[0]];
      agg.add(x);
    }
    agg.sweepIdle();
    return {
      heads,
      tails: agg,
      clock: agg._internals.clock!,
      earliest: first!,
      headLimit: [first![0] + 60, first![1]] as [number, number],
    };
  };
  merger.block(await run(b));
  const early = await run(a);
  throws(() => merger.block(early), /time order/);
});

Deno.test("random splits of random scenarios with random settings: one pass's events every time", async () => {
  const rnd = (() => {
    let x = 20261206;
    return (n: number) => {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      return (x >>> 0) % n;
    };
  })();
  for (let round = 0; round < 30; round++) {
    const parts: Uint8Array[] = [];
    generateScenario(
      {
        packets: 5000 + rnd(20000),
        seed: 100 + round,
        oneOffs: rnd(3000),
        duration: 300 + rnd(3000),
      },
      (b) => parts.push(b.slice()),
    );
    const bytes = concat(parts);
    const n = records(bytes).recs.length;
    const o = {
      samples: rnd(5),
      timeout: [5, 30, 120, 600][rnd(4)],
      threshold: rnd(3),
      uniques: rnd(3),
      seed: 1 + rnd(1000),
    };
    const at = [...new Set(Array.from({ length: 1 + rnd(7) }, () => 1 + rnd(n - 1)))].sort((
      a,
      b,
    ) => a - b);
    const want = await onePass(bytes, o);
    const got = await splitRun(cut(bytes, at), o);
    deepEqual(got.events, want, `round ${round}: ${JSON.stringify(o)}, cuts ${at}`);
  }
});

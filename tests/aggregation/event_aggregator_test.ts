import { deepEqual, equal, ok } from "node:assert/strict";
import { Traffic } from "../../src/decode/traffic.ts";
import { EventAggregator } from "../../src/aggregation/event_aggregator.ts";
import { compareEventKeys, compareEventOrder } from "../../src/model/darknet_event.ts";
import { PcapDecoderStream } from "../../src/capture/pcap_decoder_stream.ts";
import { capture, events, pkt } from "./_events_helpers.ts";
import { tempDir, xorshift } from "../_helpers.ts";

const S = 0xc6336401; // 198.51.100.1
const D = 0x0a000000;

Deno.test("gap of exactly the timeout continues the event; one nanosecond more splits it", async () => {
  const exact = await events(
    capture([
      pkt(0, { src: S, dst: D + 1 }),
      pkt(60, { src: S, dst: D + 2 }),
    ]),
    { timeout: 60 },
  );
  equal(exact.length, 1);
  equal(exact[0].packets, 2);
  const over = capture([pkt(0, { src: S, dst: D + 1 }), pkt(60, { src: S, dst: D + 2 })]);
  // Add one nanosecond to the second packet's timestamp (record 2, ts_frac at 24+16+54+4).
  new DataView(over.buffer).setUint32(24 + 16 + 54 + 4, 1, true);
  const split = await events(over, { timeout: 60 });
  deepEqual(split.map((e) => e.packets), [1, 1]);
  equal(split[1].firstNsec, 1);
  const micro = await events(
    capture([pkt(0, { src: S, dst: D + 1 }), pkt(60.000001, { src: S, dst: D + 2 })]),
    { timeout: 60 },
  );
  equal(micro.length, 2);
});

Deno.test("sweeps end idle events at packet time, in event order (last packet, then key), as the end of input does", async () => {
  const evs = await events(
    capture([
      pkt(0, { src: S + 2, dst: D }),
      pkt(1, { src: S + 1, dst: D }),
      pkt(2, { src: S, dst: D, dport: 80 }),
      pkt(100, { src: S + 9, dst: D }), // clock passes the sweep: the first three end, by Last
      pkt(101, { src: S + 5, dst: D }),
      pkt(101, { src: S + 4, dst: D }), // the same Last: by key
    ]),
    { timeout: 60 },
  );
  deepEqual(evs.map((e) => e.sourceIP), [
    "198.51.100.3",
    "198.51.100.2",
    "198.51.100.1",
    "198.51.100.10",
    "198.51.100.5",
    "198.51.100.6",
  ]);
});

Deno.test("a sweep runs once packet time passes the last one by half the timeout", async () => {
  // timeout 60: sweeps at the first packet more than 30 s after the last sweep. A (t=0) is idle
  // for 61 s at t=61, but the last sweep was at t=35, so A ends only at the sweep of t=70.
  const agg = new EventAggregator({ timeout: 60 });
  const endedAt: number[] = [];
  for (const [t, src] of [[0, S], [35, S + 1], [61, S + 2], [70, S + 3]]) {
    const one = ReadableStream.from([capture([pkt(t, { src, dst: D })])]);
    for await (const b of one.pipeThrough(new PcapDecoderStream())) {
      for (const e of agg.add(b)) endedAt.push(t, e.src - S);
    }
  }
  deepEqual(endedAt, [70, 0]);
  equal(agg.openCount, 3);
});

Deno.test("sweepIdle ends what no later packet could continue and leaves the sweep schedule alone", async () => {
  // timeout 60: a sweep at the first packet more than 30 s after the last one. Sweeps at 0, 35.
  // At t=61: A (t=0) idle 61 s ends; X (t=3) idle 58 s stays.
  const first = [[0, S], [3, S + 1], [35, S + 2], [61, S + 3]];
  const second = [[66, S + 4], [97, S + 5], [140, S + 6]];
  const feed = async (agg: EventAggregator, part: number[][]) => {
    const out: string[] = []; // "time source" of each event as it ends
    for (const [t, src] of part) {
      const one = ReadableStream.from([capture([pkt(t, { src, dst: D })])]);
      for await (const b of one.pipeThrough(new PcapDecoderStream())) {
        for (const e of agg.add(b)) out.push(`${t} ${e.sourceIP}`);
      }
    }
    return out;
  };
  const a = new EventAggregator({ timeout: 60 });
  const b = new EventAggregator({ timeout: 60 });
  await feed(a, first);
  await feed(b, first);
  deepEqual(a.sweepIdle().map((e) => e.sourceIP), ["198.51.100.1"]);
  equal(a.openCount, 3);
  // Both sweep next at t=66 (66 − 35 > 30), where X ends (had sweepIdle moved the schedule to
  // 61, X would end only at t=97); only `a` no longer holds A.
  const rest = await feed(a, second);
  const all = await feed(b, second);
  deepEqual(rest, ["66 198.51.100.2", "97 198.51.100.3", "140 198.51.100.4", "140 198.51.100.5"]);
  deepEqual(all, ["66 198.51.100.1", ...rest]);
});

Deno.test("event fields: packets, bytes, exact distinct destinations and /24s, rate", async () => {
  const pk = [];
  for (let i = 0; i < 300; i++) pk.push(pkt(i * 0.5, { src: S, dst: D + (i % 200) * 3 }));
  const [e] = await events(capture(pk), { timeout: 600, telescopeSize: 1 << 16 });
  equal(e.packets, 300);
  equal(e.bytes, 300 * 54);
  equal(e.uniqueDests, 200);
  equal(e.uniqueDest24s, new Set(Array.from({ length: 200 }, (_, i) => (D + i * 3) >>> 8)).size);
  equal(e.duration, 149.5);
  equal(e.rate(1 << 16), (300 * 65536) / 149.5);
  equal(e.toJSON().First, "2020-10-21T16:00:00.000000000Z");
  equal(e.toJSON().Last, "2020-10-21T16:02:29.500000000Z");
});

Deno.test("filters: threshold, uniques and rate, at their edges", async () => {
  const bytes = capture([
    pkt(0, { src: S, dst: D + 1 }),
    pkt(1, { src: S, dst: D + 2 }),
    pkt(2, { src: S, dst: D + 2 }), // 3 packets, 2 destinations, 2 s
  ]);
  const n = async (o: Record<string, number>) =>
    (await events(bytes, { timeout: 60, ...o })).length;
  equal(await n({ threshold: 3 }), 1);
  equal(await n({ threshold: 4 }), 0);
  equal(await n({ uniques: 2 }), 1);
  equal(await n({ uniques: 3 }), 0);
  const rate = (3 * 4294967296 / 475136) / 2;
  equal(await n({ rate }), 1);
  equal(await n({ rate: rate * 1.000001 }), 0);
  // A single-packet event has zero duration: infinite rate, passes any rate filter.
  equal((await events(capture([pkt(0, { src: S, dst: D })]), { rate: 1e12 })).length, 1);
});

Deno.test("fingerprints over every packet; a masscan near miss and other traffic are false", async () => {
  const zmap = [1, 2, 3].map((i) => pkt(i, { src: S, dst: D + i, id: 54321, seq: 77 }));
  const mirai = [1, 2, 3].map((i) => pkt(i, { src: S + 1, dst: D + i, seq: D + i, id: 5 }));
  const mass = [1, 2, 3].map((i) => {
    const seq = 0x12345678 + i;
    return pkt(i, { src: S + 2, dst: D + i, dport: 80, seq, id: ((D + i) ^ 80 ^ seq) & 0xffff });
  });
  const nearMiss = [1, 2, 3].map((i) => {
    const seq = 0x12345678 + i;
    const id = ((D + i) ^ 80 ^ seq) & 0xffff;
    return pkt(i, { src: S + 3, dst: D + i, dport: 80, seq, id: i === 3 ? id ^ 1 : id });
  });
  const zmapButOneSample = [1, 2, 3, 4, 5, 6].map((i) =>
    pkt(i, { src: S + 4, dst: D + i, id: i === 6 ? 1 : 54321 })
  );
  const udp = [1, 2].map((i) =>
    pkt(i, { src: S + 5, dst: D + i, proto: 17, id: 54321, dport: 53 })
  );
  const evs = await events(
    capture([...zmap, ...mirai, ...mass, ...nearMiss, ...zmapButOneSample, ...udp]),
    { samples: 1 },
  );
  const fp = evs.map((
    e,
  ) => [e.sourceIP, e.fingerprint("zmap"), e.fingerprint("masscan"), e.fingerprint("mirai")])
    .sort((a, b) => String(a[0]).localeCompare(String(b[0])));
  deepEqual(fp, [
    ["198.51.100.1", true, false, false],
    ["198.51.100.2", false, false, true],
    ["198.51.100.3", false, true, false],
    ["198.51.100.4", false, false, false],
    ["198.51.100.5", false, false, false],
    ["198.51.100.6", false, false, false],
  ]);
  equal(evs.find((e) => e.sourceIP === "198.51.100.6")!.traffic, Traffic.UDP);
});

Deno.test("samples: reservoir over all packets, reproducible with a seed, different with another", async () => {
  const pk = [];
  for (let i = 0; i < 500; i++) pk.push(pkt(i, { src: S, dst: D + i, seq: i }));
  const bytes = capture(pk);
  const a = await events(bytes, { samples: 3, seed: 7 });
  const b = await events(bytes, { samples: 3, seed: 7 });
  const c = await events(bytes, { samples: 3, seed: 8 });
  equal(a[0].samples.length, 3);
  deepEqual(a[0].samples, b[0].samples);
  ok(JSON.stringify(a[0].samples) !== JSON.stringify(c[0].samples));
  // Over many seeds every position is drawn: not just the first packets.
  const seqs = new Set<number>();
  for (let seed = 1; seed <= 40; seed++) {
    for (const s of (await events(bytes, { samples: 3, seed }))[0].samples) {
      seqs.add(new DataView(s.buffer, s.byteOffset).getUint32(14 + 20 + 4));
    }
  }
  ok(seqs.size > 60, `only ${seqs.size} distinct packets sampled`);
  ok([...seqs].some((x) => x > 400));
  // Short events keep every packet, in order.
  const few = await events(capture(pk.slice(0, 2)), { samples: 3 });
  equal(few[0].samples.length, 2);
});

Deno.test("out-of-order packet joins its event without moving Last back", async () => {
  const agg = new EventAggregator({ timeout: 60 });
  const evs = await events(
    capture([
      pkt(10, { src: S, dst: D + 1 }),
      pkt(20, { src: S, dst: D + 2 }),
      pkt(5, { src: S, dst: D + 3 }),
    ]),
    {},
    agg,
  );
  equal(evs.length, 1);
  equal(evs[0].packets, 3);
  equal(evs[0].firstSec - 1603296000, 5);
  equal(evs[0].lastSec - 1603296000, 20);
  equal(agg.stats.outOfOrder, 1);
});

Deno.test("samples of every size class (≤64, ≤128, ≤256 and larger frames) come back intact", async () => {
  const sizes = [10, 100, 200, 1400];
  const pk = sizes.map((n, i) =>
    pkt(i, { src: S, dst: D + i, proto: 17, dport: 53, payload: new Uint8Array(n).fill(i + 1) })
  );
  const [e] = await events(capture(pk), { samples: 4 });
  deepEqual(e.samples.map((s) => s.length), sizes.map((n) => 14 + 20 + 8 + n));
  for (let i = 0; i < 4; i++) ok(e.samples[i].subarray(42).every((x) => x === i + 1));
});

Deno.test("a realistic capture: every destination table goes back when its event ends", async () => {
  const { generateScenario } = await import("../../src/synth/scenario.ts");
  const { PcapDecoderStream } = await import("../../src/capture/pcap_decoder_stream.ts");
  const chunks: Uint8Array[] = [];
  generateScenario(
    { packets: 1500000, seed: 5, duration: 7200, oneOffs: 2000 },
    (b) => chunks.push(b.slice()),
  );
  const agg = new EventAggregator({ timeout: 300, samples: 2 });
  const tables = () => agg._internals.v4.dests4._tablesInUse;
  let most = 0;
  let n = 0;
  for await (const b of ReadableStream.from(chunks).pipeThrough(new PcapDecoderStream())) {
    n += agg.add(b).length;
    most = Math.max(most, tables());
  }
  ok(most > 100, `only ${most} medium sets at once`);
  ok(n > 1000, `only ${n} events ended by gaps and sweeps`);
  n += agg.openEvents().length;
  equal(tables(), 0);
  equal(agg.openCount, 0);
  equal(n, agg.stats.eventsEnded);
});

Deno.test("single-packet events and their promotion agree with a plain model, with sweeps, gaps, out-of-order packets and state saved mid-way", async () => {
  // Many keys with one, two or a few packets (the aggregator keeps one-packet events apart and
  // promotes them on their second packet): compare every field but samples with a
  // straightforward Map-based model of the rules.
  const timeout = 60;
  const rnd = xorshift(12345);
  const pk = [];
  const times: number[] = []; // µs since T0
  let t = 0;
  for (let i = 0; i < 4000; i++) {
    t += rnd(120_000);
    // Now and then a packet from up to half a second before the clock.
    const at = rnd(10) === 0 ? Math.max(0, t - rnd(500_000)) : t;
    const src = S + rnd(400);
    const dst = D + rnd(3) * 256 + rnd(4);
    const zmap = src % 3 === 0;
    const spec = rnd(8) === 0
      ? { src, dst, proto: 17, dport: 53 }
      : { src, dst, dport: 22 + rnd(2), id: zmap ? 54321 : rnd(3) === 0 ? 54321 : 7, seq: dst };
    pk.push(pkt(at / 1e6, spec));
    times.push(at);
  }
  // The model.
  type M = {
    key: string;
    first: number;
    last: number;
    packets: number;
    dests: Set<number>;
    zmap: boolean;
    mirai: boolean;
  };
  const open = new Map<string, M>();
  const ended: M[] = [];
  let latest = -1;
  let sweep = -1;
  const T = timeout * 1e6;
  for (let i = 0; i < pk.length; i++) {
    const at = times[i];
    if (at > latest) {
      latest = at;
      if (sweep < 0) sweep = at;
      else if (at - sweep > T) {
        for (const [k, m] of open) if (latest - m.last > T) (ended.push(m), open.delete(k));
        sweep = latest;
      }
    }
    const f = pk[i].data;
    const src = new DataView(f.buffer, f.byteOffset).getUint32(14 + 12);
    const dst = new DataView(f.buffer, f.byteOffset).getUint32(14 + 16);
    const udp = f[14 + 9] === 17;
    const port = new DataView(f.buffer, f.byteOffset).getUint16(14 + 20 + 2);
    const id = new DataView(f.buffer, f.byteOffset).getUint16(14 + 4);
    const seq = udp ? -1 : new DataView(f.buffer, f.byteOffset).getUint32(14 + 20 + 4);
    const key = `${src} ${udp ? "u" : "s"} ${port}`;
    let m = open.get(key);
    if (m && at - m.last > T) (ended.push(m), m = undefined);
    if (!m) {
      m = { key, first: at, last: at, packets: 0, dests: new Set(), zmap: !udp, mirai: !udp };
      open.set(key, m);
    } else if (at < m.last) m.first = Math.min(m.first, at);
    else m.last = at;
    m.packets++;
    m.dests.add(dst);
    if (id !== 54321) m.zmap = false;
    if (seq !== dst) m.mirai = false;
  }
  ended.push(...open.values());
  const fromModel = ended.map((m) =>
    `${m.key} ${m.first} ${m.last} ${m.packets} ${m.dests.size} ${m.zmap} ${m.mirai}`
  ).sort();
  const show = (
    e: {
      src: number;
      traffic: number;
      port: number;
      firstSec: number;
      firstNsec: number;
      lastSec: number;
      lastNsec: number;
      packets: number;
      uniqueDests: number;
      fingerprint(name: string): boolean;
    },
  ) =>
    `${e.src} ${e.traffic === Traffic.UDP ? "u" : "s"} ${e.port} ${
      (e.firstSec - 1603296000) * 1e6 + e.firstNsec / 1000
    } ${(e.lastSec - 1603296000) * 1e6 + e.lastNsec / 1000} ${e.packets} ${e.uniqueDests} ${
      e.fingerprint("zmap")
    } ${e.fingerprint("mirai")}`;
  ok(fromModel.filter((s) => s.split(" ")[5] === "1").length > 500, "few single-packet events");
  ok(fromModel.filter((s) => s.split(" ")[5] === "2").length > 200, "few two-packet events");
  const got = (await events(capture(pk), { timeout, samples: 1 })).map(show).sort();
  deepEqual(got, fromModel);

  // The same with the state saved after the first half and loaded into a fresh aggregator.
  const { loadState, saveState } = await import("../../src/state/state_file.ts");
  const first = new EventAggregator({ timeout, samples: 1 });
  const out = [];
  for await (
    const b of ReadableStream.from([capture(pk.slice(0, 2000))]).pipeThrough(
      new PcapDecoderStream(),
    )
  ) {
    out.push(...first.add(b));
  }
  out.push(...first.sweepIdle()); // the events ended so far leave before the state is saved
  const open1 = first.openCount;
  const second = new EventAggregator({ timeout, samples: 1 });
  const path = `${tempDir()}/half.state`;
  await saveState(first, path);
  await loadState(second, path);
  equal(second.openCount, open1);
  out.push(...await events(capture(pk.slice(2000)), {}, second));
  deepEqual(out.map(show).sort(), fromModel);
});

Deno.test("open events come in chunks of the asked size, in event order (last packet, then key), counted once", async () => {
  const { ethernet, ipv6Packet } = await import("../../src/synth/frames.ts");
  // 2,520 one-packet sources, 280 two-packet ones (full rows) and an IPv6 one, in shuffled order.
  const pk = [];
  for (let i = 0; i < 2800; i++) {
    const src = (S + ((i * 40503) & 0xfffff)) >>> 0; // distinct, not in key order
    pk.push(pkt(i * 0.01, { src, dst: D + 1 }));
    if (i % 10 === 0) pk.push(pkt(i * 0.01 + 0.001, { src, dst: D + 2 }));
  }
  const v6 = {
    sec: pk[0].sec,
    nsec: 0,
    data: ethernet(
      ipv6Packet({ src: new Uint8Array(16).fill(1), dst: new Uint8Array(16), proto: 17 }),
    ),
  };
  const bytes = capture([v6, ...pk]);
  const agg = new EventAggregator({ timeout: 600 });
  for await (const b of ReadableStream.from([bytes]).pipeThrough(new PcapDecoderStream())) {
    equal(agg.add(b).length, 0);
  }
  const opened = agg.openCount;
  const chunks = [...agg.openEventChunks(false, 700)];
  deepEqual(chunks.map((c) => c.length), [700, 700, 700, 700, 1]);
  const flat = chunks.flat();
  equal(flat.length, 2801);
  deepEqual(flat, [...flat].sort(compareEventOrder));
  equal(flat[0].version, 6); // the earliest last packet
  ok(flat.some((e, i) => i > 0 && compareEventKeys(flat[i - 1], e) > 0), "not in key order");
  equal(flat.filter((e) => e.packets === 2).length, 280);
  equal(agg.stats.eventsEnded, opened);
  equal(agg.openCount, 0);
  // Filtered at the end: only the two-packet events pass `threshold: 2`, none of the rest.
  const f = new EventAggregator({ timeout: 600, threshold: 2 });
  for await (const b of ReadableStream.from([bytes]).pipeThrough(new PcapDecoderStream())) f.add(b);
  const kept = [...f.openEventChunks()].flat();
  equal(kept.length, 280);
  ok(kept.every((e) => e.packets === 2));
  equal(f.stats.eventsFiltered, opened - 280);
  deepEqual([...new EventAggregator().openEventChunks()], [[]]);
});

Deno.test("near misses: Mirai's sequence one bit off (lowest or highest), ZMap's IP ID one bit off", async () => {
  const off = (bit: number) =>
    [1, 2].map((i) => pkt(i, { src: S + bit, dst: D + i, seq: i === 2 ? (D + i) ^ bit : D + i }));
  const zmapOff = [1, 2].map((i) =>
    pkt(i, { src: S + 9, dst: D + i, id: i === 2 ? 54321 ^ 1 : 54321 })
  );
  const evs = await events(capture([...off(1), ...off(0x80000000 >>> 0), ...zmapOff]));
  deepEqual(
    evs.map((
      e,
    ) => [e.packets, e.fingerprint("zmap"), e.fingerprint("masscan"), e.fingerprint("mirai")]),
    [
      [2, false, false, false],
      [2, false, false, false],
      [2, false, false, false],
    ],
  );
  // One bit the other way for a single packet: still no Mirai (single-packet rows too).
  const one = await events(capture([pkt(1, { src: S, dst: D + 7, seq: (D + 7) ^ 1 })]));
  equal(one[0].fingerprint("mirai"), false);
});

Deno.test("an event that a gap restarts arms fingerprints only for TCP SYN traffic", async () => {
  // UDP and ICMP with ZMap's IP ID, and a TCP SYN source for contrast, each at 0 and 1 and again
  // at 12 and 13 with --timeout 10. A clock packet at 10 makes the sweep run while they are idle
  // 9 s (they survive it), so the packet at 12 restarts each event itself (gap 11 > 10) instead
  // of finding it swept.
  const pk = [];
  for (const at of [0, 1, 12, 13]) {
    pk.push(pkt(at, { src: S, dst: D + 1, proto: 17, dport: 53, id: 54321 }));
    pk.push(pkt(at, { src: S + 1, dst: D + 1, proto: 1, id: 54321 }));
    pk.push(pkt(at, { src: S + 2, dst: D + 1, id: 54321 }));
  }
  pk.push(pkt(5, { src: S + 9, dst: D }), pkt(10, { src: S + 9, dst: D }));
  pk.sort((a, b) => a.sec - b.sec);
  const evs = await events(capture(pk), { timeout: 10 });
  deepEqual(
    evs.filter((e) => e.sourceIP !== "198.51.100.10").map((
      e,
    ) => [e.sourceIP, e.packets, e.fingerprint("zmap")])
      .sort((a, b) => String(a).localeCompare(String(b))),
    [
      ["198.51.100.1", 2, false],
      ["198.51.100.1", 2, false],
      ["198.51.100.2", 2, false],
      ["198.51.100.2", 2, false],
      ["198.51.100.3", 2, true],
      ["198.51.100.3", 2, true],
    ],
  );
});

Deno.test("the touch-ahead path of floods gives the events and state of the plain path: IPv4 and IPv6, repeats, gaps, sweeps, other frames", async () => {
  // With millions of one-packet events the aggregator touches its tables a batch ahead and
  // looks IPv6 keys up by hashes made there; here that path is taken from the first packet and
  // compared with the plain one, through the stream (which pauses batches for sweeps).
  const { touchAhead } = await import("../../src/aggregation/_touch_ahead.ts");
  const { EventAggregatorStream } = await import(
    "../../src/aggregation/event_aggregator_stream.ts"
  );
  const { encodeState } = await import("../../src/state/state_file.ts");
  const { ethernet, ipv6Packet } = await import("../../src/synth/frames.ts");
  const rnd = xorshift(77);
  const pk = [];
  let t = 0;
  for (let i = 0; i < 6000; i++) {
    t += rnd(30_000); // µs
    const dst = D + rnd(64);
    const r = rnd(10);
    if (r < 4) pk.push(pkt(t / 1e6, { src: S + rnd(900), dst, dport: 22 + rnd(2), id: 54321 }));
    else if (r < 9) {
      const src = new Uint8Array(16).fill(0x20);
      const n = rnd(900);
      src[1] = 1 + rnd(2);
      src[14] = n >> 8;
      src[15] = n & 255;
      const d6 = new Uint8Array(16).fill(0xfe);
      d6[15] = dst & 255;
      const proto = rnd(6) === 0 ? 17 : 6;
      pk.push({
        ...pkt(t / 1e6, { src: S, dst }),
        data: ethernet(ipv6Packet({ src, dst: d6, proto, flags: 2, dport: 80 + rnd(2) })),
      });
    } else {
      const arp = new Uint8Array(42);
      arp[12] = 0x08;
      arp[13] = 0x06;
      pk.push({ ...pkt(t / 1e6, { src: S, dst }), data: arp });
    }
    if (i === 3000) t += 200e6; // a gap longer than the timeout: everything ends, keys restart
  }
  const bytes = capture(pk);
  const run = async (from: number) => {
    const saved = touchAhead.from;
    touchAhead.from = from;
    try {
      const o = { timeout: 60, samples: 1, seed: 4 };
      const out: string[] = [];
      const s = ReadableStream.from([bytes]).pipeThrough(new PcapDecoderStream())
        .pipeThrough(new EventAggregatorStream(new EventAggregator(o)));
      for await (const c of s) for (const e of c.events) out.push(JSON.stringify(e));
      // And what stays open at the end, as a state file holds it.
      const agg = new EventAggregator(o);
      for await (const b of ReadableStream.from([bytes]).pipeThrough(new PcapDecoderStream())) {
        agg.add(b);
      }
      return { out, state: encodeState(agg), open: agg.openCount };
    } finally {
      touchAhead.from = saved;
    }
  };
  const plain = await run(1 << 20);
  const ahead = await run(0);
  ok(plain.out.length > 1000 && plain.open > 500, `${plain.out.length} events, ${plain.open} open`);
  ok(plain.out.some((e) => e.includes('"SourceIP":"2001:') || e.includes('"SourceIP":"2002:')));
  deepEqual(ahead.out, plain.out);
  deepEqual(ahead.state, plain.state);
});

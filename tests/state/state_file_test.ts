import { deepEqual, equal, match, ok, rejects } from "node:assert/strict";
import { PcapDecoderStream } from "../../src/capture/pcap_decoder_stream.ts";
import { DataError } from "../../src/errors.ts";
import { compareEventKeys } from "../../src/model/darknet_event.ts";
import {
  EventAggregator,
  type EventAggregatorOptions,
} from "../../src/aggregation/event_aggregator.ts";
import { encodeState, loadState, saveState } from "../../src/state/state_file.ts";
import { packMembers } from "../../src/state/state_container.ts";
import { generateScenario } from "../../src/synth/scenario.ts";
import { eventJson } from "../../src/synth/event_json.ts";
import { concat, pcapFile, type WritePacket } from "../../src/synth/pcap_writer.ts";
import { ethernet, ipv4Packet, ipv6Packet } from "../../src/synth/frames.ts";
import { runCli, tempDir } from "../_helpers.ts";

const dir = tempDir("state-test-");
const OPTS: EventAggregatorOptions = { timeout: 300, samples: 2, seed: 3, uniques: 2 };

// Two "hours" of one scenario: the generator's output split at a record boundary in the middle.
function hours(): [Uint8Array, Uint8Array] {
  const parts: Uint8Array[] = [];
  generateScenario(
    { packets: 40000, seed: 5, oneOffs: 300, duration: 7200 },
    (b) => parts.push(b.slice()),
  );
  const all = concat(parts);
  const half = 24 + 20000 * 76;
  const h2 = concat([all.subarray(0, 24), all.subarray(half)]);
  return [all.subarray(0, half), h2];
}

async function feed(agg: EventAggregator, bytes: Uint8Array): Promise<string[]> {
  const out: string[] = [];
  for await (const b of ReadableStream.from([bytes]).pipeThrough(new PcapDecoderStream())) {
    for (const e of agg.add(b)) out.push(JSON.stringify(e));
  }
  return out;
}

Deno.test("hour 1 with --cacheout then hour 2 with --cachein equals one run over both", async () => {
  const [h1, h2] = hours();
  const one = new EventAggregator(OPTS);
  const whole = [
    ...await feed(one, h1),
    ...await feed(one, h2),
    ...one.openEvents().sort(compareEventKeys).map((e) => JSON.stringify(e)),
  ];
  const a = new EventAggregator(OPTS);
  const first = await feed(a, h1);
  ok(a.openCount > 100);
  await saveState(a, `${dir}/h1.state`);
  const b = new EventAggregator(OPTS);
  await loadState(b, `${dir}/h1.state`);
  equal(b.openCount, a.openCount);
  const second = [
    ...await feed(b, h2),
    ...b.openEvents().sort(compareEventKeys).map((e) => JSON.stringify(e)),
  ];
  equal(first.length + second.length, whole.length);
  deepEqual([...first, ...second], whole);
  ok(whole.some((e) => e.includes('"Zmap":true')));
});

Deno.test("state keeps IPv6 events, samples and an empty clock", async () => {
  const src = new Uint8Array(16).fill(0x20);
  const pk = [1, 2, 3].map((i) => {
    const dst = new Uint8Array(16).fill(0xfe);
    dst[15] = i;
    return {
      sec: 1000 + i,
      nsec: 0,
      data: ethernet(ipv6Packet({ src, dst, proto: 6, dport: 22, flags: 0x02 })),
    };
  });
  const a = new EventAggregator({ samples: 2 });
  await feed(a, pcapFile(pk, { linkType: 1 }));
  await saveState(a, `${dir}/v6.state`);
  const b = new EventAggregator({ samples: 2 });
  await loadState(b, `${dir}/v6.state`);
  const [e] = b.openEvents();
  deepEqual([e.version, e.packets, e.uniqueDests, e.uniqueDest24s, e.samples.length], [
    6,
    3,
    3,
    1,
    2,
  ]);
  equal(e.sourceIP, "2020:2020:2020:2020:2020:2020:2020:2020");
  await saveState(new EventAggregator(), `${dir}/empty.state`);
  const c = new EventAggregator();
  await loadState(c, `${dir}/empty.state`);
  equal(c.clock, null);
});

Deno.test("corrupt, truncated, foreign and mismatched state files fail with one clear line", async () => {
  const a = new EventAggregator(OPTS);
  await feed(a, hours()[0]);
  const path = `${dir}/good.state`;
  await saveState(a, path);
  const good = Deno.readFileSync(path);
  const tryLoad = async (bytes: Uint8Array, opts = OPTS) => {
    const p = `${dir}/bad.state`;
    Deno.writeFileSync(p, bytes);
    let err: unknown;
    try {
      await loadState(new EventAggregator(opts), p);
    } catch (e) {
      err = e;
    }
    ok(err instanceof DataError, String(err));
    ok(!(err as Error).message.includes("\n"));
    return (err as Error).message;
  };
  match(
    await tryLoad(good.subarray(0, good.length - 100)),
    /bad\.state: byte 16: state file is truncated/,
  );
  const flipped = good.slice();
  flipped[good.length - 50] ^= 0x55;
  match(await tryLoad(flipped), /checksum mismatch/);
  match(await tryLoad(new TextEncoder().encode('{"not": "a state"}\n........')), /bad magic/);
  match(await tryLoad(new Uint8Array(3)), /only 3 bytes/);
  const v2 = good.slice();
  new DataView(v2.buffer).setUint32(8, 99, true);
  match(await tryLoad(v2), /version 99 is not supported/);
  match(
    await tryLoad(good, { ...OPTS, timeout: 624 }),
    /written with --timeout 300, this run uses 624/,
  );
  match(await tryLoad(good, { ...OPTS, samples: 3 }), /written with --samples 2, this run uses 3/);
  await rejects(
    loadState(new EventAggregator(), `${dir}/missing.state`),
    /missing\.state: no such file/,
  );
  // The temporary file never remains under the final name's neighbour.
  ok(!Deno.readDirSync(dir).some((e) => e.name.endsWith(".tmp")));
});

// A format-3 state built field by field, so that each field can be given an impossible value.
interface Fields {
  clock?: unknown;
  settings?: Record<string, number>;
  single?: Partial<
    {
      src: number;
      k1: number;
      sec: number;
      nsec: number;
      dst: number;
      len: number;
      fp: number;
      has: number;
    }
  >;
  event?: Partial<{
    k1: number;
    first: number;
    last: number;
    packets: number;
    bytes: number;
    fp: number;
    rng: number;
    next: number;
    runs: [number, number][];
    slot: number;
  }>;
  extra?: Uint8Array;
}

function craft(f: Fields = {}): Uint8Array {
  const rec = (build: (dv: DataView, b: Uint8Array) => number): Uint8Array => {
    const b = new Uint8Array(4096);
    const dv = new DataView(b.buffer);
    const n = build(dv, b);
    dv.setUint32(0, n - 4, true);
    return b.slice(0, n);
  };
  const header = new TextEncoder().encode(JSON.stringify({
    tool: "darknet-events",
    settings: { timeout: 300, telescopeSize: 475136, samples: 1, seed: 1, ...f.settings },
    clock: f.clock !== undefined
      ? f.clock
      : { latestSec: 1603296100, latestNsec: 0, sweepSec: 1603296000, sweepNsec: 0 },
    singles: 1,
    v4: 1,
    v6: 0,
  }));
  const h = rec((_, b) => {
    b.set(header, 4);
    return 4 + header.length;
  });
  const s = {
    src: 0xc0000201,
    k1: (11 << 16) | 23,
    sec: 1603296050,
    nsec: 0,
    dst: 0x0a000001,
    len: 60,
    fp: 0,
    has: 1,
    ...f.single,
  };
  const single = rec((dv) => {
    let p = 4;
    dv.setUint32(p, s.src, true);
    dv.setUint32(p + 4, s.k1, true);
    dv.setFloat64(p + 8, s.sec, true);
    dv.setUint32(p + 16, s.nsec, true);
    dv.setUint32(p + 20, s.dst, true);
    dv.setUint32(p + 24, s.len, true);
    dv.setUint8(p + 28, s.fp);
    dv.setUint8(p + 29, s.has);
    p += 30;
    return p + (s.has ? s.len : 0);
  });
  const e = {
    k1: (11 << 16) | 23,
    first: 1603296000,
    last: 1603296010,
    packets: 3,
    bytes: 180,
    fp: 1,
    rng: 12345,
    next: 4,
    runs: [[0x0a000001, 3]] as [number, number][],
    slot: 0,
    ...f.event,
  };
  const event = rec((dv) => {
    let p = 4;
    dv.setUint32(p, 0xc0000202, true);
    dv.setUint32(p + 4, e.k1, true);
    p += 8;
    dv.setFloat64(p, e.first, true);
    dv.setUint32(p + 8, 0, true);
    dv.setFloat64(p + 12, e.last, true);
    dv.setUint32(p + 20, 0, true);
    dv.setFloat64(p + 24, e.packets, true);
    dv.setFloat64(p + 32, e.bytes, true);
    dv.setUint8(p + 40, e.fp);
    dv.setUint32(p + 41, e.rng, true);
    dv.setFloat64(p + 45, e.next, true);
    p += 53;
    dv.setUint32(p, e.runs.length, true);
    p += 4;
    for (const [start, len] of e.runs) {
      dv.setUint32(p, start, true);
      dv.setUint32(p + 4, len, true);
      p += 8;
    }
    dv.setUint8(p, 1);
    dv.setUint8(p + 1, e.slot);
    dv.setUint32(p + 2, 60, true);
    return p + 6 + 60;
  });
  return packMembers("DNEVSTAT", 3, [concat([h, single, event, f.extra ?? new Uint8Array(0)])]);
}

Deno.test("a crafted state loads; every impossible field is refused with one line", async () => {
  const load = async (bytes: Uint8Array) => {
    const p = `${dir}/crafted.state`;
    Deno.writeFileSync(p, bytes);
    const agg = new EventAggregator({ timeout: 300, samples: 1, notAfter: 1700000000 });
    await loadState(agg, p);
    return agg;
  };
  const good = await load(craft());
  equal(good.openCount, 2);
  const evs = good.openEvents().sort(compareEventKeys);
  deepEqual(evs.map((e) => [e.packets, e.uniqueDests, e.fingerprint("zmap")]), [[1, 1, false], [
    3,
    3,
    true,
  ]]);
  const cases: [Fields, RegExp][] = [
    [{ event: { packets: NaN } }, /packet count is NaN/],
    [{ event: { packets: Infinity } }, /packet count is Infinity/],
    [{ event: { packets: 0 } }, /packet count is 0/],
    [{ event: { bytes: -60 } }, /byte count is -60/],
    [{ event: { k1: (200 << 16) | 23 } }, /traffic code 200/],
    [{ event: { k1: (0 << 16) | 0 } }, /fingerprint bits \d+ on an event of traffic/],
    [{ event: { fp: 9 } }, /fingerprint bits 9/],
    [{ single: { fp: 2, k1: 16 << 16 } }, /fingerprint bits \d+ on an event of traffic/],
    [{ clock: "2020-10-21" }, /the clock is not a pair of times/],
    [
      { clock: { latestSec: 0xffffffff, latestNsec: 0, sweepSec: 0, sweepNsec: 0 } },
      /clock .*2106.* is in the future/,
    ],
    [{ clock: null }, /events without a clock/],
    [{ event: { last: 1603296200 } }, /last packet is after the state's clock/],
    [{ event: { first: 1603296020 } }, /ends before it starts/],
    [
      { event: { runs: [[0, 4294967295]] } },
      /4294967295 distinct destinations in an event of 3 packets/,
    ],
    [{
      event: { packets: 2 ** 40, next: 2 ** 40 + 1, runs: [[0, 2 ** 31], [2 ** 31, 2 ** 31 - 1]] },
    }, /destination runs out of order|more than \d+ destination/],
    [{ event: { runs: [[5, 2], [3, 1]] } }, /destination runs out of order/],
    [{ event: { slot: 3 } }, /sample slot out of range/],
    [{ single: { len: 0, has: 0 } }, /a sampled frame of 0 bytes/],
    [{ single: { has: 0 } }, /single-packet event's sample is missing/],
    [{ single: { nsec: 1e9 } }, /is not a time/],
    [{ single: { src: 0xc0000202 } }, /an event key appears twice/],
    [{ settings: { seed: 7 } }, /written with --seed 7, this run uses 1/],
    [{ extra: Uint8Array.of(1, 0, 0, 0, 9) }, /unexpected bytes after the events/],
  ];
  for (const [f, re] of cases) {
    let err: unknown;
    try {
      await load(craft(f));
    } catch (e) {
      err = e;
    }
    ok(err instanceof DataError, `${JSON.stringify(f)}: ${err}`);
    match(err.message, re, JSON.stringify(f));
    ok(!err.message.includes("\n"));
  }
});

Deno.test("a gzip bomb of a state (1 GB of zeros in 10 MB) fails at once in bounded memory", async () => {
  const zeros = new Uint8Array(1 << 20);
  const pieces = [craft().subarray(0, 0), ...Array.from({ length: 1024 }, () => zeros)];
  const h = new TextEncoder().encode(JSON.stringify({
    tool: "darknet-events",
    settings: { timeout: 300, telescopeSize: 475136, samples: 1, seed: 1 },
    clock: { latestSec: 1603296100, latestNsec: 0, sweepSec: 1603296000, sweepNsec: 0 },
    singles: 1e9,
    v4: 0,
    v6: 0,
  }));
  const head = new Uint8Array(4 + h.length);
  new DataView(head.buffer).setUint32(0, h.length, true);
  head.set(h, 4);
  pieces[0] = head;
  const p = `${dir}/bomb.state`;
  Deno.writeFileSync(p, packMembers("DNEVSTAT", 3, pieces));
  ok(Deno.statSync(p).size < 12e6, String(Deno.statSync(p).size));
  const before = Deno.memoryUsage().rss;
  await rejects(
    loadState(new EventAggregator({ timeout: 300, samples: 1 }), p),
    /corrupt state: a record is shorter than its fields/,
  );
  ok(Deno.memoryUsage().rss - before < 200e6);
});

Deno.test("a state written by the previous format (2) loads and continues exactly", async () => {
  const agg = new EventAggregator({ timeout: 300, samples: 2 });
  await loadState(agg, "testdata/state/demo-v2.state");
  // The events as that build wrote them, with the attribution of a state without it: nothing
  // known (it starts with the next packet).
  const want = Deno.readTextFileSync("testdata/state/demo-v2-open.ndjson").trim().split("\n")
    .map((l) => eventJson(JSON.parse(l)));
  deepEqual(
    agg.openEvents().sort(compareEventKeys).map((e) => JSON.parse(JSON.stringify(e))),
    want,
  );
  // And through the current format: saved again, loaded, the same events.
  const again = new EventAggregator({ timeout: 300, samples: 2 });
  await loadState(again, "testdata/state/demo-v2.state");
  await saveState(again, `${dir}/v3.state`);
  const third = new EventAggregator({ timeout: 300, samples: 2 });
  await loadState(third, `${dir}/v3.state`);
  deepEqual(
    third.openEvents().sort(compareEventKeys).map((e) => JSON.parse(JSON.stringify(e))),
    want,
  );
});

Deno.test("one-packet IPv4 and IPv6 events across a state file: promoted, ended and restarted as in one run, same state bytes", async () => {
  const T = 1603296000;
  const frame = (i: number, v6: boolean, dport: number) => {
    if (!v6) {
      return ethernet(
        ipv4Packet({ src: 0xc6336400 + i, dst: 0x0a000000 + i, proto: 6, dport, flags: 2, id: i }),
      );
    }
    const src = new Uint8Array(16).fill(0x20);
    src[14] = i >> 8;
    src[15] = i & 255;
    const dst = new Uint8Array(16).fill(0xfe);
    dst[15] = i % 7;
    return ethernet(ipv6Packet({ src, dst, proto: 6, dport, flags: 2 }));
  };
  const hour1: WritePacket[] = [];
  const hour2: WritePacket[] = [];
  for (let i = 0; i < 400; i++) {
    const v6 = i % 2 === 1;
    hour1.push({ sec: T + i * 5, nsec: i, data: frame(i, v6, 23) });
    // Before the split too: promotions, and (by the late packets below) events ended by a
    // sweep — removals that move other entries, so that the entries' order is not arrival's.
    if (i % 7 === 0) hour1.push({ sec: T + i * 5 + 1, nsec: 0, data: frame(i, v6, 23) });
    // A second packet within the timeout (promotes), one after it (ends and restarts), or none.
    if (i % 3 === 0) hour2.push({ sec: T + 3600 + i, nsec: 0, data: frame(i, v6, 23) });
    if (i % 3 === 1) hour2.push({ sec: T + 3600 + 2000 + i, nsec: 0, data: frame(i, v6, 23) });
    if (i % 5 === 0) hour2.push({ sec: T + 3600 + i, nsec: 7, data: frame(i + 1000, v6, 80) });
  }
  for (let j = 0; j < 6; j++) {
    hour1.push({ sec: T + 3400 + j, nsec: 0, data: frame(2000 + j, j % 2 === 1, 443) });
  }
  hour1.sort((a, b) => a.sec - b.sec || a.nsec - b.nsec);
  hour2.sort((a, b) => a.sec - b.sec || a.nsec - b.nsec);
  const opts = { timeout: 3000, samples: 1, seed: 9 };
  const h1 = pcapFile(hour1, { linkType: 1 });
  const h2 = pcapFile(hour2, { linkType: 1 });
  const one = new EventAggregator(opts);
  const whole = [...await feed(one, h1), ...await feed(one, h2)];
  await saveState(one, `${dir}/one.state`);
  const a = new EventAggregator(opts);
  const first = await feed(a, h1);
  ok(first.length > 50 && a.openCount > 200, `${first.length} ended, ${a.openCount} open`);
  await saveState(a, `${dir}/split1.state`);
  const b = new EventAggregator(opts);
  await loadState(b, `${dir}/split1.state`);
  const second = await feed(b, h2);
  deepEqual([...first, ...second], whole);
  ok(whole.some((e) => e.includes('"SourceIP":"2020:')), "IPv6 events ended");
  await saveState(b, `${dir}/split2.state`);
  deepEqual(Deno.readFileSync(`${dir}/split2.state`), Deno.readFileSync(`${dir}/one.state`));
  const c = new EventAggregator(opts);
  await loadState(c, `${dir}/split2.state`);
  deepEqual(
    c.openEvents().sort(compareEventKeys).map((e) => JSON.stringify(e)),
    one.openEvents().sort(compareEventKeys).map((e) => JSON.stringify(e)),
  );
});

Deno.test("a large state compressed on the other core is the same bytes as one compressed here", async () => {
  const { generateFlood } = await import("../../src/synth/flood.ts");
  const parts: Uint8Array[] = [];
  generateFlood({ packets: 150_000, ipv6: false }, (b) => parts.push(b.slice()));
  const agg = new EventAggregator({ timeout: 3600, samples: 1 });
  await feed(agg, concat(parts));
  ok(agg.openCount >= 100_000, "takes the worker path");
  await saveState(agg, `${dir}/big.state`);
  deepEqual(Deno.readFileSync(`${dir}/big.state`), encodeState(agg));
  const back = new EventAggregator({ timeout: 3600, samples: 1 });
  await loadState(back, `${dir}/big.state`);
  equal(back.openCount, 150_000);
});

Deno.test("IPv6 destinations across a state file: /64s told apart by their second word, one destination kept", async () => {
  const addr = (w: number[]) => {
    const b = new Uint8Array(16);
    const dv = new DataView(b.buffer);
    w.forEach((x, i) => dv.setUint32(i * 4, x));
    return b;
  };
  const src = addr([0x20010db8, 0, 0, 7]);
  const src2 = addr([0x20010db8, 0, 0, 8]);
  const dsts = [
    addr([0x20010db8, 1, 0, 1]),
    addr([0x20010db8, 2, 0, 1]), // same first word, another /64
    addr([0x20010db8, 2, 0, 2]), // same /64 as the one before
  ];
  const pk: WritePacket[] = dsts.map((dst, i) => ({
    sec: 1603296000 + i,
    nsec: 0,
    data: ethernet(ipv6Packet({ src, dst, proto: 6, dport: 22, flags: 0x02 })),
  }));
  // Two packets to one destination: a full event with a single destination.
  for (const i of [0, 1]) {
    pk.push({
      sec: 1603296000 + i,
      nsec: 5,
      data: ethernet(ipv6Packet({ src: src2, dst: dsts[0], proto: 6, dport: 22, flags: 0x02 })),
    });
  }
  pk.sort((a, b) => a.sec - b.sec || a.nsec - b.nsec);
  const a = new EventAggregator({ samples: 0 });
  await feed(a, pcapFile(pk, { linkType: 1 }));
  const want = a.openEvents(true).sort(compareEventKeys).map((
    e,
  ) => [e.sourceIP, e.packets, e.uniqueDests, e.uniqueDest24s]);
  deepEqual(want, [
    ["2001:db8::7", 3, 3, 2],
    ["2001:db8::8", 2, 1, 1],
  ]);
  await saveState(a, `${dir}/v6dest.state`);
  const b = new EventAggregator({ samples: 0 });
  await loadState(b, `${dir}/v6dest.state`);
  deepEqual(
    b.openEvents().sort(compareEventKeys).map((
      e,
    ) => [e.sourceIP, e.packets, e.uniqueDests, e.uniqueDest24s]),
    want,
  );
});

Deno.test("the attribution's words round-trip; impossible ones are refused with one line", async () => {
  const { ATTR } = await import("../../src/aggregation/_attribution.ts");
  const { FP, IPID_EQUAL, ROW_U32, TAGS_MIXED } = await import(
    "../../src/aggregation/_event_table.ts"
  );
  const T = 1603296000;
  // A masscan-like SYN source (three packets) and a UDP source (two), both open at the end.
  const pk: WritePacket[] = [];
  for (let k = 0; k < 3; k++) {
    const dst = 0x0a000001 + k;
    const seq = 0x01020304 * (k + 1) >>> 0;
    pk.push({
      sec: T + k,
      nsec: 0,
      data: ethernet(ipv4Packet({
        src: 0xc6336401,
        dst,
        proto: 6,
        flags: 2,
        dport: 80,
        seq,
        id: (dst ^ 80 ^ seq) & 0xffff,
        window: 1025,
        options: [2, 4, 5, 0xb4],
      })),
    });
  }
  for (let k = 0; k < 2; k++) {
    pk.push({
      sec: T + k,
      nsec: 0,
      data: ethernet(ipv4Packet({ src: 0xc6336402, dst: 1, proto: 17, dport: 53, id: 7 + k })),
    });
  }
  pk.sort((a, b) => a.sec - b.sec);
  const fresh = () => aggregated(pk, 1);
  const agg = await fresh();
  const p = `${dir}/attr.state`;
  await saveState(agg, p);
  const back = new EventAggregator({ timeout: 300, samples: 1 });
  await loadState(back, p);
  const show = (a: EventAggregator) =>
    a.openEvents(true).sort(compareEventKeys).map((e) => {
      const j = JSON.parse(JSON.stringify(e));
      return [j.Tools, j.Tool, j.SynSignature, j.IPIDClass];
    });
  deepEqual(show(back), [
    [{ masscan: [3, 3] }, "masscan", "1025_2_1460_00", "incrementing"], // steps of 773
    [{}, "", "", "incrementing"],
  ]);
  deepEqual(show(back), show(agg));
  // Corrupt words: more matches than packets, IP ID pairs beyond the packets, a fingerprint
  // word with unknown bits.
  const cases: [
    string,
    (t: { attr: Uint32Array; rowU: Uint32Array }, e: number) => void,
    RegExp,
  ][] = [
    ["matched", (t, e) => t.attr[e * ATTR + 1] = 4, /4 packets matched Masscan of 3 tested/],
    ["pairs", (t, e) => t.rowU[e * ROW_U32 + IPID_EQUAL] = 3, /IP ID pairs beyond the packets/],
    ["fp", (t, e) => t.rowU[e * ROW_U32 + FP] |= 0x4000, /fingerprint word/],
    [
      "tags",
      (t, e) => {
        t.rowU[e * ROW_U32 + FP] = (t.rowU[e * ROW_U32 + FP] & ~(15 << 9)) | TAGS_MIXED;
        t.attr[e * ATTR + ATTR - 1] = 4;
      },
      /4 packets tagged large-scale-scan of 3/,
    ],
  ];
  for (const [name, spoil, want] of cases) {
    const bad = await fresh();
    const t = bad._internals.v4;
    const e = t.keys.find2(0xc6336401, (11 << 16) | 80);
    ok(e >= 0);
    spoil(t, e);
    await saveState(bad, `${dir}/bad.state`);
    await rejects(
      loadState(new EventAggregator({ timeout: 300, samples: 1 }), `${dir}/bad.state`),
      (err: Error) => err instanceof DataError && want.test(err.message) || assertFail(name, err),
    );
  }
});

Deno.test("one-packet events' attribution in a state file: signatures once each, words checked", async () => {
  const T = 1603296000;
  // Five one-packet SYN sources, two signatures, one of them nmap-shaped (a sequence value).
  const pk: WritePacket[] = [0, 1, 2, 3, 4].map((k) => ({
    sec: T + k,
    nsec: 0,
    data: ethernet(ipv4Packet({
      src: 0xc6336410 + k,
      dst: 0x0a000001,
      proto: 6,
      flags: 2,
      dport: 22,
      seq: 1000 + k,
      id: 77 + k,
      window: k < 2 ? 1024 : 65535,
      options: k < 2 ? [2, 4, 5, 0xb4] : [],
    })),
  }));
  const fresh = () => aggregated(pk, 0);
  const agg = await fresh();
  const p = `${dir}/singles-attr.state`;
  await saveState(agg, p);
  const back = new EventAggregator({ timeout: 300, samples: 0 });
  await loadState(back, p);
  const show = (a: EventAggregator) =>
    a.openEvents(true).sort(compareEventKeys).map((e) =>
      JSON.parse(JSON.stringify(e)).SynSignature
    );
  deepEqual(show(back), [
    "1024_2_1460_00",
    "1024_2_1460_00",
    "65535_00_00_00",
    "65535_00_00_00",
    "65535_00_00_00",
  ]);
  // The nmap-shaped ones keep their sequence value: a second probe to another address matches.
  const more = new EventAggregator({ timeout: 300, samples: 0 });
  await loadState(more, p);
  const next = ethernet(ipv4Packet({
    src: 0xc6336410,
    dst: 0x0a000002,
    proto: 6,
    flags: 2,
    dport: 22,
    seq: 1000,
    window: 1024,
    options: [2, 4, 5, 0xb4],
  }));
  for await (
    const b of ReadableStream.from([pcapFile([{ sec: T + 9, nsec: 0, data: next }], {
      linkType: 1,
    })]).pipeThrough(new PcapDecoderStream())
  ) more.add(b);
  const e0 =
    more.openEvents(true).sort(compareEventKeys).map((e) => JSON.parse(JSON.stringify(e)))[0];
  deepEqual([e0.Packets, e0.Tools, e0.Tool], [2, { nmap: [1, 2] }, "nmap"]);
  // A word with flags this build does not know is refused.
  const bad = await fresh();
  const st = bad._internals.singles;
  st.rowU[st.attrAt] |= 1 << 14;
  await saveState(bad, `${dir}/bad-single.state`);
  await rejects(
    loadState(new EventAggregator({ timeout: 300, samples: 0 }), `${dir}/bad-single.state`),
    /corrupt state: attribution word/,
  );
});

// An aggregator (timeout 300) that has seen `pk`.
async function aggregated(pk: WritePacket[], samples: number): Promise<EventAggregator> {
  const agg = new EventAggregator({ timeout: 300, samples });
  const bytes = pcapFile(pk, { linkType: 1 });
  for await (const b of ReadableStream.from([bytes]).pipeThrough(new PcapDecoderStream())) {
    agg.add(b);
  }
  return agg;
}

function assertFail(name: string, err: Error): boolean {
  throw new Error(`${name}: ${err.message}`);
}

Deno.test("format 6 keeps each sample's rank and the event's sampling seed; a wrong one is refused", async () => {
  const { encodeState, loadState: load } = await import("../../src/state/state_file.ts");
  const { RNG, NEXT, ROW_F64, ROW_U32 } = await import("../../src/aggregation/_event_table.ts");
  const { captureBatches } = await import("../../src/capture/open_capture.ts");
  const run = async (cut: (agg: EventAggregator) => void) => {
    const agg = new EventAggregator({ samples: 2, timeout: 3600 });
    for await (const b of await captureBatches(["testdata/demo/scan.pcap.gz"])) agg.add(b);
    cut(agg);
    const p = `${dir}/ranked.state`;
    Deno.writeFileSync(p, encodeState(agg));
    const next = new EventAggregator({ samples: 2, timeout: 3600 });
    await load(next, p);
    return { agg, next };
  };
  // Round trip: the same samples, ranks and thresholds.
  const { agg, next } = await run(() => {});
  const t = agg._internals.v4;
  const t2 = next._internals.v4;
  ok(t.size > 10);
  for (let e = 0; e < t.size; e++) {
    const e2 = t2.keys.find2(t.keys.keys[2 * e], t.keys.keys[2 * e + 1]);
    deepEqual(
      [
        t2.rowU[e2 * ROW_U32 + RNG],
        t2.rowF[e2 * ROW_F64 + NEXT],
        t2.sampleRank.slice(2 * e2, 2 * e2 + 2),
      ],
      [t.rowU[e * ROW_U32 + RNG], t.rowF[e * ROW_F64 + NEXT], t.sampleRank.slice(2 * e, 2 * e + 2)],
    );
  }
  for (
    const [cut, re] of [
      [(a: EventAggregator) => a._internals.v4.rowU[RNG]++, /sampling seed is not its key's/],
      [(a: EventAggregator) => a._internals.v4.rowF[NEXT]--, /sampling threshold is/],
    ] as const
  ) {
    let err: unknown;
    try {
      await run(cut);
    } catch (e) {
      err = e;
    }
    ok(err instanceof DataError, String(err));
    match(err.message, re);
  }
});

Deno.test("format 7: destinations as runs, addresses or /16 bitmaps, whichever is shortest; all load exactly; damage refused", async () => {
  // Four sources: 40 scattered addresses, 30 consecutive ones, 70,000 scattered over a /10,
  // 70,000 dense in three /16s.
  const pk: WritePacket[] = [];
  const put = (src: number, dst: number, i: number) =>
    pk.push({
      sec: 1603296000 + Math.floor(i / 1000),
      nsec: (i % 1000) * 1000,
      data: ethernet(ipv4Packet({ src, dst, proto: 6, dport: 22, flags: 0x02 })),
    });
  for (let i = 0; i < 40; i++) put(0xc0000201, 0x0a000000 + 7 * i, i);
  for (let i = 0; i < 30; i++) put(0xc0000202, 0x0a010000 + i, i);
  for (let i = 0; i < 70_000; i++) put(0xc0000203, 0x0a000000 + 61 * i, i);
  for (let i = 0; i < 70_000; i++) put(0xc0000204, 0x0b000000 + 2 * i, i);
  pk.sort((a, b) => a.sec - b.sec || a.nsec - b.nsec);
  const opts = { samples: 0, timeout: 3600, destinations: true };
  const a = new EventAggregator(opts);
  await feed(a, pcapFile(pk, { linkType: 1 }));
  const show = (x: EventAggregator) =>
    x.openEvents(true).sort(compareEventKeys).map((e) => [
      e.sourceIP,
      e.uniqueDests,
      e.uniqueDest24s,
      [...e.destinations!].sort((p, q) => p - q).join(","),
    ]);
  const want = show(a);
  equal(want.length, 4);
  const p = `${dir}/v7.state`;
  Deno.writeFileSync(p, encodeState(a, 0));
  const b = new EventAggregator(opts);
  await loadState(b, p);
  deepEqual(show(b), want);
  deepEqual(encodeState(b, 0), encodeState(a, 0)); // and saved again, the same bytes
  // The payload: which form each set took.
  const { readStatePayload } = await import("../../src/state/state_container.ts");
  const payload = concat([...readStatePayload(p, "DNEVSTAT", [7]).chunks]);
  const words = (...w: number[]) => {
    const b = new Uint8Array(4 * w.length);
    w.forEach((x, i) => new DataView(b.buffer).setUint32(4 * i, x, true));
    return b;
  };
  const at = (pattern: Uint8Array) => {
    outer: for (let i = 0; i + pattern.length <= payload.length; i++) {
      for (let k = 0; k < pattern.length; k++) if (payload[i + k] !== pattern[k]) continue outer;
      return i;
    }
    return -1;
  };
  ok(at(words(0x80000000 + 40, 0x0a000000, 0x0a000007)) > 0, "40 scattered: addresses");
  ok(at(words(1, 0x0a010000, 30)) > 0, "30 consecutive: one run");
  const big = at(words(0x80000000 + 70_000, 0x0a000000, 0x0a00003d));
  ok(big > 0, "70,000 scattered: addresses");
  const dense = at(words(0x40000000 + 3, 0x0b00, 0x55555555));
  ok(dense > 0, "70,000 dense: three bitmaps");
  // Two addresses swapped, and a count beyond the data: one line each, exit 65's error.
  for (
    const [patch, re] of [
      [
        (x: Uint8Array) => x.set(words(0x0a000002, 0x0a000000), big + 4),
        /destinations out of order/,
      ],
      [(x: Uint8Array) => x.set(words(0x80000000 + 7_000_000), big), /destination count beyond/],
      [(x: Uint8Array) => x.set(words(0x0b02), dense + 4), /bitmaps out of order/],
      [(x: Uint8Array) => x.fill(0, dense + 8, dense + 8 + 8192), /an empty destination bitmap/],
      [(x: Uint8Array) => x.set(words(0x40000000 + 9), dense), /bitmaps beyond the data/],
      [(x: Uint8Array) => x.set(words(0xc0000003), dense), /destination form 3/],
    ] as const
  ) {
    const bad = payload.slice();
    patch(bad);
    Deno.writeFileSync(p, packMembers("DNEVSTAT", 7, [bad]));
    const err = await loadState(new EventAggregator(opts), p).catch((e) => e);
    ok(err instanceof DataError, String(err));
    match(err.message, re);
  }
});

Deno.test("states of formats 5 and 6 (the builds before this one) load: the same open events as this build's own", async () => {
  const p = `${dir}/demo-now.state`;
  const r = await runCli(
    "src/cli/parse_main.ts",
    [
      "--pcap",
      "testdata/demo/scan.pcap.gz",
      "--samples",
      "2",
      "--timeout",
      "300",
      "--cacheout",
      p,
      "--eventout",
      `${dir}/demo-now.json`,
    ],
    ["-A"],
  );
  equal(r.code, 0, r.stderr);
  const open = async (path: string) => {
    const a = new EventAggregator({ timeout: 300, samples: 2 });
    await loadState(a, path);
    return a.openEvents().sort(compareEventKeys).map((e) => JSON.parse(JSON.stringify(e)));
  };
  const now = await open(p);
  ok(now.length > 10, `${now.length} open events`);
  // Format 6: everything, samples included.
  deepEqual(await open("testdata/state/demo-v6.state"), now);
  // Format 5 kept reservoir samples (other packets); every other field the same.
  const v5 = await open("testdata/state/demo-v5.state");
  const noSamples = (evs: Record<string, unknown>[]) =>
    evs.map((e) => ({ ...e, Samples: undefined }));
  deepEqual(noSamples(v5), noSamples(now));
});

// Each tool's rule through the aggregator on synthetic frames: positive, negative and a near
// miss one bit (or one value) off, the attribution's minimum, arming by traffic and IP version
// (also on the event a gap restarts), sequence rules, and the chance bound on a million one-off
// sources.

import { deepEqual, equal } from "node:assert/strict";
import { capture, events, pkt, T0 } from "../aggregation/_events_helpers.ts";
import type { DarknetEvent } from "../../src/model/darknet_event.ts";
import type { PacketSpec } from "../../src/synth/frames.ts";
import { ethernet, ipv6Packet } from "../../src/synth/frames.ts";
import { ipIdClass } from "../../src/attribution/ipid_class.ts";
import { xorshift } from "../_helpers.ts";
import { EventAggregator } from "../../src/aggregation/event_aggregator.ts";
import { PcapDecoderStream } from "../../src/capture/pcap_decoder_stream.ts";

const S = 0xc6336401; // 198.51.100.1
const D = 0x0a4d0000; // 10.77.0.0

// Option bytes.
const MSS = [2, 4, 5, 0xb4];
const WINDOWS = [...MSS, 1, 3, 3, 8, 1, 1, 4, 2];
const ts = (v: number) => [8, 10, v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255, 0, 0, 0, 0];
const LINUX = (tsval: number) => [...MSS, 4, 2, ...ts(tsval), 1, 3, 3, 7];
const BSD = (tsval: number) => [...MSS, 1, 3, 3, 6, 1, 1, ...ts(tsval), 4, 2, 0, 0];
const UNICORNSCAN = [...MSS, 1, 1, 4, 2, 1, 3, 3, 0, 1, 1, ...ts(12345)];

type Spec = Partial<PacketSpec>;

// One event: n SYNs from S to D+1 .. D+n, port 23, 0.1 s apart; `f` gives packet k's fields.
async function scan(n: number, f: (k: number, dst: number) => Spec): Promise<DarknetEvent> {
  const pk = [];
  for (let k = 0; k < n; k++) pk.push(pkt(k / 10, { src: S, dst: D + 1 + k, ...f(k, D + 1 + k) }));
  const evs = await events(capture(pk));
  equal(evs.length, 1);
  return evs[0];
}

const toolsOf = (e: DarknetEvent) => JSON.parse(JSON.stringify(e)).Tools;
const rnd = xorshift(7);
const zmap41 = (options: number[]) => (k: number): Spec => ({
  window: 65535,
  ttl: 60,
  id: (k * 7919) & 0xffff,
  options,
});

Deno.test("ZMap 4.1's option layouts: windows, linux, bsd and smallest-probes match; one value off does not", async () => {
  const cases: [string, number[], boolean][] = [
    ["windows", WINDOWS, true],
    ["windows, WS 7", [...MSS, 1, 3, 3, 7, 1, 1, 4, 2], false],
    ["windows, MSS 1461", [2, 4, 5, 0xb5, 1, 3, 3, 8, 1, 1, 4, 2], false],
    ["linux", LINUX(T0 - 3600), true],
    ["linux, timestamp 40 days old", LINUX(T0 - 40 * 86400), false],
    ["linux, timestamp two days ahead", LINUX(T0 + 2 * 86400), false],
    ["bsd", BSD(T0), true],
    ["bsd, WS 7", [...MSS, 1, 3, 3, 7, 1, 1, ...ts(T0), 4, 2, 0, 0], false],
    ["smallest-probes", MSS, true],
  ];
  for (const [name, options, yes] of cases) {
    const e = await scan(3, zmap41(options));
    deepEqual(toolsOf(e), yes ? { zmap: [3, 3] } : {}, name);
    equal(JSON.parse(JSON.stringify(e)).Tool, yes ? "zmap" : "", name);
  }
  // Window one off, TTL above 64: no.
  deepEqual(toolsOf(await scan(3, (k) => ({ ...zmap41(WINDOWS)(k), window: 65534 }))), {});
  deepEqual(toolsOf(await scan(3, (k) => ({ ...zmap41(WINDOWS)(k), ttl: 65 }))), {});
  // Two packets are counted but not enough: 2^-16 for a layout rule of chance 2^-8.
  const two = JSON.parse(JSON.stringify(await scan(2, zmap41(WINDOWS))));
  deepEqual([two.Tools, two.Tool, two.SynSignature], [
    { zmap: [2, 2] },
    "",
    "65535_2-1-3-1-1-4_1460_8",
  ]);
});

Deno.test("ZMap up to 4.0: IP ID 54321 with TTL above 128 and no options or MSS alone; nmap with IP ID 54321 is not ZMap", async () => {
  const old = (k: number): Spec => ({ window: 65535, ttl: 250, id: 54321 + (k === 9 ? 1 : 0) });
  deepEqual(toolsOf(await scan(3, old)), { zmap: [3, 3] });
  deepEqual(toolsOf(await scan(3, (k) => ({ ...old(k), options: MSS }))), { zmap: [3, 3] });
  deepEqual(toolsOf(await scan(3, (k) => ({ ...old(k), id: 54320 }))), {});
  deepEqual(toolsOf(await scan(3, (k) => ({ ...old(k), ttl: 128 }))), {});
  const nmapLike = await scan(
    3,
    () => ({ window: 1024, ttl: 250, id: 54321, options: MSS, seq: 5 }),
  );
  deepEqual(JSON.parse(JSON.stringify(nmapLike)).Tool, "nmap");
  deepEqual(toolsOf(nmapLike), { nmap: [2, 3] });
});

Deno.test("ZMap's echo requests: 20 zero bytes at TTL ≤ 64, or 12 with IP ID 54321; fping's 56 zero bytes are not ZMap", async () => {
  const echo = (payload: Uint8Array, ttl: number, id = 1) => (k: number): Spec => ({
    proto: 1,
    payload,
    ttl,
    id: id === 1 ? k * 31 : id,
  });
  deepEqual(toolsOf(await scan(3, echo(new Uint8Array(20), 64))), { zmap: [3, 3] });
  deepEqual(toolsOf(await scan(3, echo(new Uint8Array(12), 255, 54321))), { zmap: [3, 3] });
  const one = new Uint8Array(20);
  one[19] = 1;
  deepEqual(toolsOf(await scan(3, echo(one, 64))), {});
  deepEqual(toolsOf(await scan(3, echo(new Uint8Array(56), 64))), {});
  deepEqual(toolsOf(await scan(3, echo(new Uint8Array(20), 65))), {});
});

Deno.test("masscan: the IP ID formula on every packet; one bit off is not; one packet is not attributed", async () => {
  const m = (flip: number) => (k: number, dst: number): Spec => {
    const seq = (rnd(2 ** 32) >>> 0) ^ k;
    return { seq, window: 1025, options: MSS, ttl: 250, id: ((dst ^ 23 ^ seq) & 0xffff) ^ flip };
  };
  const e = JSON.parse(JSON.stringify(await scan(4, m(0))));
  deepEqual([e.Tools, e.Tool, e.SynSignature], [{ masscan: [4, 4] }, "masscan", "1025_2_1460_00"]);
  for (const bit of [1, 0x8000]) deepEqual(toolsOf(await scan(4, m(bit))), {}, `bit ${bit}`);
  const single = JSON.parse(JSON.stringify(await scan(1, m(0))));
  deepEqual([single.Tools, single.Tool], [{ masscan: [1, 1] }, ""]);
});

Deno.test("nmap: one sequence number over probes to other destinations; a retransmission or one bit off does not count", async () => {
  const base = { window: 1024, options: MSS, ttl: 45 };
  const e = await scan(5, () => ({ ...base, seq: 0x12345678 }));
  deepEqual([toolsOf(e), JSON.parse(JSON.stringify(e)).Tool], [{ nmap: [4, 5] }, "nmap"]);
  // Packet 3 one bit off: it and the next do not repeat their predecessor.
  const off = await scan(5, (k) => ({ ...base, seq: k === 2 ? 0x12345278 : 0x12345678 }));
  deepEqual(toolsOf(off), { nmap: [2, 5] });
  // Older builds' windows, and one not nmap's.
  deepEqual(toolsOf(await scan(3, () => ({ ...base, window: 4096, seq: 9 }))), { nmap: [2, 3] });
  deepEqual(toolsOf(await scan(3, () => ({ ...base, window: 5120, seq: 9 }))), {});
  deepEqual(toolsOf(await scan(3, () => ({ ...base, window: 1025, seq: 9 }))), {});
  // The same SYN retransmitted to one address (an ordinary connection attempt): no match.
  const pk = [0, 1, 3].map((t) => pkt(t, { src: S, dst: D + 1, ...base, seq: 77 }));
  deepEqual(toolsOf((await events(capture(pk)))[0]), {});
});

Deno.test("unicornscan: sequence ^ destination ^ ((dport << 16) + sport) constant; Mirai's sequence is not unicornscan", async () => {
  const key = 0x5eed1234;
  const u = (flip: number, window = 16384) => (k: number, dst: number): Spec => {
    const sport = 40000 + k * 13;
    return {
      sport,
      seq: ((key ^ dst ^ ((23 << 16) + sport)) ^ (k === 2 ? flip : 0)) >>> 0,
      window,
      ttl: 64,
      options: UNICORNSCAN,
    };
  };
  const e = await scan(4, u(0));
  deepEqual([toolsOf(e), JSON.parse(JSON.stringify(e)).Tool], [
    { unicornscan: [3, 4] },
    "unicornscan",
  ]);
  deepEqual(toolsOf(await scan(4, u(0x80000000))), { unicornscan: [1, 4] });
  // Another window: not its default profile's shape.
  deepEqual(toolsOf(await scan(4, u(0, 16385))), {});
  const mirai = JSON.parse(JSON.stringify(await scan(4, (_k, dst) => ({ seq: dst, sport: 4444 }))));
  deepEqual([mirai.Tools, mirai.Tool, mirai.Mirai], [{ mirai: [4, 4] }, "mirai", true]);
});

Deno.test("Mirai: one packet suffices (2^-32); the lowest or highest bit off does not match", async () => {
  const one = JSON.parse(JSON.stringify(await scan(1, (_k, dst) => ({ seq: dst }))));
  deepEqual([one.Tools, one.Tool], [{ mirai: [1, 1] }, "mirai"]);
  for (const bit of [1, 0x80000000]) {
    const e = await scan(2, (_k, dst) => ({ seq: (dst ^ bit) >>> 0 }));
    equal(toolsOf(e).mirai, undefined, `bit ${bit}`);
  }
});

Deno.test("tools are tested only on the traffic they apply to, also on the event a gap restarts, and IPv4-only rules not on IPv6", async () => {
  // UDP and SYN-ACK with Mirai's and masscan's relations, before and after a gap of 20 s.
  const pk = [];
  for (const at of [0, 1, 30, 31]) {
    pk.push(pkt(at, { src: S, dst: D + at, proto: 17, dport: 53, seq: D + at }));
    pk.push(pkt(at, { src: S + 1, dst: D + at, flags: 0x12, seq: D + at }));
    pk.push(pkt(at, { src: S + 2, dst: D + at, seq: D + at })); // SYN, for contrast
  }
  const evs = (await events(capture(pk), { timeout: 10 })).map((e) =>
    JSON.parse(JSON.stringify(e))
  );
  const tools = evs.map((e) => [e.SourceIP, e.Traffic, JSON.stringify(e.Tools)]).sort();
  deepEqual(tools, [
    ["198.51.100.1", 16, "{}"],
    ["198.51.100.1", 16, "{}"],
    ["198.51.100.2", 12, "{}"],
    ["198.51.100.2", 12, "{}"],
    ["198.51.100.3", 11, '{"mirai":[2,2]}'],
    ["198.51.100.3", 11, '{"mirai":[2,2]}'],
  ]);
  equal(evs.filter((e) => e.Traffic === 11).every((e) => e.Tool === "mirai"), true);
  // IPv6: nmap applies (no IPv4 field), masscan and Mirai do not.
  const src = new Uint8Array(16).fill(0x20);
  const v6 = [0, 1, 2].map((k) => {
    const dst = new Uint8Array(16).fill(0xfe);
    dst[15] = k;
    return {
      sec: T0 + k,
      nsec: 0,
      data: ethernet(
        ipv6Packet({ src, dst, proto: 6, flags: 2, dport: 22, window: 1024, options: MSS, seq: 0 }),
      ),
    };
  });
  const e6 = JSON.parse(JSON.stringify((await events(capture(v6)))[0]));
  deepEqual([e6.Tools, e6.Tool, e6.SynSignature, e6.IPIDClass], [
    { nmap: [2, 3] },
    "nmap",
    "1024_2_1460_00",
    "",
  ]);
});

Deno.test("IP ID classes: constant, incrementing (steps up to 1024), random, mixed; the boundaries", async () => {
  const cls = async (ids: number[]) =>
    JSON.parse(JSON.stringify(await scan(ids.length, (k) => ({ proto: 17, id: ids[k] }))))
      .IPIDClass;
  equal(await cls([5]), "");
  equal(await cls([0, 0, 0]), "constant");
  equal(await cls([65530, 65535, 3, 1027]), "incrementing"); // steps 5, 4 (wrapping), 1024
  equal(await cls([10, 11, 12, 1037]), "mixed"); // a step of 1025 is not a counter's
  const random = [];
  for (let k = 0; k < 200; k++) random.push((k * 40503 + 12345) & 0xffff);
  equal(await cls(random), "random");
  equal(ipIdClass(200, 0, 13), "random");
  equal(ipIdClass(200, 0, 14), "mixed");
  equal(ipIdClass(4096, 1, 0), "random");
  equal(ipIdClass(4095, 1, 0), "mixed");
});

Deno.test("a million one-off sources with random IP IDs, sequence numbers and ports: no chance attribution", async () => {
  // Expected chance attributions: Mirai 10^6 × 2^-32 ≈ 0.0002; the others need a second packet.
  const r = xorshift(2026);
  const pk = [];
  const n = 1_000_000;
  for (let k = 0; k < n; k++) {
    pk.push(pkt(k / 1000, {
      src: (0x0b000000 + k) >>> 0,
      dst: (D + r(1024)) >>> 0,
      id: r(65536),
      seq: r(2 ** 32) >>> 0,
      sport: r(65536),
      window: r(65536),
    }));
  }
  const agg = new EventAggregator({ timeout: 600 });
  const evs: DarknetEvent[] = [];
  const s = ReadableStream.from([capture(pk)]).pipeThrough(new PcapDecoderStream());
  for await (const b of s) for (const e of agg.add(b)) evs.push(e);
  for (const e of agg.openEvents()) evs.push(e);
  equal(evs.length, n);
  let counted = 0;
  let attributed = 0;
  for (const e of evs) {
    if (e.tools.some((m) => m > 0)) counted++;
    if (JSON.parse(JSON.stringify(e)).Tool !== "") attributed++;
  }
  equal(attributed, 0);
  // Masscan's relation holds by chance about once in 65,536 packets (≈ 15 here).
  equal(counted > 2 && counted < 40, true, String(counted));
});

Deno.test("UDP: masscan's DNS probes (the transaction id in the IP ID formula) and ZMap ≤ 4.0's IP ID 54321; one bit off, another port or a short payload do not match", async () => {
  const dns = (flip: number, dport = 53, bytes = 17) => (k: number, dst: number): Spec => {
    const txid = (k * 7919 + 1) & 0xffff;
    const payload = new Uint8Array(bytes);
    payload[0] = txid >> 8;
    payload[1] = txid & 255;
    return { proto: 17, dport, payload, ttl: 250, id: ((dst ^ dport ^ txid) & 0xffff) ^ flip };
  };
  const e = JSON.parse(JSON.stringify(await scan(3, dns(0))));
  deepEqual([e.Tools, e.Tool, e.SynSignature], [{ masscan: [3, 3] }, "masscan", ""]);
  deepEqual(toolsOf(await scan(3, dns(1))), {});
  deepEqual(toolsOf(await scan(3, dns(0x8000))), {});
  deepEqual(toolsOf(await scan(3, dns(0, 54))), {});
  deepEqual(toolsOf(await scan(3, dns(0, 53, 1))), {});
  const z = (id: number, ttl: number) => (): Spec => ({ proto: 17, dport: 161, id, ttl });
  deepEqual(toolsOf(await scan(3, z(54321, 250))), { zmap: [3, 3] });
  deepEqual(toolsOf(await scan(3, z(54320, 250))), {});
  deepEqual(toolsOf(await scan(3, z(54321, 64))), {});
});

Deno.test("the event a gap restarts is tested afresh: masscan's DNS probes before and after a gap, each event attributed on its own packets", async () => {
  const probe = (at: number, k: number) => {
    const dst = D + 1 + k;
    const txid = (k * 977 + 3) & 0xffff;
    const payload = new Uint8Array(12);
    payload[0] = txid >> 8;
    payload[1] = txid & 255;
    return pkt(at, { src: S, dst, proto: 17, dport: 53, payload, id: (dst ^ 53 ^ txid) & 0xffff });
  };
  // Two probes, then (timeout 10) a packet from elsewhere at 10 makes the sweep run while the
  // event is idle 9 s (it survives), so the probe at 12 restarts the event itself (gap 11).
  const evs = (await events(
    capture([probe(0, 0), probe(1, 1), pkt(10, { src: S + 5, dst: D }), probe(12, 2)]),
    { timeout: 10 },
  )).map((e) => JSON.parse(JSON.stringify(e))).filter((e) => e.Traffic === 16);
  deepEqual(evs.map((e) => [e.Packets, e.Tools, e.Tool]), [
    [2, { masscan: [2, 2] }, "masscan"],
    [1, { masscan: [1, 1] }, ""],
  ]);
});

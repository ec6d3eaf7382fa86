import { deepEqual, equal, ok } from "node:assert/strict";
import { PacketBatch } from "../../src/decode/packet_batch.ts";
import { decodeFrame, decodeRows } from "../../src/decode/decode_frame.ts";
import { Problem } from "../../src/decode/problem.ts";
import { Traffic } from "../../src/decode/traffic.ts";
import {
  ethernet,
  ipv4Packet,
  ipv6Packet,
  nullLoopback,
  type PacketSpec,
  sll,
  sll2,
} from "../../src/synth/frames.ts";

const A = 0xc6336401;
const B = 0x0a000001;

function one(frame: Uint8Array, lt: number) {
  // Decode through both entry points; they must agree.
  const a = new PacketBatch(1);
  decodeFrame(frame, 0, frame.length, lt, a, 0);
  const b = new PacketBatch(1);
  b.buffers.push(frame);
  b.capLen[0] = frame.length;
  b.linkType[0] = lt;
  b.length = 1;
  decodeRows(b, 0, 1);
  const pick = (x: PacketBatch) => ({
    v: x.ipVersion[0],
    problem: x.problem[0],
    traffic: x.traffic[0],
    port: x.port[0],
    src: x.src[0],
    dst: x.dst[0],
    proto: x.proto[0],
    sport: x.srcPort[0],
    dport: x.dstPort[0],
    ttl: x.ttl[0],
    id: x.ipId[0],
    seq: x.tcpSeq[0],
    flags: x.tcpFlags[0],
    win: x.tcpWindow[0],
    opt: x.tcpOptLen[0],
    ipFlags: x.ipFlags[0],
    opts: x.tcpOpts[0],
    mss: x.tcpMss[0],
    ws: x.tcpWscale[0],
    tsval: x.tcpTsval[0],
    icmp: x.icmpIdSeq[0],
  });
  deepEqual(pick(b), pick(a));
  return pick(a);
}

const v4 = (s: Partial<PacketSpec>) => ethernet(ipv4Packet({ src: A, dst: B, proto: 6, ...s }));

Deno.test("TCP flag combinations map to Merit's codes and port rule", () => {
  const cases: [number, number, number][] = [
    [0x002, Traffic.TCPSYN, 23],
    [0x012, Traffic.TCPSYNACK, 40000],
    [0x010, Traffic.TCPACK, 23],
    [0x004, Traffic.TCPRST, 40000],
    [0x014, Traffic.TCPOther, 23], // RST+ACK
    [0x001, Traffic.TCPOther, 23], // FIN
    [0x000, Traffic.TCPOther, 23], // NULL
    [0x029, Traffic.TCPOther, 23], // XMAS
    [0x0c2, Traffic.TCPOther, 23], // SYN+ECE+CWR
    [0x102, Traffic.TCPOther, 23], // SYN+NS
    [0x00a, Traffic.TCPOther, 23], // SYN+PSH
  ];
  for (const [flags, t, port] of cases) {
    const r = one(
      v4({ flags, sport: 40000, dport: 23, seq: 0xdeadbeef, id: 54321, window: 29200 }),
      1,
    );
    deepEqual([r.traffic, r.port, r.flags], [t, port, flags], `flags 0x${flags.toString(16)}`);
    deepEqual([r.seq, r.id, r.win, r.sport, r.dport, r.src, r.dst], [
      0xdeadbeef,
      54321,
      29200,
      40000,
      23,
      A,
      B,
    ]);
  }
});

Deno.test("ICMP and ICMPv6 types map to codes 0-10 with port 0", () => {
  const v4map: [number, number][] = [
    [8, 0],
    [0, 1],
    [3, 2],
    [4, 3],
    [5, 4],
    [11, 5],
    [12, 6],
    [14, 7],
    [16, 8],
    [18, 9],
    [13, 10],
    [42, 10],
  ];
  for (const [type, code] of v4map) {
    const r = one(v4({ proto: 1, icmpType: type }), 1);
    deepEqual([r.traffic, r.port], [code, 0], `icmp type ${type}`);
  }
  const s6 = new Uint8Array(16).fill(0x20);
  const d6 = new Uint8Array(16).fill(0xfe);
  const v6map: [number, number][] = [[128, 0], [129, 1], [1, 2], [137, 4], [3, 5], [4, 6], [
    135,
    10,
  ], [2, 10]];
  for (const [type, code] of v6map) {
    const r = one(ethernet(ipv6Packet({ src: s6, dst: d6, proto: 58, icmpType: type })), 1);
    deepEqual([r.v, r.traffic, r.port], [6, code, 0], `icmpv6 type ${type}`);
  }
});

Deno.test("UDP uses the destination port; other protocols and tunnels are Unknown", () => {
  deepEqual(one(v4({ proto: 17, sport: 5353, dport: 161 }), 1).traffic, Traffic.UDP);
  equal(one(v4({ proto: 17, sport: 5353, dport: 161 }), 1).port, 161);
  for (const proto of [4, 41, 47, 132]) {
    const r = one(v4({ proto, payload: new Uint8Array(40) }), 1);
    deepEqual([r.v, r.traffic, r.port, r.src, r.problem], [4, Traffic.Unknown, 0, A, Problem.None]);
  }
});

Deno.test("fragments: first fragment classified, later fragments Unknown", () => {
  equal(one(v4({ flags: 0x02, dport: 80, moreFragments: true }), 1).traffic, Traffic.TCPSYN);
  const r = one(v4({ dport: 80, fragOffset: 185 }), 1);
  deepEqual([r.traffic, r.port, r.src], [Traffic.Unknown, 0, A]);
});

Deno.test("truncated and malformed headers", () => {
  const f = v4({ dport: 80 });
  deepEqual(one(f.subarray(0, 10), 1).problem, Problem.TruncatedLink);
  deepEqual(one(f.subarray(0, 30), 1).problem, Problem.TruncatedIp);
  const t = one(f.subarray(0, 14 + 20 + 12), 1);
  deepEqual([t.problem, t.traffic, t.src, t.v], [
    Problem.TruncatedTransport,
    Traffic.Unknown,
    A,
    4,
  ]);
  const badIhl = f.slice();
  badIhl[14] = 0x44;
  equal(one(badIhl, 1).problem, Problem.BadIpHeader);
  const badVer = f.slice();
  badVer[14] = 0x55;
  equal(one(badVer, 1).problem, Problem.BadIpVersion);
  const badOff = f.slice();
  badOff[14 + 20 + 12] = 0x40;
  equal(one(badOff, 1).problem, Problem.BadTransportHeader);
  // TCP options cut by the snap length do not demote a SYN.
  const opt = v4({ dport: 80, options: [2, 4, 5, 0xb4, 1, 1, 4, 2] });
  deepEqual([one(opt, 1).opt, one(opt.subarray(0, opt.length - 4), 1).opt], [8, 4]);
  equal(one(opt.subarray(0, opt.length - 4), 1).traffic, Traffic.TCPSYN);
  // IPv4 total length 0 (segmentation offload) means "rest of frame".
  const tso = f.slice();
  tso[16] = 0;
  tso[17] = 0;
  equal(one(tso, 1).traffic, Traffic.TCPSYN);
});

Deno.test("link types: VLAN, QinQ, SLL, SLL2, NULL both orders, LOOP, RAW, IPv4/IPv6 link types", () => {
  const ip = ipv4Packet({ src: A, dst: B, proto: 17, dport: 53 });
  const want = [4, Traffic.UDP, 53, A];
  const got = (f: Uint8Array, lt: number) => {
    const r = one(f, lt);
    return [r.v, r.traffic, r.port, r.src];
  };
  deepEqual(got(ethernet(ip, [{ tpid: 0x8100, vid: 10 }]), 1), want);
  deepEqual(got(ethernet(ip, [{ tpid: 0x88a8, vid: 10 }, { tpid: 0x8100, vid: 20 }]), 1), want);
  deepEqual(got(sll(ip), 113), want);
  deepEqual(got(sll2(ip), 276), want);
  deepEqual(got(nullLoopback(ip, true), 0), want);
  deepEqual(got(nullLoopback(ip, false), 0), want);
  deepEqual(got(nullLoopback(ip, false), 108), want);
  deepEqual(got(ip, 101), want);
  deepEqual(got(ip, 228), want);
  const s6 = new Uint8Array(16).fill(1);
  const ip6 = ipv6Packet({ src: s6, dst: s6, proto: 6, dport: 22, flags: 0x02 });
  for (
    const [f, lt] of [[ip6, 229], [ip6, 101], [nullLoopback(ip6, true, 10), 0], [
      nullLoopback(ip6, true, 28),
      0,
    ], [sll(ip6), 113]] as const
  ) {
    deepEqual(got(f, lt), [6, Traffic.TCPSYN, 22, 0], `lt ${lt}`);
  }
  equal(one(ip, 127).problem, Problem.UnsupportedLink);
  const arp = ethernet(ip);
  arp[12] = 0x08;
  arp[13] = 0x06;
  equal(one(arp, 1).problem, Problem.NonIp);
  // Not IP on the other link types too: an unknown address family on BSD loopback, an
  // unknown EtherType on Linux cooked capture.
  const lo = nullLoopback(ip, true);
  new DataView(lo.buffer).setUint32(0, 99, true);
  equal(one(lo, 0).problem, Problem.NonIp);
  const sllArp = sll(ip);
  sllArp[14] = 0x08;
  sllArp[15] = 0x06;
  equal(one(sllArp, 113).problem, Problem.NonIp);
});

Deno.test("IPv6 extension header chain and fragment header", () => {
  const s6 = new Uint8Array(16).fill(2);
  const hbh = { type: 0, bytes: [0, 0, 1, 4, 0, 0, 0, 0] };
  const dst = { type: 60, bytes: [0, 0, 1, 4, 0, 0, 0, 0] };
  const r = one(
    ethernet(ipv6Packet({ src: s6, dst: s6, proto: 17, dport: 547, ext: [hbh, dst] })),
    1,
  );
  deepEqual([r.traffic, r.port, r.proto], [Traffic.UDP, 547, 17]);
  const firstFrag = { type: 44, bytes: [0, 0, 0, 1, 0xca, 0xfe, 0xba, 0xbe] };
  const f1 = one(
    ethernet(ipv6Packet({ src: s6, dst: s6, proto: 17, dport: 53, ext: [firstFrag] })),
    1,
  );
  deepEqual([f1.traffic, f1.port, f1.id], [Traffic.UDP, 53, 0xcafebabe]);
  const laterFrag = { type: 44, bytes: [0, 0, 0x05, 0x00, 0, 0, 0, 9] };
  const f2 = one(
    ethernet(ipv6Packet({ src: s6, dst: s6, proto: 17, dport: 53, ext: [laterFrag] })),
    1,
  );
  deepEqual([f2.traffic, f2.port, f2.id, f2.v], [Traffic.Unknown, 0, 9, 6]);
});

Deno.test("TCP option layouts (ZMap 4.1's windows, linux and bsd probes), MSS, window scale, timestamp; DF; ICMP echo id and sequence", () => {
  const syn = (options: number[], truncate = 0) => {
    const f = ethernet(ipv4Packet({ src: A, dst: B, proto: 6, dport: 80, flags: 2, options }));
    return truncate ? f.subarray(0, f.length - truncate) : f;
  };
  // windows: MSS 1460, NOP, WS 8, NOP, NOP, SACK-permitted.
  const win = one(syn([2, 4, 5, 0xb4, 1, 3, 3, 8, 1, 1, 4, 2]), 1);
  deepEqual([win.opts, win.mss, win.ws, win.tsval], [0x32422500, 1460, 8, 0]);
  // linux: MSS, SACK-permitted, timestamp (TSval 0x5f8f0000), NOP, WS 7.
  const ts = [8, 10, 0x5f, 0x8f, 0, 0, 0, 0, 0, 0];
  const lin = one(syn([2, 4, 5, 0xb4, 4, 2, ...ts, 1, 3, 3, 7]), 1);
  deepEqual([lin.opts, lin.mss, lin.ws, lin.tsval], [0x35924000, 1460, 7, 0x5f8f0000]);
  // bsd: MSS, NOP, WS 6, NOP, NOP, timestamp, SACK-permitted, EOL, EOL (the list ends at EOL).
  const bsd = one(syn([2, 4, 5, 0xb4, 1, 3, 3, 6, 1, 1, ...ts, 4, 2, 0, 0]), 1);
  deepEqual([bsd.opts, bsd.mss, bsd.ws], [0x32422951, 1460, 6]);
  // No options; options cut by the snap length (the timestamp's 10 bytes not all there).
  equal(one(syn([]), 1).opt, 0); // no options: the option columns are not for this row
  const cut = one(syn([2, 4, 5, 0xb4, ...ts], 4), 1);
  ok(cut.opt > 0);
  deepEqual([cut.opts, cut.mss, cut.tsval], [0x39000000, 1460, 0]);
  // A malformed length stops the list there.
  const bad = one(syn([2, 4, 5, 0xb4, 3, 0, 0, 0]), 1);
  deepEqual([bad.opts, bad.mss, bad.ws], [0x34000000, 1460, 255]);
  // DF and ICMP echo identifier/sequence.
  const df = ipv4Packet({ src: A, dst: B, proto: 1, icmpType: 8, payload: new Uint8Array(0) });
  df[6] = 0x40;
  const echo = ethernet(df);
  echo.set([0x12, 0x34, 0x00, 0x07], 14 + 20 + 4);
  const e = one(echo, 1);
  deepEqual([e.ipFlags, e.icmp, e.traffic], [2, 0x12340007, Traffic.ICMPEchoRequest]);
  const s6 = new Uint8Array(16).fill(3);
  const e6 = ethernet(ipv6Packet({ src: s6, dst: s6, proto: 58, icmpType: 128 }));
  e6.set([0, 9, 0, 1], 14 + 40 + 4);
  equal(one(e6, 1).icmp, 0x00090001);
});

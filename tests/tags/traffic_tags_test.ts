// Every traffic-tag rule on real frames through the decoder (both of its paths) and the tagging:
// positive, negative and the near miss at its edge (one value off), IPv4 and IPv6.

import { deepEqual, equal, ok, throws } from "node:assert/strict";
import { PacketBatch } from "../../src/decode/packet_batch.ts";
import { decodeRows } from "../../src/decode/decode_frame.ts";
import { tagPackets } from "../../src/attribution/tag_packets.ts";
import { ethernet, ipv4Packet, ipv6Packet, type PacketSpec } from "../../src/synth/frames.ts";
import { parseTagList, Tag, TAG_RULES, TAGS } from "../../src/tags/traffic_tags.ts";

const S = 0x01020304; // 1.2.3.4
const D = 0x0a4d0001;

// The rule names and tag names of one frame (Ethernet, or raw IP with `raw`).
function tagOf(frame: Uint8Array, raw = false): { rules: string[]; tags: string[] } {
  const b = new PacketBatch(4);
  // Two frames: an unrelated one first, so that offsets into the buffer are not zero.
  const pad = ethernet(ipv4Packet({ src: S, dst: D, proto: 6, dport: 443, flags: 0x02 }));
  const buf = new Uint8Array(pad.length + frame.length);
  buf.set(pad);
  buf.set(frame, pad.length);
  b.buffers.push(buf);
  b.offset[1] = pad.length;
  b.capLen[0] = pad.length;
  b.capLen[1] = frame.length;
  b.linkType[0] = 1;
  b.linkType[1] = raw ? 101 : 1;
  b.length = 2;
  decodeRows(b, 0, 2);
  tagPackets(b);
  equal(b.tags[0], 0, "the padding frame has no tags");
  const w = b.tags[1];
  return {
    rules: TAG_RULES.filter((_, k) => (w >>> (4 + k)) & 1).map((r) => r.name),
    tags: TAGS.filter((_, k) => (w >>> k) & 1),
  };
}

const v4 = (s: Partial<PacketSpec>) =>
  tagOf(ethernet(ipv4Packet({ src: S, dst: D, proto: 6, dport: 443, flags: 0x02, ...s })));
const udp = (s: Partial<PacketSpec>) => v4({ proto: 17, sport: 40000, dport: 9999, ...s });
const bytes = (...x: (number | string)[]) =>
  Uint8Array.from(
    x.flatMap((v) => typeof v === "string" ? [...v].map((c) => c.charCodeAt(0)) : [v]),
  );

Deno.test("a plain SYN, UDP probe and echo request have no tags", () => {
  deepEqual(v4({}), { rules: [], tags: [] });
  deepEqual(udp({ payload: bytes("hello") }), { rules: [], tags: [] });
  deepEqual(v4({ proto: 1 }), { rules: [], tags: [] });
});

Deno.test("spoofed: each rule, its near miss, and spoofed implies erratic", () => {
  const spoofed = ["spoofed", "erratic"];
  deepEqual(v4({ proto: 47 }), { rules: ["abnormal-protocol"], tags: spoofed }); // GRE
  equal(v4({ proto: 41 }).rules.length, 0); // 6in4 is normal
  deepEqual(v4({ flags: 0x06 }).rules, ["abnormal-protocol", "backscatter"]); // SYN+RST
  deepEqual(v4({ flags: 0x29 }).rules, ["abnormal-protocol"]); // Xmas: URG PSH FIN
  deepEqual(v4({ flags: 0x00 }).rules, ["abnormal-protocol"]); // null scan
  for (const ok of [0x02, 0x10, 0x04, 0x01, 0x03, 0x12, 0x11, 0x18, 0x19]) {
    equal(v4({ flags: ok }).rules.includes("abnormal-protocol"), false, `flags ${ok}`);
  }
  equal(v4({ flags: 0x02 | 0x40 | 0x80 }).rules.length, 0); // ECE and CWR are not looked at
  deepEqual(v4({ ttl: 200, window: 1025 }), {
    rules: ["ttl-200-not-masscan", "ttl-200"],
    tags: spoofed,
  });
  deepEqual(v4({ ttl: 199 }).rules, []);
  deepEqual(v4({ proto: 1, ttl: 255 }).rules, []); // not ICMP
  deepEqual(v4({ moreFragments: true }).rules, ["fragmented"]);
  deepEqual(v4({ fragOffset: 1 }).rules, ["fragmented"]); // non-first fragment (general path)
  deepEqual(v4({ src: 0x01020300 }).rules, ["last-byte-src-0"]);
  deepEqual(v4({ src: 0x010203ff }).rules, ["last-byte-src-255"]);
  deepEqual(v4({ src: 0x010203fe }).rules, []);
  deepEqual(v4({ dst: S }).rules, ["same-src-dst"]);
  deepEqual(udp({ sport: 0 }).rules, ["udp-port-0"]);
  deepEqual(udp({ dport: 0 }).rules, ["udp-port-0"]);
  deepEqual(v4({ dport: 0 }).rules, ["tcp-port-0"]);
  deepEqual(udp({ dport: 80 }), { rules: ["udp-destport-80"], tags: spoofed });
  deepEqual(udp({ dport: 81 }).rules, []);
  deepEqual(udp({ sport: 80 }).rules, []); // destination port only
});

Deno.test("masscan is not spoofed for its TTL: its shape or its IP ID rule exempts it", () => {
  // masscan 1.3.2's SYN: no options, window 1024, TTL 255.
  deepEqual(v4({ ttl: 255, window: 1024 }), {
    rules: ["ttl-200", "no-options-ttl-200-win-1024"],
    tags: ["erratic", "large-scale-scan"],
  });
  // masscan master: MSS and window 1025, but the IP ID formula holds.
  const seq = 0x12345678;
  const id = ((D ^ 443 ^ seq) & 0xffff) >>> 0;
  deepEqual(v4({ ttl: 255, window: 1025, seq, id, options: [2, 4, 5, 0xb4] }).rules, ["ttl-200"]);
  deepEqual(v4({ ttl: 255, window: 1025, seq, id: id ^ 1, options: [2, 4, 5, 0xb4] }).rules, [
    "ttl-200-not-masscan",
    "ttl-200",
  ]);
});

Deno.test("large-scale-scan: SYN without ACK, no options, TTL ≥ 200, window 1024; each bit off", () => {
  const hit = { ttl: 200, window: 1024 };
  equal(v4(hit).tags.includes("large-scale-scan"), true);
  equal(v4({ ...hit, flags: 0x03 }).tags.includes("large-scale-scan"), true); // SYN-FIN
  equal(v4({ ...hit, flags: 0x12 }).tags.includes("large-scale-scan"), false); // SYN-ACK
  equal(v4({ ...hit, ttl: 199 }).tags.includes("large-scale-scan"), false);
  equal(v4({ ...hit, window: 1025 }).tags.includes("large-scale-scan"), false);
  equal(v4({ ...hit, options: [1, 1, 1, 0] }).tags.includes("large-scale-scan"), false);
});

Deno.test("erratic: ports, IP lengths, backscatter", () => {
  const erratic = ["erratic"];
  deepEqual(v4({ dport: 23 }), { rules: ["tcp-port-23"], tags: erratic });
  deepEqual(v4({ sport: 80 }), { rules: ["tcp-port-80"], tags: erratic });
  deepEqual(v4({ dport: 5000 }).rules, ["tcp-port-5000"]);
  deepEqual(v4({ dport: 5001 }).rules, []);
  deepEqual(udp({ dport: 23 }).rules, []); // TCP only
  deepEqual(v4({ dport: 53 }).rules, ["port-53"]);
  deepEqual(udp({ dport: 53 }).rules, ["port-53"]);
  deepEqual(udp({ sport: 53 }).rules, ["port-53", "backscatter"]);
  // IP length 96 = 20 + 8 + 68 bytes of payload; 1500 likewise.
  deepEqual(udp({ payload: new Uint8Array(68).fill(7) }).rules, ["udp-ip-len-96"]);
  deepEqual(udp({ payload: new Uint8Array(67).fill(7) }).rules, []);
  deepEqual(udp({ payload: new Uint8Array(1472).fill(7) }).rules, ["udp-ip-len-1500"]);
  deepEqual(v4({ flags: 0x12 }).rules, ["backscatter"]);
  // RST-ACK: backscatter, and not among corsaro3's normal flag combinations (RST alone is)
  deepEqual(v4({ flags: 0x14 }).rules, ["abnormal-protocol", "backscatter"]);
  deepEqual(v4({ flags: 0x10 }).rules, []);
  for (const t of [0, 3, 4, 5, 11, 12, 14, 16, 18]) {
    deepEqual(v4({ proto: 1, icmpType: t }).rules, ["backscatter"], `ICMP type ${t}`);
  }
  for (const t of [8, 13, 15, 17, 9]) {
    deepEqual(v4({ proto: 1, icmpType: t }).rules, [], `type ${t}`);
  }
});

Deno.test("erratic: payload rules, each with its near miss", () => {
  // udp-0x31: IP length 58 (30 payload bytes), eight zero bytes, 0x31, 0x00.
  const x31 = new Uint8Array(30);
  x31[8] = 0x31;
  deepEqual(udp({ payload: x31 }).rules, ["udp-0x31"]);
  deepEqual(udp({ payload: x31.slice(0, 29) }).rules, []); // IP length 57
  const y31 = x31.slice();
  y31[3] = 1;
  deepEqual(udp({ payload: y31 }).rules, []);
  // sip-status: 5060 → 5060, "SIP/2.0".
  const sip = bytes("SIP/2.0 200 OK\r\n");
  deepEqual(udp({ sport: 5060, dport: 5060, payload: sip }).rules, ["sip-status"]);
  deepEqual(udp({ sport: 5061, dport: 5060, payload: sip }).rules, []);
  deepEqual(
    udp({ sport: 5060, dport: 5060, payload: bytes("OPTIONS sip:x SIP/2.0\r\n") }).rules,
    [],
  );
  // dns-resp-non-standard: flags 0x818x and four small counts, 12 bytes at least.
  const dns = (flags: number, counts: number[], extra = 4) =>
    bytes(
      0x12,
      0x34,
      flags >> 8,
      flags & 255,
      ...counts.flatMap((c) => [c >> 8, c & 255]),
      ...new Array(extra).fill(0),
    );
  deepEqual(udp({ payload: dns(0x8183, [1, 0, 1, 0]) }).rules, ["dns-resp-non-standard"]);
  deepEqual(udp({ payload: dns(0x8180, [9, 9, 9, 9]) }).rules, ["dns-resp-non-standard"]);
  deepEqual(udp({ payload: dns(0x8180, [1, 10, 0, 0]) }).rules, []);
  deepEqual(udp({ payload: dns(0x0100, [1, 0, 0, 0]) }).rules, []); // a query
  deepEqual(udp({ payload: dns(0x8180, [1, 0, 0, 0], 3) }).rules, ["dns-resp-non-standard"]);
  deepEqual(udp({ payload: dns(0x8180, [1, 0, 0, 0], 2) }).rules, []); // IP length 42
  deepEqual(udp({ payload: dns(0x8580, [1, 0, 0, 0]) }).rules, []); // authoritative bit
  // netbios-query-name: 137 → 137, " CKAAAAA" at payload byte 12, IP length > 48.
  const nb = bytes(
    0x80,
    0x00,
    0,
    0x10,
    0,
    1,
    0,
    0,
    0,
    0,
    0,
    0,
    " CKAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    0,
  );
  deepEqual(udp({ sport: 137, dport: 137, payload: nb }).rules, ["netbios-query-name"]);
  deepEqual(udp({ sport: 138, dport: 137, payload: nb }).rules, []);
  const nb2 = nb.slice();
  nb2[13] = 0x44;
  deepEqual(udp({ sport: 137, dport: 137, payload: nb2 }).rules, []);
});

Deno.test("erratic: BitTorrent's DHT, handshake and uTP shapes", () => {
  deepEqual(udp({ payload: bytes("d1:ad2:id20:abcdefghij0123456789e") }).rules, ["bittorrent"]);
  deepEqual(udp({ payload: bytes("d1:rd2:id20:abcdefghij0123456789e") }).rules, ["bittorrent"]);
  deepEqual(udp({ payload: bytes("d1:qd2:id20:abcdefghij0123456789e") }).rules, []);
  const hs = new Uint8Array(48);
  hs.set(bytes(0x13, "BitTorrent protocol"), 20);
  deepEqual(udp({ payload: hs }).rules, ["bittorrent"]);
  hs[25] = 0x20;
  deepEqual(udp({ payload: hs }).rules, []);
  // uTP: first word 0x4102, IP length ≥ 58 (30 bytes), ending 00 08 and eight zeros.
  const utp = new Uint8Array(30).fill(9);
  utp.set([0x41, 0x02]);
  utp.set([0, 8, 0, 0, 0, 0, 0, 0, 0, 0], 20);
  deepEqual(udp({ payload: utp }).rules, ["bittorrent"]);
  utp[21] = 9;
  deepEqual(udp({ payload: utp }).rules, []);
  // IP length 48 (20 payload bytes) with a first word 0x2100.
  deepEqual(udp({ payload: bytes(0x21, 0, ...new Array(18).fill(5)) }).rules, ["bittorrent"]);
  deepEqual(udp({ payload: bytes(0x21, 0, ...new Array(19).fill(5)) }).rules, []);
  // IP length 61 (33 payload bytes) with words 3-7.
  const w61 = new Uint8Array(33).fill(1);
  w61.set([0x7f, 0xff, 0xff, 0xff, 0xab, 2, 4, 0, 1, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0], 12);
  deepEqual(udp({ payload: w61 }).rules, ["bittorrent"]);
  w61[31] = 1;
  deepEqual(udp({ payload: w61 }).rules, []);
});

Deno.test("unroutable: every special-purpose IPv4 block, its edges", () => {
  const blocks: [string, number][] = [
    ["0.0.0.1", 1],
    ["10.255.255.254", 1],
    ["11.0.0.1", 0],
    ["100.64.0.1", 1],
    ["100.127.255.254", 1],
    ["100.128.0.1", 0],
    ["127.0.0.1", 1],
    ["169.254.1.1", 1],
    ["169.253.1.1", 0],
    ["172.16.0.1", 1],
    ["172.31.255.254", 1],
    ["172.32.0.1", 0],
    ["192.0.0.1", 1],
    ["192.0.1.1", 0],
    ["192.0.2.1", 1],
    ["192.88.99.1", 1],
    ["192.168.1.1", 1],
    ["192.169.1.1", 0],
    ["198.18.0.1", 1],
    ["198.19.255.254", 1],
    ["198.20.0.1", 0],
    ["198.51.100.1", 1],
    ["203.0.113.1", 1],
    ["203.0.114.1", 0],
    ["224.0.0.1", 1],
    ["255.255.255.254", 1],
    ["223.255.255.254", 0],
  ];
  for (const [a, want] of blocks) {
    const [w, x, y, z] = a.split(".").map(Number);
    const src = ((w << 24) | (x << 16) | (y << 8) | z) >>> 0;
    deepEqual(v4({ src }).tags.includes("unroutable") ? 1 : 0, want, a);
  }
});

Deno.test("IPv6: special-purpose sources, same source and destination, fragments, hop limit", () => {
  const addr = (hex: string) => Uint8Array.from(hex.match(/../g)!.map((h) => parseInt(h, 16)));
  const G = addr("20010db9000000000000000000000001"); // 2001:db9::1, global
  const T = addr("2a000000000000000000000000000002");
  type Spec6 = Partial<Omit<PacketSpec, "src" | "dst">>;
  const v6 = (src: Uint8Array, s: Spec6 = {}, ext?: { type: number; bytes: number[] }[]) =>
    tagOf(ethernet(ipv6Packet({ proto: 6, dport: 443, flags: 0x02, ...s, src, dst: T, ext })));
  deepEqual(v6(G), { rules: [], tags: [] });
  for (
    const a of [
      "00000000000000000000000000000000",
      "00000000000000000000000000000001",
      "00000000000000000000ffff01020304",
      "20010db8000000000000000000000001",
      "fd000000000000000000000000000001",
      "fe800000000000000000000000000001",
      "ff020000000000000000000000000001",
      "3fff0fff000000000000000000000001",
    ]
  ) deepEqual(v6(addr(a)).tags, ["unroutable"], a);
  for (const a of ["fe000000000000000000000000000001", "3fff1000000000000000000000000001"]) {
    deepEqual(v6(addr(a)).tags, [], a);
  }
  deepEqual(v6(T).rules, ["same-src-dst"]);
  deepEqual(v6(G, { ttl: 250, window: 1025 }).rules, ["ttl-200-not-masscan", "ttl-200"]);
  deepEqual(v6(G, { proto: 58, ttl: 250 }).rules, []); // ICMPv6 echo request
  deepEqual(v6(G, { proto: 58, icmpType: 1 }).rules, ["backscatter"]);
  deepEqual(v6(G, { proto: 132 }).rules, ["abnormal-protocol"]); // SCTP
  // A first fragment (M set) and a later one (offset 8).
  const frag = (
    off: number,
    m: number,
  ) => [{ type: 44, bytes: [0, 0, (off >> 5) & 255, ((off << 3) & 0xf8) | m, 0, 0, 0, 1] }];
  deepEqual(v6(G, {}, frag(0, 1)).rules, ["fragmented"]);
  deepEqual(v6(G, {}, frag(1, 0)).rules, ["fragmented"]);
  deepEqual(v6(G, {}, frag(0, 0)).rules, []); // an atomic fragment
});

Deno.test("raw IP frames (the fast path's other link type) tag the same", () => {
  const ip = ipv4Packet({ src: S, dst: D, proto: 17, sport: 53, dport: 9999 });
  deepEqual(tagOf(ip, true), tagOf(ethernet(ip)));
  deepEqual(tagOf(ip, true).rules, ["port-53", "backscatter"]);
});

Deno.test("--exclude-tags names: known ones, and one line for an unknown one", () => {
  equal(parseTagList("erratic"), Tag.erratic);
  equal(parseTagList(" spoofed , unroutable,"), Tag.spoofed | Tag.unroutable);
  throws(
    () => parseTagList("spoof"),
    /unknown tag "spoof" \(tags: spoofed, erratic, unroutable, large-scale-scan\)/,
  );
});

Deno.test("the README's table of tag rules is the rule list", () => {
  const text = Deno.readTextFileSync(new URL("../../README.md", import.meta.url));
  const rows = [...text.matchAll(/^\| `([a-z0-9-]+)` +\| ([a-z-]+) +\| (.+?) +\|$/gm)]
    .filter((m) => TAG_RULES.some((r) => r.name === m[1]) || m[2] !== "")
    .map((m) => [m[1], m[2], m[3]]);
  deepEqual(
    rows.filter((r) => TAGS.includes(r[1] as never)),
    TAG_RULES.map((r) => [r.name, r.tag, r.rule]),
  );
});

Deno.test("the decoder's tags, tagTraffic's and tagPackets' are the rules' own, masscan's exemption included", async () => {
  const { tagTraffic } = await import("../../src/attribution/tag_packets.ts");
  const { captureBatches } = await import("../../src/capture/open_capture.ts");
  const dirs = ["testdata/captures-modern", "testdata/demo", "testdata/pcap-formats/libtrace"];
  let rows = 0;
  let tagged = 0;
  let byDecoder = 0;
  for (const d of dirs) {
    for (const f of [...Deno.readDirSync(d)].filter((x) => /\.pcap(\.gz)?$/.test(x.name))) {
      const path = `${d}/${f.name}`;
      const all: number[] = [];
      for await (const b of await captureBatches([path])) {
        byDecoder += b.tags.subarray(0, b.length).filter((x) => x !== 0xffffffff).length;
        tagPackets(b);
        all.push(...b.tags.subarray(0, b.length));
      }
      const traffic: number[] = [];
      for await (const b of await captureBatches([path])) {
        tagTraffic(b);
        traffic.push(...b.tags.subarray(0, b.length));
      }
      // Every row from the rules alone (nothing taken from the decoder).
      const full: number[] = [];
      for await (const b of await captureBatches([path])) {
        b.tagsDecoded = false;
        tagPackets(b);
        full.push(...b.tags.subarray(0, b.length));
      }
      deepEqual(traffic, all, path);
      deepEqual(full, all, path);
      rows += all.length;
      tagged += all.filter((x) => x !== 0).length;
    }
  }
  ok(
    rows > 10000 && tagged > 1000 && byDecoder > 5000,
    `${rows} rows, ${tagged} tagged, ${byDecoder} by the decoder`,
  );
});

/**
 * Traffic tags: the classes CAIDA's corsaro3 uses to clean telescope traffic (its built-in
 * filters, written here from their published definitions: the filter list of
 * `libcorsaro_filtering.h` and the rules it documents), computed once per packet where packets
 * are decoded. A packet's tag word holds the four tags (bits 0-3, {@link TAGS}) and the rules
 * that set them (bit 4 + k for rule k of {@link TAG_RULES}); a tag is set when any of its rules
 * matched, and every spoofed packet is erratic too.
 *
 * To add a rule: append it to {@link TAG_RULES} (its name, tag and wording) and test it in
 * {@link trafficTags}; `count --pcap` lists it, the README table is checked against the list.
 *
 * @module
 */

import { type PacketBatch, TAGS_PENDING } from "../decode/packet_batch.ts";
import { ICMP_ANSWERS, Traffic } from "../decode/traffic.ts";

/**
 * The tags, in bit order: an event's `Tags` keys, `--exclude-tags` names.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { TAGS } from "./traffic_tags.ts";
 * deepEqual([...TAGS], ["spoofed", "erratic", "unroutable", "large-scale-scan"]);
 * ```
 */
export const TAGS = ["spoofed", "erratic", "unroutable", "large-scale-scan"] as const;

/** One of {@link TAGS}. */
export type TagName = typeof TAGS[number];

/** The bit of each tag in a packet's tag word. */
export const Tag = { spoofed: 1, erratic: 2, unroutable: 4, largeScaleScan: 8 } as const;

/** The bits of the four tags. */
export const TAG_BITS = 15;

/** A rule behind a tag. */
export interface TagRule {
  /** Name (corsaro3's, where it has one). */
  readonly name: string;
  /** The tag it sets. */
  readonly tag: TagName;
  /** The rule in words (README). */
  readonly rule: string;
}

/**
 * Every rule, in bit order (rule k is bit 4 + k of the tag word).
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { TAG_RULES } from "./traffic_tags.ts";
 * equal(TAG_RULES[0].name, "abnormal-protocol");
 * equal(TAG_RULES.length <= 28, true);
 * ```
 */
export const TAG_RULES: readonly TagRule[] = [
  {
    name: "abnormal-protocol",
    tag: "spoofed",
    rule: "IPv4 protocol other than TCP, UDP, ICMP and IPv6-in-IPv4 (IPv6: a last header other " +
      "than TCP, UDP and ICMPv6); or TCP whose URG/ACK/PSH/RST/SYN/FIN flags are none of SYN, " +
      "ACK, RST, FIN, SYN-FIN, SYN-ACK, FIN-ACK, ACK-PSH, FIN-ACK-PSH",
  },
  {
    name: "ttl-200-not-masscan",
    tag: "spoofed",
    rule: "TTL (hop limit) ≥ 200, not ICMP, and not masscan's (neither a large-scale-scan " +
      "packet nor one that passes masscan's IP ID rule: masscan sends TTL 255)",
  },
  {
    name: "fragmented",
    tag: "spoofed",
    rule: "an IP fragment or a reserved flag: IPv4 more-fragments flag, a fragment offset or the " +
      "reserved flag; IPv6 a fragment header with the M flag or an offset (corsaro3's 2019 rule " +
      "tests the offset and the reserved flag only, missing first fragments)",
  },
  { name: "last-byte-src-0", tag: "spoofed", rule: "IPv4 source ending in .0" },
  { name: "last-byte-src-255", tag: "spoofed", rule: "IPv4 source ending in .255" },
  { name: "same-src-dst", tag: "spoofed", rule: "source address = destination address" },
  { name: "udp-port-0", tag: "spoofed", rule: "UDP with source or destination port 0" },
  { name: "tcp-port-0", tag: "spoofed", rule: "TCP with source or destination port 0" },
  { name: "udp-destport-80", tag: "spoofed", rule: "UDP to destination port 80" },
  { name: "ttl-200", tag: "erratic", rule: "TTL (hop limit) ≥ 200, not ICMP" },
  {
    name: "udp-0x31",
    tag: "erratic",
    rule: "UDP, IP length 58, payload starting with eight zero bytes, 0x31, 0x00",
  },
  {
    name: "sip-status",
    tag: "erratic",
    rule: "UDP from port 5060 to port 5060 whose payload starts with `SIP/2.0` (a SIP status " +
      "line)",
  },
  { name: "udp-ip-len-96", tag: "erratic", rule: "UDP with IP length 96" },
  { name: "udp-ip-len-1500", tag: "erratic", rule: "UDP with IP length 1500" },
  { name: "port-53", tag: "erratic", rule: "TCP or UDP with source or destination port 53" },
  { name: "tcp-port-23", tag: "erratic", rule: "TCP with source or destination port 23" },
  { name: "tcp-port-80", tag: "erratic", rule: "TCP with source or destination port 80" },
  { name: "tcp-port-5000", tag: "erratic", rule: "TCP with source or destination port 5000" },
  {
    name: "dns-resp-non-standard",
    tag: "erratic",
    rule: "UDP, IP length > 42, a payload of ≥ 12 bytes that reads as a DNS response: flags & " +
      "0xfff0 = 0x8180, question, answer, authority and additional counts each < 10",
  },
  {
    name: "netbios-query-name",
    tag: "erratic",
    rule: "UDP from port 137 to port 137, IP length > 48, payload bytes 12-19 a space and " +
      "`CKAAAAA` (the encoded wildcard name of a NetBIOS name query)",
  },
  {
    name: "backscatter",
    tag: "erratic",
    rule: "UDP from port 53; ICMP echo reply, destination unreachable, source quench, redirect, " +
      "time exceeded, parameter problem, timestamp, information or address-mask reply (ICMPv6: " +
      "echo reply, destination unreachable, redirect, time exceeded, parameter problem); TCP " +
      "with SYN and ACK, or RST",
  },
  {
    name: "bittorrent",
    tag: "erratic",
    rule: "UDP carrying BitTorrent: a DHT message (`d1:a` or `d1:r`, then `d2:i`, `d20:`); " +
      "the handshake `\\x13BitTorrent protocol` at payload byte 20; a uTP packet (first word " +
      "0x4102, 0x2102, 0x3102 or 0x1102, IP length ≥ 58, ending in 00 08 and eight zero bytes) " +
      "or, at IP length 48, first word 0x4100, 0x2100, 0x3102 or 0x1100; at IP length 61, " +
      "words 3-7 7fffffff ab020400 01000000 08000000 00000000",
  },
  {
    name: "special-purpose-source",
    tag: "unroutable",
    rule: "source in special-purpose space (RFC 6890, RFC 5735): 0/8, 10/8, 100.64/10, 127/8, " +
      "169.254/16, 172.16/12, 192.0.0/24, 192.0.2/24, 192.88.99/24, 192.168/16, 198.18/15, " +
      "198.51.100/24, 203.0.113/24, 224/4, 240/4; IPv6 ::/128, ::1/128, ::ffff:0:0/96, " +
      "64:ff9b:1::/48, 100::/64, 2001:2::/48, 2001:10::/28, 2001:db8::/32, 3fff::/20, fc00::/7, " +
      "fe80::/10, ff00::/8",
  },
  {
    name: "no-options-ttl-200-win-1024",
    tag: "large-scale-scan",
    rule: "TCP with SYN and without ACK, no options, TTL ≥ 200, window 1024",
  },
];

if (TAG_RULES.length > 28) throw new Error("at most 28 tag rules (a tag word has 32 bits)");

const TAG_BIT: Record<TagName, number> = {
  spoofed: Tag.spoofed,
  erratic: Tag.erratic,
  unroutable: Tag.unroutable,
  "large-scale-scan": Tag.largeScaleScan,
};

/** Rule name → its bit in the tag word. */
const RULE = Object.fromEntries(TAG_RULES.map((r, k) => [r.name, 1 << (4 + k)])) as Record<
  string,
  number
>;
const R = (name: string): number => {
  const bit = RULE[name];
  if (bit === undefined) throw new Error(`no tag rule ${name}`);
  return bit >>> 0;
};
const ABNORMAL = R("abnormal-protocol");
const TTL200_NOT_MASSCAN = R("ttl-200-not-masscan");
const FRAGMENTED = R("fragmented");
const SRC0 = R("last-byte-src-0");
const SRC255 = R("last-byte-src-255");
const SAME = R("same-src-dst");
const UDP_PORT0 = R("udp-port-0");
const TCP_PORT0 = R("tcp-port-0");
const UDP_DPORT80 = R("udp-destport-80");
const TTL200 = R("ttl-200");
const UDP_0X31 = R("udp-0x31");
const SIP = R("sip-status");
const LEN96 = R("udp-ip-len-96");
const LEN1500 = R("udp-ip-len-1500");
const PORT53 = R("port-53");
const TCP23 = R("tcp-port-23");
const TCP80 = R("tcp-port-80");
const TCP5000 = R("tcp-port-5000");
const DNS_RESP = R("dns-resp-non-standard");
const NETBIOS = R("netbios-query-name");
const BACKSCATTER = R("backscatter");
const BITTORRENT = R("bittorrent");
const SPECIAL = R("special-purpose-source");
const LARGE_SCAN = R("no-options-ttl-200-win-1024");

// Each rule's tag, to fold the rule bits into the four tags.
const RULES_OF: number[] = TAGS.map((t) =>
  TAG_RULES.reduce((m, r, k) => r.tag === t ? m | (1 << (4 + k)) : m, 0) >>> 0
);

/**
 * The tags of a tag word's rules (spoofed implies erratic).
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { Tag, TAG_RULES, tagsOfRules } from "./traffic_tags.ts";
 * const sameSrcDst = 1 << (4 + TAG_RULES.findIndex((r) => r.name === "same-src-dst"));
 * equal(tagsOfRules(sameSrcDst), Tag.spoofed | Tag.erratic);
 * ```
 */
export function tagsOfRules(rules: number): number {
  let t = 0;
  for (let k = 0; k < TAGS.length; k++) if ((rules & RULES_OF[k]) !== 0) t |= TAG_BIT[TAGS[k]];
  if ((t & Tag.spoofed) !== 0) t |= Tag.erratic;
  return t;
}

// Tags by the 28 rule bits, a byte of rules at a time (the fold is four lookups a packet).
const fold = (byte: number) => {
  const t = new Uint8Array(256);
  for (let x = 0; x < 256; x++) t[x] = tagsOfRules((x << (4 + 8 * byte)) >>> 0);
  return t;
};
const FOLD0 = fold(0);
const FOLD1 = fold(1);
const FOLD2 = fold(2);
const FOLD3 = fold(3);

// TCP flag bytes (URG ACK PSH RST SYN FIN) that are not abnormal.
const NORMAL_TCP = new Uint8Array(64);
for (const f of [0x02, 0x10, 0x04, 0x01, 0x03, 0x12, 0x11, 0x18, 0x19]) NORMAL_TCP[f] = 1;

// ICMP/ICMPv6 messages that are replies to a spoofed source (traffic codes).
const ICMP_BACKSCATTER = new Uint8Array(256);
for (const t of ICMP_ANSWERS) ICMP_BACKSCATTER[t] = 1;

// IPv6 special-purpose prefixes: 16 address bytes, prefix length.
const SPECIAL6: [number[], number][] = [
  [[], 128], // :: (all zero)
  [[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], 128],
  [[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff], 96],
  [[0, 0x64, 0xff, 0x9b, 0, 1], 48],
  [[1, 0], 64],
  [[0x20, 0x01, 0, 2, 0, 0], 48],
  [[0x20, 0x01, 0, 0x10], 28],
  [[0x20, 0x01, 0x0d, 0xb8], 32],
  [[0x3f, 0xff], 20],
  [[0xfc], 7],
  [[0xfe, 0x80], 10],
  [[0xff], 8],
];

// The prefixes as four words and four masks each, and the first bytes any of them can start
// with (a global address — nearly every source — is rejected by one lookup).
const SPECIAL6_WORDS = new Uint32Array(SPECIAL6.length * 8);
const SPECIAL6_FIRST = new Uint8Array(256);
SPECIAL6.forEach(([p, len], n) => {
  for (let w = 0; w < 4; w++) {
    let word = 0;
    let mask = 0;
    for (let k = 0; k < 4; k++) {
      const bit = (w * 4 + k) * 8;
      const bits = Math.max(0, Math.min(8, len - bit));
      const m = (0xff00 >> bits) & 0xff;
      word = (word << 8) | ((p[w * 4 + k] ?? 0) & m);
      mask = (mask << 8) | m;
    }
    SPECIAL6_WORDS[n * 8 + w] = word >>> 0;
    SPECIAL6_WORDS[n * 8 + 4 + w] = mask >>> 0;
  }
  const m0 = SPECIAL6_WORDS[n * 8 + 4] >>> 24;
  for (let b = 0; b < 256; b++) {
    if ((b & m0) === SPECIAL6_WORDS[n * 8] >>> 24) SPECIAL6_FIRST[b] = 1;
  }
});

function special6(a: Uint8Array, o: number): boolean {
  if (SPECIAL6_FIRST[a[o]] === 0) return false;
  const w0 = ((a[o] << 24) | (a[o + 1] << 16) | (a[o + 2] << 8) | a[o + 3]) >>> 0;
  const w1 = ((a[o + 4] << 24) | (a[o + 5] << 16) | (a[o + 6] << 8) | a[o + 7]) >>> 0;
  const w2 = ((a[o + 8] << 24) | (a[o + 9] << 16) | (a[o + 10] << 8) | a[o + 11]) >>> 0;
  const w3 = ((a[o + 12] << 24) | (a[o + 13] << 16) | (a[o + 14] << 8) | a[o + 15]) >>> 0;
  const t = SPECIAL6_WORDS;
  for (let n = 0; n < t.length; n += 8) {
    if (
      ((w0 & t[n + 4]) >>> 0) === t[n] && ((w1 & t[n + 5]) >>> 0) === t[n + 1] &&
      ((w2 & t[n + 6]) >>> 0) === t[n + 2] && ((w3 & t[n + 7]) >>> 0) === t[n + 3]
    ) return true;
  }
  return false;
}

/** IPv4 special-purpose space (RFC 6890 with RFC 5735's list). */
function special4(s: number): boolean {
  const a = s >>> 24;
  if (a === 0 || a === 10 || a === 127 || a >= 224) return true;
  const ab = s >>> 16;
  return (s & 0xffc00000) >>> 0 === 0x64400000 || // 100.64/10
    ab === 0xa9fe || // 169.254/16
    (s & 0xfff00000) >>> 0 === 0xac100000 || // 172.16/12
    (s & 0xffffff00) >>> 0 === 0xc0000000 || // 192.0.0/24
    (s & 0xffffff00) >>> 0 === 0xc0000200 || // 192.0.2/24
    (s & 0xffffff00) >>> 0 === 0xc0586300 || // 192.88.99/24
    ab === 0xc0a8 || // 192.168/16
    (s & 0xfffe0000) >>> 0 === 0xc6120000 || // 198.18/15
    (s & 0xffffff00) >>> 0 === 0xc6336400 || // 198.51.100/24
    (s & 0xffffff00) >>> 0 === 0xcb007100; // 203.0.113/24
}

const u32 = (d: Uint8Array, p: number) =>
  ((d[p] << 24) | (d[p + 1] << 16) | (d[p + 2] << 8) | d[p + 3]) >>> 0;

// The rules about a UDP payload (`p` its start in `d`, `n` bytes captured, `ipLen` the IP length,
// `udpLen` the UDP header's length field).
function udpPayloadRules(
  d: Uint8Array,
  p: number,
  n: number,
  ipLen: number,
  udpLen: number,
  sport: number,
  dport: number,
): number {
  let r = 0;
  const w0 = n >= 2 ? (d[p] << 8) | d[p + 1] : -1;
  if (
    ipLen === 58 && n >= 10 && d[p + 8] === 0x31 && d[p + 9] === 0 && u32(d, p) === 0 &&
    u32(d, p + 4) === 0
  ) {
    r |= UDP_0X31;
  }
  if (
    sport === 5060 && dport === 5060 && n >= 7 && d[p] === 0x53 && d[p + 1] === 0x49 &&
    d[p + 2] === 0x50 && d[p + 3] === 0x2f && d[p + 4] === 0x32 && d[p + 5] === 0x2e &&
    d[p + 6] === 0x30
  ) r |= SIP;
  if (
    ipLen > 42 && n >= 12 && ((((d[p + 2] << 8) | d[p + 3]) & 0xfff0) === 0x8180) &&
    ((d[p + 4] << 8) | d[p + 5]) < 10 && ((d[p + 6] << 8) | d[p + 7]) < 10 &&
    ((d[p + 8] << 8) | d[p + 9]) < 10 && ((d[p + 10] << 8) | d[p + 11]) < 10
  ) r |= DNS_RESP;
  if (
    sport === 137 && dport === 137 && ipLen > 48 && n >= 20 && u32(d, p + 12) === 0x20434b41 &&
    u32(d, p + 16) === 0x41414141
  ) r |= NETBIOS;
  // BitTorrent: DHT, handshake, uTP.
  if (udpLen >= 20 && n >= 12) {
    const a = u32(d, p);
    if (
      (a === 0x64313a61 || a === 0x64313a72) && u32(d, p + 4) === 0x64323a69 &&
      u32(d, p + 8) === 0x6432303a
    ) {
      r |= BITTORRENT;
    }
  }
  if (
    udpLen >= 48 && n >= 40 && u32(d, p + 20) === 0x13426974 && u32(d, p + 24) === 0x546f7272 &&
    u32(d, p + 28) === 0x656e7420 && u32(d, p + 32) === 0x70726f74 && u32(d, p + 36) === 0x6f636f6c
  ) r |= BITTORRENT;
  if (
    ipLen >= 58 && (w0 === 0x4102 || w0 === 0x2102 || w0 === 0x3102 || w0 === 0x1102) &&
    n >= udpLen - 8 && n >= 10 && d[p + n - 10] === 0 && d[p + n - 9] === 8 &&
    u32(d, p + n - 8) === 0 && u32(d, p + n - 4) === 0
  ) r |= BITTORRENT;
  if (ipLen === 48 && (w0 === 0x4100 || w0 === 0x2100 || w0 === 0x3102 || w0 === 0x1100)) {
    r |= BITTORRENT;
  }
  if (
    ipLen === 61 && n >= 32 && u32(d, p + 12) === 0x7fffffff && u32(d, p + 16) === 0xab020400 &&
    u32(d, p + 20) === 0x01000000 && u32(d, p + 24) === 0x08000000 && u32(d, p + 28) === 0
  ) r |= BITTORRENT;
  return r;
}

/**
 * The tag word of row `i` of a decoded batch: the rules it matches and their tags. `masscan` is
 * 1 if the row passes masscan's IP ID rule (`attribution/masscan.ts`), which exempts it from
 * `ttl-200-not-masscan`. Rows without an IP header have none.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { PacketBatch } from "../decode/packet_batch.ts";
 * import { Traffic } from "../decode/traffic.ts";
 * import { Tag, TAG_BITS, trafficTags } from "./traffic_tags.ts";
 * const b = new PacketBatch(1);
 * b.length = 1;
 * b.ipVersion[0] = 4;
 * b.proto[0] = 6;
 * b.traffic[0] = Traffic.TCPSYN;
 * b.tcpFlags[0] = 0x002;
 * b.src[0] = 0x0a000001; // 10.0.0.1
 * b.dst[0] = 0xc6336401;
 * b.srcPort[0] = 40000;
 * b.dstPort[0] = 443;
 * b.ttl[0] = 250;
 * b.tcpWindow[0] = 1024;
 * // masscan 1.3.2's shape: TTL 250 is erratic, but not spoofed
 * equal(trafficTags(b, 0, 0) & TAG_BITS, Tag.erratic | Tag.unroutable | Tag.largeScaleScan);
 * b.tcpWindow[0] = 1025;
 * equal(trafficTags(b, 0, 0) & TAG_BITS, Tag.spoofed | Tag.erratic | Tag.unroutable);
 * b.ttl[0] = 64;
 * b.src[0] = 0x01020304;
 * equal(trafficTags(b, 0, 0), 0);
 * ```
 */
export function trafficTags(b: PacketBatch, i: number, masscan: number): number {
  tagRows(b, i, i + 1, ONE, 0, () => masscan);
  return ONE[0];
}

const ONE = new Uint32Array(1);

/**
 * The tag words of rows `from .. to-1` into `out[at ..]` (the batch's columns read once, not per
 * row: this runs on every packet). `masscan(b, i)` is asked only for a row with TTL ≥ 200 that
 * is not a large-scale-scan packet: 1 if it passes masscan's IP ID rule.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { PacketBatch } from "../decode/packet_batch.ts";
 * import { Tag, tagRows } from "./traffic_tags.ts";
 * const b = new PacketBatch(2);
 * b.length = 2;
 * b.ipVersion.fill(4);
 * b.proto.fill(17);
 * b.traffic.fill(16); // UDP
 * b.src[0] = 0x0a000001; // 10.0.0.1: unroutable
 * b.src[1] = 0x01020304;
 * b.srcPort.fill(40000);
 * b.dstPort.fill(443);
 * const out = new Uint32Array(2);
 * tagRows(b, 0, 2, out, 0, () => 0);
 * equal(out[0] & 15, Tag.unroutable);
 * equal(out[1], 0);
 * ```
 */
export function tagRows(
  b: PacketBatch,
  from: number,
  to: number,
  out: Uint32Array,
  at: number,
  masscan: (b: PacketBatch, i: number) => number,
): void {
  const ipVersion = b.ipVersion;
  const protoA = b.proto;
  const trafficA = b.traffic;
  const ttlA = b.ttl;
  const ipFlags = b.ipFlags;
  const srcPort = b.srcPort;
  const dstPort = b.dstPort;
  const tcpFlags = b.tcpFlags;
  const tcpOptLen = b.tcpOptLen;
  const tcpWindow = b.tcpWindow;
  const srcA = b.src;
  const dstA = b.dst;
  // Rows the decoder tagged already (b.tagsDecoded: all but TAGS_PENDING) are left as they are.
  const done = b.tagsDecoded && out === b.tags && at === from;
  for (let i = from; i < to; i++) {
    if (done && out[i] !== TAGS_PENDING) continue;
    const v = ipVersion[i];
    if (v === 0) {
      out[at + i - from] = 0;
      continue;
    }
    const proto = protoA[i];
    const traffic = trafficA[i];
    const ttl = ttlA[i];
    let r = PROTO_RULES[v === 4 ? proto : 256 + proto];
    if ((ipFlags[i] & 13) !== 0) r |= FRAGMENTED;
    const sport = srcPort[i];
    const dport = dstPort[i];
    const icmp = proto === (v === 4 ? 1 : 58);
    if (traffic - Traffic.TCPSYN >>> 0 <= Traffic.TCPOther - Traffic.TCPSYN) { // TCP
      const flags = tcpFlags[i] & 0x3f;
      r |= TCP_FLAG_RULES[flags] | (sport < 8192 ? TCP_PORT_RULES[sport] : 0) |
        (dport < 8192 ? TCP_PORT_RULES[dport] : 0);
      if (ttl >= 200 && (flags & 0x12) === 0x02 && tcpOptLen[i] === 0 && tcpWindow[i] === 1024) {
        r |= LARGE_SCAN;
      }
    } else if (traffic === Traffic.UDP) {
      r |= (sport < 8192 ? UDP_SPORT_RULES[sport] : 0) |
        (dport < 8192 ? UDP_DPORT_RULES[dport] : 0) | udpRules(b, i, v, sport, dport);
    } else if (icmp && ICMP_BACKSCATTER[traffic] === 1) r |= BACKSCATTER;
    if (ttl >= 200 && !icmp) {
      r |= TTL200;
      if ((r & LARGE_SCAN) === 0 && masscan(b, i) === 0) r |= TTL200_NOT_MASSCAN;
    }
    if (v === 4) {
      const src = srcA[i];
      r |= LAST_OCTET_RULES[src & 0xff];
      if (src === dstA[i]) r |= SAME;
      const o = SPECIAL_OCTET[src >>> 24];
      if (o === 1 || (o === 2 && special4(src))) r |= SPECIAL;
    } else r |= rules6(b, i);
    out[at + i - from] = r === 0 ? 0 : (r | FOLD0[(r >>> 4) & 0xff] | FOLD1[(r >>> 12) & 0xff] |
      FOLD2[(r >>> 20) & 0xff] | FOLD3[(r >>> 28) & 0xf]) >>> 0;
  }
}

/**
 * The tag word of a decoded IPv4 TCP row with a TTL below 200 (no TTL rule applies, so masscan's
 * exemption is not needed): the decoder's fast path calls it with the fields in hand, so that
 * most packets are tagged without their columns being read again.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { Tag, tcp4Tags } from "./traffic_tags.ts";
 * // A SYN from 10.0.0.1 to port 23: unroutable (10/8) and erratic (telnet).
 * equal(tcp4Tags(0x002, 40000, 23, 0, 0x0a000001, 0xc6336401) & 15, Tag.unroutable | Tag.erratic);
 * equal(tcp4Tags(0x002, 40000, 443, 0, 0x01020304, 0xc6336401), 0);
 * ```
 */
export function tcp4Tags(
  flags: number,
  sport: number,
  dport: number,
  ipFlags: number,
  src: number,
  dst: number,
): number {
  let r = TCP_FLAG_RULES[flags & 0x3f] | (sport < 8192 ? TCP_PORT_RULES[sport] : 0) |
    (dport < 8192 ? TCP_PORT_RULES[dport] : 0) | LAST_OCTET_RULES[src & 0xff];
  if ((ipFlags & 13) !== 0) r |= FRAGMENTED;
  if (src === dst) r |= SAME;
  const o = SPECIAL_OCTET[src >>> 24];
  if (o === 1 || (o === 2 && special4(src))) r |= SPECIAL;
  return r === 0 ? 0 : (r | FOLD0[(r >>> 4) & 0xff] | FOLD1[(r >>> 12) & 0xff] |
    FOLD2[(r >>> 20) & 0xff] | FOLD3[(r >>> 28) & 0xf]) >>> 0;
}

// The rules of a UDP row about its IP length and payload.
function udpRules(b: PacketBatch, i: number, v: number, sport: number, dport: number): number {
  let r = 0;
  const ipLen = b.ipLen[i];
  if (v === 4 && (ipLen === 96 || ipLen === 1500)) r |= ipLen === 96 ? LEN96 : LEN1500;
  const n = b.udpHead[i] >>> 16;
  if (n > 0) {
    const d = b.buffers[b.buf[i]];
    const q = b.offset[i] + b.l4At[i];
    r |= udpPayloadRules(d, q + 8, n, ipLen, (d[q + 4] << 8) | d[q + 5], sport, dport);
  }
  return r;
}

// The rules of an IPv6 row about its addresses.
function rules6(b: PacketBatch, i: number): number {
  const o = i << 4;
  const s6 = b.src6;
  const d6 = b.dst6;
  let same = true;
  for (let k = 0; k < 16 && same; k++) same = s6[o + k] === d6[o + k];
  return (same ? SAME : 0) | (special6(s6, o) ? SPECIAL : 0);
}

// Rule bits by IP protocol (IPv4 at [p], IPv6 at [256 + p]): abnormal protocols.
const PROTO_RULES = new Uint32Array(512);
for (let p = 0; p < 256; p++) {
  if (p !== 6 && p !== 17 && p !== 1 && p !== 41) PROTO_RULES[p] = ABNORMAL;
  if (p !== 6 && p !== 17 && p !== 58) PROTO_RULES[256 + p] = ABNORMAL;
}
// By TCP flags (URG ACK PSH RST SYN FIN): abnormal combinations, backscatter.
const TCP_FLAG_RULES = new Uint32Array(64);
for (let f = 0; f < 64; f++) {
  TCP_FLAG_RULES[f] = (NORMAL_TCP[f] === 0 ? ABNORMAL : 0) |
    ((f & 0x12) === 0x12 || (f & 0x04) !== 0 ? BACKSCATTER : 0);
}
// By port (the rules' ports are all below 8192): TCP either port; UDP source, destination.
const TCP_PORT_RULES = new Uint32Array(8192);
TCP_PORT_RULES[0] = TCP_PORT0;
TCP_PORT_RULES[53] = PORT53;
TCP_PORT_RULES[23] = TCP23;
TCP_PORT_RULES[80] = TCP80;
TCP_PORT_RULES[5000] = TCP5000;
const UDP_SPORT_RULES = new Uint32Array(8192);
UDP_SPORT_RULES[0] = UDP_PORT0;
UDP_SPORT_RULES[53] = PORT53 | BACKSCATTER;
const UDP_DPORT_RULES = new Uint32Array(8192);
UDP_DPORT_RULES[0] = UDP_PORT0;
UDP_DPORT_RULES[53] = PORT53;
UDP_DPORT_RULES[80] = UDP_DPORT80;
// By an IPv4 source's last octet.
const LAST_OCTET_RULES = new Uint32Array(256);
LAST_OCTET_RULES[0] = SRC0;
LAST_OCTET_RULES[255] = SRC255;
// By an IPv4 source's first octet: 1 special throughout, 2 special in part (special4 decides).
const SPECIAL_OCTET = new Uint8Array(256);
for (const a of [0, 10, 127]) SPECIAL_OCTET[a] = 1;
for (let a = 224; a < 256; a++) SPECIAL_OCTET[a] = 1;
for (const a of [100, 169, 172, 192, 198, 203]) SPECIAL_OCTET[a] = 2;

/**
 * The tag bits named in a comma-separated list (for `--exclude-tags`); throws on an unknown
 * name, naming the known ones.
 *
 * @example
 * ```ts
 * import { equal, throws } from "node:assert/strict";
 * import { parseTagList, Tag } from "./traffic_tags.ts";
 * equal(parseTagList("spoofed,large-scale-scan"), Tag.spoofed | Tag.largeScaleScan);
 * throws(() => parseTagList("spoofd"));
 * ```
 */
export function parseTagList(list: string): number {
  let m = 0;
  for (const raw of list.split(",")) {
    const name = raw.trim();
    if (name === "") continue;
    const bit = (TAG_BIT as Record<string, number>)[name];
    if (bit === undefined) {
      throw new Error(`unknown tag "${name}" (tags: ${TAGS.join(", ")})`);
    }
    m |= bit;
  }
  return m;
}

/**
 * Decodes one captured frame (link layer → IP → transport) into a row of a
 * {@link PacketBatch}, and classifies it into a traffic code. The layers are in files of their
 * own — `link_type.ts` (the table of link types and their decoders), `network.ts` (IPv4, IPv6)
 * and `transport.ts` (TCP, UDP, ICMP and the classification) — and this file runs them: a fast
 * path for the common frame and the general path for every other. Like gopacket's
 * DecodingLayerParser it writes into preallocated storage and allocates nothing: the frame
 * bytes are only read, never retained.
 *
 * Rules worth knowing:
 * - 802.1Q / 802.1ad / QinQ tags are skipped on Ethernet, SLL and SLL2.
 * - IPv4 total length 0 (TCP segmentation offload) means "the rest of the frame".
 * - Non-first fragments (IPv4 offset ≠ 0, IPv6 fragment header offset ≠ 0), IP-in-IP, 6in4,
 *   other protocols and cut-short transport headers are traffic Unknown with port 0; their
 *   outer source address is still reported.
 * - TCP needs its 20 fixed bytes; options cut off by the snap length do not demote a packet.
 *
 * @module
 */

import { BY_VERSION, ETH_IPV4, ETH_IPV6, linkDecoder } from "./link_type.ts";
import { decodeIpv4, decodeIpv6 } from "./network.ts";
import { type PacketBatch, TAGS_PENDING } from "./packet_batch.ts";
import { tcp4Tags } from "../tags/traffic_tags.ts";
import { Problem } from "./problem.ts";
import { Traffic } from "./traffic.ts";
import {
  ICMP4,
  icmpAt,
  icmpEcho,
  TCP_SOURCE_PORT,
  TCP_TRAFFIC,
  tcpOptions,
  udpHead,
} from "./transport.ts";

/**
 * Decodes the frame `d[off .. off+len)` of link type `linkType` into row `i` of `b`.
 * Every decoded field of the row is written (fields that do not apply are set to 0).
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { decodeFrame } from "./decode_frame.ts";
 * import { PacketBatch } from "./packet_batch.ts";
 * import { Traffic } from "./traffic.ts";
 * // A raw IPv4 UDP packet 10.0.0.1:5000 -> 10.0.0.2:53
 * const ip = new Uint8Array([
 *   0x45, 0, 0, 28, 0, 1, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
 *   0x13, 0x88, 0, 53, 0, 8, 0, 0,
 * ]);
 * const b = new PacketBatch(1);
 * decodeFrame(ip, 0, ip.length, 101, b, 0);
 * ok(b.traffic[0] === Traffic.UDP && b.port[0] === 53);
 * ok(b.src[0] === 0x0a000001);
 * ```
 */
export function decodeFrame(
  d: Uint8Array,
  off: number,
  len: number,
  linkType: number,
  b: PacketBatch,
  i: number,
): void {
  b.ipVersion[i] = 0;
  b.problem[i] = Problem.None;
  b.src[i] = 0;
  b.dst[i] = 0;
  b.proto[i] = 0;
  b.traffic[i] = Traffic.Unknown;
  b.port[i] = 0;
  b.srcPort[i] = 0;
  b.dstPort[i] = 0;
  b.ttl[i] = 0;
  b.ipId[i] = 0;
  b.tcpSeq[i] = 0;
  b.tcpFlags[i] = 0;
  b.tcpWindow[i] = 0;
  b.tcpOptLen[i] = 0;
  b.ipFlags[i] = 0;
  b.ipLen[i] = 0;
  b.tags[i] = TAGS_PENDING; // the tagger's (tags/traffic_tags.ts)
  b.tagsDecoded = true;

  const end = off + len;
  const link = linkDecoder(linkType);
  if (link === undefined) {
    b.problem[i] = Problem.UnsupportedLink;
    return;
  }
  const r = link(d, off, len);
  if (r < 0) {
    b.problem[i] = Problem.TruncatedLink;
    return;
  }
  let etype = r % 65536;
  const p = (r - etype) / 65536;
  if (etype === BY_VERSION) {
    if (p >= end) {
      b.problem[i] = Problem.TruncatedIp;
      return;
    }
    const v = d[p] >> 4;
    if (v !== 4 && v !== 6) {
      b.problem[i] = Problem.BadIpVersion;
      return;
    }
    etype = v === 4 ? ETH_IPV4 : ETH_IPV6;
  }
  if (etype === ETH_IPV4) decodeIpv4(d, p, end, b, i);
  else if (etype === ETH_IPV6) decodeIpv6(d, p, end, b, i);
  else b.problem[i] = Problem.NonIp;
}

const EMPTY = new Uint8Array(0);

/**
 * Decodes rows `from .. to-1` of `b`, whose frame fields (`buffers`, `buf`, `offset`,
 * `capLen`, `linkType`) are already set. The common case — Ethernet (untagged) or raw IPv4
 * carrying an unfragmented TCP, UDP or ICMP header — is decoded inline with every array held
 * in a local; everything else goes through {@link decodeFrame}.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { decodeRows } from "./decode_frame.ts";
 * import { PacketBatch } from "./packet_batch.ts";
 * const ip = new Uint8Array([0x45, 0, 0, 20, 0, 0, 0, 0, 64, 4, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8]);
 * const b = new PacketBatch(1);
 * b.buffers.push(ip);
 * b.capLen[0] = ip.length;
 * b.linkType[0] = 101;
 * b.length = 1;
 * decodeRows(b, 0, 1);
 * ok(b.src[0] === 0x01020304 && b.traffic[0] === 17);
 * ```
 */
export function decodeRows(b: PacketBatch, from: number, to: number): void {
  const buffers = b.buffers;
  const bufIx = b.buf;
  const offsets = b.offset;
  const capLen = b.capLen;
  const linkType = b.linkType;
  const ipVersion = b.ipVersion;
  const problem = b.problem;
  const srcA = b.src;
  const dstA = b.dst;
  const protoA = b.proto;
  const traffic = b.traffic;
  const port = b.port;
  const srcPort = b.srcPort;
  const dstPort = b.dstPort;
  const ttl = b.ttl;
  const ipId = b.ipId;
  const tcpSeq = b.tcpSeq;
  const tcpFlags = b.tcpFlags;
  const tcpWindow = b.tcpWindow;
  const tcpOptLen = b.tcpOptLen;
  const ipFlags = b.ipFlags;
  const ipLen = b.ipLen;
  const tags = b.tags;
  b.tagsDecoded = true;
  let d = buffers[0] ?? EMPTY;
  // Big-endian words in one load each (TurboFan inlines DataView reads) instead of four byte
  // loads and shifts.
  let dv = new DataView(d.buffer, d.byteOffset, d.byteLength);
  let cur = 0;
  for (let i = from; i < to; i++) {
    if (bufIx[i] !== cur) {
      cur = bufIx[i];
      d = buffers[cur];
      dv = new DataView(d.buffer, d.byteOffset, d.byteLength);
    }
    const off = offsets[i];
    const len = capLen[i];
    const lt = linkType[i];
    let p: number;
    if (lt === 1 && len >= 34 && d[off + 12] === 0x08 && d[off + 13] === 0x00) p = off + 14;
    else if ((lt === 101 || lt === 228) && len >= 20) p = off;
    else {
      decodeFrame(d, off, len, lt, b, i);
      continue;
    }
    const end = off + len;
    const vihl = d[p];
    const ihl = (vihl & 15) << 2;
    const total = dv.getUint16(p + 2);
    const frag = dv.getUint16(p + 6) & 0x1fff;
    if (
      vihl >> 4 !== 4 || ihl < 20 || p + ihl > end || (total !== 0 && total < ihl) || frag !== 0
    ) {
      decodeFrame(d, off, len, lt, b, i);
      continue;
    }
    const ipEnd = total === 0 || p + total > end ? end : p + total;
    const proto = d[p + 9];
    const q = p + ihl;
    const avail = ipEnd - q;
    ipVersion[i] = 4;
    ipFlags[i] = d[p + 6] >> 5;
    ipLen[i] = total;
    ttl[i] = d[p + 8];
    ipId[i] = dv.getUint16(p + 4);
    protoA[i] = proto;
    srcA[i] = dv.getUint32(p + 12);
    dstA[i] = dv.getUint32(p + 16);
    if (proto === 6 && avail >= 20 && d[q + 12] >= 0x50) {
      const sport = dv.getUint16(q);
      const dport = dv.getUint16(q + 2);
      const doff = (d[q + 12] >> 4) << 2;
      const flags = ((d[q + 12] & 1) << 8) | d[q + 13];
      problem[i] = 0;
      srcPort[i] = sport;
      dstPort[i] = dport;
      tcpSeq[i] = dv.getUint32(q + 4);
      tcpFlags[i] = flags;
      tcpWindow[i] = dv.getUint16(q + 14);
      tcpOptLen[i] = (doff < avail ? doff : avail) - 20;
      // The option columns are written only for rows that have options (see PacketBatch).
      if (doff > 20) tcpOptions(d, q, doff, avail, b, i);
      traffic[i] = TCP_TRAFFIC[flags];
      port[i] = TCP_SOURCE_PORT[flags] ? sport : dport;
      // The traffic tags of the common packet, with its fields in hand (a TTL of 200 or more
      // may be masscan's: the tagger decides those).
      const t = d[p + 8];
      tags[i] = t < 200
        ? tcp4Tags(flags, sport, dport, d[p + 6] >> 5, srcA[i], dstA[i])
        : TAGS_PENDING;
      continue;
    }
    tags[i] = TAGS_PENDING;
    problem[i] = 0;
    tcpSeq[i] = 0;
    tcpFlags[i] = 0;
    tcpWindow[i] = 0;
    tcpOptLen[i] = 0;
    if (proto === 17 && avail >= 8) {
      const dport = dv.getUint16(q + 2);
      srcPort[i] = dv.getUint16(q);
      dstPort[i] = dport;
      traffic[i] = Traffic.UDP;
      port[i] = dport;
      udpHead(d, q, ipEnd, b, i);
      continue;
    }
    srcPort[i] = 0;
    dstPort[i] = 0;
    port[i] = 0;
    if (proto === 1 && avail >= 8) {
      const type = d[q];
      traffic[i] = ICMP4[type];
      icmpAt(q, b, i);
      if (type === 8 || type === 0) icmpEcho(d, q, ipEnd, b, i);
      continue;
    }
    decodeFrame(d, off, len, lt, b, i);
  }
}

/**
 * Decodes one captured frame (link layer → IP → transport) into a row of a
 * {@link PacketBatch}, and classifies it into a traffic code. Like gopacket's
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

import type { PacketBatch } from "./packet_batch.ts";
import { Problem } from "./problem.ts";
import { Traffic } from "./traffic.ts";

const ETH_IPV4 = 0x0800;
const ETH_IPV6 = 0x86dd;
const NOT_IP = -2;
const BY_VERSION = -1;

// ICMPv4 type -> traffic code (ICMPOther where unlisted).
const ICMP4 = new Uint8Array(256).fill(Traffic.ICMPOther);
ICMP4[8] = Traffic.ICMPEchoRequest;
ICMP4[0] = Traffic.ICMPEchoReply;
ICMP4[3] = Traffic.ICMPDestinationUnreachable;
ICMP4[4] = Traffic.ICMPSourceQuench;
ICMP4[5] = Traffic.ICMPRedirect;
ICMP4[11] = Traffic.ICMPTimeExceeded;
ICMP4[12] = Traffic.ICMPParameterProblem;
ICMP4[14] = Traffic.ICMPTimestampReply;
ICMP4[16] = Traffic.ICMPInfoReply;
ICMP4[18] = Traffic.ICMPAddressMaskReply;

// ICMPv6 type -> traffic code.
const ICMP6 = new Uint8Array(256).fill(Traffic.ICMPOther);
ICMP6[128] = Traffic.ICMPEchoRequest;
ICMP6[129] = Traffic.ICMPEchoReply;
ICMP6[1] = Traffic.ICMPDestinationUnreachable;
ICMP6[137] = Traffic.ICMPRedirect;
ICMP6[3] = Traffic.ICMPTimeExceeded;
ICMP6[4] = Traffic.ICMPParameterProblem;

// `etype` while the link layer's payload position and EtherType are still packed by skipTags
// (distinct from NOT_IP and BY_VERSION).
const TAGGED = -3;

/**
 * Skips 802.1Q-style tags starting at `p` whose outer EtherType is `etype`: returns where the
 * payload starts and the EtherType after the tags as one number, `p * 65536 + etype` (split by
 * the caller; frames are shorter than 2^37 bytes), or -1 if the tags run past `end`.
 */
function skipTags(d: Uint8Array, p: number, end: number, etype: number): number {
  let n = 0;
  while ((etype === 0x8100 || etype === 0x88a8 || etype === 0x9100) && n < 8) {
    if (p + 4 > end) return -1;
    etype = (d[p + 2] << 8) | d[p + 3];
    p += 4;
    n++;
  }
  return p * 65536 + etype;
}

function afToEtype(af: number): number {
  if (af === 2) return ETH_IPV4;
  // AF_INET6 is 10 on Linux, 24 on NetBSD/OpenBSD, 28 on FreeBSD, 30 on Darwin.
  if (af === 10 || af === 24 || af === 28 || af === 30) return ETH_IPV6;
  return NOT_IP;
}

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

  const end = off + len;
  let p = off;
  let etype = BY_VERSION;
  switch (linkType) {
    case 1: // Ethernet
      if (len < 14) {
        b.problem[i] = Problem.TruncatedLink;
        return;
      }
      p = skipTags(d, off + 14, end, (d[off + 12] << 8) | d[off + 13]);
      etype = TAGGED;
      break;
    case 113: // Linux cooked capture v1
      if (len < 16) {
        b.problem[i] = Problem.TruncatedLink;
        return;
      }
      p = skipTags(d, off + 16, end, (d[off + 14] << 8) | d[off + 15]);
      etype = TAGGED;
      break;
    case 276: // Linux cooked capture v2
      if (len < 20) {
        b.problem[i] = Problem.TruncatedLink;
        return;
      }
      p = skipTags(d, off + 20, end, (d[off] << 8) | d[off + 1]);
      etype = TAGGED;
      break;
    case 0: { // BSD loopback, address family in the capturing host's byte order
      if (len < 4) {
        b.problem[i] = Problem.TruncatedLink;
        return;
      }
      const le = (d[off] | (d[off + 1] << 8) | (d[off + 2] << 16) | (d[off + 3] << 24)) >>> 0;
      const be = ((d[off] << 24) | (d[off + 1] << 16) | (d[off + 2] << 8) | d[off + 3]) >>> 0;
      if (le <= 0xffff) etype = afToEtype(le);
      else if (be <= 0xffff) etype = afToEtype(be);
      else {
        // Neither order gives an address family: some capturers put an EtherType in the
        // second half-word (Wireshark reads it the same way).
        const et = (d[off + 2] << 8) | d[off + 3];
        etype = et === ETH_IPV4 || et === ETH_IPV6 ? et : NOT_IP;
      }
      p = off + 4;
      break;
    }
    case 108: // OpenBSD loopback, network byte order
      if (len < 4) {
        b.problem[i] = Problem.TruncatedLink;
        return;
      }
      etype = afToEtype(
        ((d[off] << 24) | (d[off + 1] << 16) | (d[off + 2] << 8) | d[off + 3]) >>> 0,
      );
      p = off + 4;
      break;
    case 101:
    case 12:
    case 14:
      break;
    case 228:
      etype = ETH_IPV4;
      break;
    case 229:
      etype = ETH_IPV6;
      break;
    default:
      b.problem[i] = Problem.UnsupportedLink;
      return;
  }
  if (p < 0) {
    b.problem[i] = Problem.TruncatedLink;
    return;
  }
  if (etype === TAGGED) { // p is skipTags' pair
    etype = p % 65536;
    p = (p - etype) / 65536;
  }
  if (etype === BY_VERSION) {
    if (p >= end) {
      b.problem[i] = Problem.TruncatedIp;
      return;
    }
    const v = d[p] >> 4;
    etype = v === 4 ? ETH_IPV4 : v === 6 ? ETH_IPV6 : NOT_IP;
    if (etype === NOT_IP) {
      b.problem[i] = Problem.BadIpVersion;
      return;
    }
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
      let t: number = Traffic.TCPOther;
      let pt = dport;
      if (flags === 0x002) t = Traffic.TCPSYN;
      else if (flags === 0x012) {
        t = Traffic.TCPSYNACK;
        pt = sport;
      } else if (flags === 0x010) t = Traffic.TCPACK;
      else if (flags === 0x004) {
        t = Traffic.TCPRST;
        pt = sport;
      }
      traffic[i] = t;
      port[i] = pt;
      continue;
    }
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
      continue;
    }
    srcPort[i] = 0;
    dstPort[i] = 0;
    port[i] = 0;
    if (proto === 1 && avail >= 8) {
      traffic[i] = ICMP4[d[q]];
      continue;
    }
    decodeFrame(d, off, len, lt, b, i);
  }
}

function decodeIpv4(d: Uint8Array, p: number, end: number, b: PacketBatch, i: number): void {
  if (end - p < 20) {
    b.problem[i] = Problem.TruncatedIp;
    return;
  }
  if (d[p] >> 4 !== 4) {
    b.problem[i] = Problem.BadIpVersion;
    return;
  }
  const ihl = (d[p] & 15) << 2;
  const total = (d[p + 2] << 8) | d[p + 3];
  if (ihl < 20 || (total !== 0 && total < ihl)) {
    b.problem[i] = Problem.BadIpHeader;
    return;
  }
  if (p + ihl > end) {
    b.problem[i] = Problem.TruncatedIp;
    return;
  }
  const ipEnd = total === 0 || p + total > end ? end : p + total;
  b.ipVersion[i] = 4;
  b.ttl[i] = d[p + 8];
  b.ipId[i] = (d[p + 4] << 8) | d[p + 5];
  const proto = d[p + 9];
  b.proto[i] = proto;
  b.src[i] = ((d[p + 12] << 24) | (d[p + 13] << 16) | (d[p + 14] << 8) | d[p + 15]) >>> 0;
  b.dst[i] = ((d[p + 16] << 24) | (d[p + 17] << 16) | (d[p + 18] << 8) | d[p + 19]) >>> 0;
  if ((((d[p + 6] & 0x1f) << 8) | d[p + 7]) !== 0) return; // non-first fragment: Unknown
  decodeTransport(d, p + ihl, ipEnd, proto, 4, b, i);
}

function decodeIpv6(d: Uint8Array, p: number, end: number, b: PacketBatch, i: number): void {
  if (end - p < 40) {
    b.problem[i] = Problem.TruncatedIp;
    return;
  }
  if (d[p] >> 4 !== 6) {
    b.problem[i] = Problem.BadIpVersion;
    return;
  }
  const payload = (d[p + 4] << 8) | d[p + 5];
  const ipEnd = payload === 0 || p + 40 + payload > end ? end : p + 40 + payload;
  b.ipVersion[i] = 6;
  b.ttl[i] = d[p + 7];
  if (b.src6.length === 0) b.allocV6();
  const o = i << 4;
  for (let k = 0; k < 16; k++) {
    b.src6[o + k] = d[p + 8 + k];
    b.dst6[o + k] = d[p + 24 + k];
  }
  let nh = d[p + 6];
  let q = p + 40;
  for (let hops = 0; hops < 16; hops++) {
    if (nh === 0 || nh === 43 || nh === 60 || nh === 135 || nh === 139 || nh === 140) {
      if (q + 2 > ipEnd) return truncated(b, i, nh);
      const next = d[q];
      q += (d[q + 1] + 1) << 3;
      nh = next;
    } else if (nh === 51) { // AH
      if (q + 2 > ipEnd) return truncated(b, i, nh);
      const next = d[q];
      q += (d[q + 1] + 2) << 2;
      nh = next;
    } else if (nh === 44) { // Fragment
      if (q + 8 > ipEnd) return truncated(b, i, nh);
      const next = d[q];
      const fragOff = ((d[q + 2] << 8) | d[q + 3]) >> 3;
      b.ipId[i] = ((d[q + 4] << 24) | (d[q + 5] << 16) | (d[q + 6] << 8) | d[q + 7]) >>> 0;
      q += 8;
      nh = next;
      if (fragOff !== 0) {
        b.proto[i] = nh;
        return;
      }
    } else break;
  }
  b.proto[i] = nh;
  if (q > ipEnd) return truncated(b, i, nh);
  decodeTransport(d, q, ipEnd, nh, 6, b, i);
}

function truncated(b: PacketBatch, i: number, proto: number): void {
  b.proto[i] = proto;
  b.problem[i] = Problem.TruncatedTransport;
}

function decodeTransport(
  d: Uint8Array,
  q: number,
  end: number,
  proto: number,
  v: number,
  b: PacketBatch,
  i: number,
): void {
  const avail = end - q;
  if (proto === 6) {
    if (avail < 20) return truncated(b, i, proto);
    const sport = (d[q] << 8) | d[q + 1];
    const dport = (d[q + 2] << 8) | d[q + 3];
    const doff = (d[q + 12] >> 4) << 2;
    if (doff < 20) {
      b.problem[i] = Problem.BadTransportHeader;
      return;
    }
    const flags = ((d[q + 12] & 1) << 8) | d[q + 13];
    b.srcPort[i] = sport;
    b.dstPort[i] = dport;
    b.tcpSeq[i] = ((d[q + 4] << 24) | (d[q + 5] << 16) | (d[q + 6] << 8) | d[q + 7]) >>> 0;
    b.tcpFlags[i] = flags;
    b.tcpWindow[i] = (d[q + 14] << 8) | d[q + 15];
    b.tcpOptLen[i] = (doff < avail ? doff : avail) - 20;
    if (flags === 0x002) {
      b.traffic[i] = Traffic.TCPSYN;
      b.port[i] = dport;
    } else if (flags === 0x012) {
      b.traffic[i] = Traffic.TCPSYNACK;
      b.port[i] = sport;
    } else if (flags === 0x010) {
      b.traffic[i] = Traffic.TCPACK;
      b.port[i] = dport;
    } else if (flags === 0x004) {
      b.traffic[i] = Traffic.TCPRST;
      b.port[i] = sport;
    } else {
      b.traffic[i] = Traffic.TCPOther;
      b.port[i] = dport;
    }
  } else if (proto === 17) {
    if (avail < 8) return truncated(b, i, proto);
    const dport = (d[q + 2] << 8) | d[q + 3];
    b.srcPort[i] = (d[q] << 8) | d[q + 1];
    b.dstPort[i] = dport;
    b.traffic[i] = Traffic.UDP;
    b.port[i] = dport;
  } else if (proto === 1 && v === 4) {
    if (avail < 8) return truncated(b, i, proto);
    b.traffic[i] = ICMP4[d[q]];
  } else if (proto === 58 && v === 6) {
    if (avail < 4) return truncated(b, i, proto);
    b.traffic[i] = ICMP6[d[q]];
  }
  // Anything else (IP-in-IP, 6in4, GRE, SCTP, …) stays Unknown with port 0.
}

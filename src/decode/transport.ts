/**
 * The transport layer and the traffic classification, shared by the decoder's fast path
 * (`decodeRows`) and its general path (`decodeFrame`): TCP by its flags, UDP, ICMP and ICMPv6
 * by type.
 *
 * @module
 */

import type { PacketBatch } from "./packet_batch.ts";
import { Problem } from "./problem.ts";
import { Traffic } from "./traffic.ts";

/**
 * ICMPv4 type → traffic code (ICMPOther where unlisted).
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { ICMP4 } from "./transport.ts";
 * import { Traffic } from "./traffic.ts";
 * equal(ICMP4[8], Traffic.ICMPEchoRequest);
 * ```
 */
export const ICMP4: Uint8Array = new Uint8Array(256).fill(Traffic.ICMPOther);
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

/** ICMPv6 type → traffic code (ICMPOther where unlisted). */
export const ICMP6: Uint8Array = new Uint8Array(256).fill(Traffic.ICMPOther);
ICMP6[128] = Traffic.ICMPEchoRequest;
ICMP6[129] = Traffic.ICMPEchoReply;
ICMP6[1] = Traffic.ICMPDestinationUnreachable;
ICMP6[137] = Traffic.ICMPRedirect;
ICMP6[3] = Traffic.ICMPTimeExceeded;
ICMP6[4] = Traffic.ICMPParameterProblem;

/**
 * TCP flags (9 bits) → traffic code: exactly SYN, SYN+ACK, ACK or RST, else TCPOther.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { TCP_TRAFFIC } from "./transport.ts";
 * import { Traffic } from "./traffic.ts";
 * equal(TCP_TRAFFIC[0x002], Traffic.TCPSYN);
 * equal(TCP_TRAFFIC[0x003], Traffic.TCPOther); // SYN+FIN
 * ```
 */
export const TCP_TRAFFIC: Uint8Array = new Uint8Array(512).fill(Traffic.TCPOther);
TCP_TRAFFIC[0x002] = Traffic.TCPSYN;
TCP_TRAFFIC[0x012] = Traffic.TCPSYNACK;
TCP_TRAFFIC[0x010] = Traffic.TCPACK;
TCP_TRAFFIC[0x004] = Traffic.TCPRST;

/**
 * TCP flags → 1 when the event's port is the source port (backscatter: SYN+ACK, RST), else 0.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { TCP_SOURCE_PORT } from "./transport.ts";
 * equal(TCP_SOURCE_PORT[0x012], 1);
 * equal(TCP_SOURCE_PORT[0x002], 0);
 * ```
 */
export const TCP_SOURCE_PORT: Uint8Array = new Uint8Array(512);
TCP_SOURCE_PORT[0x012] = 1;
TCP_SOURCE_PORT[0x004] = 1;

/**
 * Reads the TCP options of the header at `d[q ..]` (`doff` header bytes, `avail` captured) into
 * row `i`: the kinds in order (`tcpOpts`), MSS, window scale and timestamp value. Options cut off
 * by the snap length, or malformed, end the list where they start (the row keeps what came
 * before).
 */
export function tcpOptions(
  d: Uint8Array,
  q: number,
  doff: number,
  avail: number,
  b: PacketBatch,
  i: number,
): void {
  if (b.tcpOpts.length === 0) b.allocExtras();
  let kinds = 0;
  let n = 0;
  let mss = 0;
  let ws = 255;
  let ts = 0;
  const end = q + (doff < avail ? doff : avail);
  let p = q + 20;
  while (p < end && n < 8) {
    const kind = d[p];
    kinds |= (kind < 14 ? kind + 1 : 15) << (28 - 4 * n++);
    if (kind === 0) break; // end of options
    if (kind === 1) { // no-operation
      p++;
      continue;
    }
    if (p + 1 >= end) break;
    const len = d[p + 1];
    if (len < 2 || p + len > end) break;
    if (kind === 2 && len === 4) mss = (d[p + 2] << 8) | d[p + 3];
    else if (kind === 3 && len === 3) ws = d[p + 2];
    else if (kind === 8 && len === 10) {
      ts = ((d[p + 2] << 24) | (d[p + 3] << 16) | (d[p + 4] << 8) | d[p + 5]) >>> 0;
    }
    p += len;
  }
  b.tcpOpts[i] = kinds >>> 0;
  b.tcpMss[i] = mss;
  b.tcpWscale[i] = ws;
  b.tcpTsval[i] = ts;
}

/** An echo message's identifier << 16 | sequence number (the header at `d[q ..]`). */
export function icmpIdSeq(d: Uint8Array, q: number): number {
  return ((d[q + 4] << 24) | (d[q + 5] << 16) | (d[q + 6] << 8) | d[q + 7]) >>> 0;
}

/**
 * Row `i` is an ICMP/ICMPv6 echo message whose header is at `d[q ..]` (8 bytes captured) and
 * whose IP payload ends at `end`: its identifier and sequence number, its payload's length and
 * whether the payload starts with 64 zero bytes (or is all zero, if shorter).
 */
export function icmpEcho(d: Uint8Array, q: number, end: number, b: PacketBatch, i: number): void {
  if (b.icmpIdSeq.length === 0) b.allocExtras();
  b.icmpIdSeq[i] = icmpIdSeq(d, q);
  const n = end - q - 8;
  const stop = q + 8 + (n < 64 ? n : 64);
  let zero = 1;
  for (let p = q + 8; p < stop; p++) zero &= d[p] === 0 ? 1 : 0;
  b.icmpPayload[i] = ((zero << 16) | (n > 0xffff ? 0xffff : n)) >>> 0;
}

/** Row `i` is ICMP or ICMPv6 with its header at `d[q ..]`: where that is (`PacketBatch.l4At`). */
export function icmpAt(q: number, b: PacketBatch, i: number): void {
  if (b.l4At.length === 0) b.allocExtras();
  b.l4At[i] = q - b.offset[i];
}

/**
 * Row `i` is UDP with its header at `d[q ..]` and its IP payload ending at `end`: the payload's
 * length and first two bytes (`PacketBatch.udpHead`), and where the header is (`l4At`).
 */
export function udpHead(d: Uint8Array, q: number, end: number, b: PacketBatch, i: number): void {
  if (b.udpHead.length === 0) b.allocExtras();
  const n = end - q - 8;
  const head = n >= 2 ? (d[q + 8] << 8) | d[q + 9] : n === 1 ? d[q + 8] << 8 : 0;
  b.udpHead[i] = (((n > 0xffff ? 0xffff : n) << 16) | head) >>> 0;
  b.l4At[i] = q - b.offset[i];
}

/** Marks row `i` as cut short in its transport header `proto`. */
export function truncated(b: PacketBatch, i: number, proto: number): void {
  b.proto[i] = proto;
  b.problem[i] = Problem.TruncatedTransport;
}

/**
 * Decodes the transport header at `d[q ..]` (IP payload up to `end`) of IP version `v` into row
 * `i` and classifies it. Anything but TCP, UDP and ICMP (IP-in-IP, 6in4, GRE, SCTP, …) stays
 * Unknown with port 0.
 */
export function decodeTransport(
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
    if (doff > 20) tcpOptions(d, q, doff, avail, b, i);
    b.traffic[i] = TCP_TRAFFIC[flags];
    b.port[i] = TCP_SOURCE_PORT[flags] ? sport : dport;
  } else if (proto === 17) {
    if (avail < 8) return truncated(b, i, proto);
    const dport = (d[q + 2] << 8) | d[q + 3];
    b.srcPort[i] = (d[q] << 8) | d[q + 1];
    b.dstPort[i] = dport;
    b.traffic[i] = Traffic.UDP;
    b.port[i] = dport;
    udpHead(d, q, end, b, i);
  } else if (proto === 1 && v === 4) {
    if (avail < 8) return truncated(b, i, proto);
    b.traffic[i] = ICMP4[d[q]];
    icmpAt(q, b, i);
    if (d[q] === 8 || d[q] === 0) icmpEcho(d, q, end, b, i);
  } else if (proto === 58 && v === 6) {
    if (avail < 4) return truncated(b, i, proto);
    b.traffic[i] = ICMP6[d[q]];
    icmpAt(q, b, i);
    if ((d[q] === 128 || d[q] === 129) && avail >= 8) icmpEcho(d, q, end, b, i);
  }
}

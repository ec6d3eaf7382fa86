/**
 * Backscatter: what a victim of a flood with spoofed sources sends to the addresses it believes
 * attacked it — some of them in the telescope. A packet is backscatter when it is TCP with SYN
 * and ACK or with RST, or an ICMP message a victim sends back (echo, timestamp, information and
 * address-mask replies; destination unreachable, source quench, redirect, time exceeded,
 * parameter problem), or an ICMPv6 echo reply or error. The victim is its source — except for an
 * ICMP error that quotes a whole IP header, whose victim is the quoted destination (the flood's
 * target, which a router or the target itself answered for) with the quoted protocol and port.
 *
 * @module
 */

import type { PacketBatch } from "../decode/packet_batch.ts";
import { Traffic } from "../decode/traffic.ts";

// ICMP types (IPv4) that answer a packet, and those of them that quote it.
const ICMP4_BACK = new Uint8Array(256);
for (const t of [0, 3, 4, 5, 11, 12, 14, 16, 18]) ICMP4_BACK[t] = 1;
for (const t of [3, 4, 5, 11, 12]) ICMP4_BACK[t] = 2;
// ICMPv6: echo reply; destination unreachable, packet too big, time exceeded, parameter problem.
const ICMP6_BACK = new Uint8Array(256);
ICMP6_BACK[129] = 1;
for (const t of [1, 2, 3, 4]) ICMP6_BACK[t] = 2;

/** One backscatter packet, as {@link backscatterOf} reads it (a reused scratch object). */
export class Backscatter {
  /** 4 or 6: the victim's IP version. */
  v = 4;
  /** IPv4 victim. */
  victim = 0;
  /** IPv6 victim (16 bytes; valid when `v` is 6). */
  readonly victim6: Uint8Array = new Uint8Array(16);
  /** Protocol of the attack: 6, 17, 1, 58 or another IP protocol number. */
  proto = 0;
  /** The victim's port the attack aimed at (0 when none is known). */
  port = 0;
  /** The spoofed source the victim answered: the telescope address (IPv6: a 32-bit hash). */
  attacker = 0;
  /** The attacker's /16 (IPv4) or /48 (IPv6, a 32-bit hash). */
  attackerNet = 0;
  /** Whether a quoted header's source was not the address the error came to. */
  mismatch = false;
}

const word = (d: Uint8Array, p: number) =>
  ((d[p] << 24) | (d[p + 1] << 16) | (d[p + 2] << 8) | d[p + 3]) >>> 0;

function hash6(a: Uint8Array, o: number, words: number): number {
  let h = 0x811c9dc5;
  for (let k = 0; k < words; k++) h = Math.imul(h ^ word(a, o + 4 * k), 0x01000193);
  return h >>> 0;
}

function equal16(a: Uint8Array, ao: number, b: Uint8Array, bo: number): boolean {
  for (let k = 0; k < 16; k++) if (a[ao + k] !== b[bo + k]) return false;
  return true;
}

/**
 * Whether row `i` of a decoded batch is backscatter; if so, fills `out`.
 *
 * @example
 * ```ts
 * import { equal, ok } from "node:assert/strict";
 * import { Backscatter, backscatterOf } from "./backscatter.ts";
 * import { PacketBatch } from "../decode/packet_batch.ts";
 * import { Traffic } from "../decode/traffic.ts";
 * const b = new PacketBatch(1);
 * b.length = 1;
 * b.ipVersion[0] = 4;
 * b.proto[0] = 6;
 * b.traffic[0] = Traffic.TCPSYNACK;
 * b.tcpFlags[0] = 0x012;
 * b.src[0] = 0xc0000264; // 192.0.2.100, the victim
 * b.dst[0] = 0x0a4d0001; // a telescope address it answered
 * b.srcPort[0] = 80;
 * const x = new Backscatter();
 * ok(backscatterOf(b, 0, x));
 * equal(x.victim, 0xc0000264);
 * equal(x.port, 80);
 * b.tcpFlags[0] = 0x002; // a SYN is not backscatter
 * ok(!backscatterOf(b, 0, x));
 * ```
 */
export function backscatterOf(b: PacketBatch, i: number, out: Backscatter): boolean {
  const v = b.ipVersion[i];
  if (v === 0) return false;
  const proto = b.proto[i];
  out.mismatch = false;
  if (proto === 6) {
    const f = b.tcpFlags[i];
    // A TCP header not decoded (a later fragment, cut short) is Unknown.
    if (b.traffic[i] === Traffic.Unknown || ((f & 0x12) !== 0x12 && (f & 0x04) === 0)) return false;
    outer(b, i, out, 6, b.srcPort[i]);
    return true;
  }
  if (v === 4 && proto === 1) {
    if (b.l4At.length === 0 || b.traffic[i] === Traffic.Unknown) return false;
    const d = b.buffers[b.buf[i]];
    const q = b.offset[i] + b.l4At[i];
    const kind = ICMP4_BACK[d[q]];
    if (kind === 0) return false;
    if (kind === 2 && quoted4(b, i, d, q + 8, out)) return true;
    outer(b, i, out, 1, 0);
    return true;
  }
  if (v === 6 && proto === 58) {
    if (b.l4At.length === 0 || b.traffic[i] === Traffic.Unknown) return false;
    const d = b.buffers[b.buf[i]];
    const q = b.offset[i] + b.l4At[i];
    const kind = ICMP6_BACK[d[q]];
    if (kind === 0) return false;
    if (kind === 2 && quoted6(b, i, d, q + 8, out)) return true;
    outer(b, i, out, 58, 0);
    return true;
  }
  return false;
}

// The victim is the packet's source.
function outer(b: PacketBatch, i: number, out: Backscatter, proto: number, port: number): void {
  out.proto = proto;
  out.port = port;
  if (b.ipVersion[i] === 4) {
    out.v = 4;
    out.victim = b.src[i];
    out.attacker = b.dst[i];
    out.attackerNet = b.dst[i] >>> 16;
  } else {
    out.v = 6;
    out.victim6.set(b.src6.subarray(i << 4, (i << 4) + 16));
    out.attacker = hash6(b.dst6, i << 4, 4);
    out.attackerNet = hash6(b.dst6, i << 4, 1) ^
      ((b.dst6[(i << 4) + 4] << 8) | b.dst6[(i << 4) + 5]);
  }
}

// The captured end of row i's frame.
const frameEnd = (b: PacketBatch, i: number) => b.offset[i] + b.capLen[i];

// An ICMP error quoting an IPv4 header at d[p ..]: the victim is its destination.
function quoted4(b: PacketBatch, i: number, d: Uint8Array, p: number, out: Backscatter): boolean {
  const end = frameEnd(b, i);
  if (p + 20 > end || d[p] >> 4 !== 4) return false;
  const ihl = (d[p] & 15) << 2;
  if (ihl < 20 || p + ihl > end) return false;
  const proto = d[p + 9];
  out.v = 4;
  out.proto = proto;
  out.victim = word(d, p + 16);
  out.attacker = b.dst[i];
  out.attackerNet = b.dst[i] >>> 16;
  out.mismatch = word(d, p + 12) !== b.dst[i];
  const t = p + ihl;
  out.port = (proto === 6 || proto === 17) && t + 4 <= end ? (d[t + 2] << 8) | d[t + 3] : 0;
  return true;
}

// An ICMPv6 error quoting an IPv6 header at d[p ..]: the victim is its destination.
function quoted6(b: PacketBatch, i: number, d: Uint8Array, p: number, out: Backscatter): boolean {
  const end = frameEnd(b, i);
  if (p + 40 > end || d[p] >> 4 !== 6) return false;
  const proto = d[p + 6];
  out.v = 6;
  out.proto = proto;
  out.victim6.set(d.subarray(p + 24, p + 40));
  const o = i << 4;
  out.attacker = hash6(b.dst6, o, 4);
  out.attackerNet = hash6(b.dst6, o, 1) ^ ((b.dst6[o + 4] << 8) | b.dst6[o + 5]);
  out.mismatch = !equal16(d, p + 8, b.dst6, o);
  const t = p + 40;
  out.port = (proto === 6 || proto === 17) && t + 4 <= end ? (d[t + 2] << 8) | d[t + 3] : 0;
  return true;
}

/**
 * Hostile traffic shapes for benchmarks and tests: every packet from a new source (a botnet, or
 * a flood with spoofed sources, seen by the telescope), so every packet opens an event.
 * Deterministic: the same options give the same bytes. Classic pcap, Ethernet, µs.
 *
 * @module
 */

/** Options of {@link generateFlood}. */
export interface FloodOptions {
  /** Packets, each from a distinct source. */
  packets: number;
  /** IPv6 sources instead of IPv4. @default false */
  ipv6?: boolean;
  /** Time between packets in microseconds. @default 100 */
  gapMicros?: number;
  /** First packet time, seconds since the epoch. @default 1603296000 */
  start?: number;
}

/**
 * Generates the capture in blocks handed to `write` (each block is reused afterwards).
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { generateFlood } from "./flood.ts";
 * let bytes = 0;
 * generateFlood({ packets: 1000 }, (b) => bytes += b.length);
 * equal(bytes, 24 + 1000 * (16 + 60));
 * ```
 */
export function generateFlood(o: FloodOptions, write: (block: Uint8Array) => void): void {
  const v6 = o.ipv6 ?? false;
  const frame = v6 ? 14 + 40 + 20 : 60; // IPv4 frames padded to Ethernet's minimum
  const rec = 16 + frame;
  const perBlock = 8192;
  const block = new Uint8Array(perBlock * rec);
  const dv = new DataView(block.buffer);
  const head = new Uint8Array(24);
  const hv = new DataView(head.buffer);
  hv.setUint32(0, 0xa1b2c3d4, true);
  hv.setUint16(4, 2, true);
  hv.setUint16(6, 4, true);
  hv.setUint32(16, 262144, true);
  hv.setUint32(20, 1, true);
  write(head);
  // Fixed parts of every frame.
  for (let k = 0; k < perBlock; k++) {
    const p = k * rec;
    dv.setUint32(p + 8, frame, true);
    dv.setUint32(p + 12, frame, true);
    const f = p + 16;
    dv.setUint16(f + 12, v6 ? 0x86dd : 0x0800);
    const ip = f + 14;
    if (v6) {
      block[ip] = 0x60;
      dv.setUint16(ip + 4, 20);
      block[ip + 6] = 6;
      block[ip + 7] = 64;
      dv.setUint32(ip + 8, 0x20010db8); // 2001:db8::/32 sources
      dv.setUint32(ip + 24, 0x20010db8);
      dv.setUint32(ip + 36, 0x00000001); // destination 2001:db8:ffff::1-ish
      dv.setUint16(ip + 28, 0xffff);
    } else {
      block[ip] = 0x45;
      dv.setUint16(ip + 2, 40);
      block[ip + 8] = 64;
      block[ip + 9] = 6;
      dv.setUint32(ip + 16, 0x0a000001);
    }
    const tcp = ip + (v6 ? 40 : 20);
    dv.setUint16(tcp + 2, 23);
    block[tcp + 12] = 0x50;
    block[tcp + 13] = 0x02; // SYN
  }
  const start = o.start ?? 1603296000;
  const gap = o.gapMicros ?? 100;
  let x = 0x9e3779b9;
  for (let i = 0; i < o.packets;) {
    const n = Math.min(perBlock, o.packets - i);
    for (let k = 0; k < n; k++, i++) {
      const p = k * rec;
      const us = i * gap;
      dv.setUint32(p, start + Math.floor(us / 1e6), true);
      dv.setUint32(p + 4, us % 1e6, true);
      const ip = p + 16 + 14;
      // Distinct sources in a scattered order: i times an odd constant is a bijection mod 2^32.
      const src = Math.imul(i + 1, 0x9e3779b1) >>> 0;
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      if (v6) {
        dv.setUint32(ip + 16, src);
        dv.setUint32(ip + 20, x >>> 0);
        dv.setUint16(ip + 38, x & 0xffff); // destination varies too
      } else {
        dv.setUint32(ip + 12, src);
        dv.setUint16(ip + 4, x & 0xffff); // random IP ID
        dv.setUint32(ip + 20 + 4, x >>> 0); // random sequence number
      }
    }
    write(block.subarray(0, n * rec));
  }
}

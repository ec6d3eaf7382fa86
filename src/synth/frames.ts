/**
 * Builders for synthetic frames (Ethernet/SLL/SLL2/NULL/raw → IPv4/IPv6 → TCP/UDP/ICMP), for
 * tests, benchmarks and anyone who wants captures with a known answer. Checksums are left 0:
 * nothing in darknet-events reads them.
 *
 * @module
 */

/** Fields of a synthetic packet; anything not given is 0 or a sensible default. */
export interface PacketSpec {
  /** Source address (uint32 for IPv4). */
  src: number;
  /** Destination address (uint32 for IPv4). */
  dst: number;
  /** IP protocol: 6 TCP, 17 UDP, 1 ICMP, 58 ICMPv6, or any other number. */
  proto: number;
  /** TCP/UDP source port (default 40000). */
  sport?: number;
  /** TCP/UDP destination port (default 0). */
  dport?: number;
  /** TCP sequence number. */
  seq?: number;
  /** TCP flags (9 bits, NS at 0x100). */
  flags?: number;
  /** TCP window (default 1024). */
  window?: number;
  /** TCP option bytes (a multiple of 4). */
  options?: number[];
  /** ICMP type (default echo request). */
  icmpType?: number;
  /** ICMP code (default 0). */
  icmpCode?: number;
  /** IPv4 identification. */
  id?: number;
  /** IPv4 TTL / IPv6 hop limit (default 64). */
  ttl?: number;
  /** IPv4 fragment offset in 8-byte units (non-zero makes a non-first fragment). */
  fragOffset?: number;
  /** Set the IPv4 more-fragments flag. */
  moreFragments?: boolean;
  /** Bytes after the transport header. */
  payload?: Uint8Array;
}

function transport(s: PacketSpec, v6: boolean): Uint8Array {
  const payload = s.payload ?? new Uint8Array(0);
  if (s.proto === 6) {
    const opt = s.options ?? [];
    const h = new Uint8Array(20 + opt.length + payload.length);
    const dv = new DataView(h.buffer);
    dv.setUint16(0, s.sport ?? 40000);
    dv.setUint16(2, s.dport ?? 0);
    dv.setUint32(4, (s.seq ?? 0) >>> 0);
    const flags = s.flags ?? 0x02;
    h[12] = (((20 + opt.length) >> 2) << 4) | ((flags >> 8) & 1);
    h[13] = flags & 0xff;
    dv.setUint16(14, s.window ?? 1024);
    h.set(opt, 20);
    h.set(payload, 20 + opt.length);
    return h;
  }
  if (s.proto === 17) {
    const h = new Uint8Array(8 + payload.length);
    const dv = new DataView(h.buffer);
    dv.setUint16(0, s.sport ?? 40000);
    dv.setUint16(2, s.dport ?? 0);
    dv.setUint16(4, 8 + payload.length);
    h.set(payload, 8);
    return h;
  }
  if (s.proto === 1 || s.proto === 58 || (v6 && s.proto === 58)) {
    const h = new Uint8Array(8 + payload.length);
    h[0] = s.icmpType ?? (s.proto === 58 ? 128 : 8);
    h[1] = s.icmpCode ?? 0;
    h.set(payload, 8);
    return h;
  }
  return payload;
}

/**
 * An IPv4 packet (header without options) carrying the spec's transport header.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { ipv4Packet, ethernet } from "./frames.ts";
 * const f = ethernet(ipv4Packet({ src: 0xc0000201, dst: 0x0a000001, proto: 6, dport: 23, flags: 0x02 }));
 * ok(f.length === 14 + 20 + 20);
 * ```
 */
export function ipv4Packet(s: PacketSpec): Uint8Array {
  const t = transport(s, false);
  const p = new Uint8Array(20 + t.length);
  const dv = new DataView(p.buffer);
  p[0] = 0x45;
  dv.setUint16(2, p.length);
  dv.setUint16(4, s.id ?? 0);
  dv.setUint16(6, ((s.moreFragments ? 0x2000 : 0) | (s.fragOffset ?? 0)) & 0xffff);
  p[8] = s.ttl ?? 64;
  p[9] = s.proto;
  dv.setUint32(12, s.src >>> 0);
  dv.setUint32(16, s.dst >>> 0);
  p.set(t, 20);
  return p;
}

/**
 * An IPv6 packet; `src`/`dst` are 16-byte addresses, `ext` raw extension headers to insert.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { ipv6Packet } from "./frames.ts";
 * const p = ipv6Packet({ src: new Uint8Array(16), dst: new Uint8Array(16), proto: 58 });
 * ok(p[0] >> 4 === 6 && p[6] === 58);
 * ```
 */
export function ipv6Packet(
  s: Omit<PacketSpec, "src" | "dst"> & {
    src: Uint8Array;
    dst: Uint8Array;
    ext?: { type: number; bytes: number[] }[];
  },
): Uint8Array {
  const t = transport({ ...s, src: 0, dst: 0 }, true);
  const ext = s.ext ?? [];
  const extLen = ext.reduce((n, e) => n + e.bytes.length, 0);
  const p = new Uint8Array(40 + extLen + t.length);
  const dv = new DataView(p.buffer);
  p[0] = 0x60;
  dv.setUint16(4, extLen + t.length);
  p[6] = ext.length ? ext[0].type : s.proto;
  p[7] = s.ttl ?? 64;
  p.set(s.src, 8);
  p.set(s.dst, 24);
  let o = 40;
  ext.forEach((e, i) => {
    const b = Uint8Array.from(e.bytes);
    b[0] = i + 1 < ext.length ? ext[i + 1].type : s.proto;
    p.set(b, o);
    o += b.length;
  });
  p.set(t, o);
  return p;
}

/**
 * Ethernet II framing, optionally with 802.1Q/802.1ad tags (outermost first).
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { ethernet, ipv4Packet } from "./frames.ts";
 * const f = ethernet(ipv4Packet({ src: 1, dst: 2, proto: 17 }), [{ tpid: 0x8100, vid: 7 }]);
 * ok(f[12] === 0x81 && f[16] === 0x08);
 * ```
 */
export function ethernet(ip: Uint8Array, tags: { tpid: number; vid: number }[] = []): Uint8Array {
  const f = new Uint8Array(14 + tags.length * 4 + ip.length);
  f.set([0, 0x11, 0x22, 0x33, 0x44, 0x55, 0, 0x66, 0x77, 0x88, 0x99, 0xaa], 0);
  let o = 12;
  for (const t of tags) {
    f[o] = t.tpid >> 8;
    f[o + 1] = t.tpid & 255;
    f[o + 2] = (t.vid >> 8) & 0x0f;
    f[o + 3] = t.vid & 255;
    o += 4;
  }
  const et = ip[0] >> 4 === 6 ? 0x86dd : 0x0800;
  f[o] = et >> 8;
  f[o + 1] = et & 255;
  f.set(ip, o + 2);
  return f;
}

/**
 * Linux cooked capture v1 (LINKTYPE_LINUX_SLL) framing.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { ipv4Packet, sll } from "./frames.ts";
 * const f = sll(ipv4Packet({ src: 1, dst: 2, proto: 17 }));
 * ok(f[14] === 0x08 && f[15] === 0x00);
 * ```
 */
export function sll(ip: Uint8Array): Uint8Array {
  const f = new Uint8Array(16 + ip.length);
  f[1] = 0; // packet type: to us
  f[3] = 1; // ARPHRD_ETHER
  f[5] = 6;
  const et = ip[0] >> 4 === 6 ? 0x86dd : 0x0800;
  f[14] = et >> 8;
  f[15] = et & 255;
  f.set(ip, 16);
  return f;
}

/**
 * Linux cooked capture v2 (LINKTYPE_LINUX_SLL2) framing.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { ipv4Packet, sll2 } from "./frames.ts";
 * const f = sll2(ipv4Packet({ src: 1, dst: 2, proto: 17 }));
 * ok(f[0] === 0x08 && f.length === 20 + 28);
 * ```
 */
export function sll2(ip: Uint8Array): Uint8Array {
  const f = new Uint8Array(20 + ip.length);
  const et = ip[0] >> 4 === 6 ? 0x86dd : 0x0800;
  f[0] = et >> 8;
  f[1] = et & 255;
  f[9] = 1; // ARPHRD_ETHER
  f[11] = 6;
  f.set(ip, 20);
  return f;
}

/**
 * BSD loopback (LINKTYPE_NULL, host order given by `littleEndian`; LOOP uses big endian).
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { ipv4Packet, nullLoopback } from "./frames.ts";
 * ok(nullLoopback(ipv4Packet({ src: 1, dst: 2, proto: 17 }))[0] === 2);
 * ```
 */
export function nullLoopback(ip: Uint8Array, littleEndian = true, af6 = 30): Uint8Array {
  const f = new Uint8Array(4 + ip.length);
  const af = ip[0] >> 4 === 6 ? af6 : 2;
  new DataView(f.buffer).setUint32(0, af, littleEndian);
  f.set(ip, 4);
  return f;
}

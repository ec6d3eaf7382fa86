/**
 * Writers for classic pcap and pcapng bytes, in either byte order and any timestamp
 * resolution, for tests, benchmarks and tools that emit captures.
 *
 * @module
 */

/** One packet to write. */
export interface WritePacket {
  /** Timestamp, seconds since the epoch. */
  sec: number;
  /** Nanoseconds within the second. */
  nsec: number;
  /** The captured frame. */
  data: Uint8Array;
  /** Original length (default: data length). */
  origLen?: number;
  /** pcapng interface id (default 0). */
  iface?: number;
}

/** Options for classic pcap. */
export interface PcapOptions {
  /** LINKTYPE_* of the frames. */
  linkType: number;
  /** Byte order (default little endian). */
  littleEndian?: boolean;
  /** Nanosecond timestamps (default microseconds). */
  nanosecond?: boolean;
  /** Snap length in the header (default 262144). */
  snaplen?: number;
  /** Write the "modified" a1b2cd34 format with 24-byte record headers. */
  modified?: boolean;
}

/**
 * The 24-byte classic pcap file header.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { pcapHeader } from "./pcap_writer.ts";
 * const h = pcapHeader({ linkType: 1, nanosecond: true });
 * ok(new DataView(h.buffer).getUint32(0, true) === 0xa1b23c4d);
 * ```
 */
export function pcapHeader(o: PcapOptions): Uint8Array {
  const h = new Uint8Array(24);
  const dv = new DataView(h.buffer);
  const le = o.littleEndian ?? true;
  dv.setUint32(0, o.modified ? 0xa1b2cd34 : o.nanosecond ? 0xa1b23c4d : 0xa1b2c3d4, le);
  dv.setUint16(4, 2, le);
  dv.setUint16(6, 4, le);
  dv.setUint32(16, o.snaplen ?? 262144, le);
  dv.setUint32(20, o.linkType, le);
  return h;
}

/**
 * One classic pcap record (header + data).
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { pcapRecord } from "./pcap_writer.ts";
 * ok(pcapRecord({ sec: 1, nsec: 0, data: new Uint8Array(60) }, { linkType: 1 }).length === 76);
 * ```
 */
export function pcapRecord(p: WritePacket, o: PcapOptions): Uint8Array {
  const le = o.littleEndian ?? true;
  const hl = o.modified ? 24 : 16;
  const r = new Uint8Array(hl + p.data.length);
  const dv = new DataView(r.buffer);
  dv.setUint32(0, p.sec, le);
  dv.setUint32(4, o.nanosecond ? p.nsec : Math.floor(p.nsec / 1000), le);
  dv.setUint32(8, p.data.length, le);
  dv.setUint32(12, p.origLen ?? p.data.length, le);
  r.set(p.data, hl);
  return r;
}

/**
 * Concatenates byte arrays.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { concat } from "./pcap_writer.ts";
 * ok(concat([Uint8Array.of(1), Uint8Array.of(2, 3)]).length === 3);
 * ```
 */
export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/**
 * A whole classic pcap file.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { pcapFile } from "./pcap_writer.ts";
 * const bytes = pcapFile([{ sec: 1, nsec: 0, data: new Uint8Array(60) }], { linkType: 1 });
 * ok(bytes.length === 24 + 16 + 60);
 * ```
 */
export function pcapFile(packets: WritePacket[], o: PcapOptions): Uint8Array {
  return concat([pcapHeader(o), ...packets.map((p) => pcapRecord(p, o))]);
}

/** An interface of a pcapng section. */
export interface NgInterface {
  /** LINKTYPE_* of the interface. */
  linkType: number;
  /** Snap length (default 0: none). */
  snaplen?: number;
  /** if_tsresol byte (default 6: microseconds). */
  tsresol?: number;
  /** if_tsoffset in seconds. */
  tsoffset?: number;
}

function block(type: number, body: Uint8Array, le: boolean): Uint8Array {
  const len = 12 + ((body.length + 3) & ~3);
  const b = new Uint8Array(len);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, type, le);
  dv.setUint32(4, len, le);
  b.set(body, 8);
  dv.setUint32(len - 4, len, le);
  return b;
}

function option(code: number, value: Uint8Array, le: boolean): Uint8Array {
  const o = new Uint8Array(4 + ((value.length + 3) & ~3));
  const dv = new DataView(o.buffer);
  dv.setUint16(0, code, le);
  dv.setUint16(2, value.length, le);
  o.set(value, 4);
  return o;
}

/**
 * A pcapng section: SHB, one IDB per interface, then one EPB per packet.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { pcapngSection } from "./pcap_writer.ts";
 * const s = pcapngSection([{ linkType: 1, tsresol: 9 }], [{ sec: 1, nsec: 2, data: new Uint8Array(60) }]);
 * ok(new DataView(s.buffer).getUint32(0, true) === 0x0a0d0d0a);
 * ```
 */
export function pcapngSection(
  ifaces: NgInterface[],
  packets: WritePacket[],
  littleEndian = true,
): Uint8Array {
  const le = littleEndian;
  const shb = new Uint8Array(16);
  const sdv = new DataView(shb.buffer);
  sdv.setUint32(0, 0x1a2b3c4d, le);
  sdv.setUint16(4, 1, le);
  sdv.setUint16(6, 0, le);
  sdv.setInt32(8, -1, le);
  sdv.setInt32(12, -1, le);
  const parts = [block(0x0a0d0d0a, shb, le)];
  for (const f of ifaces) {
    const opts: Uint8Array[] = [];
    if (f.tsresol !== undefined) opts.push(option(9, Uint8Array.of(f.tsresol), le));
    if (f.tsoffset !== undefined) {
      const v = new Uint8Array(8);
      new DataView(v.buffer).setBigInt64(0, BigInt(f.tsoffset), le);
      opts.push(option(14, v, le));
    }
    if (opts.length) opts.push(new Uint8Array(4));
    const body = concat([new Uint8Array(8), ...opts]);
    const dv = new DataView(body.buffer);
    dv.setUint16(0, f.linkType, le);
    dv.setUint32(4, f.snaplen ?? 0, le);
    parts.push(block(1, body, le));
  }
  for (const p of packets) {
    const f = ifaces[p.iface ?? 0];
    const r = f.tsresol ?? 6;
    const units = r & 0x80
      ? BigInt(p.sec) * (1n << BigInt(r & 0x7f)) +
        (BigInt(p.nsec) * (1n << BigInt(r & 0x7f))) / 1000000000n
      : BigInt(p.sec) * 10n ** BigInt(r) + (BigInt(p.nsec) * 10n ** BigInt(r)) / 1000000000n -
        BigInt(f.tsoffset ?? 0) * 10n ** BigInt(r);
    const body = new Uint8Array(20 + p.data.length);
    const dv = new DataView(body.buffer);
    dv.setUint32(0, p.iface ?? 0, le);
    dv.setUint32(4, Number(units >> 32n), le);
    dv.setUint32(8, Number(units & 0xffffffffn), le);
    dv.setUint32(12, p.data.length, le);
    dv.setUint32(16, p.origLen ?? p.data.length, le);
    body.set(p.data, 20);
    parts.push(block(6, body, le));
  }
  return concat(parts);
}

// The record-level state machine behind PcapDecoderStream: classic pcap (4 variants plus the
// "modified" magic) and pcapng (sections of either byte order, many interfaces, EPB/SPB/OPB).
// It turns byte chunks into one PacketBatch per chunk. Records that straddle a chunk boundary
// are stitched into a small buffer of their own; everything else is referenced, not copied.

import { DataError } from "../errors.ts";
import { decodeFrame, decodeRows } from "../decode/decode_frame.ts";
import type { BatchPool } from "./batch_pool.ts";
import { PacketBatch } from "../decode/packet_batch.ts";
import { splitTimestamp } from "./_timestamp.ts";

/** Largest captured length accepted for one packet (libpcap's MAXIMUM_SNAPLEN). */
export const MAX_CAPLEN = 262144;
/** Largest pcapng block that is buffered (SHB, IDB, packet blocks); others are skipped. */
export const MAX_BLOCK = 1 << 20;

const MODE_START = 0;
const MODE_PCAP = 1;
const MODE_PCAPNG = 2;

const SHB = 0x0a0d0d0a;
const BOM = 0x1a2b3c4d;

/** What the parser learned about the capture's container. */
export interface CaptureInfo {
  /** "pcap" or "pcapng" (empty until the header is read). */
  format: "" | "pcap" | "pcapng";
  /** Byte order of the (last) header read. */
  littleEndian: boolean;
  /** Classic pcap: nanosecond timestamps. */
  nanosecond: boolean;
  /** pcapng sections seen. */
  sections: number;
  /** Interfaces (pcap: 1) seen in all sections. */
  interfaces: number;
  /** Link type of every interface, in order of appearance. */
  linkTypes: number[];
  /** Packet records read. */
  packets: number;
  /** Bytes of input consumed. */
  bytes: number;
  /** pcapng blocks skipped because their type is not needed. */
  skippedBlocks: number;
}

function u32(d: Uint8Array, p: number, le: boolean): number {
  return le
    ? (d[p] | (d[p + 1] << 8) | (d[p + 2] << 16) | (d[p + 3] << 24)) >>> 0
    : ((d[p] << 24) | (d[p + 1] << 16) | (d[p + 2] << 8) | d[p + 3]) >>> 0;
}

function u16(d: Uint8Array, p: number, le: boolean): number {
  return le ? d[p] | (d[p + 1] << 8) : (d[p] << 8) | d[p + 1];
}

/** Names a file that is not pcap/pcapng from its first bytes. */
export function sniffNonCapture(d: Uint8Array, p: number, n: number): string {
  const b = (i: number) => (i < n ? d[p + i] : -1);
  if (b(0) === 0x1f && b(1) === 0x8b) {
    return "gzip-compressed data where a capture header was expected";
  }
  if (b(0) === 0x28 && b(1) === 0xb5 && b(2) === 0x2f && b(3) === 0xfd) {
    return "zstd-compressed data (decompress it first: zstd -d)";
  }
  if (b(0) === 0x42 && b(1) === 0x5a && b(2) === 0x68) {
    return "bzip2-compressed data (bunzip2 it first)";
  }
  if (b(0) === 0xfd && b(1) === 0x37 && b(2) === 0x7a && b(3) === 0x58) {
    return "xz-compressed data (unxz it first)";
  }
  if (b(0) === 0x73 && b(1) === 0x6e && b(2) === 0x6f && b(3) === 0x6f && b(4) === 0x70) {
    return "a Solaris snoop capture (convert it with editcap -F pcap)";
  }
  let text = n > 0;
  for (let i = 0; i < Math.min(n, 64); i++) {
    const c = d[p + i];
    if (c < 9 || (c > 13 && c < 32) || c > 126) text = false;
  }
  if (text) return "a text file";
  // ERF has no magic; its 16-byte record header has a type byte and an rlen we can check.
  if (n >= 16 && (b(8) & 0x7f) >= 1 && (b(8) & 0x7f) <= 27) {
    const rlen = (b(10) << 8) | b(11);
    if (rlen >= 16 && rlen <= 65535) return "not pcap or pcapng (possibly an ERF/DAG trace)";
  }
  const hex = Array.from(d.subarray(p, p + Math.min(4, n)), (x) => x.toString(16).padStart(2, "0"))
    .join("");
  return `not a pcap or pcapng file (magic 0x${hex})`;
}

/** Incremental pcap/pcapng parser producing decoded {@link PacketBatch}es. */
export class CaptureParser {
  readonly name: string;
  readonly info: CaptureInfo = {
    format: "",
    littleEndian: true,
    nanosecond: false,
    sections: 0,
    interfaces: 0,
    linkTypes: [],
    packets: 0,
    bytes: 0,
    skippedBlocks: 0,
  };

  #mode = MODE_START;
  #le = true;
  // classic pcap
  #recHdr = 16;
  #nano = false;
  #linkType = 0;
  // pcapng, per interface of the current section
  #ifLink: number[] = [];
  #ifSnap: number[] = [];
  #ifPow10: number[] = [];
  #ifPow2: number[] = [];
  readonly #ts = { sec: 0, nsec: 0 }; // splitTimestamp's output, reused
  #ifOffset: number[] = [];
  #lastSec = 0;
  #lastNsec = 0;

  #pos = 0; // stream offset of the current chunk's first byte
  #skip = 0; // bytes of a skipped pcapng block still to discard
  #skipUnit = false; // set by #unitLength when the unit is to be skipped
  #needHdr = 0; // set by #unitLength when it returns -1: header bytes it needs
  #ended = false;
  #carry: Uint8Array | null = null;
  #carryStart = 0; // stream offset of the carried unit
  #batch: PacketBatch | null = null;
  #bufIdx = -1;

  readonly #pool: BatchPool | undefined;

  constructor(name: string, pool?: BatchPool) {
    this.name = name;
    this.#pool = pool;
  }

  #err(msg: string, offset: number): DataError {
    return new DataError(msg, { file: this.name, offset });
  }

  /** Parses a chunk; returns the batch of packets completed by it (or null if none). */
  push(chunk: Uint8Array): PacketBatch | null {
    const n = chunk.length;
    const cap = this.#capacityFor(chunk);
    this.#batch = this.#pool ? this.#pool.takeBatch(cap) : new PacketBatch(cap);
    this.#batch.source = this.name;
    this.#bufIdx = -1;
    let p = 0;
    try {
      if (this.#carry !== null) p = this.#fillCarry(chunk);
      if (p >= 0) this.#run(chunk, p, n);
    } catch (e) {
      // Packets completed before the error are kept: they travel with the error.
      if (e instanceof DataError) {
        (e as DataError & { batch?: PacketBatch | null }).batch = this.#take();
      }
      throw e;
    } finally {
      this.#pos += n;
      this.info.bytes = this.#pos;
    }
    return this.#take();
  }

  // Rows a chunk is expected to complete: a bound from the smallest pcapng block, and for
  // classic pcap an estimate from typical darknet frames (the batch grows if it is exceeded).
  // Never sized by a length field.
  #capacityFor(d: Uint8Array): number {
    const n = d.length;
    if (this.#mode !== MODE_PCAP) return (n >>> 5) + 2;
    return ((n / 64) | 0) + 16;
  }

  /** Ends the input: throws if it stopped inside a header or record. */
  end(): void {
    if (this.#mode === MODE_START && this.#carry === null && this.#skip === 0) {
      throw this.#err("empty input: no pcap or pcapng header", 0);
    }
    this.#ended = true;
    if (this.#carry !== null) {
      const have = this.#carry.length;
      const need = this.#unitLength(this.#carry, 0, have, this.#carryStart);
      const what = this.#mode === MODE_START ? "file header" : "record";
      throw this.#err(
        need > 0
          ? `truncated ${what}: ${have} of ${need} bytes present`
          : `truncated ${what}: only ${have} bytes present`,
        this.#carryStart,
      );
    }
    if (this.#skip > 0) {
      throw this.#err(`truncated block: its last ${this.#skip} bytes are missing`, this.#pos);
    }
  }

  #take(): PacketBatch | null {
    const b = this.#batch;
    this.#batch = null;
    if (b === null) return null;
    const pool = this.#pool;
    if (b.length === 0) {
      pool?.giveBatch(b);
      return null;
    }
    if (pool) {
      // The consumer hands the batch and the read buffers the pool lent back for reuse (a
      // chunk belongs to exactly one batch; records spanning chunks live in small copies).
      b.release = () => {
        b.release = undefined;
        for (const x of b.buffers) if (pool.lent(x)) pool.giveChunk(x);
        pool.giveBatch(b);
      };
    }
    return b;
  }

  // Completes the carried unit from the start of `chunk`. Returns the chunk position after the
  // unit, or -1 if the chunk ran out first.
  #fillCarry(chunk: Uint8Array): number {
    let p = 0;
    for (;;) {
      const carry = this.#carry!;
      const len = this.#unitLength(carry, 0, carry.length, this.#carryStart);
      if (len >= 0 && this.#skipUnit) {
        this.#carry = null;
        this.#skip = len - carry.length;
        return p;
      }
      const want = len < 0 ? this.#needHdr - carry.length : len - carry.length;
      const take = Math.min(want, chunk.length - p);
      if (take > 0) {
        const grown = new Uint8Array(carry.length + take);
        grown.set(carry);
        grown.set(chunk.subarray(p, p + take), carry.length);
        this.#carry = grown;
        p += take;
      }
      if (len >= 0 && this.#carry!.length === len) {
        const unit = this.#carry!;
        this.#carry = null;
        this.#unit(unit, 0, len, this.#carryStart);
        return p;
      }
      if (p >= chunk.length) return -1;
    }
  }

  #run(d: Uint8Array, p: number, n: number): void {
    if (this.#mode === MODE_PCAP && this.#skip === 0) p = this.#pcapRecords(d, p, n);
    while (p < n) {
      if (this.#skip > 0) {
        const s = Math.min(this.#skip, n - p);
        this.#skip -= s;
        p += s;
        continue;
      }
      const avail = n - p;
      const len = this.#unitLength(d, p, avail, this.#pos + p);
      if (len >= 0 && this.#skipUnit) {
        this.#skip = len;
        this.info.skippedBlocks++;
        continue;
      }
      if (len < 0 || len > avail) {
        this.#carry = d.slice(p, n);
        this.#carryStart = this.#pos + p;
        return;
      }
      this.#unit(d, p, len, this.#pos + p);
      p += len;
    }
  }

  // Length of the unit (file header, record or block) starting at d[p], or -1 when fewer than
  // the header bytes needed to know it are available. Validates lengths before anything is
  // buffered, so no allocation is ever sized by a length field.
  #unitLength(d: Uint8Array, p: number, avail: number, at: number): number {
    this.#skipUnit = false;
    if (this.#mode === MODE_PCAP) {
      this.#needHdr = this.#recHdr;
      if (avail < this.#recHdr) return -1;
      const caplen = u32(d, p + 8, this.#le);
      if (caplen > MAX_CAPLEN) {
        throw this.#err(
          `record captured length ${caplen} exceeds ${MAX_CAPLEN} (corrupt record)`,
          at,
        );
      }
      return this.#recHdr + caplen;
    }
    if (this.#mode === MODE_PCAPNG) {
      this.#needHdr = 8;
      if (avail < 8) return -1;
      let le = this.#le;
      const type = u32(d, p, le);
      if (type === SHB) {
        this.#needHdr = 12;
        if (avail < 12) return -1;
        le = this.#sectionOrder(d, p, at);
      }
      const len = u32(d, p + 4, le);
      if (len < 12 || len % 4 !== 0) throw this.#err(`pcapng block length ${len} is invalid`, at);
      if (type === SHB || type === 1 || type === 2 || type === 3 || type === 6) {
        if (len > MAX_BLOCK) {
          throw this.#err(`pcapng block length ${len} exceeds ${MAX_BLOCK} (corrupt block)`, at);
        }
      } else this.#skipUnit = true;
      return len;
    }
    // Start of input: the file header.
    this.#needHdr = 4;
    if (avail < 4) return -1;
    const magicLe = u32(d, p, true);
    const magicBe = u32(d, p, false);
    if (magicBe === SHB) {
      this.#needHdr = 12;
      if (avail < 12) return -1;
      const le = this.#sectionOrder(d, p, at);
      const len = u32(d, p + 4, le);
      if (len < 28 || len % 4 !== 0 || len > MAX_BLOCK) {
        throw this.#err(`pcapng section header length ${len} is invalid`, at);
      }
      return len;
    }
    for (const m of [magicLe, magicBe]) {
      if (m === 0xa1b2c3d4 || m === 0xa1b23c4d || m === 0xa1b2cd34) return 24;
    }
    if (avail < 16 && !this.#ended) {
      this.#needHdr = 16; // enough bytes to say what the file is instead
      return -1;
    }
    throw this.#err(sniffNonCapture(d, p, avail), at);
  }

  #sectionOrder(d: Uint8Array, p: number, at: number): boolean {
    if (u32(d, p + 8, true) === BOM) return true;
    if (u32(d, p + 8, false) === BOM) return false;
    throw this.#err("pcapng section header has a bad byte-order magic", at);
  }

  #unit(d: Uint8Array, p: number, len: number, at: number): void {
    if (this.#mode === MODE_PCAP) return this.#pcapRecord(d, p, at);
    if (this.#mode === MODE_PCAPNG) return this.#block(d, p, len, at);
    if (u32(d, p, false) === SHB) {
      this.#mode = MODE_PCAPNG;
      this.info.format = "pcapng";
      return this.#block(d, p, len, at);
    }
    this.#pcapHeader(d, p, at);
  }

  #pcapHeader(d: Uint8Array, p: number, at: number): void {
    const m = u32(d, p, true);
    this.#le = m === 0xa1b2c3d4 || m === 0xa1b23c4d || m === 0xa1b2cd34;
    const magic = u32(d, p, this.#le);
    this.#nano = magic === 0xa1b23c4d;
    this.#recHdr = magic === 0xa1b2cd34 ? 24 : 16;
    const major = u16(d, p + 4, this.#le);
    const minor = u16(d, p + 6, this.#le);
    if (major !== 2 || minor > 4) {
      throw this.#err(`unsupported pcap version ${major}.${minor} (expected 2.4)`, at + 4);
    }
    const lt = u32(d, p + 20, this.#le);
    if ((lt & 0x03ff0000) !== 0) {
      throw this.#err(`pcap link-type field 0x${lt.toString(16)} has reserved bits set`, at + 20);
    }
    this.#linkType = lt & 0xffff;
    this.#mode = MODE_PCAP;
    Object.assign(this.info, {
      format: "pcap",
      littleEndian: this.#le,
      nanosecond: this.#nano,
      interfaces: 1,
      linkTypes: [this.#linkType],
    });
  }

  #row(d: Uint8Array): number {
    const b = this.#batch!;
    if (b.length === b.capacity) b.grow(b.capacity * 2);
    if (this.#bufIdx < 0 || b.buffers[this.#bufIdx] !== d) {
      b.buffers.push(d);
      this.#bufIdx = b.buffers.length - 1;
    }
    b.buf[b.length] = this.#bufIdx;
    this.info.packets++;
    return b.length++;
  }

  // Tight loop over the complete classic-pcap records of a chunk: fills the frame fields, then
  // decodes all new rows in one pass. Returns where it stopped (a partial record or an error
  // for the general path to report).
  #pcapRecords(d: Uint8Array, p: number, n: number): number {
    const b = this.#batch!;
    const dv = new DataView(d.buffer, d.byteOffset, d.byteLength);
    const le = this.#le;
    const hdr = this.#recHdr;
    const nano = this.#nano;
    const lt = this.#linkType;
    const first = b.length;
    let i = first;
    let cap = b.capacity;
    let { tsSec, tsNsec, capLen, origLen, offset, linkType } = b;
    while (p + hdr <= n) {
      if (i === cap) {
        b.grow(cap * 2);
        cap = b.capacity;
        ({ tsSec, tsNsec, capLen, origLen, offset, linkType } = b);
      }
      const caplen = dv.getUint32(p + 8, le);
      if (caplen > MAX_CAPLEN || p + hdr + caplen > n) break;
      let sec = dv.getUint32(p, le);
      let frac = dv.getUint32(p + 4, le);
      if (!nano) frac *= 1000;
      if (frac >= 1e9) {
        sec += Math.floor(frac / 1e9);
        frac %= 1e9;
      }
      tsSec[i] = sec;
      tsNsec[i] = frac;
      capLen[i] = caplen;
      origLen[i] = dv.getUint32(p + 12, le);
      offset[i] = p + hdr;
      linkType[i] = lt;
      i++;
      p += hdr + caplen;
    }
    if (i > first) {
      if (this.#bufIdx < 0 || b.buffers[this.#bufIdx] !== d) {
        b.buffers.push(d);
        this.#bufIdx = b.buffers.length - 1;
      }
      b.buf.fill(this.#bufIdx, first, i);
      b.length = i;
      this.info.packets += i - first;
      decodeRows(b, first, i);
    }
    return p;
  }

  #pcapRecord(d: Uint8Array, p: number, _at: number): void {
    const le = this.#le;
    const caplen = u32(d, p + 8, le);
    const b = this.#batch!;
    const i = this.#row(d);
    let sec = u32(d, p, le);
    let frac = u32(d, p + 4, le);
    if (!this.#nano) frac *= 1000;
    if (frac >= 1e9) { // out-of-range fraction: carry whole seconds over
      sec += Math.floor(frac / 1e9);
      frac %= 1e9;
    }
    b.tsSec[i] = sec;
    b.tsNsec[i] = frac;
    b.capLen[i] = caplen;
    b.origLen[i] = u32(d, p + 12, le);
    b.offset[i] = p + this.#recHdr;
    b.linkType[i] = this.#linkType;
    decodeFrame(d, p + this.#recHdr, caplen, this.#linkType, b, i);
  }

  #block(d: Uint8Array, p: number, len: number, at: number): void {
    let le = this.#le;
    const type = u32(d, p, le) === SHB ? SHB : u32(d, p, le);
    if (type === SHB) le = this.#sectionOrder(d, p, at);
    if (u32(d, p + len - 4, le) !== len) {
      throw this.#err("pcapng block's trailing length does not match its leading length", at);
    }
    switch (type) {
      case SHB:
        return this.#section(d, p, len, at, le);
      case 1:
        return this.#interface(d, p, len, at);
      case 6:
      case 2:
        return this.#enhancedPacket(d, p, len, at, type);
      case 3:
        return this.#simplePacket(d, p, len, at);
    }
  }

  #section(d: Uint8Array, p: number, len: number, at: number, le: boolean): void {
    if (len < 28) throw this.#err(`pcapng section header length ${len} is too short`, at);
    const major = u16(d, p + 12, le);
    const minor = u16(d, p + 14, le);
    if (major !== 1 || (minor !== 0 && minor !== 2)) {
      throw this.#err(`unsupported pcapng version ${major}.${minor} (expected 1.0)`, at + 12);
    }
    this.#checkOptions(d, p + 24, p + len - 4, at, le);
    this.#le = le;
    this.#ifLink = [];
    this.#ifSnap = [];
    this.#ifPow10 = [];
    this.#ifPow2 = [];
    this.#ifOffset = [];
    this.info.sections++;
    this.info.littleEndian = le;
  }

  // Walks an options list, checking that every option stays inside the block. Calls `each`
  // for every option with its code, value offset and length.
  #checkOptions(
    d: Uint8Array,
    p: number,
    end: number,
    at: number,
    le: boolean,
    each?: (code: number, v: number, n: number) => void,
  ): void {
    while (p + 4 <= end) {
      const code = u16(d, p, le);
      const n = u16(d, p + 2, le);
      if (code === 0) return; // opt_endofopt
      if (p + 4 + n > end) {
        throw this.#err(`pcapng option ${code} (length ${n}) overruns its block`, at);
      }
      each?.(code, p + 4, n);
      p += 4 + ((n + 3) & ~3);
    }
  }

  #interface(d: Uint8Array, p: number, len: number, at: number): void {
    if (len < 20) throw this.#err(`pcapng interface block length ${len} is too short`, at);
    const le = this.#le;
    const lt = u16(d, p + 8, le);
    let pow10 = 6;
    let pow2 = 0;
    let offset = 0;
    this.#checkOptions(d, p + 16, p + len - 4, at, le, (code, v, n) => {
      if (code === 9 && n >= 1) { // if_tsresol
        const r = d[v];
        if (r & 0x80) {
          pow2 = r & 0x7f;
          pow10 = 0;
          if (pow2 > 63) throw this.#err(`if_tsresol 2^-${pow2} is not supported`, at);
        } else {
          pow10 = r;
          pow2 = 0;
          if (pow10 > 18) throw this.#err(`if_tsresol 10^-${pow10} is not supported`, at);
        }
      } else if (code === 14 && n >= 8) { // if_tsoffset, seconds, signed 64-bit
        const hi = u32(d, v + (le ? 4 : 0), le) | 0;
        const lo = u32(d, v + (le ? 0 : 4), le);
        offset = hi * 4294967296 + lo;
      }
    });
    this.#ifLink.push(lt);
    this.#ifSnap.push(u32(d, p + 12, le));
    this.#ifPow10.push(pow10);
    this.#ifPow2.push(pow2);
    this.#ifOffset.push(offset);
    this.info.interfaces++;
    this.info.linkTypes.push(lt);
  }

  #enhancedPacket(d: Uint8Array, p: number, len: number, at: number, type: number): void {
    const le = this.#le;
    if (len < 32) throw this.#err(`pcapng packet block length ${len} is too short`, at);
    const ifid = type === 6 ? u32(d, p + 8, le) : u16(d, p + 8, le);
    if (ifid >= this.#ifLink.length) {
      throw this.#err(
        `packet block names interface ${ifid}, but the section defines ${this.#ifLink.length}`,
        at,
      );
    }
    const caplen = u32(d, p + 20, le);
    if (caplen > MAX_CAPLEN) {
      throw this.#err(`packet captured length ${caplen} exceeds ${MAX_CAPLEN}`, at + 20);
    }
    if (28 + caplen > len - 4) {
      throw this.#err(`packet captured length ${caplen} overruns its ${len}-byte block`, at + 20);
    }
    const ts = this.#ts;
    splitTimestamp(
      ts,
      u32(d, p + 12, le),
      u32(d, p + 16, le),
      this.#ifPow10[ifid],
      this.#ifPow2[ifid],
    );
    this.#packet(
      d,
      p + 28,
      caplen,
      u32(d, p + 24, le),
      ifid,
      ts.sec + this.#ifOffset[ifid],
      ts.nsec,
    );
  }

  #simplePacket(d: Uint8Array, p: number, len: number, at: number): void {
    if (this.#ifLink.length === 0) {
      throw this.#err("simple packet block before any interface description block", at);
    }
    const orig = u32(d, p + 8, this.#le);
    const snap = this.#ifSnap[0];
    let caplen = Math.min(orig, len - 16);
    if (snap > 0 && snap < caplen) caplen = snap;
    if (caplen > MAX_CAPLEN) throw this.#err(`packet length ${caplen} exceeds ${MAX_CAPLEN}`, at);
    // SPBs carry no timestamp: they take the previous packet's time.
    this.#packet(d, p + 12, caplen, orig, 0, this.#lastSec, this.#lastNsec);
  }

  #packet(
    d: Uint8Array,
    off: number,
    caplen: number,
    orig: number,
    ifid: number,
    sec: number,
    nsec: number,
  ): void {
    const b = this.#batch!;
    const i = this.#row(d);
    const lt = this.#ifLink[ifid];
    b.tsSec[i] = sec;
    b.tsNsec[i] = nsec;
    this.#lastSec = sec;
    this.#lastNsec = nsec;
    b.capLen[i] = caplen;
    b.origLen[i] = orig;
    b.offset[i] = off;
    b.linkType[i] = lt;
    decodeFrame(d, off, caplen, lt, b, i);
  }
}

// Open events of one IP version, keyed by (source, traffic, port). Entries are dense; removing
// one moves the last entry into its place (rows follow).
//
// Each event has one 128-byte row (two adjacent cache lines) holding everything a packet
// updates: times, counters, fingerprint bits with the last IP ID, the IP ID pairs, sampling state
// (the first cache line) and, for IPv4, the destination set's header with its first 15 addresses
// inline (the second: a packet's address goes to a log, not here). The tool attribution's other
// words, touched by the packets of scanners only, are beside the rows (`attr`). The row is read through two views of the
// same memory: `rowF` (Float64, 16 per row) and `rowU` (Uint32, 32 per row).

import { KeyTable } from "../util/key_table.ts";
import { DestSets } from "./dest_set.ts";
import { SampleStore } from "./_sample_store.ts";
import { ATTR, attrStart } from "./_attribution.ts";
import { OPEN_THRESHOLD } from "./_sampler.ts";

// The row's layout (which number holds what) is its own module so that `_attribution.ts` can
// use it without importing this one; importers see it here.
export * from "./_event_row.ts";
import * as R from "./_event_row.ts";

const INLINE_DESTS = R.ROW_U32 - R.DESTS - 1;
const ARENA = 256 * 1024;

export class EventTable {
  readonly v6: boolean;
  readonly samplesPer: number;
  readonly keys: KeyTable;
  rowF: Float64Array<ArrayBuffer> = new Float64Array(0);
  rowU: Uint32Array<ArrayBuffer> = new Uint32Array(0);
  /** Per event × sample slot: a SampleStore reference (0 = empty) and the frame length. */
  sampleRef: Int32Array<ArrayBuffer> = new Int32Array(0);
  sampleLen: Uint32Array<ArrayBuffer> = new Uint32Array(0);
  /** Each sample's rank (see _sampler.ts). */
  sampleRank: Uint32Array<ArrayBuffer> = new Uint32Array(0);
  /** Per event: the tool attribution's words (`_attribution.ts`, ATTR each). */
  attr: Uint32Array<ArrayBuffer> = new Uint32Array(0);
  /** The sequence tools' state of the events that have one (few), by entry. */
  readonly seq: Map<number, Uint32Array> = new Map();
  readonly store: SampleStore = new SampleStore();
  readonly dests4: DestSets = new DestSets({ inline: INLINE_DESTS });
  dests6: (KeyTable | undefined)[] = [];
  nets6: (KeyTable | undefined)[] = [];
  #arena = new Uint8Array(0);
  #arenaUsed = 0;

  constructor(v6: boolean, samplesPer: number) {
    this.v6 = v6;
    this.samplesPer = samplesPer;
    this.keys = new KeyTable(v6 ? 5 : 2, 1024);
    this.ensure();
  }

  get size(): number {
    return this.keys.size;
  }

  /** Grows the rows to the key table's capacity. */
  ensure(): void {
    const cap = this.keys.capacity;
    if (this.rowF.length >= cap * R.ROW_F64) return;
    const rowF = new Float64Array(cap * R.ROW_F64);
    rowF.set(this.rowF);
    this.rowF = rowF;
    this.rowU = new Uint32Array(rowF.buffer);
    if (!this.v6) this.dests4._bind(this.rowU, R.ROW_U32, R.DESTS, cap);
    const attr = new Uint32Array(cap * ATTR);
    attr.set(this.attr);
    this.attr = attr;
    const s = this.samplesPer;
    const ref = new Int32Array(cap * s);
    ref.set(this.sampleRef);
    this.sampleRef = ref;
    const len = new Uint32Array(cap * s);
    len.set(this.sampleLen);
    this.sampleLen = len;
    const rank = new Uint32Array(cap * s);
    rank.set(this.sampleRank);
    this.sampleRank = rank;
  }

  /**
   * Stores a sample of rank `rank` for entry `e` in slot `j`, replacing any previous one (a state
   * file's samples; {@link EventTable.settle} afterwards).
   */
  putSample(e: number, j: number, src: Uint8Array, off: number, len: number, rank: number): void {
    const k = e * this.samplesPer + j;
    this.store.free(this.sampleRef[k]);
    this.sampleRef[k] = this.store.put(src, off, len);
    this.sampleLen[k] = len;
    this.sampleRank[k] = rank;
  }

  /**
   * Keeps a packet of rank `rank`, below entry `e`'s threshold: the frame `src[off .. off+len)`
   * goes in the first free slot, or the highest-ranked sample (the latest of equal ones) leaves
   * and the later ones move down, so that the slots stay in packet order.
   */
  offer(e: number, rank: number, src: Uint8Array, off: number, len: number): void {
    const k = this.#slotFor(e, rank);
    this.sampleRef[k] = this.store.put(src, off, len);
    this.sampleLen[k] = len;
    this.settle(e);
  }

  /** {@link EventTable.offer} for a frame already in the store (reference `ref`). */
  offerStored(e: number, rank: number, ref: number, len: number): void {
    const k = this.#slotFor(e, rank);
    this.sampleRef[k] = ref;
    this.sampleLen[k] = len;
    this.settle(e);
  }

  // The slot (index into the sample arrays) for a new last sample of rank `rank` of entry `e`.
  #slotFor(e: number, rank: number): number {
    const s = this.samplesPer;
    const base = e * s;
    const ref = this.sampleRef;
    const rk = this.sampleRank;
    const ln = this.sampleLen;
    let n = 0;
    while (n < s && ref[base + n] !== 0) n++;
    if (n === s) {
      let m = 0;
      for (let j = 1; j < s; j++) if (rk[base + j] >= rk[base + m]) m = j;
      this.store.free(ref[base + m]);
      for (let j = base + m; j < base + s - 1; j++) {
        ref[j] = ref[j + 1];
        ln[j] = ln[j + 1];
        rk[j] = rk[j + 1];
      }
      n = s - 1;
    }
    rk[base + n] = rank;
    return base + n;
  }

  /** Sets entry `e`'s threshold from its samples: open while a slot is free, else the highest rank. */
  settle(e: number): void {
    const s = this.samplesPer;
    const base = e * s;
    let max = 0;
    for (let j = 0; j < s; j++) {
      if (this.sampleRef[base + j] === 0) {
        this.rowF[e * R.ROW_F64 + R.NEXT] = OPEN_THRESHOLD;
        return;
      }
      max = Math.max(max, this.sampleRank[base + j]);
    }
    this.rowF[e * R.ROW_F64 + R.NEXT] = s > 0 ? max : 0;
  }

  /** A copy of entry `e`'s sample in slot `j`, or null. */
  sample(e: number, j: number): Uint8Array | null {
    const k = e * this.samplesPer + j;
    return this.sampleRef[k] === 0 ? null : this.store.get(this.sampleRef[k], this.sampleLen[k]);
  }

  /**
   * Copies of entry `e`'s samples in slot order: views into a shared arena of 256 KiB blocks,
   * so that finished events cost no buffer allocation each (an event kept by the caller keeps
   * its block alive).
   */
  samplesOf(e: number): Uint8Array[] {
    const s = this.samplesPer;
    const out: Uint8Array[] = [];
    for (let j = 0; j < s; j++) {
      const k = e * s + j;
      if (this.sampleRef[k] !== 0) out.push(this.sampleCopy(this.sampleRef[k], this.sampleLen[k]));
    }
    return out;
  }

  /** A copy of the stored frame `ref` (of length `len`) in the shared arena (see `samplesOf`). */
  sampleCopy(ref: number, len: number): Uint8Array {
    if (this.#arenaUsed + len > this.#arena.length) {
      this.#arena = new Uint8Array(Math.max(ARENA, len));
      this.#arenaUsed = 0;
    }
    const at = this.#arenaUsed;
    this.store.copyTo(ref, len, this.#arena, at);
    this.#arenaUsed = (at + len + 3) & ~3; // copies start on a word (see SampleStore.copyTo)
    return this.#arena.subarray(at, at + len);
  }

  #freeSamples(e: number): void {
    const s = this.samplesPer;
    for (let j = 0; j < s; j++) {
      const k = e * s + j;
      if (this.sampleRef[k] !== 0) {
        this.store.free(this.sampleRef[k]);
        this.sampleRef[k] = 0;
      }
    }
  }

  /**
   * Resets entry `e` to an event that starts at (sec, nsec), with fingerprint bits `fp`, the
   * tools `tools` armed and sampling seed `seed` (_sampler.ts).
   */
  start(e: number, sec: number, nsec: number, fp: number, seed: number, tools = 0): void {
    const f = e * R.ROW_F64;
    const rowF = this.rowF;
    rowF[f + R.FIRST_SEC] = sec;
    rowF[f + R.LAST_SEC] = sec;
    rowF[f + R.PACKETS] = 0;
    rowF[f + R.BYTES] = 0;
    rowF[f + R.NEXT] = this.samplesPer > 0 ? OPEN_THRESHOLD : 0;
    const u = e * R.ROW_U32;
    const rowU = this.rowU;
    rowU[u + R.FIRST_NSEC] = nsec;
    rowU[u + R.LAST_NSEC] = nsec;
    rowU[u + R.FP] = fp | R.FIRST_ID;
    rowU[u + R.RNG] = seed;
    rowU[u + R.IPID_EQUAL] = 0;
    rowU[u + R.IPID_STEP] = 0;
    attrStart(this.attr, e * ATTR, tools);
    if (this.seq.size > 0) this.seq.delete(e);
    this.#freeSamples(e);
    if (this.v6) {
      this.dests6[e] = undefined;
      this.nets6[e] = undefined;
    } else this.dests4.clear(e);
  }

  /** Removes entry `e`, moving the last entry into its place. */
  remove(e: number): void {
    const m = this.keys.delete(e);
    const s = this.samplesPer;
    this.#freeSamples(e);
    if (m < 0) {
      if (this.seq.size > 0) this.seq.delete(e);
      if (this.v6) {
        this.dests6[e] = undefined;
        this.nets6[e] = undefined;
      } else this.dests4.clear(e);
      return;
    }
    if (!this.v6) this.dests4.clear(e); // before the copy: its header is in e's row
    this.rowF.copyWithin(e * R.ROW_F64, m * R.ROW_F64, (m + 1) * R.ROW_F64);
    this.attr.copyWithin(e * ATTR, m * ATTR, (m + 1) * ATTR);
    const seq = this.seq;
    if (seq.size > 0) {
      seq.delete(e);
      const w = seq.get(m);
      if (w !== undefined) {
        seq.set(e, w);
        seq.delete(m);
      }
    }
    for (let j = 0; j < s; j++) {
      this.sampleRef[e * s + j] = this.sampleRef[m * s + j];
      this.sampleLen[e * s + j] = this.sampleLen[m * s + j];
      this.sampleRank[e * s + j] = this.sampleRank[m * s + j];
      this.sampleRef[m * s + j] = 0;
    }
    if (this.v6) {
      this.dests6[e] = this.dests6[m];
      this.nets6[e] = this.nets6[m];
      this.dests6[m] = undefined;
      this.nets6[m] = undefined;
    } else this.dests4._moved(m, e);
  }

  /** Distinct destinations of entry `e`. */
  uniqueDests(e: number): number {
    return this.v6 ? this.dests6[e]?.size ?? 0 : this.dests4.count(e);
  }

  /** Distinct /24s (IPv4) or /64s (IPv6) of entry `e`. */
  uniqueNets(e: number): number {
    return this.v6 ? this.nets6[e]?.size ?? 0 : this.dests4.count24(e);
  }
}

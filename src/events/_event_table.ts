// Open events of one IP version in typed-array columns, keyed by (source, traffic, port).
// Entries are dense; removing one moves the last entry into its place (columns follow).

import { KeyTable } from "../util/key_table.ts";
import { DestSets } from "./dest_set.ts";
import { SampleStore } from "./_sample_store.ts";

/** Fields of an event row. */
export const FIRST_SEC = 0;
export const FIRST_NSEC = 1;
export const LAST_SEC = 2;
export const LAST_NSEC = 3;
export const PACKETS = 4;
export const BYTES = 5;
export const FP = 6;
export const RNG = 7;
/** Numbers per event row. */
export const ROW = 8;

/** Fingerprint bits in the FP field: set while every packet so far matched. */
export const FP_ZMAP = 1;
export const FP_MASSCAN = 2;
export const FP_MIRAI = 4;

export class EventTable {
  readonly v6: boolean;
  readonly samplesPer: number;
  readonly keys: KeyTable;
  /**
   * One 64-byte row per event (a single cache line for the per-packet update):
   * [firstSec, firstNsec, lastSec, lastNsec, packets, bytes, fingerprint bits, PRNG state].
   */
  row: Float64Array<ArrayBuffer> = new Float64Array(0);
  /** Per event × sample slot: a SampleStore reference (0 = empty) and the frame length. */
  sampleRef: Int32Array<ArrayBuffer> = new Int32Array(0);
  sampleLen: Uint32Array<ArrayBuffer> = new Uint32Array(0);
  readonly store: SampleStore = new SampleStore();
  readonly dests4: DestSets = new DestSets();
  dests6: (KeyTable | undefined)[] = [];
  nets6: (KeyTable | undefined)[] = [];

  constructor(v6: boolean, samplesPer: number) {
    this.v6 = v6;
    this.samplesPer = samplesPer;
    this.keys = new KeyTable(v6 ? 5 : 2, 1024);
    this.ensure();
  }

  get size(): number {
    return this.keys.size;
  }

  /** Grows the columns to the key table's capacity. */
  ensure(): void {
    const cap = this.keys.capacity;
    if (this.row.length >= cap * ROW) return;
    const row = new Float64Array(cap * ROW);
    row.set(this.row);
    this.row = row;
    const s = this.samplesPer;
    const ref = new Int32Array(cap * s);
    ref.set(this.sampleRef);
    this.sampleRef = ref;
    const len = new Uint32Array(cap * s);
    len.set(this.sampleLen);
    this.sampleLen = len;
  }

  /** Stores a sample for entry `e` in slot `j`, replacing any previous one. */
  putSample(e: number, j: number, src: Uint8Array, off: number, len: number): void {
    const k = e * this.samplesPer + j;
    this.store.free(this.sampleRef[k]);
    this.sampleRef[k] = this.store.put(src, off, len);
    this.sampleLen[k] = len;
  }

  /** A copy of entry `e`'s sample in slot `j`, or null. */
  sample(e: number, j: number): Uint8Array | null {
    const k = e * this.samplesPer + j;
    return this.sampleRef[k] === 0 ? null : this.store.get(this.sampleRef[k], this.sampleLen[k]);
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

  /** Resets entry `e` to an event that starts at (sec, nsec). */
  start(e: number, sec: number, nsec: number, fp: number, seed: number): void {
    const r = e * ROW;
    const row = this.row;
    row[r + FIRST_SEC] = sec;
    row[r + FIRST_NSEC] = nsec;
    row[r + LAST_SEC] = sec;
    row[r + LAST_NSEC] = nsec;
    row[r + PACKETS] = 0;
    row[r + BYTES] = 0;
    row[r + FP] = fp;
    row[r + RNG] = seed || 1;
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
      if (this.v6) {
        this.dests6[e] = undefined;
        this.nets6[e] = undefined;
      } else this.dests4.clear(e);
      return;
    }
    const row = this.row;
    for (let k = 0; k < ROW; k++) row[e * ROW + k] = row[m * ROW + k];
    for (let j = 0; j < s; j++) {
      this.sampleRef[e * s + j] = this.sampleRef[m * s + j];
      this.sampleLen[e * s + j] = this.sampleLen[m * s + j];
      this.sampleRef[m * s + j] = 0;
    }
    if (this.v6) {
      this.dests6[e] = this.dests6[m];
      this.nets6[e] = this.nets6[m];
      this.dests6[m] = undefined;
      this.nets6[m] = undefined;
    } else this.dests4.move(m, e);
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

// Open IPv4 events that have seen exactly one packet. Most darknet sources send a single packet
// per (source, traffic, port) — they are most of the open events at any time — so they are kept
// in 32 bytes each (plus their sample) instead of a 128-byte event row with its destination set
// and sample slots. A second packet for the key promotes the event to the full table
// (EventAggregator does that, replaying this packet exactly as if it had been there all along).
//
// Entries are dense like KeyTable's: removing one moves the last into its place (rows follow).
// Row: the packet's time (Float64 seconds at word 0), then nanoseconds, destination, captured
// length, fingerprint bits and the sample reference in the event table's SampleStore.

import { KeyTable } from "../util/key_table.ts";

/** Uint32 fields of a row (index into `rowU` at `e * SINGLE_U32`). */
export const S_NSEC = 2;
export const S_DST = 3;
export const S_LEN = 4;
export const S_FP = 5;
export const S_REF = 6;
/** Numbers per row in each view (`rowF`: the seconds at `e * SINGLE_F64`). */
export const SINGLE_U32 = 8;
export const SINGLE_F64 = 4;

export class SingleTable {
  readonly keys: KeyTable = new KeyTable(2, 1024);
  rowF: Float64Array<ArrayBuffer> = new Float64Array(0);
  rowU: Uint32Array<ArrayBuffer> = new Uint32Array(0);
  /** The same rows as signed words (for the sample reference). */
  rowI: Int32Array<ArrayBuffer> = new Int32Array(0);

  constructor() {
    this.ensure();
  }

  get size(): number {
    return this.keys.size;
  }

  /** Grows the rows to the key table's capacity. */
  ensure(): void {
    const cap = this.keys.capacity;
    if (this.rowF.length >= cap * SINGLE_F64) return;
    const rowF = new Float64Array(cap * SINGLE_F64);
    rowF.set(this.rowF);
    this.rowF = rowF;
    this.rowU = new Uint32Array(rowF.buffer);
    this.rowI = new Int32Array(rowF.buffer);
  }

  /** Removes entry `e` (its sample reference is the caller's), moving the last into its place. */
  remove(e: number): void {
    const m = this.keys.delete(e);
    if (m >= 0) this.rowF.copyWithin(e * SINGLE_F64, m * SINGLE_F64, (m + 1) * SINGLE_F64);
  }
}

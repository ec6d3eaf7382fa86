// Open IPv4 events that have seen exactly one packet. Most darknet sources send a single packet
// per (source, traffic, port) — they are most of the open events at any time — so they are kept
// in 32 bytes each (plus their sample) instead of a 128-byte event row with its destination set
// and sample slots. A second packet for the key promotes the event to the full table
// (EventAggregator does that, replaying this packet exactly as if it had been there all along).
//
// Entries are dense like KeyTable's: removing one moves the last into its place (rows follow).
// Row: the packet's time (Float64 seconds at word 0), then nanoseconds, destination, captured
// length with the fingerprint bits, the sample reference in the event table's SampleStore, and
// the tool attribution's compact words (`_attribution.ts`; a SYN's signature as a number in the
// aggregator's SignatureTable): 24 + 8 bytes.
//
// IPv6 sources are kept the same way (`new SingleTable(true)`): keys of five words, 48-byte
// rows with the destination's four words at S_DST and S6_DST .. S6_DST + 2 (no fingerprints).

import { KeyTable } from "../util/key_table.ts";
import { SINGLE_ROW_ATTR } from "./_attribution.ts";

/** Uint32 fields of a row (index into `rowU` at `e * SINGLE_U32`). */
export const S_NSEC = 2;
export const S_DST = 3;
/** The captured length (low 24 bits) and the fingerprint bits (bits 24-26) in one word. */
export const S_LENFP = 4;
export const S_REF = 5;
/** Where the tool attribution's words start (`_attribution.ts`, SINGLE_ROW_ATTR of them). */
export const S_ATTR = 6;
/**
 * Numbers per row in each view (`rowF`: the seconds at `e * SINGLE_F64`): 24 bytes of the packet
 * and 8 of the attribution (in the row, not beside it: one cache line touched, not two).
 */
export const SINGLE_U32 = S_ATTR + SINGLE_ROW_ATTR + (SINGLE_ROW_ATTR & 1);
export const SINGLE_F64 = SINGLE_U32 / 2;
/** IPv6 rows: words 1-3 of the destination (word 0 at S_DST), and the row sizes (40 bytes). */
export const S6_DST = 6;
export const S6_ATTR = 10;
export const SINGLE6_U32 = S6_ATTR + SINGLE_ROW_ATTR + (SINGLE_ROW_ATTR & 1);
export const SINGLE6_F64 = SINGLE6_U32 / 2;

export class SingleTable {
  readonly v6: boolean;
  readonly keys: KeyTable;
  /** Numbers per row in each view (SINGLE_U32/SINGLE_F64, or the SINGLE6_ ones). */
  readonly u32PerRow: number;
  readonly f64PerRow: number;
  rowF: Float64Array<ArrayBuffer> = new Float64Array(0);
  rowU: Uint32Array<ArrayBuffer> = new Uint32Array(0);
  /** The same rows as signed words (for the sample reference). */
  rowI: Int32Array<ArrayBuffer> = new Int32Array(0);
  /** Where in a row the attribution's words start (S_ATTR or S6_ATTR). */
  readonly attrAt: number;
  /** The sequence value of the events of a sequence tool's shape (few), by entry. */
  readonly values: Map<number, number> = new Map();

  constructor(v6 = false) {
    this.v6 = v6;
    this.keys = new KeyTable(v6 ? 5 : 2, 1024);
    this.u32PerRow = v6 ? SINGLE6_U32 : SINGLE_U32;
    this.f64PerRow = v6 ? SINGLE6_F64 : SINGLE_F64;
    this.attrAt = v6 ? S6_ATTR : S_ATTR;
    this.ensure();
  }

  get size(): number {
    return this.keys.size;
  }

  /** Grows the rows to the key table's capacity. */
  ensure(): void {
    const cap = this.keys.capacity;
    if (this.rowF.length >= cap * this.f64PerRow) return;
    const rowF = new Float64Array(cap * this.f64PerRow);
    rowF.set(this.rowF);
    this.rowF = rowF;
    this.rowU = new Uint32Array(rowF.buffer);
    this.rowI = new Int32Array(rowF.buffer);
  }

  /** Removes entry `e` (its sample reference is the caller's), moving the last into its place. */
  remove(e: number): void {
    const m = this.keys.delete(e);
    const r = this.f64PerRow;
    if (m >= 0) this.rowF.copyWithin(e * r, m * r, (m + 1) * r);
    const values = this.values;
    if (values.size > 0) {
      values.delete(e);
      if (m >= 0 && values.has(m)) {
        values.set(e, values.get(m)!);
        values.delete(m);
      }
    }
  }
}

// The SYN signatures of one-packet events, interned: a flood of one-off sources repeats a few
// signatures millions of times, so a one-packet event keeps a number (4 bytes) instead of the
// signature's three words. Bounded: after MAX_SIGNATURES distinct signatures (a flood forging
// windows and options) new ones are not kept and those one-packet events show none.

import { KeyTable } from "../util/key_table.ts";

/** The most distinct signatures kept (about 20 MB of table). */
export const MAX_SIGNATURES = 1 << 20;

export class SignatureTable {
  readonly #keys = new KeyTable(3, 1024);
  readonly #key = new Uint32Array(3);
  /** Signatures not kept because the table was full. */
  dropped = 0;

  /** Signatures kept (their numbers are 1 .. size). */
  get size(): number {
    return this.#keys.size;
  }

  /** The number of (window << 16 | MSS, option layout, window scale), 1 or more; 0 if full. */
  intern(wm: number, opts: number, ws: number): number {
    // A small direct-mapped cache in front of the table: one-off sources repeat a handful of
    // signatures, and a hash-table probe per packet cost more than the rest of its words.
    const h = (Math.imul(wm ^ (opts >>> 7), 0x9e3779b1) ^ opts ^ ws) >>> 24;
    const c = this.#cache;
    const at = h * 4;
    if (c[at + 3] !== 0 && c[at] === wm && c[at + 1] === opts && c[at + 2] === ws) return c[at + 3];
    const id = this.#intern(wm, opts, ws);
    if (id !== 0) {
      c[at] = wm;
      c[at + 1] = opts;
      c[at + 2] = ws;
      c[at + 3] = id;
    }
    return id;
  }

  // 256 entries of (wm, opts, ws, id); id 0: empty.
  readonly #cache = new Uint32Array(256 * 4);

  #intern(wm: number, opts: number, ws: number): number {
    const k = this.#key;
    k[0] = wm;
    k[1] = opts;
    k[2] = ws;
    const found = this.#keys.find(k);
    if (found >= 0) return found + 1;
    if (this.#keys.size >= MAX_SIGNATURES) {
      this.dropped++;
      return 0;
    }
    return this.#keys.add(k) + 1;
  }

  /** The words of signature `id` (from {@link intern}) into `out` at `at`. */
  words(id: number, out: Uint32Array, at: number): void {
    const kw = this.#keys.keys;
    const e = (id - 1) * 3;
    out[at] = kw[e];
    out[at + 1] = kw[e + 1];
    out[at + 2] = kw[e + 2];
  }
}

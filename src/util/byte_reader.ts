/**
 * Bounds-checked little-endian reading of bytes [p, end) of a buffer — the reading half of the
 * project's binary files ({@link ByteWriter}'s bytes). Every read is checked against what is
 * left, and every count can be checked against it before anything is allocated for it, so a
 * lying length fails with the caller's error instead of sizing an allocation. One reader can be
 * `reset` onto each record of a file: a million records cost no object each.
 *
 * @example
 * ```ts
 * import { equal, throws } from "node:assert/strict";
 * import { ByteReader } from "./byte_reader.ts";
 * const r = new ByteReader(Uint8Array.of(4, 3, 2, 1, 9), (what) => new RangeError(what));
 * equal(r.u32(), 0x01020304);
 * equal(r.left, 1);
 * throws(() => r.u32(), /the data ends early \(needs 4 more bytes\)/);
 * ```
 *
 * @module
 */

import { LITTLE_ENDIAN } from "./byte_writer.ts";

/** Makes the error a reader throws: what is wrong, at which offset of its buffer. */
export type ByteReaderError = (what: string, offset: number) => Error;

/** A bounds-checked reader over part of a buffer. */
export class ByteReader {
  #b: Uint8Array;
  #dv: DataView;
  #end: number;
  readonly #fail: ByteReaderError;
  readonly #short: string;
  /** The position of the next read. */
  p = 0;

  /**
   * Reads all of `b`; `fail` makes the error for anything out of bounds or malformed, `short`
   * says what a read beyond the end means.
   */
  constructor(b: Uint8Array, fail: ByteReaderError, short = "the data ends early") {
    this.#b = b;
    this.#dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    this.#end = b.length;
    this.#fail = fail;
    this.#short = short;
  }

  /** Reads bytes [start, end) of `b` next (`dv` a view of all of `b`). */
  reset(b: Uint8Array, dv: DataView, start: number, end: number): void {
    this.#b = b;
    this.#dv = dv;
    this.p = start;
    this.#end = end;
  }

  /** An error of this reader's kind, at its position. */
  bad(what: string): Error {
    return this.#fail(what, this.p);
  }

  #need(k: number): void {
    if (this.p + k > this.#end) {
      throw this.bad(`${this.#short} (needs ${k} more bytes)`);
    }
  }

  /** Bytes left. */
  get left(): number {
    return this.#end - this.p;
  }

  /** A byte. */
  u8(): number {
    this.#need(1);
    return this.#b[this.p++];
  }

  /** A 32-bit unsigned word. */
  u32(): number {
    this.#need(4);
    const v = this.#dv.getUint32(this.p, true);
    this.p += 4;
    return v;
  }

  /** A double. */
  f64(): number {
    this.#need(8);
    const v = this.#dv.getFloat64(this.p, true);
    this.p += 8;
    return v;
  }

  /** The next `n` words into `out` (one copy into a `Uint32Array` on a little-endian host). */
  u32s<T extends Uint32Array | Float64Array>(out: T, n: number = out.length): T {
    const k = 4 * n;
    this.#need(k);
    if (LITTLE_ENDIAN && out instanceof Uint32Array) {
      new Uint8Array(out.buffer, out.byteOffset, k).set(this.#b.subarray(this.p, this.p + k));
    } else {
      const dv = this.#dv;
      for (let i = 0, p = this.p; i < n; i++, p += 4) out[i] = dv.getUint32(p, true);
    }
    this.p += k;
    return out;
  }

  /** The next `n` doubles into `out`. */
  f64s(out: Float64Array, n: number = out.length): Float64Array {
    this.#need(8 * n);
    for (let i = 0; i < n; i++) out[i] = this.#dv.getFloat64(this.p + 8 * i, true);
    this.p += 8 * n;
    return out;
  }

  /** The words at the position, `n` of them, into `out`; the position stays (a key, peeked). */
  peek(n: number, out: Uint32Array): Uint32Array {
    this.#need(4 * n);
    for (let i = 0; i < n; i++) out[i] = this.#dv.getUint32(this.p + 4 * i, true);
    return out;
  }

  /** The next `k` bytes, as a view (valid while the buffer is). */
  view(k: number): Uint8Array {
    this.#need(k);
    const v = this.#b.subarray(this.p, this.p + k);
    this.p += k;
    return v;
  }

  /** The next `k` bytes, as a copy. */
  bytes(k: number): Uint8Array {
    return this.view(k).slice();
  }

  /** A count (a u32) of items of at least `size` bytes each, no more than what is left holds. */
  count(size: number): number {
    const n = this.u32();
    if (n * size > this.left) throw this.bad("a count beyond the data");
    return n;
  }

  /** A value written by `ByteWriter.json`: its length, then its JSON text (UTF-8). */
  json(): unknown {
    const n = this.u32();
    const text = this.view(n);
    try {
      return JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(text));
    } catch {
      this.p -= n;
      throw this.bad("a header that is not JSON");
    }
  }

  /** Throws unless every byte was read. */
  end(): void {
    if (this.left !== 0) throw this.bad(`${this.left} bytes left over`);
  }
}

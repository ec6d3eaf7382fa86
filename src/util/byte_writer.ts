/**
 * Little-endian words, doubles and bytes into one growing buffer — the writing half of the
 * project's binary files (state files, packet statistics). Records can be length-prefixed
 * (`begin` … `end`), and the bytes so far taken as a piece (`cut`) so that a large file is
 * written a piece at a time.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { ByteWriter } from "./byte_writer.ts";
 * const w = new ByteWriter();
 * w.begin();
 * w.u8(7);
 * w.u32(0x01020304);
 * w.end();
 * deepEqual([...w.cut()], [5, 0, 0, 0, 7, 4, 3, 2, 1]);
 * ```
 *
 * @module
 */

/** Whether typed arrays are little-endian here (a bulk copy then keeps the files' order). */
export const LITTLE_ENDIAN = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;

/** A growing little-endian buffer. */
export class ByteWriter {
  #buf: Uint8Array;
  #dv: DataView;
  #n = 0;
  #rec = -1;

  /** A writer whose buffer starts at `capacity` bytes (it doubles as needed). */
  constructor(capacity = 1 << 16) {
    this.#buf = new Uint8Array(Math.max(16, capacity));
    this.#dv = new DataView(this.#buf.buffer);
  }

  /** Bytes written since the last `cut`. */
  get length(): number {
    return this.#n;
  }

  /**
   * Makes room for `k` more bytes and moves past them; returns where they start in
   * {@link ByteWriter.buffer} (the caller fills them, before any other write).
   */
  reserve(k: number): number {
    this.#room(k);
    const at = this.#n;
    this.#n += k;
    return at;
  }

  /** The buffer (replaced when it grows: read it after `reserve`). */
  get buffer(): Uint8Array {
    return this.#buf;
  }

  #room(k: number): void {
    if (this.#n + k <= this.#buf.length) return;
    let cap = this.#buf.length * 2;
    while (cap < this.#n + k) cap *= 2;
    const b = new Uint8Array(cap);
    b.set(this.#buf.subarray(0, this.#n));
    this.#buf = b;
    this.#dv = new DataView(b.buffer);
  }

  /** Starts a record: its length (a u32) is written by `end`. */
  begin(): void {
    this.#rec = this.reserve(4);
  }

  /** Ends the record `begin` started. */
  end(): void {
    this.#dv.setUint32(this.#rec, this.#n - this.#rec - 4, true);
    this.#rec = -1;
  }

  /** The bytes since the last cut, as a copy; the buffer starts again. */
  cut(): Uint8Array {
    const piece = this.#buf.slice(0, this.#n);
    this.#n = 0;
    return piece;
  }

  /** A byte. */
  u8(v: number): void {
    this.#room(1);
    this.#buf[this.#n++] = v;
  }

  /** A 32-bit unsigned word. */
  u32(v: number): void {
    this.#room(4);
    this.#dv.setUint32(this.#n, v, true);
    this.#n += 4;
  }

  /** A double. */
  f64(v: number): void {
    this.#room(8);
    this.#dv.setFloat64(this.#n, v, true);
    this.#n += 8;
  }

  /** The first `n` of `a` as words (a `Uint32Array`: one copy on a little-endian host). */
  u32s(a: ArrayLike<number>, n: number = a.length): void {
    this.#room(4 * n);
    if (LITTLE_ENDIAN && a instanceof Uint32Array) {
      this.#buf.set(new Uint8Array(a.buffer, a.byteOffset, 4 * n), this.#n);
    } else for (let i = 0; i < n; i++) this.#dv.setUint32(this.#n + 4 * i, a[i], true);
    this.#n += 4 * n;
  }

  /** The first `n` of `a` as doubles. */
  f64s(a: ArrayLike<number>, n: number = a.length): void {
    this.#room(8 * n);
    for (let i = 0; i < n; i++) this.#dv.setFloat64(this.#n + 8 * i, a[i], true);
    this.#n += 8 * n;
  }

  /** Bytes as they are. */
  bytes(b: Uint8Array): void {
    this.#room(b.length);
    this.#buf.set(b, this.#n);
    this.#n += b.length;
  }

  /** A value as JSON text, after its length (a u32). */
  json(x: unknown): void {
    const b = new TextEncoder().encode(JSON.stringify(x));
    this.u32(b.length);
    this.bytes(b);
  }
}

// Gzip inflation straight into the caller's buffers, on node:zlib's native handle (the one its
// streams drive). The stream interface allocates a fresh output buffer per megabyte and leaves
// it to the garbage collector, which V8 runs only after ~64 MB of such external memory: a
// decompressing thread then held 17–72 MB of dead buffers (measured), ~75 MB of peak RSS.
// Here output goes into buffers the caller provides (pooled ones, reused), nothing is left
// behind. Multi-member files are handled by zlib's gunzip mode; a truncated stream is detected
// by `finish` (zlib reports "unexpected end of file" then).
//
// The native handle and its `_writeState` are node:zlib internals (Deno's implementation of
// them). This module is the only user; if a Deno upgrade removes them, `Inflate` falls back to
// the public `gunzipSync` over the whole input at `finish` — correct, but holding the compressed
// input and inflating only at the end — and `tests/io/inflate_test.ts` fails loudly so that the
// fast path is repaired rather than silently lost.

import { zlib } from "../util/_zlib.ts";

interface ZlibHandle {
  writeSync(
    flush: number,
    input: Uint8Array,
    inOff: number,
    inLen: number,
    out: Uint8Array,
    outOff: number,
    outLen: number,
  ): void;
  close(): void;
  onerror: (message: string, errno: number) => void;
}

const EMPTY = new Uint8Array(0);

type Internals = { _handle?: Partial<ZlibHandle>; _writeState?: unknown };

/** Whether this runtime's node:zlib has the internals the fast path drives. */
export function hasZlibInternals(): boolean {
  const gz = zlib().createGunzip() as unknown as Internals;
  const ok = typeof gz._handle?.writeSync === "function" &&
    typeof gz._handle?.close === "function" && gz._writeState instanceof Uint32Array &&
    gz._writeState.length >= 2;
  gz._handle?.close?.();
  return ok;
}

let internals: boolean | undefined; // asked on the first Inflate (that loads node:zlib)

export class Inflate {
  /** Compressed bytes consumed so far. */
  consumed = 0;
  /** zlib's message once the data turned out corrupt (or truncated, after `finish`). */
  failure: string | undefined;
  readonly #gz: { _handle: ZlibHandle; _writeState: Uint32Array } | undefined;
  readonly #handle: ZlibHandle | undefined;
  // The fallback's input, inflated at `finish`.
  readonly #held: Uint8Array[] | undefined;
  // The output buffer being filled, kept from one `write` to the next: only full buffers leave
  // before `finish`, so a consumer sees few, full chunks whatever the input chunks were.
  #out: Uint8Array | null = null;
  #outOff = 0;

  /** `publicApi` forces the fallback (for tests). */
  constructor(publicApi = !(internals ??= hasZlibInternals())) {
    if (publicApi) {
      this.#held = [];
      return;
    }
    this.#gz = zlib().createGunzip() as unknown as {
      _handle: ZlibHandle;
      _writeState: Uint32Array;
    };
    this.#handle = this.#gz._handle;
    this.#handle.onerror = (message) => {
      this.failure ??= (message || "corrupt gzip data").split("\n")[0];
    };
  }

  /**
   * Inflates `input` into buffers from `take`, handing each full one on with
   * `emit(buffer, bytes)`; a partly filled buffer waits for the next call (or `finish`). Returns
   * false if the data is corrupt (see `failure`); everything inflated before it is emitted,
   * the last buffer even if it got no bytes (the caller may give it back).
   */
  write(
    input: Uint8Array,
    take: () => Uint8Array,
    emit: (buf: Uint8Array, n: number) => void,
  ): boolean {
    return this.#run(zlib().constants.Z_SYNC_FLUSH, input, take, emit);
  }

  /** Ends the input, emitting the last buffer: false if the stream was cut short (or corrupt). */
  finish(take: () => Uint8Array, emit: (buf: Uint8Array, n: number) => void): boolean {
    return this.#run(zlib().constants.Z_FINISH, EMPTY, take, emit);
  }

  /** Frees zlib's state. */
  close(): void {
    this.#handle?.close();
  }

  // The fallback: input held until `finish`, then inflated at once and emitted buffer by buffer.
  #runPublic(
    held: Uint8Array[],
    flush: number,
    input: Uint8Array,
    take: () => Uint8Array,
    emit: (buf: Uint8Array, n: number) => void,
  ): boolean {
    if (this.failure !== undefined) return false;
    if (input.length > 0) held.push(input.slice());
    this.consumed += input.length;
    if (flush !== zlib().constants.Z_FINISH) return true;
    let all: Uint8Array;
    try {
      const n = held.reduce((a, b) => a + b.length, 0);
      const joined = new Uint8Array(n);
      let o = 0;
      for (const h of held) (joined.set(h, o), o += h.length);
      held.length = 0;
      all = zlib().gunzipSync(joined);
    } catch (e) {
      this.failure = ((e as Error).message || "corrupt gzip data").split("\n")[0];
      emit(take(), 0);
      return false;
    }
    for (let at = 0;;) {
      const out = take();
      const n = Math.min(out.length, all.length - at);
      out.set(all.subarray(at, at + n));
      at += n;
      if (at === all.length) {
        emit(out, n);
        return true;
      }
      emit(out, n);
    }
  }

  #run(
    flush: number,
    input: Uint8Array,
    take: () => Uint8Array,
    emit: (buf: Uint8Array, n: number) => void,
  ): boolean {
    if (this.#held) return this.#runPublic(this.#held, flush, input, take, emit);
    if (this.failure !== undefined) return false;
    const state = this.#gz!._writeState;
    const handle = this.#handle!;
    let inOff = 0;
    let out = this.#out ?? take();
    let outOff = this.#outOff;
    for (;;) {
      const inLen = input.length - inOff;
      const outLen = out.length - outOff;
      handle.writeSync(flush, input, inOff, inLen, out, outOff, outLen);
      if (this.failure !== undefined) break;
      const availOut = state[0];
      const availIn = state[1];
      outOff += outLen - availOut;
      this.consumed += inLen - availIn;
      inOff += inLen - availIn;
      if (availOut !== 0) break; // room left: zlib had nothing more to give
      emit(out, outOff);
      out = take();
      outOff = 0;
    }
    if (flush === zlib().constants.Z_FINISH || this.failure !== undefined) {
      emit(out, outOff);
      this.#out = null;
      this.#outOff = 0;
    } else {
      this.#out = out;
      this.#outOff = outOff;
    }
    return this.failure === undefined;
  }
}

/**
 * Inflates a whole gzip file held in memory into one buffer (grown by doubling from four times
 * the input's size). Throws an Error with zlib's message if the data is corrupt or cut short.
 */
export function inflateAll(input: Uint8Array): Uint8Array {
  const inflate = new Inflate();
  let out = new Uint8Array(Math.max(1 << 16, input.length * 4));
  let len = 0;
  const take = () => {
    if (len === out.length) {
      const grown = new Uint8Array(out.length * 2);
      grown.set(out);
      out = grown;
    }
    return out.subarray(len);
  };
  const emit = (_buf: Uint8Array, n: number) => {
    len += n;
  };
  const ok = inflate.write(input, take, emit) && inflate.finish(take, emit);
  inflate.close();
  if (!ok) throw new Error(inflate.failure);
  return out.subarray(0, len);
}

/**
 * Gzip decompression as a TransformStream, backed by `node:zlib`.
 *
 * Why not `DecompressionStream("gzip")`: on this project's Deno it stops after the first member
 * of a multi-member file (pigz output, `cat a.gz b.gz`) with "failed to write whole buffer",
 * and it measured ~350 MB/s against ~550 MB/s for `node:zlib` (see BENCHMARKS.md).
 *
 * Output chunks are large (up to 1 MiB, one per input chunk) so the pcap stage downstream
 * sees few chunk boundaries. A corrupt or truncated stream does not error this stage: it closes
 * its output after the last good byte and keeps the error in {@link GunzipStream.error}, so the
 * next stage can raise it after every packet before it (see `PcapDecoderStream`).
 *
 * @module
 */

import { DataError } from "../errors.ts";
import type { Inflate } from "./_inflate.ts";

/** Options of {@link GunzipStream}. */
export interface GunzipStreamOptions {
  /** The input's name for error messages (default `"-"`). */
  name?: string;
  /**
   * Where output buffers come from: zlib inflates into 1 MiB buffers taken from the pool (their
   * consumer gives them back when done), and input chunks the pool lent go back to it once
   * inflated. Without a pool, each output chunk is a new 1 MiB buffer (or a view of one).
   */
  pool?: {
    takeChunk(size: number): Uint8Array;
    lent(x: Uint8Array): boolean;
    giveChunk(x: Uint8Array): void;
  };
}

/** The most bytes in one output chunk. */
const OUT_CHUNK = 1 << 20;

/**
 * Gzip (single or multi-member) decompressor stage.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { GunzipStream } from "./gunzip_stream.ts";
 * import { gzipSync } from "node:zlib";
 * const gz = new Uint8Array(gzipSync(new TextEncoder().encode("hello")));
 * const out = await new Response(ReadableStream.from([gz]).pipeThrough(new GunzipStream())).text();
 * ok(out === "hello");
 * ```
 */
export class GunzipStream extends TransformStream<Uint8Array, Uint8Array> {
  readonly #state: { error?: DataError };

  /** Creates a decompressor. */
  constructor(options: GunzipStreamOptions = {}) {
    const name = options.name ?? "-";
    const state: { error?: DataError } = {};
    // node:zlib is loaded on first use (below): it costs a thread ~9 MB and ~20 ms to start.
    let inflate!: Inflate;
    const pool = options.pool;
    let controller!: TransformStreamDefaultController<Uint8Array>;
    const take = () => pool ? pool.takeChunk(OUT_CHUNK) : new Uint8Array(OUT_CHUNK);
    const emit = (buf: Uint8Array, n: number) => {
      if (n > 0) controller.enqueue(buf.subarray(0, n));
      else if (pool) pool.giveChunk(buf);
    };
    const fail = () => {
      const msg = inflate.failure!;
      const what = /unexpected end/i.test(msg) ? "truncated gzip stream" : `gzip: ${msg}`;
      state.error = new DataError(`${what} (at compressed byte ${inflate.consumed})`, {
        file: name,
      });
      inflate.close();
      controller.terminate();
    };
    super(
      {
        async start(c) {
          controller = c;
          const { Inflate } = await import("./_inflate.ts");
          inflate = new Inflate();
        },
        transform(chunk) {
          if (state.error) return;
          const ok = inflate.write(chunk, take, emit);
          if (pool?.lent(chunk)) pool.giveChunk(chunk);
          if (!ok) fail();
        },
        flush() {
          if (state.error) return;
          if (inflate.finish(take, emit)) inflate.close();
          else fail();
        },
      },
      { highWaterMark: 1 },
      { highWaterMark: 0 },
    );
    this.#state = state;
  }

  /** The error that ended decompression early, if any. */
  get error(): DataError | undefined {
    return this.#state.error;
  }
}

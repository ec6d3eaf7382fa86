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

import { constants, createGunzip } from "node:zlib";
import { DataError } from "../errors.ts";

/** Options of {@link GunzipStream}. */
export interface GunzipStreamOptions {
  /** The input's name for error messages (default `"-"`). */
  name?: string;
  /**
   * Where output buffers come from: each output chunk is copied into a 1 MiB buffer taken from
   * the pool (its consumer gives it back when done), instead of leaving zlib's buffers to the
   * collector, and input chunks the pool lent go back to it once inflated. Without a pool,
   * zlib's own buffers are passed on.
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
 * import { GunzipStream } from "./gunzip_stream.ts";
 * import { gzipSync } from "node:zlib";
 * const gz = new Uint8Array(gzipSync(new TextEncoder().encode("hello")));
 * const out = await new Response(ReadableStream.from([gz]).pipeThrough(new GunzipStream())).text();
 * console.assert(out === "hello");
 * ```
 */
export class GunzipStream extends TransformStream<Uint8Array, Uint8Array> {
  readonly #state: { error?: DataError };

  /** Creates a decompressor. */
  constructor(options: GunzipStreamOptions = {}) {
    const name = options.name ?? "-";
    const state: { error?: DataError } = {};
    const gz = createGunzip({ chunkSize: OUT_CHUNK });
    const pool = options.pool;
    let parts: Uint8Array[] = [];
    let failure: Error | undefined;
    let consumed = 0;
    let inputSeen = 0;
    gz.on("data", (b: Uint8Array) => parts.push(b));
    gz.on("error", (e: Error) => failure ??= e);
    // Passes on zlib's output as it came (chunks of at most 1 MiB), or copied into pooled buffers.
    const emit = (controller: TransformStreamDefaultController<Uint8Array>) => {
      for (const p of parts) {
        if (pool === undefined) {
          controller.enqueue(new Uint8Array(p.buffer, p.byteOffset, p.byteLength));
          continue;
        }
        for (let at = 0; at < p.length; at += OUT_CHUNK) {
          const n = Math.min(OUT_CHUNK, p.length - at);
          const out = pool.takeChunk(OUT_CHUNK);
          out.set(p.subarray(at, at + n));
          controller.enqueue(out.subarray(0, n));
        }
      }
      parts = [];
    };
    const fail = (controller: TransformStreamDefaultController<Uint8Array>) => {
      const msg = (failure!.message || "corrupt gzip data").split("\n")[0];
      const what = /unexpected end/i.test(msg) ? "truncated gzip stream" : `gzip: ${msg}`;
      state.error = new DataError(`${what} (at compressed byte ${consumed})`, { file: name });
      controller.terminate();
    };
    super(
      {
        async transform(chunk, controller) {
          if (failure) return;
          inputSeen += chunk.length;
          await new Promise<void>((resolve) => gz.write(chunk, () => resolve()));
          if (pool?.lent(chunk)) pool.giveChunk(chunk);
          emit(controller);
          if (failure) fail(controller);
          else consumed = inputSeen;
        },
        async flush(controller) {
          if (failure) return;
          // Flush first: output zlib still holds would be dropped if finishing raises an error
          // (a truncated stream), and it is good data.
          await new Promise<void>((resolve) => gz.flush(constants.Z_SYNC_FLUSH, () => resolve()));
          emit(controller);
          await new Promise<void>((resolve) => {
            gz.once("end", resolve);
            gz.once("error", () => resolve());
            gz.end();
          });
          emit(controller);
          if (failure) fail(controller);
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

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

import { createGunzip } from "node:zlib";
import { DataError } from "../errors.ts";

/** Options of {@link GunzipStream}. */
export interface GunzipStreamOptions {
  /** The input's name for error messages (default `"-"`). */
  name?: string;
}

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
    const gz = createGunzip({ chunkSize: 1 << 20 });
    let parts: Uint8Array[] = [];
    let failure: Error | undefined;
    let consumed = 0;
    let inputSeen = 0;
    gz.on("data", (b: Uint8Array) => parts.push(b));
    gz.on("error", (e: Error) => failure ??= e);
    const take = (): Uint8Array | null => {
      if (parts.length === 0) return null;
      let out: Uint8Array;
      if (parts.length === 1) out = parts[0];
      else {
        let n = 0;
        for (const p of parts) n += p.length;
        out = new Uint8Array(n);
        n = 0;
        for (const p of parts) {
          out.set(p, n);
          n += p.length;
        }
      }
      parts = [];
      return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
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
          const out = take();
          if (out !== null) controller.enqueue(out);
          if (failure) fail(controller);
          else consumed = inputSeen;
        },
        async flush(controller) {
          if (failure) return;
          await new Promise<void>((resolve) => {
            gz.once("end", resolve);
            gz.once("error", () => resolve());
            gz.end();
          });
          const out = take();
          if (out !== null) controller.enqueue(out);
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

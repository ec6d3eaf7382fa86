/**
 * Several captures read in order as one stream of packet batches, with progress figures.
 * Every input is opened (and so checked) before the first packet is read.
 *
 * A data or I/O error in an input does not error the stream: the stream ends after the last
 * good batch and the error is kept in {@link CaptureSet.error}. Stages downstream therefore
 * finish normally — flushing everything that was already complete — and the caller reports
 * the error afterwards. (Erroring a Web Stream would drop whatever sits in its queues.)
 *
 * @module
 */

import { DarknetError } from "../errors.ts";
import { FileSource } from "../io/file_source.ts";
import { checkCaptureHeader } from "./check_header.ts";
import { type Capture, openCapture, type OpenCaptureOptions } from "./open_capture.ts";
import type { PacketBatch } from "../decode/packet_batch.ts";

/**
 * Inputs read as one packet stream.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { CaptureSet } from "./capture_set.ts";
 * const set = await CaptureSet.open(["testdata/pcap-formats/libtrace/100_packets.pcap"]);
 * let n = 0;
 * for await (const b of set.readable) n += b.length;
 * ok(n === 100 && set.error === undefined);
 * ```
 */
export class CaptureSet {
  /** The input names (paths), in order. */
  readonly paths: readonly string[];
  /** Sum of the input file sizes (undefined if stdin or a pipe is among them). */
  readonly totalBytes: number | undefined;
  /** The packets of all inputs. */
  readonly readable: ReadableStream<PacketBatch>;
  #error: DarknetError | undefined;
  #done = 0;
  #current: Capture | undefined;
  #index = -1;

  #stopped = false;

  private constructor(
    inputs: (string | FileSource)[],
    total: number | undefined,
    options: OpenCaptureOptions,
    late?: () => Promise<DarknetError | undefined>,
  ) {
    this.paths = inputs.map((x) => (typeof x === "string" ? x : x.name));
    this.totalBytes = total;
    const all = async function* (this: CaptureSet): AsyncGenerator<PacketBatch> {
      for (let i = 0; i < inputs.length && !this.#stopped; i++) {
        this.#index = i;
        try {
          const cap = await openCapture(inputs[i], options);
          this.#current = cap;
          const reader = cap.batches.getReader();
          for (;;) {
            const r = await reader.read();
            if (r.done) break;
            yield r.value;
            if (this.#stopped) {
              await reader.cancel();
              break;
            }
          }
          this.#done += cap.source.bytesRead;
          this.#current = undefined;
        } catch (e) {
          if (!(e instanceof DarknetError)) throw e;
          this.#error = e;
          return;
        }
      }
      this.#error ??= await late?.();
    };
    this.readable = ReadableStream.from(all.call(this));
  }

  /**
   * Opens every path and checks its header (stdin, `-`, is opened when reached). Throws an
   * `IoError` for a path that cannot be read and a `DataError` for one that is not a capture.
   */
  static async open(paths: string[], options: OpenCaptureOptions = {}): Promise<CaptureSet> {
    let total: number | undefined = 0;
    for (const p of paths) {
      if (p === "-") {
        total = undefined;
        continue;
      }
      const src = await FileSource.open(p);
      await src.readable.cancel();
      await checkCaptureHeader(p);
      if (src.size === undefined) total = undefined;
      else if (total !== undefined) total += src.size;
    }
    return new CaptureSet(paths, total, options);
  }

  /**
   * Reads one byte stream (e.g. a capture process's stdout) as a capture named `name`. `late`
   * is asked for an error once the stream has ended (e.g. "the capture process died").
   */
  static fromStream(
    name: string,
    stream: ReadableStream<Uint8Array>,
    late?: () => Promise<DarknetError | undefined>,
  ): CaptureSet {
    return new CaptureSet([FileSource.fromStream(name, stream)], undefined, {}, late);
  }

  /** Ends the stream after the batch being read (a graceful stop: SIGINT, SIGTERM). */
  stop(): void {
    this.#stopped = true;
  }

  /** The input error that ended the stream early, if any. */
  get error(): DarknetError | undefined {
    return this.#error;
  }

  /** Bytes read so far over all inputs (compressed bytes for gzip inputs). */
  get bytesRead(): number {
    return this.#done + (this.#current?.source.bytesRead ?? 0);
  }

  /** The input being read (path), if any. */
  get currentPath(): string | undefined {
    return this.#index >= 0 ? this.paths[this.#index] : undefined;
  }
}

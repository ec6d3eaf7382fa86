/**
 * A pull-based byte source over a file or stdin, reading large chunks into fresh buffers
 * (the buffers are handed downstream and never reused).
 *
 * A read error does not error the stream: the stream closes after the last good chunk and the
 * error is kept in {@link FileSource.error}, so that later stages can finish with everything
 * read before it and then report it.
 *
 * @module
 */

import { type DarknetError, ioError } from "../errors.ts";

/** Default read size: 1 MiB. */
export const DEFAULT_CHUNK_SIZE = 1 << 20;

interface Readable {
  read(p: Uint8Array): Promise<number | null>;
  close?(): void;
}

/**
 * An open input file (or stdin) exposed as a ReadableStream of byte chunks.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { FileSource } from "./file_source.ts";
 * const src = await FileSource.open("testdata/pcap-formats/libtrace/100_packets.pcap");
 * let n = 0;
 * for await (const chunk of src.readable) n += chunk.length;
 * ok(n === src.size && src.error === undefined);
 * ```
 */
export class FileSource {
  /** The name used in messages: the path, or `-` for stdin. */
  readonly name: string;
  /** File size in bytes, or undefined for stdin and pipes. */
  readonly size: number | undefined;
  /** The bytes, in chunks of at most `chunkSize`. */
  readonly readable: ReadableStream<Uint8Array>;
  /** Bytes asked for per read; may be changed between reads (e.g. smaller for gzip input). */
  chunkSize: number;
  #bytesRead = 0;
  #error: DarknetError | undefined;

  private constructor(
    name: string,
    file: Readable,
    size: number | undefined,
    chunkSize: number,
    pool?: { takeChunk(size: number): Uint8Array },
  ) {
    const sync = size !== undefined;
    this.chunkSize = chunkSize;
    this.name = name;
    this.size = size;
    let closed = false;
    const close = () => {
      if (!closed && file !== Deno.stdin) file.close?.();
      closed = true;
    };
    this.readable = new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        const want = this.chunkSize;
        const buf = pool ? pool.takeChunk(want) : new Uint8Array(want);
        let n: number | null;
        try {
          // Regular files are read synchronously: from the page cache that is ~2x faster than
          // an async read op, and there is nothing else for the event loop to do meanwhile.
          // Pipes and stdin are read asynchronously so signals and timers stay responsive.
          n = sync ? (file as Deno.FsFile).readSync(buf) : await file.read(buf);
        } catch (e) {
          this.#error = ioError(e, name);
          close();
          controller.close();
          return;
        }
        if (n === null) {
          close();
          controller.close();
          return;
        }
        this.#bytesRead += n;
        controller.enqueue(n === want ? buf : buf.subarray(0, n));
      },
      cancel: close,
    }, { highWaterMark: 2 }); // read ahead while the previous chunk is parsed
  }

  /** Opens `path` (`-` is stdin). Throws an `IoError` naming the file if it cannot be read. */
  static async open(
    path: string,
    chunkSize = DEFAULT_CHUNK_SIZE,
    pool?: { takeChunk(size: number): Uint8Array },
  ): Promise<FileSource> {
    if (path === "-") return new FileSource("-", Deno.stdin, undefined, chunkSize, pool);
    let file: Deno.FsFile;
    try {
      file = await Deno.open(path, { read: true });
      const st = await file.stat();
      if (st.isDirectory) {
        file.close();
        throw new Deno.errors.IsADirectory();
      }
      return new FileSource(path, file, st.isFile ? st.size : undefined, chunkSize, pool);
    } catch (e) {
      throw ioError(e, path);
    }
  }

  /**
   * Wraps a byte stream (e.g. a capture process's stdout) as a source named `name`. Chunks are
   * passed on as they come (a live capture delivers each packet at once).
   */
  static fromStream(name: string, stream: ReadableStream<Uint8Array>): FileSource {
    const reader = stream.getReader();
    let pending: Uint8Array | null = null;
    const file: Readable = {
      async read(p: Uint8Array): Promise<number | null> {
        if (pending === null) {
          const r = await reader.read();
          if (r.done) return null;
          pending = r.value;
        }
        const n = Math.min(p.length, pending.length);
        p.set(pending.subarray(0, n));
        pending = n === pending.length ? null : pending.subarray(n);
        return n;
      },
      close() {
        reader.cancel().catch(() => {});
      },
    };
    return new FileSource(name, file, undefined, 1 << 16);
  }

  /** Bytes read so far (compressed bytes for a gzip file): for progress reports. */
  get bytesRead(): number {
    return this.#bytesRead;
  }

  /** The read error that ended the stream early, if any. */
  get error(): DarknetError | undefined {
    return this.#error;
  }
}

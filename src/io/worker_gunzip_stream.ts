/**
 * Gzip decompression on the other core: like {@link GunzipStream} (same `node:zlib` decoder,
 * multi-member files, the same error handling — a corrupt or truncated stream closes the output
 * after the last good byte and keeps the error in `error`), but the inflating runs in a Worker,
 * so decoding packets on this thread overlaps with it. Chunks are transferred, not copied.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { WorkerGunzipStream } from "./worker_gunzip_stream.ts";
 * import { gzipSync } from "node:zlib";
 * const gz = new Uint8Array(gzipSync(new TextEncoder().encode("hello")));
 * const w = new WorkerGunzipStream();
 * const out = await new Response(ReadableStream.from([gz]).pipeThrough(w)).text();
 * ok(out === "hello" && w.error === undefined);
 * ```
 * @module
 */

import { DataError } from "../errors.ts";

/** Options of {@link WorkerGunzipStream}. */
export interface WorkerGunzipStreamOptions {
  /** The input's name for error messages (default `"-"`). */
  name?: string;
  /** Compressed chunks in flight at most (default 4). */
  window?: number;
}

/** A gzip decompressor running in a Worker, as a readable/writable pair. */
export class WorkerGunzipStream {
  /** Decompressed bytes. */
  readonly readable: ReadableStream<Uint8Array>;
  /** Compressed bytes. */
  readonly writable: WritableStream<Uint8Array>;
  #error: DataError | undefined;

  /** Starts the worker. */
  constructor(options: WorkerGunzipStreamOptions = {}) {
    const name = options.name ?? "-";
    const window = options.window ?? 4;
    const worker = new Worker(new URL("./_gunzip_worker.ts", import.meta.url), { type: "module" });
    let out!: ReadableStreamDefaultController<Uint8Array>;
    let consumed = 0;
    let nextId = 0;
    const acks = new Map<number, () => void>();
    let inFlight = 0;
    let wake: (() => void) | null = null;
    let ended: (() => void) | null = null;
    let failed = false;
    const fail = (failure: string) => {
      if (failed) return;
      failed = true;
      const what = /unexpected end/i.test(failure) ? "truncated gzip stream" : `gzip: ${failure}`;
      this.#error = new DataError(`${what} (at compressed byte ${consumed})`, { file: name });
    };
    worker.onmessage = (ev: MessageEvent) => {
      const m = ev.data as { type: string; chunk?: Uint8Array; id?: number; failure?: string };
      if (m.type === "data") {
        if (!failed) out.enqueue(m.chunk!);
      } else if (m.type === "ack") {
        if (m.failure) {
          fail(m.failure);
          finish();
        }
        acks.get(m.id!)?.();
        acks.delete(m.id!);
        inFlight--;
        wake?.();
        wake = null;
      } else if (m.type === "end") {
        if (m.failure) fail(m.failure);
        ended?.();
      }
    };
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      wake?.();
      ended?.();
      worker.terminate();
      try {
        out.close();
      } catch { /* already closed */ }
    };
    this.readable = new ReadableStream<Uint8Array>({
      start(c) {
        out = c;
      },
      // The consumer took a chunk: a writer waiting for room may go on.
      pull() {
        wake?.();
        wake = null;
      },
      cancel: () => finish(),
    }, { highWaterMark: 4 });
    this.writable = new WritableStream<Uint8Array>({
      async write(chunk) {
        if (failed) return;
        // Backpressure both ways: at most `window` compressed chunks in the worker, and no
        // more input while the decompressed output waits unread (else a slow consumer would
        // let the whole decompressed file pile up in memory).
        while (inFlight >= window || (out.desiredSize ?? 1) <= 0) {
          await new Promise<void>((r) => wake = r);
        }
        const id = nextId++;
        inFlight++;
        const copy = chunk.byteOffset === 0 && chunk.byteLength === chunk.buffer.byteLength
          ? chunk
          : chunk.slice();
        const done = new Promise<void>((r) => acks.set(id, r));
        const size = copy.byteLength; // before the transfer detaches it
        worker.postMessage({ type: "data", chunk: copy, id }, [copy.buffer as ArrayBuffer]);
        done.then(() => {
          if (!failed) consumed += size;
        });
      },
      async close() {
        if (failed) return finish();
        await new Promise<void>((r) => {
          ended = r;
          worker.postMessage({ type: "end" });
        });
        finish();
      },
      abort() {
        finish();
      },
    });
  }

  /** The error that ended decompression early, if any. */
  get error(): DataError | undefined {
    return this.#error;
  }
}

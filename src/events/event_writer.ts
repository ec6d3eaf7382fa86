/**
 * Writes events to a file as they end: a JSON array (Merit's default) or, with `ndjson`, one
 * object per line. Output is buffered and flushed in 64 KiB blocks, and `flush()` pushes
 * everything to the file (for `tail -f`).
 *
 * The file on disk is valid after every flush, whatever happens next: each flush writes its
 * events and the array's closing `]` after them, and the next flush writes over that `]`. If a
 * write fails (disk full, quota), the closing bytes go back where the last flush put them —
 * space the file already has — and the file is cut there: it holds every event flushed before
 * the failure, and the error names the file. (A pipe or terminal cannot be rewritten: there the
 * array is closed by {@link EventWriter.close}, which the CLI always calls.)
 *
 * @module
 */

import { ioError } from "../errors.ts";
import type { DarknetEvent } from "./darknet_event.ts";
import { EventBytes } from "./_event_bytes.ts";

/** Options of {@link EventWriter.create}. */
export interface EventWriterOptions {
  /** One JSON object per line instead of a JSON array. */
  ndjson?: boolean;
}

const BLOCK = 1 << 16;
const EMPTY = new Uint8Array(0);
const CLOSE_EMPTY = new TextEncoder().encode("]\n"); // after "["
const CLOSE = new TextEncoder().encode("\n]\n"); // after the last event

/**
 * An event output file.
 *
 * @example
 * ```ts
 * import { EventWriter } from "./event_writer.ts";
 * import { DarknetEvent } from "./darknet_event.ts";
 * const path = Deno.makeTempFileSync();
 * const w = await EventWriter.create(path, { ndjson: false });
 * w.write(new DarknetEvent());
 * w.close();
 * console.assert(JSON.parse(Deno.readTextFileSync(path)).length === 1);
 * ```
 */
export class EventWriter {
  /** The file written. */
  readonly path: string;
  /** One JSON object per line instead of an array. */
  readonly ndjson: boolean;
  #file: Deno.FsFile;
  #out = new EventBytes(BLOCK + 4096);
  #count = 0;
  #saved = 0;
  #closed = false;
  #failed = false;
  // Seekable files: where the bytes after the last flushed event start (the closing bytes
  // written there, `#tail`, are overwritten by the next flush). -1 for pipes and terminals.
  #end = -1;
  #tail: Uint8Array = EMPTY;

  private constructor(path: string, file: Deno.FsFile, ndjson: boolean) {
    this.path = path;
    this.#file = file;
    this.ndjson = ndjson;
    if (!ndjson) this.#out.ascii("[");
    try {
      this.#end = file.seekSync(0, Deno.SeekMode.Current);
    } catch {
      this.#end = -1; // not seekable
    }
    if (this.#end >= 0) this.flush(); // an empty array on disk from the start
  }

  /** Creates (truncates) the file. Throws an `IoError` naming it if that fails. */
  static async create(path: string, o: EventWriterOptions = {}): Promise<EventWriter> {
    let f: Deno.FsFile;
    try {
      f = await Deno.open(path, { write: true, create: true, truncate: true });
    } catch (e) {
      throw ioError(e, path);
    }
    try {
      return new EventWriter(path, f, o.ndjson ?? false);
    } catch (e) {
      f.close();
      throw e;
    }
  }

  /** Events written so far: in the file, or buffered for it. */
  get count(): number {
    return this.#count;
  }

  /** Events in the file (after a failed write, those it kept). */
  get saved(): number {
    return this.#saved;
  }

  /** Appends one event. */
  write(e: DarknetEvent): void {
    if (this.#failed) throw ioError(new Error("an earlier write failed"), this.path);
    const out = this.#out;
    if (!this.ndjson) out.ascii(this.#count === 0 ? "\n" : ",\n");
    out.event(e);
    if (this.ndjson) out.ascii("\n");
    this.#count++;
    if (out.len >= BLOCK) this.flush();
  }

  /** Writes everything buffered to the file. */
  flush(): void {
    if (this.#failed) return;
    const out = this.#out;
    if (this.#end < 0) { // a pipe: append only
      if (out.len === 0) return;
      const bytes = out.buf.subarray(0, out.len);
      out.len = 0;
      this.#writeAll(bytes);
      this.#saved = this.#count;
      return;
    }
    if (out.len === 0 && this.#tail.length > 0) return;
    const n = out.len;
    const tail = this.ndjson ? EMPTY : this.#count === 0 ? CLOSE_EMPTY : CLOSE;
    out.raw(tail);
    const bytes = out.buf.subarray(0, out.len);
    out.len = 0;
    try {
      this.#file.seekSync(this.#end, Deno.SeekMode.Start);
      this.#writeAll(bytes);
    } catch (e) {
      this.#failed = true;
      this.#cutBack();
      throw e;
    }
    this.#end += n;
    this.#tail = tail;
    this.#saved = this.#count;
  }

  #writeAll(bytes: Uint8Array): void {
    try {
      let o = 0;
      while (o < bytes.length) o += this.#file.writeSync(bytes.subarray(o));
    } catch (e) {
      throw ioError(e, this.path);
    }
  }

  // After a failed write: the last flush's closing bytes again, where they were, and nothing
  // after them.
  #cutBack(): void {
    try {
      this.#file.seekSync(this.#end, Deno.SeekMode.Start);
      let o = 0;
      while (o < this.#tail.length) o += this.#file.writeSync(this.#tail.subarray(o));
      this.#file.truncateSync(this.#end + this.#tail.length);
    } catch { /* nothing more can be done; the error being thrown names the file */ }
  }

  /**
   * Flushes (the array is closed on disk by every flush of a regular file; for a pipe it is
   * closed here) and closes the file. Safe to call twice.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      if (!this.ndjson && this.#end < 0) this.#out.ascii(this.#count === 0 ? "]\n" : "\n]\n");
      this.flush();
    } finally {
      this.#file.close();
    }
  }
}

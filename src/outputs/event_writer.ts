/**
 * Writes events to a file as they end, in any {@link EventFormat} (a JSON array, Merit's
 * default; NDJSON; see `formats.ts`). Output is buffered and flushed in 64 KiB blocks, and
 * `flush()` pushes everything to the file (for `tail -f`).
 *
 * The file on disk is valid after every flush, whatever happens next: each flush writes its
 * events and the format's closing bytes (the array's `]`) after them, and the next flush writes
 * over those. If a
 * write fails (disk full, quota), the closing bytes go back where the last flush put them —
 * space the file already has — and the file is cut there: it holds every event flushed before
 * the failure, and the error names the file. (A pipe or terminal cannot be rewritten: there the
 * array is closed by {@link EventWriter.close}, which the CLI always calls.) A process killed
 * outright (`kill -9`, power loss) can stop inside one write: Linux copies a write page by page
 * and a fatal signal ends it between pages, so the file may then end inside an event; the
 * readers (`count`, `timeseries`) say so and name the byte.
 *
 * An existing file with content is not truncated until the run has something to write (its
 * first flush with events, or {@link EventWriter.close}): a run that fails before that leaves
 * it as it was. `-` and `/dev/stdout` write to standard output.
 *
 * @module
 */

import { ioError } from "../errors.ts";
import type { DarknetEvent } from "../model/darknet_event.ts";
import { EventBuffer } from "./event_buffer.ts";
import type { EventEncoder, EventFormat } from "./event_encoder.ts";
import { jsonArray } from "./json_array.ts";

/** Options of {@link EventWriter.create}. */
export interface EventWriterOptions {
  /** The output format. @default jsonArray (Merit's JSON array) */
  format?: EventFormat;
}

const BLOCK = 1 << 16;
/** Paths that mean standard output (Deno refuses to open `/dev/stdout` without --allow-all). */
const STDOUT_PATHS = new Set(["-", "/dev/stdout", "/dev/fd/1", "/proc/self/fd/1"]);

/** What the writer writes to: a file, or standard output. */
type Sink =
  & Pick<Deno.FsFile, "writeSync" | "close">
  & Partial<Pick<Deno.FsFile, "seekSync" | "truncateSync">>;

/**
 * Whether `path` names standard output for the writers (`-`, `/dev/stdout`).
 *
 * @example
 * ```ts
 * import { isStdout } from "./event_writer.ts";
 * import { ok } from "node:assert/strict";
 * ok(isStdout("-") && isStdout("/dev/stdout") && !isStdout("out.json"));
 * ```
 */
export function isStdout(path: string): boolean {
  return STDOUT_PATHS.has(path);
}
const EMPTY = new Uint8Array(0);

/**
 * An event output file.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { EventWriter } from "./event_writer.ts";
 * import { DarknetEvent } from "../model/darknet_event.ts";
 * const path = Deno.makeTempFileSync();
 * const w = await EventWriter.create(path);
 * w.write(new DarknetEvent());
 * w.close();
 * ok(JSON.parse(Deno.readTextFileSync(path)).length === 1);
 * ```
 */
export class EventWriter {
  /** The file written. */
  readonly path: string;
  /** The output format. */
  readonly format: EventFormat;
  readonly #enc: EventEncoder;
  // Undefined until the first write to an existing file with content (see the module doc).
  #file: Sink | undefined;
  #out = new EventBuffer(BLOCK + 4096);
  #count = 0;
  #saved = 0;
  #closed = false;
  #failed = false;
  // Seekable files: where the bytes after the last flushed event start (the closing bytes
  // written there, `#tail`, are overwritten by the next flush). -1 for pipes and terminals.
  #end = -1;
  #tail: Uint8Array = EMPTY;

  private constructor(path: string, file: Sink | undefined, format: EventFormat) {
    this.path = path;
    this.format = format;
    this.#enc = format.create();
    this.#enc.open(this.#out);
    if (file) this.#attach(file);
  }

  #attach(file: Sink): void {
    this.#file = file;
    try {
      this.#end = file.seekSync ? file.seekSync(0, Deno.SeekMode.Current) : -1;
    } catch {
      this.#end = -1; // not seekable
    }
    if (this.#end >= 0) this.flush(); // an empty array on disk from the start
  }

  /**
   * Opens the output: standard output for `-` or `/dev/stdout`; a new or empty file at once
   * (holding an empty array); an existing file with content only when the first events are
   * flushed. Throws an `IoError` naming the path if it cannot be written.
   */
  static async create(path: string, o: EventWriterOptions = {}): Promise<EventWriter> {
    const format = o.format ?? jsonArray;
    await format.load?.();
    if (isStdout(path)) return new EventWriter(path, stdoutSink(), format);
    let keep = false;
    try {
      const st = await Deno.stat(path);
      if (st.isDirectory) throw new Deno.errors.IsADirectory("is a directory");
      keep = st.isFile && st.size > 0;
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw ioError(e, path);
    }
    if (keep) {
      // Writable? Opened without truncating and closed again: the content stays until the run
      // has something to write.
      try {
        (await Deno.open(path, { write: true })).close();
      } catch (e) {
        throw ioError(e, path);
      }
      return new EventWriter(path, undefined, format);
    }
    const f = await openTruncating(path);
    try {
      return new EventWriter(path, f, format);
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
    this.#enc.add(out, e);
    this.#count++;
    if (out.len >= BLOCK) this.flush();
  }

  /** Writes everything buffered to the file. */
  flush(): void {
    if (this.#failed) return;
    if (this.#file === undefined) {
      if (this.#count === 0 && !this.#closed) return; // nothing to write yet: the file is kept
      this.#attach(openTruncatingSync(this.path));
      return; // #attach flushed
    }
    const out = this.#out;
    if (this.#end < 0) { // a pipe: append only
      if (out.len === 0) return;
      const bytes = out.buf.subarray(0, out.len);
      out.len = 0;
      this.#writeAll(bytes);
      this.#saved = this.#count;
      return;
    }
    // Nothing new since the last flush (a format may hold events back: Parquet's row group).
    if (out.len === 0 && this.#tail.length > 0 && this.#count === this.#saved) return;
    const n = out.len;
    const tail = this.#enc.closing();
    out.raw(tail);
    const bytes = out.buf.subarray(0, out.len);
    out.len = 0;
    try {
      this.#file.seekSync!(this.#end, Deno.SeekMode.Start);
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
      while (o < bytes.length) o += this.#file!.writeSync(bytes.subarray(o));
    } catch (e) {
      throw ioError(e, this.path);
    }
  }

  // After a failed write: the last flush's closing bytes again, where they were, and nothing
  // after them.
  #cutBack(): void {
    try {
      const f = this.#file!;
      f.seekSync!(this.#end, Deno.SeekMode.Start);
      let o = 0;
      while (o < this.#tail.length) o += f.writeSync(this.#tail.subarray(o));
      f.truncateSync!(this.#end + this.#tail.length);
    } catch { /* nothing more can be done; the error being thrown names the file */ }
  }

  /**
   * Flushes (the closing bytes are on disk after every flush of a regular file; for a pipe they
   * are written here) and closes the file. Safe to call twice.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      if (this.#file === undefined && !this.#failed) this.flush(); // opens it: the run's result
      if (this.#end < 0) this.#out.raw(this.#enc.closing());
      this.flush();
    } finally {
      this.#file?.close();
    }
  }
}

function openTruncatingSync(path: string): Deno.FsFile {
  try {
    return Deno.openSync(path, { write: true, create: true, truncate: true });
  } catch (e) {
    throw ioError(e, path);
  }
}

async function openTruncating(path: string): Promise<Deno.FsFile> {
  try {
    return await Deno.open(path, { write: true, create: true, truncate: true });
  } catch (e) {
    throw ioError(e, path);
  }
}

// Standard output, left open when the writer closes (the summary and other writers follow).
function stdoutSink(): Sink {
  return { writeSync: (b: Uint8Array) => Deno.stdout.writeSync(b), close: () => {} };
}

/**
 * Writes events to a file as they end: a JSON array (Merit's default) or, with `ndjson`, one
 * object per line. Output is buffered and flushed in 64 KiB blocks, and `flush()` pushes
 * everything to the file (for `tail -f`). The array is opened with `[` before the first event
 * and closed by {@link EventWriter.close}, which the CLI always calls — also when the run fails
 * part-way — so the file is valid JSON holding every event finished before the failure.
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
  #closed = false;

  private constructor(path: string, file: Deno.FsFile, ndjson: boolean) {
    this.path = path;
    this.#file = file;
    this.ndjson = ndjson;
    if (!ndjson) this.#out.ascii("[");
  }

  /** Creates (truncates) the file. Throws an `IoError` naming it if that fails. */
  static async create(path: string, o: EventWriterOptions = {}): Promise<EventWriter> {
    try {
      const f = await Deno.open(path, { write: true, create: true, truncate: true });
      return new EventWriter(path, f, o.ndjson ?? false);
    } catch (e) {
      throw ioError(e, path);
    }
  }

  /** Events written so far. */
  get count(): number {
    return this.#count;
  }

  /** Appends one event. */
  write(e: DarknetEvent): void {
    const out = this.#out;
    if (!this.ndjson) out.ascii(this.#count === 0 ? "\n" : ",\n");
    out.event(e);
    if (this.ndjson) out.ascii("\n");
    this.#count++;
    if (out.len >= BLOCK) this.flush();
  }

  /** Writes everything buffered to the file. */
  flush(): void {
    const out = this.#out;
    if (out.len === 0) return;
    const bytes = out.buf.subarray(0, out.len);
    out.len = 0;
    try {
      let o = 0;
      while (o < bytes.length) o += this.#file.writeSync(bytes.subarray(o));
    } catch (e) {
      throw ioError(e, this.path);
    }
  }

  /** Closes the array (if any), flushes and closes the file. Safe to call twice. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      if (!this.ndjson) this.#out.ascii(this.#count === 0 ? "]\n" : "\n]\n");
      this.flush();
    } finally {
      this.#file.close();
    }
  }
}

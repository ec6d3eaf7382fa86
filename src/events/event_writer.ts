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
import { type DarknetEvent, eventJsonText } from "./darknet_event.ts";

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
  #parts: string[] = [];
  #pending = 0;
  #count = 0;
  #closed = false;
  #enc = new TextEncoder();

  private constructor(path: string, file: Deno.FsFile, ndjson: boolean) {
    this.path = path;
    this.#file = file;
    this.ndjson = ndjson;
    if (!ndjson) this.#push("[");
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

  #push(s: string): void {
    this.#parts.push(s);
    this.#pending += s.length;
    if (this.#pending >= BLOCK) this.flush();
  }

  /** Appends one event. */
  write(e: DarknetEvent): void {
    const json = eventJsonText(e);
    if (this.ndjson) this.#push(json + "\n");
    else this.#push((this.#count === 0 ? "\n" : ",\n") + json);
    this.#count++;
  }

  /** Writes everything buffered to the file. */
  flush(): void {
    if (this.#parts.length === 0) return;
    const bytes = this.#enc.encode(this.#parts.join(""));
    this.#parts = [];
    this.#pending = 0;
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
      if (!this.ndjson) this.#push(this.#count === 0 ? "]\n" : "\n]\n");
      this.flush();
    } finally {
      this.#file.close();
    }
  }
}

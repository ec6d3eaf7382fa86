/**
 * How events become bytes in a file: an {@link EventFormat} per output format (named by
 * `parse --format`), each making one {@link EventEncoder} per file. `EventWriter` and the sinks
 * (rotation, batch mode) take any format; they own the file, its flushing and its safety (the
 * closing bytes written after every flush and overwritten by the next, so the file is complete
 * after each one). Formats are listed in `formats.ts`.
 *
 * @module
 */

import type { DarknetEvent } from "../model/darknet_event.ts";
import type { EventBuffer } from "./event_buffer.ts";

/**
 * The encoding of one file's events.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import type { EventEncoder, EventFormat } from "./event_encoder.ts";
 * // One source address per line.
 * const sources: EventFormat = {
 *   name: "sources",
 *   description: "one source address per line",
 *   create: (): EventEncoder => ({
 *     open: () => {},
 *     add: (out, e) => out.ascii(`${e.sourceIP}\n`),
 *     closing: () => new Uint8Array(0),
 *   }),
 * };
 * equal(sources.name, "sources");
 * ```
 */
export interface EventEncoder {
  /** Writes the bytes a file starts with (before any event). */
  open(out: EventBuffer): void;
  /** Encodes one event after those before it (separators included). */
  add(out: EventBuffer, e: DarknetEvent): void;
  /**
   * The bytes that make a complete file of everything added so far (JSON: `]`). Written after
   * each flush and overwritten by the next one; appended once at the end of a pipe.
   */
  closing(): Uint8Array;
}

/** An output format. */
export interface EventFormat {
  /** The `--format` value. */
  readonly name: string;
  /** One line for `--help`. */
  readonly description: string;
  /** File name extension of rotated and batch files. @default {"json"} */
  readonly extension?: string;
  /**
   * Whether events wait in the encoder (Parquet's row group) and every flush re-encodes them
   * with the closing bytes: such a format's files are flushed when their bytes grow and at the
   * end, not after every chunk of events (a live run's newest events reach the file later).
   */
  readonly holdsBack?: boolean;
  /**
   * Rotated and batch files go into Hive partitions of their window's start,
   * `date=YYYY-MM-DD/hour=HH/` (query engines read the folders as columns).
   */
  readonly hive?: boolean;
  /** Loads what `create` needs (a library only some runs use), before the first `create`. */
  load?(): Promise<void>;
  /** A fresh encoder, for one file. */
  create(): EventEncoder;
}

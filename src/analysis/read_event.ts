/**
 * The records `readEvents` yields and the options it takes, apart so that the readers of
 * each file kind (JSON in event_reader.ts, Parquet in _parquet_events.ts) share them without
 * importing each other.
 *
 * @module
 */

import type { DataError } from "../errors.ts";
import type { EventJson } from "../model/darknet_event.ts";

/** One event read from a file. */
export interface ReadEvent {
  /** The event's fields (Merit's keys). */
  event: EventJson;
  /** The file it came from. */
  file: string;
  /** The 1-based line its object starts on. */
  line: number;
}

/** Options of `readEvents`. */
export interface ReadEventsOptions {
  /** Pass over events that fail the checks (told to `onInvalid`) instead of stopping. @default false */
  skipInvalid?: boolean;
  /** Told about each event passed over with `skipInvalid`. */
  onInvalid?: (problem: DataError) => void;
  /** The largest event accepted, in bytes of JSON. @default 67108864 */
  maxEventBuffer?: number;
  /**
   * Why an object is not a usable record, or undefined (for files of other records: DoS
   * vectors, per-source roll-ups). @default checkEvent
   */
  check?: (v: unknown) => string | undefined;
}

/**
 * The output formats `parse --format` offers. To add one: write its file (an
 * {@link EventFormat}) and list it here.
 *
 * @module
 */

import type { EventFormat } from "./event_encoder.ts";
import { jsonArray } from "./json_array.ts";
import { ndjson } from "./ndjson.ts";
import { parquet } from "./parquet.ts";

/**
 * Every output format, by `--format` name (the first is the default).
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { EVENT_FORMATS } from "./formats.ts";
 * deepEqual(EVENT_FORMATS.map((f) => f.name), ["json", "ndjson", "parquet"]);
 * ```
 */
export const EVENT_FORMATS: readonly EventFormat[] = [
  jsonArray,
  ndjson,
  parquet,
];

/**
 * The format named `name`, or undefined.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { eventFormat } from "./formats.ts";
 * equal(eventFormat("ndjson")?.name, "ndjson");
 * equal(eventFormat("xml"), undefined);
 * ```
 */
export function eventFormat(name: string): EventFormat | undefined {
  return EVENT_FORMATS.find((f) => f.name === name);
}

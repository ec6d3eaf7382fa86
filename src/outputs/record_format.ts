/**
 * Records of the other analyses (`--dosout`'s attack vectors, `--sourceout`'s sources) written as
 * the event files are: a JSON array, one object per line for NDJSON, or a Parquet table whose
 * columns the analysis declares ({@link RecordColumn}), through the same `EventWriter` (a valid
 * file after every flush; pipes; atomic failure handling). A record is any JSON-able object; the
 * writer hands it to the encoder as it was given.
 *
 * @module
 */

import type { EventEncoder, EventFormat } from "./event_encoder.ts";
import { type ColumnBuilder, type Element, element, parquet, tableEncoder } from "./parquet.ts";

/**
 * One column of an analysis's records in a Parquet file: the record's key (its name) and the
 * kind of value — `text`, `int` (INT64), `double`, `boolean`, `time` (RFC 3339 text with
 * nanoseconds → INT64 TIMESTAMP(NANOS, UTC)) or `json` (an array or object → its JSON text).
 */
export interface RecordColumn {
  /** The record's key. */
  readonly key: string;
  /** The kind of value. */
  readonly kind: "text" | "int" | "double" | "boolean" | "time" | "json";
  /** Whether the value may be null (e.g. an IPv6 victim's `EstimatedRate`). @default false */
  readonly nullable?: boolean;
}

const te = new TextEncoder();
const CLOSE_EMPTY = te.encode("]\n");
const CLOSE = te.encode("\n]\n");
const NONE = new Uint8Array(0);

/**
 * The record format that goes with an event format: NDJSON for `ndjson`, Parquet with `columns`
 * for `parquet`, else a JSON array.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { recordFormat } from "./record_format.ts";
 * import { ndjson } from "./ndjson.ts";
 * import { EventWriter } from "./event_writer.ts";
 * const path = `${Deno.makeTempDirSync()}/r.ndjson`;
 * const w = await EventWriter.create(path, { format: recordFormat(ndjson) });
 * w.write({ Victim: "192.0.2.1", Packets: 30 } as never);
 * w.close();
 * equal(Deno.readTextFileSync(path), '{"Victim":"192.0.2.1","Packets":30}\n');
 * ```
 */
export function recordFormat(events: EventFormat, columns?: readonly RecordColumn[]): EventFormat {
  if (events.name === "parquet") {
    if (!columns) throw new Error("Parquet records need their columns");
    return parquetRecords(columns);
  }
  const lines = events.name === "ndjson";
  return {
    name: `${lines ? "ndjson" : "json"}-records`,
    description: "records of an analysis, as the events' format",
    create(): EventEncoder {
      let count = 0;
      return {
        open: (out) => {
          if (!lines) out.ascii("[");
        },
        add(out, r) {
          const text = JSON.stringify(r);
          if (lines) out.text(`${text}\n`);
          else {
            out.ascii(count === 0 ? "\n" : ",\n");
            out.text(text);
          }
          count++;
        },
        closing: () => lines ? NONE : count === 0 ? CLOSE_EMPTY : CLOSE,
      };
    },
  };
}

const KINDS = {
  text: "string",
  int: "count",
  double: "number",
  boolean: "boolean",
  time: "time",
  json: "tags",
} as const;

/** Nanoseconds since the epoch of RFC 3339 UTC text with up to nine fraction digits. */
function nanos(text: string): bigint {
  const dot = text.indexOf(".");
  const whole = dot < 0 ? text.replace(/Z$/, "") : text.slice(0, dot);
  const frac = dot < 0 ? "" : text.slice(dot + 1).replace(/Z$/, "");
  const ms = Date.parse(`${whole}Z`);
  return BigInt(ms / 1000) * 1_000_000_000n + BigInt(frac.padEnd(9, "0").slice(0, 9));
}

// A column's values from records, typed as its kind.
function column(c: RecordColumn): ColumnBuilder<Record<string, unknown>> {
  const { key } = c;
  const value = c.kind === "int"
    ? (v: unknown) => BigInt(v as number)
    : c.kind === "time"
    ? (v: unknown) => nanos(v as string)
    : (v: unknown) => v; // json: the writer encodes arrays and objects itself
  let a: unknown[] = [];
  return {
    name: key,
    reset: () => (a = []),
    push: (r) => {
      const v = r[key];
      a.push(v === null || v === undefined ? null : value(v));
    },
    data: () => a,
  };
}

/** Parquet tables of records with the given columns (a record's other keys are left out). */
function parquetRecords(columns: readonly RecordColumn[]): EventFormat {
  const leaves: Element[] = columns.map((c) => ({
    ...element(c.key, KINDS[c.kind]),
    repetition_type: c.nullable ? "OPTIONAL" : "REQUIRED",
  }));
  const schema = [{ name: "root", num_children: leaves.length }, ...leaves];
  return {
    ...parquet,
    name: "parquet-records",
    description: "records of an analysis, as Parquet",
    create: () => tableEncoder(schema, columns.map(column)),
  };
}

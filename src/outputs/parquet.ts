/**
 * Apache Parquet event files (`--format parquet`), for DuckDB, Spark, pandas/pyarrow and
 * ClickHouse. Typed columns follow the event schema (`model/event_schema.ts`), one per JSON key in
 * its order, plus `SourceIPv4` (the IPv4 source as a number, null for IPv6):
 *
 * | event values                                   | Parquet                                   |
 * | ---------------------------------------------- | ----------------------------------------- |
 * | address, string, traffic name, tool            | BYTE_ARRAY UTF8                           |
 * | port, traffic code                             | INT32                                     |
 * | time (First, Last)                             | INT64 TIMESTAMP(NANOS, UTC)               |
 * | count, AS number                               | INT64                                     |
 * | number (Lat, Long)                             | DOUBLE                                    |
 * | boolean (fingerprints)                         | BOOLEAN                                   |
 * | Samples, RDNS, Tools, Tags (arrays, objects)   | BYTE_ARRAY JSON (the event's JSON value)  |
 *
 * Written by hyparquet-writer (pure JavaScript, chosen by measurement: 1.6–2.0 s for 10⁶ rows of
 * six columns against parquet-wasm's 2.2–2.7 s with Arrow tables built first; sizes within 3 %),
 * Snappy-compressed, in row groups of {@link PARQUET_ROW_GROUP} events. A file is complete after
 * every flush: the events not yet in a full row group and the footer are the closing bytes,
 * rewritten by the next flush (as a JSON array's `]`).
 *
 * @module
 */

// deno-lint-ignore no-import-prefix
import type * as Hyparquet from "npm:hyparquet-writer@0.17.0";
import type { EventEncoder, EventFormat } from "./event_encoder.ts";
import { type DarknetEvent, EVENT_VALUES } from "../model/darknet_event.ts";
import { EVENT_FIELDS, type FieldKind } from "../model/event_schema.ts";

/** Events per row group (the last group of a file may be smaller). */
export const PARQUET_ROW_GROUP = 65536;

/** A node of a Parquet schema (hyparquet-writer's SchemaElement). */
export type Element = {
  name: string;
  type?: string;
  repetition_type?: string;
  converted_type?: string;
  logical_type?: { type: string; isAdjustedToUTC?: boolean; unit?: string };
  num_children?: number;
};

// The Parquet type of each kind of event value.
export function element(name: string, kind: FieldKind | "ipv4"): Element {
  // Every event has every field; only RDNS (null before a lookup) and SourceIPv4 (IPv6) may be
  // missing.
  const optional = {
    name,
    repetition_type: kind === "names" || kind === "ipv4" ? "OPTIONAL" : "REQUIRED",
  };
  switch (kind) {
    case "port":
    case "traffic":
      return { ...optional, type: "INT32" };
    case "time":
      return {
        ...optional,
        type: "INT64",
        logical_type: { type: "TIMESTAMP", isAdjustedToUTC: true, unit: "NANOS" },
      };
    case "count":
    case "asn":
    case "ipv4":
      return { ...optional, type: "INT64" };
    case "number":
      return { ...optional, type: "DOUBLE" };
    case "boolean":
      return { ...optional, type: "BOOLEAN" };
    case "names":
    case "frames":
    case "tools":
    case "tags":
      return { ...optional, type: "BYTE_ARRAY", converted_type: "JSON" };
    default:
      return { ...optional, type: "BYTE_ARRAY", converted_type: "UTF8" };
  }
}

/** The file's schema: every event field in order, then `SourceIPv4`. */
export function parquetSchema(): Element[] {
  const leaves = [
    ...EVENT_FIELDS.map((f) => element(f.key, f.kind)),
    element("SourceIPv4", "ipv4"),
  ];
  return [{ name: "root", num_children: leaves.length }, ...leaves];
}

// One column of a row group: typed arrays for numbers (no object a value), arrays otherwise.
export interface ColumnBuilder<T = DarknetEvent> {
  name: string;
  reset(): void;
  push(row: T, i: number): void;
  data(n: number): ArrayLike<unknown>;
}

function builder<T>(
  name: string,
  kind: FieldKind | "ipv4",
  get: (e: T) => unknown,
): ColumnBuilder<T> {
  const N = PARQUET_ROW_GROUP;
  switch (kind) {
    case "port":
    case "traffic": {
      const a = new Int32Array(N);
      return {
        name,
        reset() {},
        push: (e, i) => (a[i] = get(e) as number),
        data: (n) => a.subarray(0, n),
      };
    }
    case "number": {
      const a = new Float64Array(N);
      return {
        name,
        reset() {},
        push: (e, i) => (a[i] = get(e) as number),
        data: (n) => a.subarray(0, n),
      };
    }
    case "count":
    case "asn":
    case "time": { // a time's getter gives nanoseconds (bigint)
      const a = new BigInt64Array(N);
      const push = kind === "time"
        ? (e: T, i: number) => (a[i] = get(e) as bigint)
        : (e: T, i: number) => (a[i] = BigInt(get(e) as number));
      return { name, reset() {}, push, data: (n) => a.subarray(0, n) };
    }
    default: {
      let a: unknown[] = [];
      return {
        name,
        reset: () => (a = []),
        push: (e) => a.push(get(e) ?? null),
        data: () => a,
      };
    }
  }
}

/**
 * Parquet event files made from events' JSON objects (Merit's keys, as event files hold them)
 * rather than from `DarknetEvent`s: the same columns and values, so the same bytes as `parquet`
 * for the same events (`parse --merge` copies a block's events this way).
 */
export const parquetFromJson: EventFormat = {
  ...{ name: "parquet", description: "Apache Parquet from event objects", extension: "parquet" },
  holdsBack: true,
  hive: true,
  load: () => parquet.load!(),
  create(): EventEncoder {
    type Row = Record<string, unknown>;
    const cols = [
      ...EVENT_FIELDS.map((f) =>
        builder<Row>(
          f.key,
          f.kind,
          f.kind === "time" ? (r) => nanos(r[f.key] as string) : (r) => r[f.key],
        )
      ),
      builder<Row>("SourceIPv4", "ipv4", (r) => {
        const ip = String(r.SourceIP);
        if (ip.includes(":")) return null;
        const [w, x, y, z] = ip.split(".").map(Number);
        return BigInt(((w << 24) | (x << 16) | (y << 8) | z) >>> 0);
      }),
    ];
    return tableEncoder(parquetSchema(), cols);
  },
};

// Nanoseconds since the epoch of RFC 3339 UTC text (up to nine fraction digits).
function nanos(text: string): bigint {
  const dot = text.indexOf(".");
  const whole = dot < 0 ? text.replace(/Z$/, "") : text.slice(0, dot);
  const frac = dot < 0 ? "" : text.slice(dot + 1).replace(/Z$/, "");
  return BigInt(Date.parse(`${whole}Z`) / 1000) * 1_000_000_000n +
    BigInt(frac.padEnd(9, "0").slice(0, 9));
}

// The writer library, loaded by `parquet.load` (EventWriter.create calls it): JSON runs never
// pay its ~3 MB and its start-up.
let lib: typeof Hyparquet | undefined;

/** Parquet files; see the module's table. */
export const parquet: EventFormat = {
  name: "parquet",
  description: "Apache Parquet: typed columns, Snappy, row groups of 65,536 events",
  extension: "parquet",
  holdsBack: true,
  hive: true,
  async load() {
    // A full specifier, as maxmind's in enrich/maxmind_db.ts: mod.ts works without deno.json.
    // deno-lint-ignore no-import-prefix
    lib ??= await import("npm:hyparquet-writer@0.17.0");
  },
  create(): EventEncoder {
    const ns = (sec: number, nsec: number) => BigInt(sec) * 1_000_000_000n + BigInt(nsec);
    const cols = [
      ...EVENT_FIELDS.map((f, k) =>
        builder<DarknetEvent>(
          f.key,
          f.kind,
          f.key === "First"
            ? (e) => ns(e.firstSec, e.firstNsec)
            : f.key === "Last"
            ? (e) => ns(e.lastSec, e.lastNsec)
            : EVENT_VALUES[k],
        )
      ),
      builder<DarknetEvent>(
        "SourceIPv4",
        "ipv4",
        (e) => (e.version === 4 ? BigInt(e.src >>> 0) : null),
      ),
    ];
    return tableEncoder(parquetSchema(), cols);
  },
};

/**
 * A Parquet encoder of rows of any kind: `schema` (its root first) and one column builder per
 * leaf, in the same order. Events and the analyses' records (`record_format.ts`) use it.
 */
export function tableEncoder<T>(schema: Element[], cols: ColumnBuilder<T>[]): EventEncoder {
  if (!lib) throw new Error("parquet.load() first");
  const { ByteWriter, ParquetWriter } = lib;
  const bw = new ByteWriter(1 << 20);
  let pw: InstanceType<typeof ParquetWriter>;
  let n = 0; // rows in the row group being filled
  // The bytes written since the last call, handed to the file (the writer's offsets go on).
  const take = (): Uint8Array => {
    const b = new Uint8Array(bw.buffer, 0, bw.index).slice();
    bw.index = 0;
    return b;
  };
  const writeGroup = () => {
    pw.write(
      {
        columnData: cols.map((c) => ({ name: c.name, data: c.data(n), offsetIndex: false })),
        rowGroupSize: n,
      } as Parameters<typeof pw.write>[0],
    );
  };
  return {
    open(out) {
      pw = new ParquetWriter({
        writer: bw,
        schema: schema as ConstructorParameters<typeof Hyparquet.ParquetWriter>[0]["schema"],
        createdBy: "darknet-events",
      });
      out.raw(take());
    },
    add(out, e: DarknetEvent) {
      for (const c of cols) c.push(e as T, n);
      if (++n >= PARQUET_ROW_GROUP) {
        writeGroup();
        n = 0;
        for (const c of cols) c.reset();
        out.raw(take());
      }
    },
    closing() {
      // The pending events as a row group and the footer, then everything put back: the next
      // flush writes over these bytes.
      const w = pw as unknown as {
        row_groups: unknown[];
        num_rows: bigint;
        pendingIndexes: unknown[];
      };
      const saved = {
        groups: w.row_groups.length,
        rows: w.num_rows,
        indexes: w.pendingIndexes.length,
        offset: bw.offset,
      };
      if (n > 0) writeGroup();
      pw.finish();
      const bytes = take();
      w.row_groups.length = saved.groups;
      w.num_rows = saved.rows;
      w.pendingIndexes.length = saved.indexes;
      bw.offset = saved.offset;
      return bytes;
    },
  };
}

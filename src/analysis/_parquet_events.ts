// Events of a Parquet file (`parse --format parquet`) for `count` and `timeseries`: read a row
// group at a time with hyparquet (the writer's companion reader, loaded only for such files),
// each row made into the event's JSON values — times back to RFC 3339 with nanoseconds, JSON
// columns parsed, 64-bit integers as numbers — and checked as events of JSON files are.

import { DataError, ioError } from "../errors.ts";
import type { EventJson } from "../model/darknet_event.ts";
import { checkEvent } from "./check_event.ts";
import type { ReadEvent, ReadEventsOptions } from "./read_event.ts";

/** Whether the file starts as a Parquet file does ("PAR1"). */
export async function isParquet(file: string): Promise<boolean> {
  if (file === "-") return false;
  let f: Deno.FsFile | undefined;
  try {
    f = await Deno.open(file);
    const head = new Uint8Array(4);
    const n = await f.read(head);
    return n === 4 && head[0] === 0x50 && head[1] === 0x41 && head[2] === 0x52 && head[3] === 0x31;
  } catch {
    return false; // the JSON reader reports the problem with the file
  } finally {
    f?.close();
  }
}

// Nanoseconds since the epoch as RFC 3339 with nine fraction digits (as parse writes them).
function rfc3339(nanos: bigint): string {
  const sec = nanos / 1_000_000_000n;
  const frac = nanos % 1_000_000_000n;
  const iso = new Date(Number(sec) * 1000).toISOString().slice(0, 19);
  return `${iso}.${String(frac).padStart(9, "0")}Z`;
}

/** The events of a Parquet file, in order; line numbers are row numbers (1-based). */
export async function* readParquetEvents(
  file: string,
  o: ReadEventsOptions,
): AsyncGenerator<ReadEvent> {
  // A full specifier, as maxmind's in enrich/maxmind_db.ts: mod.ts works without deno.json.
  // deno-lint-ignore no-import-prefix
  const hp = await import("npm:hyparquet@1.31.5");
  let f: Deno.FsFile;
  try {
    f = await Deno.open(file);
  } catch (e) {
    throw ioError(e, file);
  }
  try {
    const size = (await f.stat()).size;
    // Random access to the file (a footer first, then column chunks), never all of it at once.
    const buffer = {
      byteLength: size,
      async slice(start: number, end?: number): Promise<ArrayBuffer> {
        const n = Math.max(0, (end ?? size) - start);
        const out = new Uint8Array(n);
        await f.seek(start, Deno.SeekMode.Start);
        let got = 0;
        while (got < n) {
          const r = await f.read(out.subarray(got));
          if (r === null) break;
          got += r;
        }
        return out.buffer;
      },
    };
    const bad = (e: unknown) =>
      new DataError(`not a readable Parquet file (${(e as Error).message.split("\n")[0]})`, {
        file,
      });
    let meta: Awaited<ReturnType<typeof hp.parquetMetadataAsync>>;
    try {
      meta = await hp.parquetMetadataAsync(buffer);
    } catch (e) {
      throw bad(e);
    }
    const parsers = { timestampFromNanoseconds: rfc3339 } as never;
    let row = 0;
    for (const group of meta.row_groups) {
      const n = Number(group.num_rows);
      let rows: Record<string, unknown>[];
      try {
        rows = await hp.parquetReadObjects({
          file: buffer,
          metadata: meta,
          rowStart: row,
          rowEnd: row + n,
          parsers,
        });
      } catch (e) {
        throw bad(e);
      }
      for (const r of rows) {
        row++;
        const ev: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(r)) {
          if (k === "SourceIPv4") continue;
          ev[k] = typeof v === "bigint" ? Number(v) : v;
        }
        const why = (o.check ?? checkEvent)(ev);
        if (why === undefined) {
          yield { event: ev as unknown as EventJson, file, line: row };
          continue;
        }
        const problem = new DataError(why, { file, line: row });
        if (!o.skipInvalid) throw problem;
        o.onInvalid?.(problem);
      }
    }
  } finally {
    f.close();
  }
}

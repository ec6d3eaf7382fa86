/**
 * `count --dos FILE...` and `count --sources FILE...`: statistics of the records of `parse
 * --dosout` and `parse --sourceout` (`analysis/record_stats.ts`), read as event files are (any
 * JSON layout, plain or gzip, each record checked).
 *
 * @module
 */

import { DarknetError, ioError } from "../errors.ts";
import { type InvalidEvents, readerOptions, readEvents } from "../analysis/event_reader.ts";
import {
  checkDosRecord,
  checkSourceRecord,
  DosStats,
  SourceStats,
} from "../analysis/record_stats.ts";
import { formatTable } from "./_cli.ts";

/** Settings of {@link countRecords}. */
export interface CountRecordsOptions {
  /** Where the CSV files go. */
  outdir: string;
  /** Rows of the printed table. */
  top: number;
  /** Pass over bad records (counted) instead of stopping. */
  skipInvalid?: boolean;
  /** The largest record accepted, in bytes of JSON. */
  maxEventBuffer?: number;
}

/**
 * Reads the record files, writes the CSV files into `o.outdir`; the summary, its table, the
 * records passed over and the error that stopped reading (the files still written).
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { countRecords } from "./count_records.ts";
 * const dir = Deno.makeTempDirSync();
 * Deno.writeTextFileSync(`${dir}/d.ndjson`, JSON.stringify({ Victim: "192.0.2.1", Protocol: "TCP",
 *   First: "2026-01-01T00:00:00Z", Last: "2026-01-01T00:02:00Z", Packets: 40, Bytes: 2400,
 *   UniqueAttackers: 30, MaxWindowPackets: 30, ObservedRate: 0.3, EstimatedRate: 2700 }) + "\n");
 * const r = await countRecords("dos", [`${dir}/d.ndjson`], { outdir: `${dir}/out`, top: 3 });
 * equal((r.summary as { victims: number }).victims, 1);
 * ```
 */
export async function countRecords(
  kind: "dos" | "sources",
  paths: string[],
  o: CountRecordsOptions,
): Promise<{ summary: unknown; text: string; invalid: InvalidEvents; error?: DarknetError }> {
  const invalid: InvalidEvents = { count: 0 };
  const ro = {
    ...readerOptions({ skipInvalid: o.skipInvalid, maxEventBuffer: o.maxEventBuffer }, invalid),
    check: kind === "dos" ? checkDosRecord : checkSourceRecord,
  };
  const stats = kind === "dos" ? new DosStats() : new SourceStats();
  let error: DarknetError | undefined;
  try {
    for await (const r of readEvents(paths, ro)) {
      stats.add(r.event as unknown as Record<string, unknown>);
    }
  } catch (e) {
    if (!(e instanceof DarknetError)) throw e;
    error = e;
  }
  try {
    await Deno.mkdir(o.outdir, { recursive: true });
  } catch (e) {
    throw ioError(e, o.outdir);
  }
  for (const [name, text] of Object.entries(stats.files())) {
    try {
      await Deno.writeTextFile(`${o.outdir}/${name}`, text);
    } catch (e) {
      throw ioError(e, `${o.outdir}/${name}`);
    }
  }
  const n = (x: number) => x.toLocaleString("en-US");
  let text: string;
  let summary: unknown;
  if (stats instanceof DosStats) {
    const s = stats.summary(o.top);
    summary = s;
    text = [
      `DoS attack vectors ${n(s.vectors)}  victims ${n(s.victims)}  packets ${n(s.packets)}`,
      "",
      formatTable(
        ["victim", "vectors", "packets", "max estimated rate (pps)"],
        s.topVictims.map((v) => [v.victim, n(v.vectors), n(v.packets), n(v.maxEstimatedRate)]),
      ),
      `CSV files in ${o.outdir}`,
    ].join("\n");
  } else {
    const s = stats.summary(o.top);
    summary = s;
    text = [
      `sources ${n(s.sources)}  aggressive ${n(s.aggressive)}  shapes: ${
        Object.entries(s.shapes).map(([k, v]) => `${k} ${n(v)}`).join("  ")
      }`,
      "",
      formatTable(
        ["aggressive source", "packets", "destinations", "why"],
        s.topAggressive.map((a) => [a.source, n(a.packets), n(a.uniqueDests), a.why.join(" ")]),
      ),
      `CSV files in ${o.outdir}`,
    ].join("\n");
  }
  return { summary, text, invalid, error };
}

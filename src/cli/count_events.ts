/**
 * `count EVENTFILE...`: general statistics of event files, written as CSV files into an output
 * directory, with a summary table (or JSON) on stdout.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { countEvents } from "./count_events.ts";
 * const ev = Deno.makeTempFileSync();
 * Deno.writeTextFileSync(ev, '{"SourceIP":"192.0.2.1","Traffic":11,"Port":23,"Packets":5,"Bytes":300,"UniqueDests":5,"First":"2020-10-21T16:00:00Z","Last":"2020-10-21T16:00:10Z"}\n');
 * const r = await countEvents([ev], { outdir: Deno.makeTempDirSync() });
 * ok(r.summary.events === 1 && r.files.includes("counts.csv"));
 * ```
 * @module
 */

import {
  type InvalidEvents,
  readerOptions,
  type ReaderSettings,
  readEvents,
} from "../analysis/event_reader.ts";
import {
  EventStats,
  type EventStatsOptions,
  type EventSummary,
  type RankBy,
} from "../analysis/event_stats.ts";
import { runInWorker } from "../util/run_in_worker.ts";
import { DarknetError, ioError } from "../errors.ts";
import { formatTable } from "./_cli.ts";
import { FINGERPRINTS } from "../fingerprints/registry.ts";
import { TOOLS } from "../attribution/tools.ts";
import { TAGS } from "../tags/traffic_tags.ts";

/** Options of {@link countEvents}. */
export interface CountEventsOptions extends EventStatsOptions {
  /** Where the CSV files go (created if missing). */
  outdir: string;
  /** Rows of the top table (default 10). */
  top?: number;
  /** What the top table ranks by (default events). */
  rankBy?: RankBy;
  /** Pass over invalid events (counted in the result) instead of stopping. */
  skipInvalid?: boolean;
  /** The largest event accepted, in bytes (default 64 MiB). */
  maxEventBuffer?: number;
}

/** Result: the summary, the files written, and the input error that stopped reading, if any. */
export interface CountEventsResult {
  summary: EventSummary;
  files: string[];
  error?: DarknetError;
  /** Events passed over with `skipInvalid`. */
  invalid: InvalidEvents;
}

/**
 * Reads the event files and writes the statistics. With several files, the second half of
 * them is read in a Worker on the other core while this thread reads the first half; the
 * aggregates are then merged (the result is the same as reading them in order).
 */
export async function countEvents(
  paths: string[],
  o: CountEventsOptions,
): Promise<CountEventsResult> {
  const stats = new EventStats(o);
  let error: DarknetError | undefined;
  // With several files, the second half is read in a Worker on the other core.
  const half = paths.length >= 2 ? Math.ceil(paths.length / 2) : paths.length;
  const options = {
    telescopeSize: o.telescopeSize,
    largeCoverage: o.largeCoverage,
    minEvents: o.minEvents,
  };
  const reader = { skipInvalid: o.skipInvalid, maxEventBuffer: o.maxEventBuffer };
  const invalid: InvalidEvents = { count: 0 };
  const ro = readerOptions(reader, invalid);
  const later = half < paths.length ? inWorker(paths.slice(half), options, reader) : undefined;
  try {
    for await (const r of readEvents(paths.slice(0, half), ro)) stats.add(r.event);
  } catch (e) {
    if (!(e instanceof DarknetError)) throw e;
    error = e;
  }
  if (later) {
    const res = await later;
    stats.mergeData(res.data);
    if (res.error) error ??= new DarknetError(res.error.message, res.error.exitCode);
    invalid.count += res.invalid.count;
    invalid.first ??= res.invalid.first;
  }
  try {
    await Deno.mkdir(o.outdir, { recursive: true });
  } catch (e) {
    throw ioError(e, o.outdir);
  }
  const files = stats.files();
  for (const [name, text] of Object.entries(files)) {
    try {
      await Deno.writeTextFile(`${o.outdir}/${name}`, text);
    } catch (e) {
      throw ioError(e, `${o.outdir}/${name}`);
    }
  }
  return {
    summary: stats.summary(o.top ?? 10, o.rankBy),
    files: Object.keys(files),
    error,
    invalid,
  };
}

function inWorker(
  files: string[],
  options: EventStatsOptions,
  reader: ReaderSettings,
): Promise<
  { data: unknown; error?: { message: string; exitCode: number }; invalid: InvalidEvents }
> {
  return runInWorker(
    new URL("../analysis/_count_worker.ts", import.meta.url),
    { files, options, reader },
    "count",
  );
}

/**
 * The line `count` and `timeseries` print about events passed over with `--skip-invalid`.
 *
 * @example
 * ```ts
 * import { formatInvalid } from "./count_events.ts";
 * import { equal } from "node:assert/strict";
 * equal(formatInvalid({ count: 0 }), "");
 * equal(formatInvalid({ count: 2, first: "a.json: line 3: x" }), "2 invalid events skipped (the first: a.json: line 3: x)");
 * ```
 */
export function formatInvalid(t: InvalidEvents): string {
  if (t.count === 0) return "";
  return `${t.count.toLocaleString("en-US")} invalid event${t.count === 1 ? "" : "s"} skipped` +
    ` (the first: ${t.first})`;
}

/** The summary as the table `count` prints. */
export function formatEventSummary(s: EventSummary, outdir: string): string {
  const n = (x: number) => x.toLocaleString("en-US");
  return [
    `events ${n(s.events)}  packets ${n(s.packets)}  bytes ${n(s.bytes)}  large scans ${
      n(s.largeEvents)
    }`,
    `fingerprints: ${
      FINGERPRINTS.map((f) => `${f.label} ${n(s.fingerprints[f.name] ?? 0)}`).join("  ")
    }`,
    `attributed: ${TOOLS.map((t) => `${t.label} ${n(s.tools[t.name] ?? 0)}`).join("  ")}`,
    `tagged events: ${TAGS.map((t) => `${t} ${n(s.tags[t]?.events ?? 0)}`).join("  ")}`,
    "",
    `top ${s.topPorts.length} (traffic, port) by ${s.rankedBy}:`,
    formatTable(
      ["traffic", "port", "events", "packets", "sources"],
      s.topPorts.map((r) => [r.traffic, r.port, n(r.events), n(r.packets), n(r.uniqueSources)]),
    ),
    ...(s.topSynSignatures.length > 0
      ? [
        "",
        formatTable(
          ["SYN signature", "events", "packets", "sources"],
          s.topSynSignatures.map((r) => [
            r.signature,
            n(r.events),
            n(r.packets),
            n(r.uniqueSources),
          ]),
        ),
      ]
      : []),
    "",
    `CSV files in ${outdir}/`,
  ].join("\n");
}

/**
 * `count EVENTFILE...`: general statistics of event files, written as CSV files into an output
 * directory, with a summary table (or JSON) on stdout.
 *
 * @example
 * ```ts
 * import { countEvents } from "./count_events.ts";
 * const ev = Deno.makeTempFileSync();
 * Deno.writeTextFileSync(ev, '{"SourceIP":"192.0.2.1","Traffic":11,"Port":23,"Packets":5,"Bytes":300,"UniqueDests":5,"First":"2020-10-21T16:00:00Z","Last":"2020-10-21T16:00:10Z"}\n');
 * const r = await countEvents([ev], { outdir: Deno.makeTempDirSync() });
 * console.assert(r.summary.events === 1 && r.files.includes("counts.csv"));
 * ```
 * @module
 */

import { readEvents } from "../analysis/event_reader.ts";
import { EventStats, type EventStatsOptions, type EventSummary } from "../analysis/event_stats.ts";
import { DarknetError, ioError } from "../errors.ts";
import { formatTable } from "./_cli.ts";

/** Options of {@link countEvents}. */
export interface CountEventsOptions extends EventStatsOptions {
  /** Where the CSV files go (created if missing). */
  outdir: string;
  /** Rows of the top table (default 10). */
  top?: number;
}

/** Result: the summary, the files written, and the input error that stopped reading, if any. */
export interface CountEventsResult {
  summary: EventSummary;
  files: string[];
  error?: DarknetError;
}

/** Reads the event files and writes the statistics. */
export async function countEvents(
  paths: string[],
  o: CountEventsOptions,
): Promise<CountEventsResult> {
  const stats = new EventStats(o);
  let error: DarknetError | undefined;
  try {
    for await (const r of readEvents(paths)) stats.add(r.event);
  } catch (e) {
    if (!(e instanceof DarknetError)) throw e;
    error = e;
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
  return { summary: stats.summary(o.top ?? 10), files: Object.keys(files), error };
}

/** The summary as the table `count` prints. */
export function formatEventSummary(s: EventSummary, outdir: string): string {
  const n = (x: number) => x.toLocaleString("en-US");
  return [
    `events ${n(s.events)}  packets ${n(s.packets)}  bytes ${n(s.bytes)}  large scans ${
      n(s.largeEvents)
    }`,
    `fingerprints: ZMap ${n(s.fingerprints.zmap)}  Masscan ${n(s.fingerprints.masscan)}  Mirai ${
      n(s.fingerprints.mirai)
    }`,
    "",
    formatTable(
      ["traffic", "port", "events", "packets", "sources"],
      s.topPorts.map((r) => [r.traffic, r.port, n(r.events), n(r.packets), n(r.uniqueSources)]),
    ),
    "",
    `CSV files in ${outdir}/`,
  ].join("\n");
}

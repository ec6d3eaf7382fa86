/**
 * The `count` command: `count --pcap CAPTURE...` (packet statistics).
 * Entry point of the compiled `count` binary.
 *
 * @module
 */

import { UsageError } from "../errors.ts";
import { intFlag, numFlag, parseFlags, pathList, reportError, runCli } from "./_cli.ts";
import { countEvents, formatEventSummary, formatInvalid } from "./count_events.ts";
import { MAX_EVENT_BYTES } from "../analysis/event_reader.ts";
import type { RankBy } from "../analysis/event_stats.ts";
import { countPcap, formatPacketSummary } from "./count_pcap.ts";
import { countRecords } from "./count_records.ts";

/** `count --help` text. */
export const COUNT_HELP = `Usage: count EVENTFILE... [--outdir DIR] [--top N] [--json] [flags]
       count --pcap CAPTURE... [--top N] [--json]
       count --dos DOSFILE... [--outdir DIR] [--top N] [--json]
       count --sources SOURCEFILE... [--outdir DIR] [--top N] [--json]

Event statistics (count EVENTFILE...): reads event files written by parse (or by Merit's
darknet-events): JSON arrays or NDJSON, plain or gzip, several at once; writes CSV files into
--outdir and prints a summary:
  counts.csv                per (traffic, port): events, packets, bytes, unique sources
  small_counts.csv, large_counts.csv   the same for scans below / at or above --large-coverage
  coverage.csv, rates.csv   distributions (CDF) of coverage (UniqueDests / telescope size, log
                            buckets) and of the global scan rate (decade buckets)
  country_counts.csv        per (country, traffic, port) with at least --min-events events
  country_total_counts.csv, asn_counts.csv
  zmap_*, masscan_*, mirai_*   port and country counts, coverage and rate CDFs per fingerprint

  --outdir DIR          where the CSV files go (default ./out)
  --telescope-size N    telescope size in addresses (default 475136)
  --large-coverage X    coverage that makes a scan "large" (default 0.1)
  --rank-by KEY         what the top (traffic, port) table ranks by: events (default),
                        packets or sources (unique sources)
  --min-events N        minimum events of a country_counts.csv row (default 1)
  --skip-invalid        pass over events that are not valid (wrong or missing fields, a file
                        cut inside its last event) and count them, instead of stopping
  --max-event-bytes N   the largest event accepted, in bytes of JSON (default 67108864)

Event files may be laid out any way valid JSON allows: an array (indented or on one line),
NDJSON, or objects one after another. Every field count uses is checked (exit 65 with file and
line for a bad one).

DoS victims (count --dos FILE..., files of parse --dosout): dos_victims.csv (per victim:
vectors, packets, bytes, most attackers, highest estimated rate, first, last, protocols,
country, AS) and dos_protocols.csv; prints the top victims by packets.

Per-source roll-ups (count --sources FILE..., files of parse --sourceout): source_shapes.csv
(sources, packets and aggressive ones per scan shape) and aggressive_sources.csv; prints the
top aggressive sources by packets.

Packet statistics (count --pcap): packets and bytes per traffic type, IP version and link
type; unique sources and destinations; first and last timestamp; top sources and ports; decode
problems by kind and unsupported link types.

Captures are classic pcap (µs/ns, either byte order, modified magic) or pcapng, plain or
gzip-compressed (detected from the content). Several files are read in order; '-' is stdin.

  --pcap PATH...   captures to read (repeat the flag, list paths after it, or give one
                   space-separated value as Merit's tool did)
  --top N          rows in the top sources / top ports tables (default 10)
  --json           print the statistics as JSON instead of tables
  -h, --help       show this help
  --version        show the version

Exit status: 0 ok, 2 bad command line, 65 malformed input (statistics of every packet before
the problem are still printed), 74 I/O error.
`;

/** Runs `count` with command-line arguments; returns the exit code. */
export async function countMain(args: string[]): Promise<number> {
  const { values, after } = parseFlags(args, {
    pcap: { type: "string", multiple: true },
    dos: { type: "boolean" },
    sources: { type: "boolean" },
    top: { type: "string" },
    "rank-by": { type: "string" },
    outdir: { type: "string" },
    "telescope-size": { type: "string" },
    "large-coverage": { type: "string" },
    "min-events": { type: "string" },
    json: { type: "boolean" },
    "skip-invalid": { type: "boolean" },
    "max-event-bytes": { type: "string" },
    help: { type: "boolean", short: "h" },
  });
  if (values.help) {
    console.log(COUNT_HELP);
    return 0;
  }
  const top = intFlag("top", values.top, 10);
  if (values.dos || values.sources) {
    if (values.dos && values.sources) throw new UsageError("give --dos or --sources, not both");
    if (values.pcap !== undefined) throw new UsageError("--pcap reads captures, not records");
    const files = after[""] ?? [];
    if (files.length === 0) {
      throw new UsageError(`give files of parse --${values.dos ? "dosout" : "sourceout"}`);
    }
    const r = await countRecords(values.dos ? "dos" : "sources", files, {
      outdir: String(values.outdir ?? "out"),
      top,
      skipInvalid: Boolean(values["skip-invalid"]),
      maxEventBuffer: intFlag("max-event-bytes", values["max-event-bytes"], MAX_EVENT_BYTES, 2),
    });
    console.log(values.json ? JSON.stringify(r.summary, null, 2) : r.text);
    if (r.invalid.count) console.error(`count: ${formatInvalid(r.invalid)}`);
    if (r.error) return reportError("count", r.error);
    return 0;
  }
  if (values.pcap === undefined) {
    const files = after[""] ?? [];
    if (files.length === 0) throw new UsageError("give event files (or --pcap CAPTURE...)");
    const outdir = String(values.outdir ?? "out");
    const rankBy = String(values["rank-by"] ?? "events");
    if (!["events", "packets", "sources"].includes(rankBy)) {
      throw new UsageError(`--rank-by: expected events, packets or sources, got "${rankBy}"`);
    }
    const r = await countEvents(files, {
      outdir,
      top,
      rankBy: rankBy as RankBy,
      telescopeSize: intFlag("telescope-size", values["telescope-size"], 475136, 1),
      largeCoverage: numFlag("large-coverage", values["large-coverage"], 0.1),
      minEvents: intFlag("min-events", values["min-events"], 1),
      skipInvalid: Boolean(values["skip-invalid"]),
      maxEventBuffer: intFlag("max-event-bytes", values["max-event-bytes"], MAX_EVENT_BYTES, 2),
    });
    console.log(
      values.json ? JSON.stringify(r.summary, null, 2) : formatEventSummary(r.summary, outdir),
    );
    if (r.invalid.count) console.error(`count: ${formatInvalid(r.invalid)}`);
    if (r.error) return reportError("count", r.error);
    return 0;
  }
  if (after[""]?.length) {
    throw new UsageError(`unexpected argument "${after[""][0]}" (paths follow --pcap)`);
  }
  const paths = pathList(values.pcap, after.pcap ?? []);
  if (paths.length === 0) throw new UsageError("--pcap needs at least one path");
  const { summary, error } = await countPcap(paths, top);
  if (values.json) console.log(JSON.stringify(summary, null, 2));
  else console.log(formatPacketSummary(summary));
  if (error) return reportError("count", error);
  return 0;
}

if (import.meta.main) await runCli("count", countMain, Deno.args);

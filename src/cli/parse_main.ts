/**
 * The `parse` command: captures → darknet events. Entry point of the compiled `parse` binary.
 *
 * @module
 */

import { intFlag, parseFlags, pathList, runCli } from "./_cli.ts";
import { UsageError } from "../errors.ts";
import { StopSignals } from "./_stop_signals.ts";
import {
  commonConfig,
  formatParseSummary,
  MAX_SAMPLES,
  type ParseConfig,
  type ParseResult,
  runParse,
} from "./run_parse.ts";
import { DEFAULT_TELESCOPE_SIZE, DEFAULT_TIMEOUT } from "../aggregation/event_aggregator.ts";
import { EVENT_FORMATS } from "../outputs/formats.ts";

// One help line per output format.
const FORMAT_LINES: string = EVENT_FORMATS.map((f) =>
  `\n                        ${f.name}: ${f.description}`
)
  .join("");

/** `parse --help` text. */
export const PARSE_HELP = `Usage: parse --pcap FILE... --eventout PATH --samples N [flags]
       parse --interface IFACE [--bpf FILTER] (--eventout PATH | --rotate S --outdir DIR) ...
       parse --from DATE:HOUR --to DATE:HOUR --input PATTERN --outdir DIR --samples N [flags]
       parse --pcap FILE... --map DIR --samples N [flags]; parse --merge DIR... --eventout PATH ...

Turns captures into darknet events: one per (source address, traffic type, port), ended by an
inactivity gap longer than --timeout, with packets, bytes, distinct destinations and /24s, an
Internet-wide scan-rate estimate, sampled packets and ZMap/Masscan/Mirai fingerprints.

Inputs and outputs
  --pcap PATH...        captures (pcap/pcapng, plain or gzip), read in order; repeat the flag,
                        list paths after it, or give one space-separated value; '-' is stdin
  --eventout PATH       event file (a JSON array; see --format)
  --format NAME         event files' format:${FORMAT_LINES}
  --newdl               newline-delimited JSON (= --format ndjson; Merit's flag)
  --ongoingout PATH     also write the events still open at the end of input here
  --statsout PATH       also write the packet statistics of the input (count --pcap --json's
                        report) here, from the same decoded packets
  --seriesout PATH      also write the signal series: per bin, packets, bytes and unique
                        sources, overall and per split, for timeseries --signals (README
                        "Outage and surge signals"); with --rotate PATH is a folder that gets
                        a series_START_END.series per window
  --series-bin SECONDS  their bin width (default 300)
  --series-by LIST      their splits: traffic, port, tool, tag, country, region, asn
                        (default traffic,tool,tag,country,region,asn; country and region need
                        --geoin, asn --asnin or --pfx2asin; port adds a series per traffic
                        type and port)
  --dosout PATH         also write denial-of-service attack vectors seen in backscatter
                        (README "DoS victims"), in the events' format: in order of First,
                        Victim and Protocol (from standard input, live or with --rotate: as
                        they end)
  --dos-timeout SECONDS a vector ends after this much packet time without a packet (default 300)
  --dos-min-packets N   report vectors of at least N packets (default 25)
  --dos-min-duration S  ... lasting at least S seconds (default 60)
  --dos-min-window N    ... with at least N packets in a 60-second window (default 30)
  --sourceout PATH      also write one record per source of the events written (per --rotate
                        window): what it did across its events, its scan shape, aggressive
                        scanners (README "Per-source roll-ups")
  --cachein PATH        continue from a state file written by --cacheout
  --cacheout PATH       save the open events to this state file instead of writing them to
                        --eventout (the next run continues them with --cachein)

Events and filters
  --samples N           packets to sample per event (0 to ${MAX_SAMPLES}): those of lowest rank,
                        a hash seeded by --seed (docs/parse.md "Samples")
  --timeout SECONDS     inactivity gap that ends an event (default ${DEFAULT_TIMEOUT})
  --threshold N         write only events with at least N packets (default 0)
  --uniques N           ... with at least N distinct destinations (default 0)
  --rate PPS            ... with an estimated global scan rate of at least PPS (default 0)
  --exclude-tags TAGS   drop packets with any of these traffic tags before they join an
                        event: spoofed, erratic, unroutable, large-scale-scan (comma-separated;
                        README "Traffic tags")
  --telescope CIDR,...  the monitored IPv4 prefixes (gives the telescope size)
  --telescope-size N    telescope size in addresses (default ${DEFAULT_TELESCOPE_SIZE})
  --seed N              sampling seed (default 1): same input and flags, same output bytes
  --max-memory SIZE     stop reading (as at an input error: every output written, exit 74)
                        when resident memory passes SIZE, e.g. 8G (default: 3/4 of the
                        machine's memory)

Live capture (a sensor host)
  --interface IFACE     capture live with tcpdump (-U --immediate-mode); needs tcpdump and the
                        right to capture. SIGINT/SIGTERM stop the capture, finish the run and
                        write every output; events are flushed as they end
  --bpf FILTER          BPF filter for --interface, e.g. 'not src net 10.0.0.0/8'
  --rotate SECONDS      with --outdir: roll results_, ongoing_ and cache_ files over at every
                        multiple of SECONDS of packet time (batch mode's names); --cacheout
                        also keeps the state at the end at one fixed path (for a restart)

Batch mode (hourly files, state carried from hour to hour)
  --from YYYY-MM-DDTHH  first hour, e.g. 2020-10-21T16 (or run_parse.py's 2020-10-21:16)
  --to YYYY-MM-DDTHH    end hour, not included (as the original run_parse.py)
  --input PATTERN       path pattern with {date} and {hour}, e.g. 'data/{date}.{hour}.pcap.gz'
  --outdir DIR          writes results_START_END.json, ongoing_START_END.json and
                        cache_START_END.state per block (START, END as 2020-10-21T16)
  --block HOURS         hours per block (default 1)
  --dosout DIR, --sourceout DIR, --seriesout DIR   in batch mode, folders of
                        dos_START_END.json, sources_START_END.json and
                        series_START_END.series per block (open DoS vectors carried in the
                        block's state, as open events are)

Split runs (README "Scaling out": the events of one run, byte for byte)
  --jobs N              cut the --pcap files into N blocks, aggregate each in a Worker, merge
  --map DIR             aggregate the --pcap files as one block of a split run: write its block
                        result folder (its own events, its first and open events whole)
  --merge DIR...        stitch block results (in any order) into --eventout; give it the
                        flags --map had (settings and enrichment are checked)
  --dos                 with --map: the block result holds the DoS analysis too (with the
                        --dos-* flags); --merge --dosout PATH writes the vectors
  --stats               with --map: the block result holds its packet statistics too;
                        --merge --statsout PATH writes the run's
  --sources             with --map: the block result holds what per-source roll-ups take of
                        its events; --merge --sourceout PATH writes the run's
  --queue URL           across machines: queue the blocks on NATS JetStream (nats://HOST:PORT),
                        merge their results as workers store them
  --job ID              the queued job's name (default: a hash of the blocks and flags): a
                        coordinator restarted with it takes up the stored results
  --blocks N            blocks to queue (default one per --pcap file)
  --ack-wait SECONDS    a task not acked this long is given to another worker (default 30)
  --worker URL          pull queued blocks from NATS and store their results, until stopped
  --idle-exit N         a worker ends after N idle seconds

Diagnostics
  --cpu PATH            write a V8 CPU profile of the run (.cpuprofile; open in Chrome DevTools)
  --mem PATH            write a V8 heap snapshot at the end (.heapsnapshot)
  --quiet               no progress line and no summary on stderr
  -h, --help            show this help
  --version             show the version

Enrichment (events that pass the filters are annotated before they are written)
  --asnin MMDB          MaxMind GeoLite2/GeoIP2 ASN database: ASN and Org
  --geoin MMDB          MaxMind GeoLite2/GeoIP2 City database: Lat, Long, Country, City
  --pfx2asin PATH...    CAIDA RouteViews prefix-to-AS files (rv2/rv6, plain or gzip): Prefix,
                        and ASN (first origin) when --asnin is not given
  --known-scanners FILE label events of known scanners (research projects, device search
                        engines) by source prefix, or with --dns by PTR name suffix: Scanner
                        (format: README "Known scanners"; docs/example/known_scanners.txt)
  --dns SERVER...       reverse DNS (PTR) of each source: RDNS; SERVER is host or host:port
  --dns-timeout SECONDS per-query timeout (default 5)
  --dns-retries N       retries after a failed query (default 2)
  --dns-concurrency N   queries in flight at most (default 64)
  --enrich-cache N      addresses whose annotations each source keeps (N to 2N, default 65536):
                        bounded, so a sensor running for months does not grow

Exit status: 0 ok, 2 bad command line, 65 malformed input, 74 I/O error. A run that fails
part-way still writes every finished event, closes its files validly and saves its state.
`;
const FLAGS = {
  pcap: { type: "string", multiple: true },
  eventout: { type: "string" },
  newdl: { type: "boolean" },
  format: { type: "string" },
  ongoingout: { type: "string" },
  cachein: { type: "string" },
  cacheout: { type: "string" },
  samples: { type: "string" },
  timeout: { type: "string" },
  threshold: { type: "string" },
  uniques: { type: "string" },
  rate: { type: "string" },
  "exclude-tags": { type: "string" },
  dosout: { type: "string" },
  dos: { type: "boolean" },
  stats: { type: "boolean" },
  sources: { type: "boolean" },
  sourceout: { type: "string" },
  "dos-timeout": { type: "string" },
  "dos-min-packets": { type: "string" },
  "dos-min-duration": { type: "string" },
  "dos-min-window": { type: "string" },
  telescope: { type: "string" },
  "telescope-size": { type: "string" },
  seed: { type: "string" },
  cpu: { type: "string" },
  mem: { type: "string" },
  quiet: { type: "boolean" },
  from: { type: "string" },
  to: { type: "string" },
  input: { type: "string" },
  outdir: { type: "string" },
  block: { type: "string" },
  asnin: { type: "string" },
  geoin: { type: "string" },
  pfx2asin: { type: "string", multiple: true },
  "known-scanners": { type: "string" },
  dns: { type: "string", multiple: true },
  "dns-timeout": { type: "string" },
  "dns-retries": { type: "string" },
  "dns-concurrency": { type: "string" },
  "enrich-cache": { type: "string" },
  statsout: { type: "string" },
  seriesout: { type: "string" },
  "series-bin": { type: "string" },
  "series-by": { type: "string" },
  interface: { type: "string" },
  bpf: { type: "string" },
  rotate: { type: "string" },
  "max-memory": { type: "string" },
  map: { type: "string" },
  merge: { type: "string", multiple: true },
  jobs: { type: "string" },
  queue: { type: "string" },
  worker: { type: "string" },
  job: { type: "string" },
  blocks: { type: "string" },
  "ack-wait": { type: "string" },
  "idle-exit": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;
/** Runs `parse` with command-line arguments; returns the exit code. */
export async function parseMain(args: string[]): Promise<number> {
  const { values, positionals, after } = parseFlags(args, FLAGS);
  if (values.help) {
    console.log(PARSE_HELP);
    return 0;
  }
  if (
    values.from !== undefined || values.to !== undefined || values.input !== undefined ||
    (values.outdir !== undefined && values.rotate === undefined)
  ) {
    const { parseBatchMode } = await import("./batch_mode.ts");
    return await parseBatchMode(values, positionals, after);
  }
  if (values.block !== undefined) {
    throw new UsageError("--block only applies to batch mode (--from/--to)");
  }
  if (values.worker !== undefined) return await workerMain(values);
  const common = commonConfig(values, after);
  if (["merge", "map", "jobs", "queue"].some((f) => values[f] !== undefined)) {
    return await splitMain(values, after, common);
  }
  for (const [f, out] of [["dos", "dosout"], ["stats", "statsout"], ["sources", "sourceout"]]) {
    if (values[f] !== undefined) {
      throw new UsageError(`--${f} goes to --map (a block result); a run writes --${out} PATH`);
    }
  }
  let pcaps: string[] = [];
  if (values.interface !== undefined) {
    if (values.pcap !== undefined) throw new UsageError("give --pcap or --interface, not both");
  } else {
    if (values.bpf !== undefined) throw new UsageError("--bpf only applies to --interface");
    if (values.pcap === undefined) {
      throw new UsageError("--pcap is required (captures to read; or --interface)");
    }
    pcaps = pathList(values.pcap, after.pcap ?? []);
    if (pcaps.length === 0) throw new UsageError("--pcap needs at least one path");
  }
  let rotate: number | undefined;
  if (values.rotate !== undefined) {
    rotate = intFlag("rotate", values.rotate, 0, 1);
    if (values.outdir === undefined) {
      throw new UsageError("--rotate needs --outdir (files are named per interval)");
    }
    for (const f of ["eventout", "ongoingout"]) {
      if (values[f] !== undefined) {
        throw new UsageError(`--${f} cannot be used with --rotate (files are named per interval)`);
      }
    }
    // A window's series file holds whole bins: windows must end on bin boundaries.
    if (values.seriesout !== undefined && rotate % (common.seriesBin ?? 300) !== 0) {
      throw new UsageError(
        `--rotate ${rotate} is not a multiple of the series bin (${common.seriesBin ?? 300} s)`,
      );
    }
  } else if (values.eventout === undefined) {
    throw new UsageError("--eventout is required (where events are written)");
  }
  const cfg: ParseConfig = {
    ...common,
    pcaps,
    eventout: values.eventout as string | undefined,
    iface: values.interface as string | undefined,
    bpf: values.bpf as string | undefined,
    rotate,
    outdir: values.outdir as string | undefined,
  };
  // Held until the process exits: a signal at any moment of the run, or after it, is handled.
  const r = await runParse(cfg, new StopSignals());
  if (!cfg.quiet) console.error(formatParseSummary(r));
  if (r.error) {
    console.error(`parse: ${r.error.message}`);
    return r.error.exitCode;
  }
  return 0;
}

// Flags a split run (--map, --merge, --jobs) does not take: outputs it cannot make yet.
const NOT_SPLIT = [
  "interface",
  "rotate",
  "outdir",
  "ongoingout",
];

// parse --map DIR, parse --merge DIR..., parse --jobs N: split runs (src/split/).
async function splitMain(
  values: Record<string, unknown>,
  after: Record<string, string[]>,
  common: ReturnType<typeof commonConfig>,
): Promise<number> {
  const modes = ["map", "merge", "jobs", "queue"].filter((f) => values[f] !== undefined);
  if (modes.length > 1) {
    throw new UsageError(`--${modes[0]} and --${modes[1]} cannot be used together`);
  }
  for (const f of NOT_SPLIT) {
    if (values[f] !== undefined) {
      throw new UsageError(
        `--${f} cannot be used with --${modes[0]} (a split run's outputs: events, state)`,
      );
    }
  }
  const mode = modes[0];
  // Signal series: a file per block (timeseries --signals unites them); a folder with --jobs.
  if (values.seriesout !== undefined && (mode === "merge" || mode === "queue")) {
    throw new UsageError(
      `--seriesout cannot be used with --${mode} (give it to --map or --jobs: a file per block)`,
    );
  }
  for (const f of ["job", "blocks", "ack-wait"]) {
    if (values[f] !== undefined && mode !== "queue") throw new UsageError(`--${f} needs --queue`);
  }
  if (values["idle-exit"] !== undefined) throw new UsageError("--idle-exit needs --worker");
  for (const [f, out] of [["dos", "dosout"], ["stats", "statsout"], ["sources", "sourceout"]]) {
    if (values[f] !== undefined && mode !== "map") {
      throw new UsageError(`--${f} goes to --map (give --${mode} --${out} PATH)`);
    }
  }
  if (mode === "merge") {
    if (values.pcap !== undefined) throw new UsageError("--merge reads block results, not --pcap");
    if (values.eventout === undefined) throw new UsageError("--eventout is required");
    const dirs = pathList(values.merge as string[], after.merge ?? []);
    if (dirs.length === 0) throw new UsageError("--merge needs at least one block result");
    const { runMerge } = await import("./merge_mode.ts");
    const r = await runMerge({ ...common, pcaps: dirs, eventout: values.eventout as string });
    return report(r, common.quiet);
  }
  if (values.pcap === undefined) throw new UsageError("--pcap is required");
  const pcaps = pathList(values.pcap as string[], after.pcap ?? []);
  if (pcaps.length === 0) throw new UsageError("--pcap needs at least one path");
  if (pcaps.includes("-")) throw new UsageError(`--${mode} reads files, not stdin`);
  if (mode === "map") {
    for (const f of ["eventout", "cacheout", "dosout", "statsout", "sourceout"]) {
      if (values[f] !== undefined) {
        const give = ({
          dosout: ": give --dos",
          statsout: ": give --stats",
          sourceout: ": give --sources",
        } as Record<string, string>)[f] ?? "";
        throw new UsageError(
          `--${f} cannot be used with --map (the block result holds them${give})`,
        );
      }
    }
    if (values.cachein !== undefined) {
      throw new UsageError("--cachein goes to --merge (it carries an earlier run's open events)");
    }
    if (common.format.name === "parquet") {
      throw new UsageError("--map: block results hold NDJSON; give --format to --merge");
    }
    const cfg: ParseConfig = {
      ...common,
      pcaps,
      map: values.map as string,
      mapDos: values.dos === true,
      mapStats: values.stats === true,
      mapSources: values.sources === true,
    };
    return report(await runParse(cfg, new StopSignals()), common.quiet);
  }
  if (values.eventout === undefined) throw new UsageError("--eventout is required");
  const cfg: ParseConfig = { ...common, pcaps, eventout: values.eventout as string };
  if (mode === "queue") {
    const { runQueue } = await import("./queue_mode.ts");
    const r = await runQueue(cfg, String(values.queue), {
      job: values.job as string | undefined,
      blocks: values.blocks !== undefined ? intFlag("blocks", values.blocks, 1, 1) : undefined,
      ackWait: intFlag("ack-wait", values["ack-wait"], 30, 1),
    }, new StopSignals());
    return report(r, common.quiet);
  }
  const jobs = intFlag("jobs", values.jobs, 1, 1);
  if (jobs === 1) return report(await runParse(cfg, new StopSignals()), common.quiet);
  const { runJobs } = await import("./jobs_mode.ts");
  return report(await runJobs(cfg, jobs, new StopSignals()), common.quiet);
}

// parse --worker URL [--idle-exit N] [--quiet]: the task carries every other setting.
async function workerMain(values: Record<string, unknown>): Promise<number> {
  const other = Object.keys(values).filter((k) =>
    values[k] !== undefined && !["worker", "idle-exit", "quiet"].includes(k)
  );
  if (other.length > 0) {
    throw new UsageError(`--${other[0]} cannot be used with --worker (tasks carry the settings)`);
  }
  const { runWorker } = await import("./queue_mode.ts");
  const e = await runWorker(String(values.worker), {
    quiet: values.quiet === true,
    idleExit: values["idle-exit"] !== undefined
      ? intFlag("idle-exit", values["idle-exit"], 0, 1)
      : undefined,
  }, new StopSignals());
  if (e) console.error(`parse: ${e.message}`);
  return e ? e.exitCode : 0;
}

function report(r: ParseResult, quiet: boolean): number {
  if (!quiet) console.error(formatParseSummary(r));
  if (r.error) {
    console.error(`parse: ${r.error.message}`);
    return r.error.exitCode;
  }
  return 0;
}

if (import.meta.main) await runCli("parse", parseMain, Deno.args);

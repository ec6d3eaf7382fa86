/**
 * One `parse` run from a settled configuration (single or batch mode): opens inputs and
 * outputs, runs the stream chain, and reports. `parse_main.ts` turns the command line into a
 * {@link ParseConfig}; batch mode (`batch_mode.ts`) makes one per block.
 *
 * @module
 */

import type { BlockSettings, BlockWriter } from "../split/block_result.ts";
import { eventKey } from "../split/split_merger.ts";
import { EventBuffer } from "../outputs/event_buffer.ts";
import { CaptureSet } from "../capture/capture_set.ts";
import { type CaptureStats, LiveCapture } from "../capture/live_capture.ts";
import type { EventChunk } from "../aggregation/event_aggregator_stream.ts";
import { RotatingEventSink, windowName } from "../outputs/rotating_event_sink.ts";
import { WorkerCaptureSet } from "../capture/worker_capture_set.ts";
import { DarknetError, DataError, IoError, ioError, UsageError } from "../errors.ts";
import {
  DEFAULT_TELESCOPE_SIZE,
  DEFAULT_TIMEOUT,
  EventAggregator,
} from "../aggregation/event_aggregator.ts";
import { EventAggregatorStream } from "../aggregation/event_aggregator_stream.ts";
import { EventSink } from "../outputs/event_sink.ts";
import { EventWriter } from "../outputs/event_writer.ts";
import { intFlag, numFlag, pathList, seriesByFlag } from "./_cli.ts";
import { PacketStats } from "../stats/packet_stats.ts";
import type { EventFormat } from "../outputs/event_encoder.ts";
import { EVENT_FORMATS, eventFormat } from "../outputs/formats.ts";
import { ndjson } from "../outputs/ndjson.ts";
import { defaultBudget, MemoryBudget, parseSize } from "./_memory_budget.ts";
import { StopSignals } from "./_stop_signals.ts";
import { checkCreatable, checkPaths, type FlagPath } from "./_output_paths.ts";
import { Progress, type ProgressFigures } from "./_progress.ts";
import { telescopeSize } from "./_telescope.ts";
import { EnrichStream } from "../enrich/enrich_stream.ts";
import type { Enricher } from "../enrich/enricher.ts";
import type { MaxMindDb } from "../enrich/maxmind_db.ts";
import { prefixEnricher, PrefixTable } from "../enrich/prefix_table.ts";
import { dnsEnricher, type DnsStats, parseDnsServer, ReverseDns } from "../enrich/reverse_dns.ts";
import { parseTagList, TAGS } from "../tags/traffic_tags.ts";
import { knownScannerEnricher, KnownScanners } from "../enrich/known_scanners.ts";
import {
  compareDosReports,
  DOS_ANNOTATION_COLUMNS,
  DOS_COLUMNS,
  type DosOptions,
  type DosReport,
  type DosState,
  DosVictims,
} from "../dos/dos_victims.ts";
import { DEFAULT_SERIES_DIMS, type SeriesDim, SignalSeries } from "../series/signal_series.ts";
import { placeLookup } from "../series/place_lookup.ts";
import { type RecordColumn, recordFormat } from "../outputs/record_format.ts";
import { SOURCE_COLUMNS, type SourceRecord, SourceRollup } from "../sources/source_rollup.ts";
import { encodeSourceRecord } from "../sources/_source_record.ts";
import type { Analyzer } from "../analysis/analyzer.ts";
import { DarknetEvent } from "../model/darknet_event.ts";
import { parseIpv4, parseIpv6 } from "../util/ip.ts";

/** The most frames `--samples` may keep per event (a state file stores the count in a byte). */
export const MAX_SAMPLES = 255;

/** Everything a parse run needs. */
export interface ParseConfig {
  pcaps: string[];
  eventout?: string;
  /** The event files' format (`--format`, `--newdl`). */
  format: EventFormat;
  ongoingout?: string;
  cachein?: string;
  cacheout?: string;
  samples: number;
  timeout: number;
  threshold: number;
  uniques: number;
  rate: number;
  /** Traffic tags whose packets are dropped before aggregation (`--exclude-tags`, `Tag` bits). */
  excludeTags?: number;
  /** Where to write per-source roll-ups (`--sourceout`). */
  sourceout?: string;
  /** Where to write DoS attack vectors (`--dosout`), and their settings. */
  dosout?: string;
  dos?: DosOptions;
  /** A map step that also keeps the DoS analysis in its block result (`--map --dos`). */
  mapDos?: boolean;
  /** A map step that also keeps its packet statistics in its block result (`--map --stats`). */
  mapStats?: boolean;
  /** A map step that also keeps its events' roll-up records (`--map --sources`). */
  mapSources?: boolean;
  telescopeSize: number;
  seed: number;
  cpu?: string;
  mem?: string;
  quiet: boolean;
  asnin?: string;
  geoin?: string;
  pfx2asin?: string[];
  /** Known scanners' prefixes and name suffixes (`--known-scanners`). */
  knownScanners?: string;
  dns?: string[];
  dnsTimeout?: number;
  dnsRetries?: number;
  dnsConcurrency?: number;
  /** Where to write the packet statistics (`--statsout`), as `count --pcap --json` does. */
  statsout?: string;
  /** Where to write the signal series (`--seriesout`), and their bins and splits. */
  seriesout?: string;
  seriesBin?: number;
  seriesBy?: SeriesDim[];
  /** Addresses cached per enrichment source (`--enrich-cache`). */
  enrichCache?: number;
  /** Live capture: the interface for tcpdump (instead of pcaps). */
  iface?: string;
  /** Live capture: BPF filter. */
  bpf?: string;
  /** Rotation period in seconds of packet time (with outdir). */
  rotate?: number;
  /** Directory of rotated files. */
  outdir?: string;
  /** Memory budget in bytes (default: three quarters of the machine's memory). */
  maxMemory?: number;
  /** Packets timed after this (Unix seconds) are skipped (default: one day after the start). */
  notAfter?: number;
  /** The flag that named the inputs, for messages (default `--pcap`; batch mode `--input`). */
  inputFlag?: string;
  /** Split runs: the block result folder to write instead of events (`--map`, `split/`). */
  map?: string;
  /**
   * Decode on this thread, not on a capture worker (`--jobs` runs one map step a core: a worker
   * each would put two threads on every core). @default false
   */
  oneThread?: boolean;
  /** Told the progress figures after every batch (`--jobs`' workers report them). */
  onProgress?: (f: ProgressFigures) => void;
}
// `--format NAME` (any registered format), or Merit's `--newdl` for NDJSON; not both unless
// they agree.
function formatFlag(name: unknown, newdl: boolean): EventFormat {
  if (name === undefined) return newdl ? ndjson : EVENT_FORMATS[0];
  const f = eventFormat(String(name));
  if (!f) {
    throw new UsageError(
      `--format: expected ${alternatives(EVENT_FORMATS.map((x) => x.name))}, got "${name}"`,
    );
  }
  if (newdl && f !== ndjson) throw new UsageError(`--newdl means --format ndjson, not ${f.name}`);
  return f;
}

// The DoS analysis's settings; its flags need --dosout (or a map step's --dos).
function dosFlags(v: Record<string, unknown>, telescopeSize: number): DosOptions {
  const names = ["dos-timeout", "dos-min-packets", "dos-min-duration", "dos-min-window"];
  const given = names.find((n) => v[n] !== undefined);
  if (given !== undefined && v.dosout === undefined && v.dos === undefined) {
    throw new UsageError(`--${given} needs --dosout`);
  }
  const timeout = numFlag("dos-timeout", v["dos-timeout"], 300);
  if (timeout <= 0) throw new UsageError("--dos-timeout: must be greater than 0");
  return {
    timeout,
    minPackets: intFlag("dos-min-packets", v["dos-min-packets"], 25),
    minDuration: numFlag("dos-min-duration", v["dos-min-duration"], 60),
    minWindow: intFlag("dos-min-window", v["dos-min-window"], 30),
    telescopeSize,
  };
}

// `--exclude-tags spoofed,erratic,…`: the tags' bits; an unknown name is a usage error.
function excludeTagsFlag(v: unknown): number {
  if (v === undefined) return 0;
  try {
    const m = parseTagList(String(v));
    if (m === 0) throw new Error(`no tag named (tags: ${TAGS.join(", ")})`);
    return m;
  } catch (e) {
    throw new UsageError(`--exclude-tags: ${(e as Error).message}`);
  }
}

// A DoS report with the victim's annotations from the enrichers that answer at once (MaxMind,
// prefix-to-AS; not reverse DNS): the same fields as an event's.
export function annotateDos(r: DosReport, enrich: Enrichment | undefined): object {
  const now = enrich?.enrichers.filter((x) => x.annotate) ?? [];
  if (now.length === 0) return r;
  const e = new DarknetEvent();
  const v6 = r.Victim.includes(":");
  if (v6) {
    e.version = 6;
    e.src6 = parseIpv6(r.Victim)!;
  } else e.src = parseIpv4(r.Victim);
  for (const x of now) x.annotate!(e);
  const { FirstPacket, ...rest } = r;
  return {
    ...rest,
    ASN: e.asn,
    Org: e.org,
    Prefix: e.prefix,
    Country: e.country,
    City: e.city,
    Lat: e.lat,
    Long: e.long,
    FirstPacket,
  };
}

// Where a run's DoS reports go (`dosOut` in runParseWith): written as they come, or held — to be
// written at the end in the canonical order (compareDosReports), or for a map step's block result.
class DosOutput {
  readonly #writer: EventWriter | undefined;
  readonly #sorted: boolean;
  readonly #enrich: Enrichment | undefined;
  #closed = false;
  /** The reports held (in the order they ended). */
  readonly held: DosReport[] = [];

  constructor(writer: EventWriter | undefined, sorted: boolean, enrich: Enrichment | undefined) {
    this.#writer = writer;
    this.#sorted = sorted;
    this.#enrich = enrich;
  }

  write(reports: DosReport[]): void {
    if (this.#writer === undefined || this.#sorted) {
      for (const r of reports) this.held.push(r); // (a spread of 10^5 overflows the stack)
    } else for (const r of reports) this.#writer.write(annotateDos(r, this.#enrich) as never);
  }

  flush(): void {
    if (!this.#sorted) this.#writer?.flush();
  }

  /** Writes what is held, in order, and closes the file (once; after a failure too). */
  close(): void {
    const w = this.#writer;
    if (w === undefined || this.#closed) return;
    this.#closed = true;
    if (this.#sorted) {
      this.held.sort(compareDosReports);
      try {
        for (const r of this.held) w.write(annotateDos(r, this.#enrich) as never);
      } finally {
        w.close();
      }
    } else w.close();
  }
}

// The columns of DoS records as annotateDos makes them.
export function dosColumns(enrich: Enrichment | undefined): readonly RecordColumn[] {
  if (!enrich?.enrichers.some((x) => x.annotate)) return DOS_COLUMNS;
  return [...DOS_COLUMNS.slice(0, -1), ...DOS_ANNOTATION_COLUMNS, DOS_COLUMNS.at(-1)!];
}

// The settings a block result records, which every block of a run and its merge share.
export function blockSettings(cfg: ParseConfig): BlockSettings {
  return {
    timeout: cfg.timeout,
    telescopeSize: cfg.telescopeSize,
    samples: cfg.samples,
    seed: cfg.seed,
    threshold: cfg.threshold,
    uniques: cfg.uniques,
    rate: cfg.rate,
    excludeTags: cfg.excludeTags ?? 0,
    enrichment: JSON.stringify([
      cfg.asnin ?? null,
      cfg.geoin ?? null,
      cfg.pfx2asin ?? [],
      cfg.knownScanners ?? null,
      cfg.dns ?? null,
    ]),
    // The DoS analysis's settings, when blocks carry it (--dos, --dosout); packet statistics.
    ...(cfg.dosout !== undefined || cfg.mapDos ? { dos: cfg.dos ?? {} } : {}),
    ...(cfg.statsout !== undefined || cfg.mapStats ? { stats: true } : {}),
    ...(cfg.sourceout !== undefined || cfg.mapSources ? { sources: true } : {}),
  };
}

// The map step's sink: each event's NDJSON line and index entry into the block result.
function blockSink(
  block: BlockWriter,
  agg: EventAggregator,
  sources: boolean,
): WritableStream<EventChunk> {
  const buf = new EventBuffer(4096);
  return new WritableStream({
    write(chunk) {
      const first = agg._firstPacket!;
      const limitSec = first[0] + agg.timeout;
      for (const e of chunk.events) {
        buf.len = 0;
        buf.event(e);
        buf.ascii("\n");
        const head = e.firstSec < limitSec || (e.firstSec === limitSec && e.firstNsec <= first[1]);
        block.add(buf.buf.subarray(0, buf.len), e.lastSec, e.lastNsec, eventKey(e), head);
        if (sources) block.addSource(encodeSourceRecord(e)); // for the merge's roll-up
      }
    },
  });
}

// The signal series' settings; their flags need --seriesout.
function seriesFlags(v: Record<string, unknown>): { seriesBin?: number; seriesBy?: SeriesDim[] } {
  for (const f of ["series-bin", "series-by"]) {
    if (v[f] !== undefined && v.seriesout === undefined) {
      throw new UsageError(`--${f} needs --seriesout`);
    }
  }
  const seriesBy = seriesByFlag(v["series-by"]);
  return {
    seriesBin: intFlag("series-bin", v["series-bin"], 300, 1, 86400 * 366),
    seriesBy,
  };
}

/** Settings shared by single and batch runs, from parsed flag values. */
export function commonConfig(
  v: Record<string, unknown>,
  after: Record<string, string[]> = {},
): Omit<ParseConfig, "pcaps" | "eventout"> {
  const stray = after[""] ?? [];
  if (stray.length) {
    throw new UsageError(`unexpected argument "${stray[0]}" (paths follow --pcap or --pfx2asin)`);
  }
  if (v.samples === undefined) {
    throw new UsageError("--samples is required (packets to sample per event; 0 for none)");
  }
  if (v.telescope !== undefined && v["telescope-size"] !== undefined) {
    throw new UsageError("give --telescope or --telescope-size, not both");
  }
  const dns = v.dns === undefined
    ? undefined
    : (v.dns as string[]).flatMap((x) => x.split(/[\s,]+/)).filter((x) => x);
  dns?.forEach(parseDnsServer); // a bad server is a usage error, before any file is touched
  const timeout = numFlag("timeout", v.timeout, DEFAULT_TIMEOUT);
  if (timeout <= 0) throw new UsageError("--timeout: must be greater than 0");
  const size = v.telescope !== undefined
    ? telescopeSize(String(v.telescope))
    : intFlag("telescope-size", v["telescope-size"], DEFAULT_TELESCOPE_SIZE, 1);
  return {
    format: formatFlag(v.format, Boolean(v.newdl)),
    ongoingout: v.ongoingout as string | undefined,
    cachein: v.cachein as string | undefined,
    cacheout: v.cacheout as string | undefined,
    statsout: v.statsout as string | undefined,
    seriesout: v.seriesout as string | undefined,
    ...seriesFlags(v),
    samples: intFlag("samples", v.samples, 0, 0, MAX_SAMPLES),
    timeout,
    threshold: intFlag("threshold", v.threshold, 0),
    uniques: intFlag("uniques", v.uniques, 0),
    rate: numFlag("rate", v.rate, 0),
    excludeTags: excludeTagsFlag(v["exclude-tags"]),
    dosout: v.dosout as string | undefined,
    sourceout: v.sourceout as string | undefined,

    knownScanners: v["known-scanners"] as string | undefined,
    dos: dosFlags(v, size),
    telescopeSize: size,
    seed: intFlag("seed", v.seed, 1),
    cpu: v.cpu as string | undefined,
    mem: v.mem as string | undefined,
    quiet: Boolean(v.quiet),
    asnin: v.asnin as string | undefined,
    geoin: v.geoin as string | undefined,
    pfx2asin: v.pfx2asin === undefined ? undefined : pathList(v.pfx2asin, after.pfx2asin ?? []),
    dns: v.dns === undefined
      ? undefined
      : (v.dns as string[]).flatMap((x) => x.split(/[\s,]+/)).filter((x) => x),
    dnsTimeout: numFlag("dns-timeout", v["dns-timeout"], 5),
    dnsRetries: intFlag("dns-retries", v["dns-retries"], 2),
    dnsConcurrency: intFlag("dns-concurrency", v["dns-concurrency"], 64, 1),
    enrichCache: intFlag("enrich-cache", v["enrich-cache"], 65536, 1, 1 << 26),
    maxMemory: v["max-memory"] === undefined
      ? undefined
      : parseSize("max-memory", String(v["max-memory"])),
  };
}

/** Opens every enrichment source named in `cfg` (before any packet is read). */
export async function openEnrichers(cfg: ParseConfig): Promise<Enrichment | undefined> {
  const x: Enrichment = { enrichers: [] };
  if (cfg.asnin || cfg.geoin) {
    // Loaded only when asked for: the MaxMind reader (an npm package) costs ~13 MB of memory.
    const { asnEnricher, cityEnricher, MaxMindDb } = await import("../enrich/maxmind_db.ts");
    const cache = cfg.enrichCache;
    if (cfg.asnin) {
      x.enrichers.push(asnEnricher(x.asn = await MaxMindDb.open(cfg.asnin, "asn", cache)));
    }
    if (cfg.geoin) {
      x.enrichers.push(cityEnricher(x.geo = await MaxMindDb.open(cfg.geoin, "city", cache)));
    }
  }
  if (cfg.pfx2asin?.length) {
    // The ASN from the prefix tables only when no ASN database gives it.
    const table = await PrefixTable.load(cfg.pfx2asin);
    x.enrichers.push(prefixEnricher(table, { asn: !x.asn }));
  }
  if (cfg.knownScanners !== undefined) {
    // By source at once; by reverse-DNS name (with --dns) once the names are known.
    x.enrichers.push(knownScannerEnricher(await KnownScanners.load(cfg.knownScanners)));
  }
  if (cfg.dns?.length) {
    x.dns = new ReverseDns({
      servers: cfg.dns.map(parseDnsServer),
      timeoutMs: (cfg.dnsTimeout ?? 5) * 1000,
      retries: cfg.dnsRetries,
      concurrency: cfg.dnsConcurrency,
      cacheSize: cfg.enrichCache,
    });
    x.enrichers.push(dnsEnricher(x.dns));
  }
  return x.enrichers.length ? x : undefined;
}

/** The enrichers of a run, and the sources its summary reports on. */
export interface Enrichment {
  /** Run in this order. */
  enrichers: Enricher[];
  asn?: MaxMindDb;
  geo?: MaxMindDb;
  dns?: ReverseDns;
}

/** Result of {@link runParse}. */
export interface ParseResult {
  packets: number;
  eventsWritten: number;
  eventsFiltered: number;
  openSaved: number;
  outOfOrder: number;
  /** Packets skipped for a timestamp after `notAfter`. */
  implausibleTime: number;
  /** Packets dropped for a tag in `--exclude-tags`. */
  excludedByTags: number;
  /** With `--dosout`: attack vectors reported, and open ones saved to the state. */
  dos?: { reported: number; openSaved: number };
  /** The `notAfter` limit used (Unix seconds). */
  notAfter: number;
  /** Events open when the input failed, written or saved as at the end of input. */
  openAtFailure: number;
  /** Seconds from the first packet read to the last output closed. */
  seconds: number;
  /** Seconds spent before that: checks, the state file, enrichment databases. */
  loadSeconds: number;
  /** Reverse DNS counters, when --dns was given. */
  dns?: DnsStats;
  /** Database values of the wrong type (written as 0 or ""), per database path. */
  wrongTypes?: { path: string; count: number }[];
  /** tcpdump's counters, for a live capture. */
  capture?: CaptureStats;
  /** The signal that stopped the run early, if any. */
  stopSignal?: Deno.Signal;
  /** The input or output error that ended the run early, if any. */
  error?: DarknetError;
}

// Every path the run reads and writes, checked before any file is opened for writing.
async function checkRunPaths(cfg: ParseConfig): Promise<void> {
  const named = (flag: string, path: string | undefined): FlagPath[] =>
    path === undefined ? [] : [{ flag, path }];
  const inputs = [
    ...cfg.pcaps.map((path) => ({ flag: cfg.inputFlag ?? "--pcap", path })),
    ...named("--cachein", cfg.cachein),
    ...named("--asnin", cfg.asnin),
    ...named("--geoin", cfg.geoin),
    ...(cfg.pfx2asin ?? []).map((path) => ({ flag: "--pfx2asin", path })),
    ...named("--known-scanners", cfg.knownScanners),
  ];
  const outputs = [
    ...named("--eventout", cfg.eventout),
    ...named("--ongoingout", cfg.ongoingout),
    ...named("--cacheout", cfg.cacheout),
    ...named("--statsout", cfg.statsout),
    ...named("--seriesout", cfg.seriesout),
    ...named("--dosout", cfg.dosout),
    ...named("--sourceout", cfg.sourceout),
    ...named("--cpu", cfg.cpu),
    ...named("--mem", cfg.mem),
  ];
  await checkPaths(inputs, outputs, [["--cachein", "--cacheout"]]);
  if (cfg.cacheout !== undefined) await checkCreatable("--cacheout", cfg.cacheout);
}

/**
 * Runs one parse over `cfg.pcaps`. Input and output errors are returned, not thrown. SIGINT and
 * SIGTERM stop the input and finish the run; `signals` (the CLI's, held until the process
 * exits, so that a signal after the run cannot kill it while it prints its summary) or handlers
 * of the run's own, removed at its end.
 */
export async function runParse(cfg: ParseConfig, signals?: StopSignals): Promise<ParseResult> {
  if (signals) return await runParseWith(cfg, signals);
  const own = new StopSignals();
  try {
    return await runParseWith(cfg, own);
  } finally {
    own.dispose();
  }
}

async function runParseWith(cfg: ParseConfig, signals: StopSignals): Promise<ParseResult> {
  const t0 = performance.now();
  const rotate = cfg.rotate ?? 0;
  if (!rotate && cfg.eventout === undefined && cfg.map === undefined) {
    throw new UsageError("--eventout is required");
  }
  await checkRunPaths(cfg);
  // Inputs: a live tcpdump, stdin (main thread only), or files decoded on a second core.
  let live: LiveCapture | undefined;
  let set!: CaptureSet | WorkerCaptureSet; // for a live capture: once tcpdump runs, below
  // DoS victims (--dosout) are found on the capture worker beside the decoding when there is
  // one (the other core has time to spare), else on this thread.
  // A map step keeps its open vectors and first ones for the merge (--map --dos).
  const dosOn = cfg.dosout !== undefined || (cfg.map !== undefined && cfg.mapDos === true);
  const dosKeep = cfg.cacheout !== undefined || cfg.map !== undefined;
  const dosOptions = { ...cfg.dos, splitHeads: cfg.map !== undefined };
  let dosWorker: WorkerCaptureSet | undefined;
  // The signal series' splits: country and AS only with a database that gives them.
  const seriesDims = (cfg.seriesBy ?? DEFAULT_SERIES_DIMS).filter((d) =>
    ((d !== "country" && d !== "region") || cfg.geoin !== undefined) &&
    (d !== "asn" || cfg.asnin !== undefined || (cfg.pfx2asin?.length ?? 0) > 0)
  );
  // Made on the capture worker when there is one (per packet a hash insert, off this thread);
  // with --rotate here, where the windows end.
  const seriesOnWorker = cfg.seriesout !== undefined && cfg.iface === undefined &&
    !cfg.pcaps.includes("-") && !rotate && !cfg.oneThread;
  if (cfg.iface === undefined) {
    if (cfg.pcaps.includes("-") || cfg.oneThread) set = await CaptureSet.open(cfg.pcaps);
    else {
      set = dosWorker = await WorkerCaptureSet.open(cfg.pcaps, {
        // The DoS analysis makes the worker's time per batch uneven (sweeps, new vectors): more
        // batches in flight keep the aggregator fed (5 alternating runs with --dosout
        // --sourceout: medians 3.70 → 3.57 s; none for plain parse, which keeps 4).
        window: dosOn ? 12 : undefined,
        tagPackets: true,
        dos: dosOn ? { ...dosOptions, keepOpen: dosKeep } : undefined,
        series: seriesOnWorker
          ? {
            binSeconds: cfg.seriesBin ?? 300,
            dims: seriesDims,
            places: {
              geoin: cfg.geoin,
              asnin: cfg.asnin,
              pfx2asin: cfg.pfx2asin,
              enrichCache: cfg.enrichCache,
            },
          }
          : undefined,
      });
      if (!dosOn) dosWorker = undefined;
    }
  }
  // A packet timed more than a day after the run started is a corrupt timestamp (a capture
  // cannot come from the future): skipped and counted instead of moving the clock.
  const notAfter = cfg.notAfter ?? Math.floor(Date.now() / 1000) + 86400;
  // Split runs (--map): the block's first events are kept whole for the merge step.
  const heads = cfg.map !== undefined ? new EventAggregator({ ...cfg, notAfter }) : undefined;
  const agg = new EventAggregator({
    ...cfg,
    notAfter,
    destinations: cfg.sourceout !== undefined || (cfg.map !== undefined && cfg.mapSources),
    heads,
  });
  // DoS victims from backscatter (--dosout): an analyzer on the same batches.
  const dos = dosOn ? new DosVictims(dosOptions) : undefined;
  // State files, profiles and gzip are imported only when used: each pulls in a node: module,
  // and the first one loaded starts Deno's Node layer (~6 MB, ~10 ms).
  try {
    if (cfg.cachein) {
      await (await import("../state/state_file.ts")).loadState(agg, cfg.cachein, { dos });
    }
  } finally {
    // The worker's analysis waits for the state (or for null) before its first batch.
    dosWorker?.sendDosState(cfg.cachein && dos ? dos.saveState() : null);
  }
  if (rotate) {
    for (const dir of [cfg.outdir!, ...(cfg.seriesout !== undefined ? [cfg.seriesout] : [])]) {
      await Deno.mkdir(dir, { recursive: true }).catch((e) => Promise.reject(ioError(e, dir)));
    }
  }
  if (cfg.iface) await LiveCapture.check({ iface: cfg.iface, bpf: cfg.bpf });
  const enrich = await openEnrichers(cfg);
  const streaming = cfg.iface !== undefined || cfg.pcaps.includes("-");
  let events: EventWriter | undefined;
  let ongoing: EventWriter | undefined;
  // Reports go to --dosout (a run of files: held and written at the end in the canonical order,
  // which a split run reproduces; streaming and rotating: as they end) or to the block result.
  const dosOut = dos
    ? new DosOutput(
      cfg.dosout !== undefined && cfg.map === undefined
        ? await EventWriter.create(cfg.dosout, {
          format: recordFormat(cfg.format, dosColumns(enrich)),
        })
        : undefined,
      !streaming && !rotate,
      enrich,
    )
    : undefined;
  // Per-source roll-ups (--sourceout), written as their intervals end.
  const rollup = cfg.sourceout !== undefined
    ? new SourceRollup({ telescopeSize: cfg.telescopeSize })
    : undefined;
  let sourceOut: EventWriter | undefined;
  try {
    sourceOut = rollup
      ? await EventWriter.create(cfg.sourceout!, {
        format: recordFormat(cfg.format, SOURCE_COLUMNS),
      })
      : undefined;
  } catch (e) {
    dosOut?.close();
    throw e;
  }
  let sink: WritableStream<EventChunk>;
  // (Loaded for --map only: block results need node:crypto.)
  const block = cfg.map !== undefined
    ? await (await import("../split/block_result.ts")).BlockWriter.create(cfg.map)
    : undefined;
  if (block) sink = blockSink(block, agg, cfg.mapSources === true);
  else if (rotate) {
    sink = new RotatingEventSink({ outdir: cfg.outdir!, rotate, format: cfg.format });
  } else {
    try {
      events = await EventWriter.create(cfg.eventout!, { format: cfg.format });
    } catch (e) {
      dosOut?.close();
      sourceOut?.close();
      throw e;
    }
    try {
      ongoing = cfg.ongoingout !== undefined
        ? await EventWriter.create(cfg.ongoingout, { format: cfg.format })
        : undefined;
    } catch (e) {
      events.close();
      dosOut?.close();
      sourceOut?.close();
      throw e;
    }
    sink = new EventSink({
      events,
      ongoing,
      writeOpen: cfg.cacheout === undefined,
      flushEach: streaming,
    });
  }
  if (cfg.iface) {
    live = LiveCapture.start({ iface: cfg.iface, bpf: cfg.bpf });
    const l = live;
    set = CaptureSet.fromStream(cfg.iface, live.stdout, () => l.exitError());
  }
  // SIGINT / SIGTERM: stop reading, then finish as at the end of input (nothing is lost).
  signals.onStop(() => live ? live.stop() : set.stop());
  const profile = cfg.cpu
    ? await (await import("./_profile.ts")).CpuProfile.start(cfg.cpu)
    : undefined;
  const progress = new Progress(!cfg.quiet);
  const input = set;
  const { getHeapStatistics } = await import("node:v8");
  const budget = new MemoryBudget(
    cfg.maxMemory ?? defaultBudget(),
    getHeapStatistics().heap_size_limit,
  );
  let memoryError: DarknetError | undefined;
  const tap = new TransformStream(
    {
      transform(batch, controller) {
        controller.enqueue(batch);
        const over = memoryError ? undefined : budget.check();
        if (over) {
          // Stop reading: the run ends as at an input error, with every output written.
          memoryError = new IoError(
            `${over}; stopped reading with ${agg.openCount.toLocaleString("en-US")} open ` +
              `events (raise --max-memory, or lower --timeout)`,
          );
          if (live) live.stop();
          else input.stop();
        }
        if (dosWorker) writeDos(dosWorker.takeDosReports());
        const figures = {
          bytesRead: input.bytesRead,
          totalBytes: input.totalBytes,
          packets: agg.stats.packets,
          openEvents: agg.openCount,
        };
        progress.update(figures);
        cfg.onProgress?.(figures);
      },
    },
    { highWaterMark: 1 },
    { highWaterMark: 0 },
  );
  let error: DarknetError | undefined;
  let openSaved = 0;
  let aggStream: EventAggregatorStream | undefined;
  let allocationFailed = false;
  // Packet statistics (count --pcap's) on the same decoded batches, for --statsout.
  const stats = cfg.statsout !== undefined || (cfg.map !== undefined && cfg.mapStats)
    ? new PacketStats()
    : undefined;
  // Signal series (--seriesout) on this thread when there is no capture worker.
  const series = cfg.seriesout !== undefined && !seriesOnWorker
    ? new SignalSeries({
      binSeconds: cfg.seriesBin,
      dims: seriesDims,
      lookup: placeLookup(enrich?.enrichers ?? [], enrich?.geo),
    })
    : undefined;
  // With --rotate, a series file per window into the --seriesout folder, as the window ends.
  let seriesWrites = Promise.resolve();
  let seriesError: DarknetError | undefined;
  const seriesStage: Analyzer | undefined = series && rotate
    ? {
      name: series.name,
      add: (b, from, to) => series.add(b, from, to),
      merge: () => {
        throw new Error("not merged");
      },
      endInterval(end) {
        series.endInterval(end);
        const bytes = series.drain();
        if (!bytes) return;
        const path = `${cfg.seriesout}/series_${windowName(end - rotate, rotate)}.series`;
        seriesWrites = seriesWrites.then(async () => {
          const { writeAtomic } = await import("../state/state_container.ts");
          await writeAtomic(bytes, path);
        }).catch((e) => {
          if (!(e instanceof DarknetError)) throw e;
          seriesError ??= e;
        });
      },
      result: () => null,
    }
    : series;
  const writeDos = (reports: DosReport[]) => dosOut!.write(reports);
  const dosStage: Analyzer | undefined = !dos || dosWorker ? undefined : {
    name: dos.name,
    add(b, from, to) {
      dos.add(b, from, to);
      const ended = dos.take();
      if (ended.length > 0) {
        writeDos(ended);
        if (streaming) dosOut!.flush();
      }
    },
    merge: () => {
      throw new Error("not merged");
    },
    result: () => dos.result(),
  };
  // Per-source roll-ups of the events written: each rotation window's, or the run's. The open
  // events of a window's closing chunk are not written there (they end in a later window); those
  // at the end of a run without --cacheout are.
  const writeRollup = (records: SourceRecord[]) => {
    for (const r of records) sourceOut!.write(r as never);
    if (streaming && records.length > 0) sourceOut!.flush();
  };
  const rollupTap = rollup &&
    new TransformStream<EventChunk, EventChunk>({
      transform(chunk, controller) {
        if (!chunk.open || (!rotate && cfg.cacheout === undefined)) {
          for (const e of chunk.events) rollup.add(e);
        }
        if (chunk.open && chunk.window) writeRollup(rollup.endWindow(chunk.window));
        controller.enqueue(chunk);
      },
      flush() {
        if (!rotate) writeRollup(rollup.endWindow(null));
      },
    });
  // Loading (state file, databases) is timed apart: it says nothing about the packet rate.
  const tLoaded = performance.now();
  try {
    const keepOpen = rotate > 0 || cfg.cacheout !== undefined || block !== undefined;
    // Open events are made into objects at the end only for a file that takes them.
    const emitOpen = !block &&
      (rotate > 0 || cfg.ongoingout !== undefined || cfg.cacheout === undefined);
    aggStream = new EventAggregatorStream(agg, {
      keepOpen,
      rotate,
      emitOpen,
      analyzers: [
        ...(stats ? [stats] : []),
        ...(seriesStage ? [seriesStage] : []),
        ...(dosStage ? [dosStage] : []),
      ],
    });
    const ended = set.readable.pipeThrough(tap).pipeThrough(aggStream);
    const enriched = enrich ? ended.pipeThrough(new EnrichStream(enrich.enrichers)) : ended;
    await (rollupTap ? enriched.pipeThrough(rollupTap) : enriched).pipeTo(sink);
  } catch (thrown) {
    let e = thrown;
    if (
      e instanceof RangeError &&
      /allocation failed|Invalid typed array length|Array buffer/i.test(e.message)
    ) {
      // The machine refused memory before the budget was reached: the open events may be
      // half-updated, so no state is saved; finished events are in the outputs.
      allocationFailed = true;
      e = new IoError(
        `out of memory (${e.message}); lower --max-memory below the machine's free memory`,
      );
    }
    if (!(e instanceof DarknetError)) throw e;
    error = e;
    for (const w of [events, ongoing]) {
      try {
        w?.close();
      } catch { /* the file is already failing (disk full?); the error above says why */ }
    }
  } finally {
    progress.done();
  }
  if (live) await live.stop();
  error ??= memoryError ?? set.error;
  // tcpdump that refused to start (no such interface, bad filter) left an empty stream: its own
  // message says why, not the decoder's "empty input".
  if (live?.error && error === set.error) error = live.error;
  const openAtFailure = error && set.error === error ? aggStream?.openAtEnd ?? 0 : 0;
  if (stats && cfg.statsout !== undefined) {
    try {
      const text = `${JSON.stringify(stats.result(), null, 2)}\n`;
      // Imported here: it loads node:zlib, which parse otherwise starts only for state files.
      const { writeAtomic } = await import("../state/state_container.ts");
      await writeAtomic(new TextEncoder().encode(text), cfg.statsout);
    } catch (e) {
      if (!(e instanceof DarknetError)) throw e;
      error ??= e;
    }
  }
  if (cfg.seriesout !== undefined && rotate) {
    await seriesWrites;
    error ??= seriesError;
  } else if (cfg.seriesout !== undefined) {
    try {
      // Every bin seen is closed and written, after a failure too: the file stays valid.
      series?.endInterval(Infinity);
      const bytes = seriesOnWorker ? (set as WorkerCaptureSet).seriesBytes : series!.save();
      const { writeAtomic } = await import("../state/state_container.ts");
      if (bytes) await writeAtomic(bytes, cfg.seriesout);
    } catch (e) {
      if (!(e instanceof DarknetError)) throw e;
      error ??= e;
    }
  }
  if (rollup) {
    try {
      sourceOut!.close();
    } catch (e) {
      if (!(e instanceof DarknetError)) throw e;
      error ??= e;
      try {
        sourceOut!.close();
      } catch { /* already failing; the error above names the file */ }
    }
  }
  let dosSaved = 0;
  let dosReported = dos?.reported ?? 0;
  // A map step's DoS analysis for its block result: open and first vectors, counts.
  let dosBlock:
    | { state: DosState; backscatter: number; reported: number; belowThresholds: number }
    | undefined;
  // With --cacheout, the state file gets the open vectors: the worker's, when it had them.
  let dosState = dos;
  if (dos) {
    // Open vectors end with the input (as open events are written), unless a state keeps them.
    try {
      if (dosWorker) {
        writeDos(dosWorker.takeDosReports());
        const end = dosWorker.dosEnd;
        if (end) {
          writeDos(end.reports);
          dosReported = end.reported;
          dosSaved = dosKeep ? end.open : 0;
          dosState = new DosVictims(dosOptions);
          if (end.state) dosState.loadState(end.state);
          dosBlock = end.state && { ...end, state: end.state };
        }
      } else if ((cfg.cacheout || block) && !allocationFailed) {
        writeDos(dos.take());
        dosSaved = dos.open;
        dosReported = dos.reported;
        dosBlock = {
          state: dos.saveState(),
          backscatter: dos.backscatter,
          reported: dos.reported,
          belowThresholds: dos.belowThresholds,
        };
      } else {
        writeDos(dos.finish());
        dosReported = dos.reported;
      }
      dosOut!.close();
    } catch (e) {
      if (!(e instanceof DarknetError)) throw e;
      error ??= e;
      try {
        dosOut!.close();
      } catch { /* already failing; the error above names the file */ }
    }
  }
  if (block) {
    // A block that did not read all of its input would lose events in the merge: none is left.
    if (!error && signals.stopped) {
      error = new IoError(
        `stopped by ${signals.stopped} before the end of the block's input: no block result ` +
          `written (a part of a block would lose events in the merge)`,
      );
    }
    if (error) block.abort();
    else {
      try {
        openSaved = agg.openCount;
        const { encodeState } = await import("../state/state_file.ts");
        const clock = agg._internals.clock;
        heads!._setClock(clock);
        await block.finish(
          {
            settings: blockSettings(cfg),
            inputs: cfg.pcaps,
            first: agg._firstPacket,
            headLimit: agg._firstPacket && [agg._firstPacket[0] + agg.timeout, agg._firstPacket[1]],
            clock,
            stats: { ...agg.stats },
          },
          // Stored, not compressed: the merge reads them back 2-3 times as fast (BENCHMARKS.md).
          encodeState(heads!, 0),
          encodeState(agg, 0),
          {
            dos: dos && dosBlock
              ? {
                reports: dosOut!.held,
                state: dosBlock.state,
                backscatter: dosBlock.backscatter,
                reported: dosBlock.reported,
                belowThresholds: dosBlock.belowThresholds,
              }
              : undefined,
            stats: stats?.save(),
          },
        );
      } catch (e) {
        block.abort();
        if (!(e instanceof DarknetError)) throw e;
        error ??= e;
      }
    }
  }
  if (cfg.cacheout && !allocationFailed) {
    openSaved = agg.openCount;
    try {
      await (await import("../state/state_file.ts")).saveState(agg, cfg.cacheout, {
        dos: dosState,
      });
    } catch (e) {
      if (!(e instanceof DarknetError)) throw e;
      error ??= e;
    }
  }
  for (const db of [enrich?.asn, enrich?.geo]) {
    if (db && db.failures > 0) {
      error ??= new DataError(`${db.failures} lookups failed: the database is corrupt`, {
        file: db.path,
      });
    }
  }
  await profile?.stop();
  if (cfg.mem) (await import("./_profile.ts")).heapSnapshot(cfg.mem);
  return {
    packets: agg.stats.packets,
    eventsWritten: events?.saved ?? agg.stats.eventsEnded - agg.stats.eventsFiltered,
    eventsFiltered: agg.stats.eventsFiltered,
    openSaved: rotate ? agg.openCount : openSaved,
    outOfOrder: agg.stats.outOfOrder,
    implausibleTime: agg.stats.implausibleTime,
    excludedByTags: agg.stats.excludedByTags,
    dos: dos ? { reported: dosReported, openSaved: dosSaved } : undefined,
    notAfter,
    openAtFailure,
    seconds: (performance.now() - tLoaded) / 1000,
    loadSeconds: (tLoaded - t0) / 1000,
    dns: enrich?.dns?.stats,
    wrongTypes: [enrich?.asn, enrich?.geo].filter((d) => d && d.wrongTypes > 0).map((d) => ({
      path: d!.path,
      count: d!.wrongTypes,
    })),
    capture: live?.stats,
    stopSignal: signals.stopped,
    error,
  };
}

/** One-line run summary for stderr. */
export function formatParseSummary(r: ParseResult): string {
  const n = (x: number) => x.toLocaleString("en-US");
  let s =
    `parse: ${n(r.packets)} packets in ${r.seconds.toFixed(2)} s (${
      (r.packets / r.seconds / 1e6).toFixed(2)
    } M pkt/s)${
      r.loadSeconds >= 0.05 ? `, after ${r.loadSeconds.toFixed(2)} s of loading` : ""
    }; ` +
    `${n(r.eventsWritten)} events written, ${n(r.eventsFiltered)} filtered out`;
  if (r.openSaved) s += `, ${n(r.openSaved)} open events saved`;
  if (r.outOfOrder) s += `; ${n(r.outOfOrder)} packets older than their event's last packet`;
  if (r.excludedByTags) s += `; ${n(r.excludedByTags)} packets dropped by --exclude-tags`;
  if (r.dos) {
    s += `; ${n(r.dos.reported)} DoS attack vectors reported` +
      (r.dos.openSaved ? ` (${n(r.dos.openSaved)} open saved)` : "");
  }
  if (r.implausibleTime) {
    s += `; ${n(r.implausibleTime)} packets skipped: timestamp after ${
      new Date(r.notAfter * 1000).toISOString()
    } (corrupt)`;
  }
  if (r.openAtFailure) {
    s += `; ${n(r.openAtFailure)} events were open when the input failed (their later packets ` +
      `may be in the unread part)`;
  }
  if (r.capture) {
    s += `; capture: ${n(r.capture.received)} packets received by the filter${
      r.capture.loopback ? " (on a loopback interface the filter sees each packet twice)" : ""
    }, ${n(r.capture.dropped)} dropped by the kernel`;
  }
  if (r.stopSignal) s += `; stopped by ${r.stopSignal}`;
  for (const w of r.wrongTypes ?? []) {
    s += `; ${n(w.count)} values of the wrong type in ${w.path} written as 0 or ""`;
  }
  if (r.dns) {
    const d = r.dns;
    s +=
      `; reverse DNS: ${n(d.lookups)} addresses, ${n(d.answered)} named, ${
        n(d.nxdomain)
      } NXDOMAIN, ` +
      `${n(d.failed)} failed, ${n(d.timeouts)} query timeouts`;
  }
  return s;
}

/** "a", "a or b", "a, b or c": the names a flag accepts, in a message. */
function alternatives(names: string[]): string {
  return names.length < 2 ? names.join("") : `${names.slice(0, -1).join(", ")} or ${names.at(-1)}`;
}

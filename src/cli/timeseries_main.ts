/**
 * The `timeseries` command: time series of events with trends, alerts and charts. Entry point
 * of the compiled `timeseries` binary.
 *
 * @module
 */

import {
  type InvalidEvents,
  MAX_EVENT_BYTES,
  readerOptions,
  type ReaderSettings,
  readEvents,
} from "../analysis/event_reader.ts";
import { formatInvalid } from "./count_events.ts";
import { lineChart } from "../analysis/svg_chart.ts";
import { timeChart } from "../series/time_chart.ts";
import { toCsv } from "../analysis/_csv.ts";
import {
  type Alert,
  type SeriesBy,
  seriesCsv,
  type SeriesResult,
  TimeSeries,
  type TimeSeriesOptions,
} from "../analysis/timeseries.ts";
import { runInWorker } from "../util/run_in_worker.ts";
import { DarknetError, ioError, UsageError } from "../errors.ts";
import { trafficCode, trafficName } from "../decode/traffic.ts";
import {
  formatTable,
  intFlag,
  numFlag,
  parseFlags,
  pathList,
  reportError,
  runCli,
  seriesByFlag,
} from "./_cli.ts";
import { CaptureSet } from "../capture/capture_set.ts";
import { PacketTimeSeries } from "../analysis/packet_timeseries.ts";
import { runAnalyzers } from "../analysis/analyzer.ts";
import { readStateFile, writeAtomic } from "../state/state_container.ts";
import { FINGERPRINTS } from "../fingerprints/registry.ts";
import { TOOLS } from "../attribution/tools.ts";
import { TAGS } from "../tags/traffic_tags.ts";
import { checkDosRecord, checkSourceRecord } from "../analysis/record_stats.ts";
import {
  SIGNAL_FLAGS,
  SIGNAL_HELP,
  signalOptions,
  signalsMain,
  writeSignals,
} from "./timeseries_signals.ts";
import { DEFAULT_SERIES_DIMS, SignalSeries } from "../series/signal_series.ts";
import { SignalTable } from "../series/signal_table.ts";
import { openPlaceLookup } from "../series/place_lookup.ts";
import { checkPaths } from "./_output_paths.ts";

/** `timeseries --help` text. */
export const TIMESERIES_HELP = `Usage: timeseries EVENTFILE... [--outdir DIR] [flags]
       timeseries --pcap CAPTURE... [--bin SECONDS] [--outdir DIR]
       timeseries --dos DOSFILE... | --sources SOURCEFILE... [--outdir DIR] [flags]
       timeseries --signals SERIESFILE... [--outdir DIR] [flags]

With --dos (files of parse --dosout) the series are of DoS attack vectors, by protocol
(default) or country, their packets and vectors per bin of their First time; with --sources
(files of parse --sourceout) of per-source roll-ups, by shape (default), country, tool or
scanner. The rest (bins, alerts, charts, report) is as for events.

Time series of events (files written by parse or by Merit's darknet-events: JSON arrays or
NDJSON, plain or gzip): per bin and series, events, packets, bytes and unique sources, a moving
average and the deviation (x - MA_prev) / MA_prev, growth alerts, a robust anomaly score
(median/MAD z-score against at most 336 bins before) and the overlap (Jaccard) of consecutive
bins' sources. Writes into --outdir:
  timeseries_total_volume.csv   all events
  series_<KEY>.csv              one per series (header: Day, Packets, Events, Moving Average
                                Packets, Moving Average Events, Daily Packet Deviation, Daily
                                Event Deviation, then Bytes, Unique Sources, Packet Z, Event Z,
                                Source Jaccard — Merit's, with --bin file; with time bins
                                bin_start (RFC 3339, Z), packets_per_<S>s, events_per_<S>s, ...
                                and every bin from the first to the last, quiet ones 0, charted
                                on a true time axis)
  alerts.csv, summary.json
  total_volume.svg, series_<KEY>.svg, report.html (self-contained; alerts marked in red)

  --outdir DIR            output directory (default ./out)
  --bin file|hour|day|S   one bin per input file (default, as the original: a file a day), or
                          by event First time: an hour, a day, or S seconds
  --by KEY                series by traffic,port (default), country, asn, fingerprint, tool
                          tag (traffic tags; a tag's series counts its tagged packets) or
                          scanner (the --known-scanners label; "none" for the rest)
  --top K                 the K series with the most packets (default 5)
  --series SPEC           name series instead, repeatable: traffic=11,port=23 (or
                          traffic=TCPSYN,port=23), country=GB, asn=64500, fingerprint=mirai,
                          tool=zmap (the attribution; "none" for events without one),
                          tag=spoofed ("none": events without tags), scanner=censys
  --window N              moving-average window in bins (default 3)
  --alert-growth X        growth alert when the event deviation is at least X (default 0.25)
  --alert-z Z             anomaly alert when |robust z| of packets or events >= Z (default 3.5)
  --alert-min-events N    either alert only on bins with at least N events (default 500)
  --instate PATH          continue the series of an earlier run (daily runs append a day)
  --outstate PATH         save the series for the next run (versioned, checksummed, atomic)
  --skip-invalid          pass over invalid events (counted) instead of stopping
  --max-event-bytes N     the largest event accepted, in bytes of JSON (default 67108864)
  --json                  print the summary as JSON
  --pcap CAPTURE...       packet-level series of captures instead: packets and unique sources
                          per traffic type per bin (--bin SECONDS, default 300) into
                          pcap_timeseries.csv and pcap_packets.svg; --instate/--outstate
                          carry it from run to run (hourly captures, one series). Also the
                          signals of the same bins, as --signals writes them (below), split
                          by --series-by (as parse's), country and AS with --geoin, --asnin,
                          --pfx2asin; --seriesout PATH saves their series file
${SIGNAL_HELP}

  -h, --help              show this help
  --version               show the version

Exit status: 0 ok, 2 bad command line, 65 malformed event file, 74 I/O error.
`;

function seriesKey(spec: string, by: SeriesBy): string {
  const kv = Object.fromEntries(spec.split(",").map((p) => p.split("=").map((x) => x.trim())));
  const bad = () => new UsageError(`--series: "${spec}" does not name a ${by} series`);
  if (by === "traffic,port") {
    const t = trafficCode(String(kv.traffic ?? ""));
    if (t < 0 || !/^\d+$/.test(String(kv.port ?? ""))) throw bad();
    return `${trafficName(t)}/${Number(kv.port)}`;
  }
  if (by === "country" && kv.country) return String(kv.country).toUpperCase();
  if (by === "asn" && /^\d+$/.test(String(kv.asn ?? ""))) return `AS${kv.asn}`;
  if (
    by === "fingerprint" &&
    [...FINGERPRINTS.map((f) => f.name), "none"].includes(String(kv.fingerprint))
  ) {
    return String(kv.fingerprint);
  }
  if (by === "tool" && [...TOOLS.map((t) => t.name), "none"].includes(String(kv.tool))) {
    return String(kv.tool);
  }
  if (by === "tag" && [...TAGS, "none"].includes(String(kv.tag))) return String(kv.tag);
  if (by === "scanner" && /^[A-Za-z0-9._-]{1,64}$/.test(String(kv.scanner ?? ""))) {
    return String(kv.scanner);
  }
  throw bad();
}

/**
 * File-name part for each series key: letters, digits, `.`, `_` and `-` kept, the rest `_`, at
 * most 80 characters, and a suffix `~2`, `~3`, … where two keys would give the same name (keys
 * differing only in other characters, or long keys sharing their first 80).
 *
 * @example
 * ```ts
 * import { seriesFileNames } from "./timeseries_main.ts";
 * import { deepEqual } from "node:assert/strict";
 * deepEqual(seriesFileNames(["TCPSYN/23", "TCPSYN:23", "x".repeat(300)]), ["TCPSYN_23", "TCPSYN_23~2", "x".repeat(80)]);
 * ```
 */
export function seriesFileNames(keys: string[]): string[] {
  const used = new Map<string, number>();
  return keys.map((k) => {
    const base = k.replace(/[^A-Za-z0-9._-]+/g, "_").replace(/^\.+/, "_").slice(0, 80) || "_";
    const n = (used.get(base) ?? 0) + 1;
    used.set(base, n);
    return n === 1 ? base : `${base}~${n}`;
  });
}

function chart(
  s: SeriesResult,
  bins: string[],
  alerts: Alert[],
  title: string,
  binSeconds: number,
): string {
  if (binSeconds > 0 && bins.length > 0) {
    // Time bins on a true time axis: a quiet bin is a 0 where it falls, not a joint.
    return timeChart({
      title,
      start: Date.parse(bins[0]) / 1000,
      binSeconds,
      unit: `packets per ${binSeconds} s`,
      lines: [
        { name: "packets", values: s.packets, color: "#1f6fb4" },
        { name: "moving average", values: s.maPackets, color: "#888", dashed: true },
      ],
      markers: alerts.filter((a) => a.series === s.key).map((a) => ({
        index: bins.indexOf(a.bin),
        text: `${a.kind} alert: ${a.metric} ${a.value} at ${a.bin}`,
        color: "#d00",
      })),
    });
  }
  const marks = alerts.filter((a) => a.series === s.key).map((a) => ({
    index: bins.indexOf(a.bin),
    text: `${a.kind} alert: ${a.metric} ${a.value} (score ${
      Number.isFinite(a.score) ? a.score.toFixed(2) : a.score
    })`,
  }));
  return lineChart({
    title,
    labels: bins,
    unit: "packets per bin",
    lines: [
      { name: "packets", values: s.packets, color: "#1f6fb4" },
      { name: "moving average", values: s.maPackets, color: "#888", dashed: true },
    ],
    markers: marks,
  });
}

function report(
  bins: string[],
  total: SeriesResult,
  series: SeriesResult[],
  alerts: Alert[],
  binSeconds: number,
): string {
  const esc = (x: string) => x.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  const rows = alerts.map((a) =>
    `<tr><td>${esc(a.series)}</td><td>${
      esc(a.bin)
    }</td><td>${a.kind}</td><td>${a.metric}</td><td>${a.value}</td><td>${
      Number.isFinite(a.score) ? a.score.toFixed(2) : a.score
    }</td></tr>`
  ).join("\n");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>darknet-events time series</title>
<style>body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}td:first-child,td:nth-child(2),td:nth-child(3),td:nth-child(4){text-align:left}figure{margin:1em 0}</style>
</head><body>
<h1>darknet-events time series</h1>
<p>${bins.length} bins (${esc(bins[0] ?? "")} to ${
    esc(bins.at(-1) ?? "")
  }), ${series.length} series, ${alerts.length} alerts.</p>
<figure id="total">${chart(total, bins, alerts, "Total volume", binSeconds)}</figure>
${
    series.map((s) =>
      `<figure class="series">${chart(s, bins, alerts, `Series ${s.key}`, binSeconds)}</figure>`
    ).join("\n")
  }
<h2>Alerts</h2>
<table id="alerts"><tr><th>series</th><th>bin</th><th>kind</th><th>metric</th><th>value</th><th>score</th></tr>
${rows}
</table>
</body></html>
`;
}

// timeseries --pcap: packet-level series of captures.
async function pcapSeries(
  values: Record<string, unknown>,
  after: Record<string, string[]>,
): Promise<number> {
  const paths = pathList(values.pcap, after.pcap ?? []);
  if (paths.length === 0) throw new UsageError("--pcap needs at least one path");
  // Five minutes: the signals' bins (IODA's), unless told otherwise.
  const binText = String(values.bin ?? "300");
  const bin = binText === "hour"
    ? 3600
    : binText === "day"
    ? 86400
    : intFlag("bin", binText, 300, 1);
  const outdir = String(values.outdir ?? "out");
  const signals = signalOptions(values);
  const dims = seriesByFlag(values["series-by"]);
  // An output is never one of the inputs.
  await checkPaths(
    [
      ...paths.map((path) => ({ flag: "--pcap", path })),
      ...(values.instate !== undefined
        ? [{ flag: "--instate", path: String(values.instate) }]
        : []),
    ],
    [
      ...(values.seriesout !== undefined
        ? [{ flag: "--seriesout", path: String(values.seriesout) }]
        : []),
      ...(values.outstate !== undefined
        ? [{ flag: "--outstate", path: String(values.outstate) }]
        : []),
    ],
    [["--instate", "--outstate"]],
  );
  const set = await CaptureSet.open(paths);
  const ts = new PacketTimeSeries(bin);
  if (values.instate !== undefined) {
    ts.load(await readStateFile(String(values.instate)), String(values.instate));
  }
  // The signal series of the same packets (the files of --signals), with country and AS from
  // the databases given.
  const series = new SignalSeries({
    binSeconds: bin,
    dims: (dims ?? DEFAULT_SERIES_DIMS).filter((d) =>
      ((d !== "country" && d !== "region") || values.geoin !== undefined) &&
      (d !== "asn" || values.asnin !== undefined || values.pfx2asin !== undefined)
    ),
    lookup: await openPlaceLookup({
      geoin: values.geoin as string | undefined,
      asnin: values.asnin as string | undefined,
      pfx2asin: values.pfx2asin === undefined
        ? undefined
        : pathList(values.pfx2asin, after.pfx2asin ?? []),
    }),
  });
  await runAnalyzers(set.readable, [ts, series]);
  series.endInterval(Infinity);
  const seriesBytes = series.save();
  const labels = ts.bins.map((t) =>
    new Date(t * 1000).toISOString().slice(0, 16).replace("T", " ")
  );
  const lines = [{ name: "all packets", values: ts.packets(-1), color: "#1f6fb4" }];
  const colors = ["#d95f02", "#1b9e77", "#7570b3"];
  const byTraffic = Array.from(
    { length: 18 },
    (_, t) => [t, ts.packets(t).reduce((a, b) => a + b, 0)] as const,
  )
    .filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1]).slice(0, 3);
  byTraffic.forEach(([t], k) =>
    lines.push({ name: trafficName(t), values: ts.packets(t), color: colors[k] })
  );
  try {
    await Deno.mkdir(outdir, { recursive: true });
    await Deno.writeTextFile(`${outdir}/pcap_timeseries.csv`, ts.csv());
    await Deno.writeTextFile(
      `${outdir}/pcap_packets.svg`,
      lineChart({ title: `Packets per ${bin} s`, labels, unit: "packets per bin", lines }),
    );
  } catch (e) {
    throw ioError(e, outdir);
  }
  await writeSignals(
    await SignalTable.fromBytes(["(the captures)"], [seriesBytes]),
    signals,
    values,
    true,
  );
  console.log(
    `${labels.length} bins of ${bin} s; pcap_timeseries.csv, pcap_packets.svg and the ` +
      `signals (signal_series.csv, signals_report.html, ...) in ${outdir}/`,
  );
  if (values.seriesout !== undefined) await writeAtomic(seriesBytes, String(values.seriesout));
  if (set.error) return reportError("timeseries", set.error);
  if (values.outstate !== undefined) await writeAtomic(ts.save(), String(values.outstate));
  return 0;
}

function inWorker(
  files: string[],
  options: TimeSeriesOptions,
  reader: ReaderSettings,
): Promise<
  { data: unknown; error?: { message: string; exitCode: number }; invalid: InvalidEvents }
> {
  return runInWorker(new URL("../analysis/_timeseries_worker.ts", import.meta.url), {
    files,
    options,
    reader,
  }, "timeseries");
}

/** Runs `timeseries` with command-line arguments; returns the exit code. */
export async function timeseriesMain(args: string[]): Promise<number> {
  const { values, after } = parseFlags(args, {
    outdir: { type: "string" },
    bin: { type: "string" },
    by: { type: "string" },
    top: { type: "string" },
    series: { type: "string", multiple: true },
    window: { type: "string" },
    "alert-growth": { type: "string" },
    "alert-min-events": { type: "string" },
    "alert-z": { type: "string" },
    json: { type: "boolean" },
    instate: { type: "string" },
    pcap: { type: "string", multiple: true },
    outstate: { type: "string" },
    "skip-invalid": { type: "boolean" },
    "max-event-bytes": { type: "string" },
    dos: { type: "boolean" },
    sources: { type: "boolean" },
    ...SIGNAL_FLAGS,
    geoin: { type: "string" },
    asnin: { type: "string" },
    pfx2asin: { type: "string", multiple: true },
    "series-by": { type: "string" },
    seriesout: { type: "string" },
    help: { type: "boolean", short: "h" },
  });
  if (values.help) {
    console.log(TIMESERIES_HELP);
    return 0;
  }
  if (values.pcap !== undefined) return await pcapSeries(values, after);
  if (values.signals) return await signalsMain(values, after[""] ?? []);
  const files = after[""] ?? [];
  if (files.length === 0) throw new UsageError("give event files (or --pcap CAPTURE...)");
  // Records of the other analyses: DoS vectors by protocol, roll-ups by shape (each a series of
  // its packets and records per bin, binned by First; read on this thread).
  if (values.dos && values.sources) throw new UsageError("give --dos or --sources, not both");
  const records = values.dos ? "dos" : values.sources ? "sources" : undefined;
  const by = String(
    values.by ??
      (records === "dos" ? "protocol" : records === "sources" ? "shape" : "traffic,port"),
  ) as SeriesBy;
  const allowed = records === "dos"
    ? ["protocol", "country"]
    : records === "sources"
    ? ["shape", "country", "tool", "scanner"]
    : ["traffic,port", "country", "asn", "fingerprint", "tool", "tag", "scanner"];
  if (!allowed.includes(by)) {
    throw new UsageError(`--by: expected ${allowed.join(", ")}, got "${by}"`);
  }
  const binText = String(values.bin ?? "file");
  const binSeconds = binText === "file"
    ? 0
    : binText === "hour"
    ? 3600
    : binText === "day"
    ? 86400
    : intFlag("bin", binText, 0, 1);
  const names = ((values.series as string[] | undefined) ?? []).map((s) =>
    by === "protocol" || by === "shape" ? s.replace(/^[a-z]+=/, "") : seriesKey(s, by)
  );
  const ts = new TimeSeries({
    by,
    binSeconds,
    window: intFlag("window", values.window, 3, 1),
    alertGrowth: numFlag("alert-growth", values["alert-growth"], 0.25),
    alertMinEvents: intFlag("alert-min-events", values["alert-min-events"], 500),
    alertZ: numFlag("alert-z", values["alert-z"], 3.5),
  });
  const top = intFlag("top", values.top, 5);
  const outdir = String(values.outdir ?? "out");
  if (values.instate !== undefined) {
    ts.loadState(await readStateFile(String(values.instate)), String(values.instate));
  }
  let error: DarknetError | undefined;
  const reader = {
    skipInvalid: Boolean(values["skip-invalid"]),
    maxEventBuffer: intFlag("max-event-bytes", values["max-event-bytes"], MAX_EVENT_BYTES, 2),
  };
  const invalid: InvalidEvents = { count: 0 };
  const ro = {
    ...readerOptions(reader, invalid),
    ...(records ? { check: records === "dos" ? checkDosRecord : checkSourceRecord } : {}),
  };
  // With several files, the second half is collected in a Worker on the other core (events only).
  const half = files.length >= 2 && !records ? Math.ceil(files.length / 2) : files.length;
  const later = half < files.length
    ? inWorker(files.slice(half), {
      by,
      binSeconds,
      window: ts.window,
      alertGrowth: ts.alertGrowth,
      alertMinEvents: ts.alertMinEvents,
      alertZ: ts.alertZ,
    }, reader)
    : undefined;
  try {
    for await (const r of readEvents(files.slice(0, half), ro)) {
      const o = r.event as unknown as Record<string, unknown>;
      // A record as the series read it: its source (the victim), packets, bytes, First.
      const e = records === "dos"
        ? { ...o, SourceIP: o.Victim, UniqueDests: o.UniqueAttackers }
        : records === "sources"
        ? { ...o, SourceIP: o.Source }
        : o;
      ts.add(e as never, r.file);
    }
  } catch (e) {
    if (!(e instanceof DarknetError)) throw e;
    error = e;
  }
  if (later) {
    const res = await later;
    ts.mergeData(res.data);
    if (res.error) error ??= new DarknetError(res.error.message, res.error.exitCode);
    invalid.count += res.invalid.count;
    invalid.first ??= res.invalid.first;
  }
  if (invalid.count) console.error(`timeseries: ${formatInvalid(invalid)}`);
  const bins = ts.bins;
  const { total, series, alerts } = ts.result(top, names);
  const out: Record<string, string> = {
    "timeseries_total_volume.csv": seriesCsv(total, bins, binSeconds),
    "alerts.csv": toCsv(
      ["series", "bin", "kind", "metric", "value", "score"],
      alerts.map((
        a,
      ) => [
        a.series,
        a.bin,
        a.kind,
        a.metric,
        a.value,
        Number.isFinite(a.score) ? Number(a.score.toFixed(4)) : a.score,
      ]),
    ),
    "total_volume.svg": chart(total, bins, alerts, "Total volume", binSeconds),
    "report.html": report(bins, total, series, alerts, binSeconds),
  };
  const fileNames = seriesFileNames(series.map((s) => s.key));
  series.forEach((s, i) => {
    out[`series_${fileNames[i]}.csv`] = seriesCsv(s, bins, binSeconds);
    out[`series_${fileNames[i]}.svg`] = chart(s, bins, alerts, `Series ${s.key}`, binSeconds);
  });
  const summary = {
    bins,
    by,
    series: series.map((s, i) => ({
      key: s.key,
      file: `series_${fileNames[i]}.csv`,
      events: s.events.reduce((a, b) => a + b, 0),
      packets: s.packets.reduce((a, b) => a + b, 0),
    })),
    total: {
      events: total.events.reduce((a, b) => a + b, 0),
      packets: total.packets.reduce((a, b) => a + b, 0),
    },
    alerts: alerts.map((a) => ({
      ...a,
      score: Number.isFinite(a.score) ? a.score : String(a.score),
    })),
  };
  out["summary.json"] = JSON.stringify(summary, null, 2) + "\n";
  try {
    await Deno.mkdir(outdir, { recursive: true });
    for (const [name, text] of Object.entries(out)) {
      await Deno.writeTextFile(`${outdir}/${name}`, text);
    }
  } catch (e) {
    throw ioError(e, outdir);
  }
  if (values.outstate !== undefined) await writeAtomic(ts.encodeState(), String(values.outstate));
  if (values.json) console.log(out["summary.json"].trimEnd());
  else {
    const n = (x: number) => x.toLocaleString("en-US");
    console.log(
      `${bins.length} bins, ${n(summary.total.events)} events, ${
        n(summary.total.packets)
      } packets, ${alerts.length} alerts\n\n` +
        formatTable(
          ["series", "events", "packets"],
          summary.series.map((s) => [s.key, n(s.events), n(s.packets)]),
        ) +
        `\n\nCSV, SVG and report.html in ${outdir}/`,
    );
  }
  if (error) return reportError("timeseries", error);
  return 0;
}

if (import.meta.main) await runCli("timeseries", timeseriesMain, Deno.args);

/**
 * Outage and surge signals from a {@link SignalTable}: every series' unique sources run through
 * the detector (`outage_detector.ts`), alerts, episodes and data gaps collected, and the files of
 * `timeseries --signals` made: CSV and NDJSON of alerts and episodes, the data gaps, the series
 * drawn, a summary and a self-contained report.
 *
 * @module
 */

import { detect, type Detection, type DetectOptions, episodes } from "./outage_detector.ts";
import { iso, type SignalTable } from "./signal_table.ts";
import { timeChart } from "./time_chart.ts";
import { toCsv } from "../analysis/_csv.ts";

/** One alert bin. */
export interface SignalAlert {
  /** Series key, e.g. `country=NL`. */
  series: string;
  /** Bin start (RFC 3339, Z). */
  binStart: string;
  /** The bin's unique sources. */
  uniqueSources: number;
  /** The baseline it was judged against. */
  baseline: number;
  /** uniqueSources / baseline. */
  ratio: number;
  /** Its direction. */
  kind: "outage" | "surge";
  /** Its level. */
  level: "warning" | "critical";
}

/** One episode: a run of alert bins of one series and direction. */
export interface SignalEpisode {
  /** Series key. */
  series: string;
  /** Its direction. */
  kind: "outage" | "surge";
  /** The worst level reached. */
  level: "warning" | "critical";
  /** Start of the first alert bin (RFC 3339, Z). */
  start: string;
  /** End of the last alert bin (RFC 3339, Z). */
  end: string;
  /** Alert bins in it. */
  bins: number;
  /** Lowest ratio to the baseline (outage) or highest (surge). */
  extremeRatio: number;
  /** Whether it lasts to the last bin with data. */
  active: boolean;
}

/** A run of bins without any packet. */
export interface DataGap {
  /** Start of its first bin (RFC 3339, Z). */
  start: string;
  /** End of its last bin (RFC 3339, Z). */
  end: string;
  /** Bins in it. */
  bins: number;
}

/** Settings of {@link analyzeSignals}. */
export interface SignalOptions {
  /** The detector's settings. */
  detect?: DetectOptions;
  /**
   * Series drawn and written per split (by packets), beside the total and every series with
   * an episode.
   * @default {5}
   */
  top?: number;
}

/** What {@link analyzeSignals} found. */
export interface SignalResult {
  /** Every alert bin, in time order. */
  alerts: SignalAlert[];
  /** Every episode, in time order. */
  episodes: SignalEpisode[];
  /** The data gaps. */
  gaps: DataGap[];
  /** The series written and drawn, total first, with their detection. */
  shown: { key: string; detection: Detection }[];
  /** Series looked at (all; those whose sources never exceed the floor cannot alert). */
  series: number;
}

const round = (x: number) => Number.isFinite(x) ? Number(x.toFixed(4)) : x;

/**
 * Runs the detector over every series of `t`.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { analyzeSignals } from "./signal_analysis.ts";
 * import { SignalTable } from "./signal_table.ts";
 * import { SignalSeries } from "./signal_series.ts";
 * import { captureBatches } from "../capture/open_capture.ts";
 * const s = new SignalSeries({ binSeconds: 60 });
 * for await (const b of await captureBatches(["testdata/demo/scan.pcap.gz"])) s.add(b);
 * s.endInterval(Infinity);
 * const path = `${Deno.makeTempDirSync()}/run.series`;
 * Deno.writeFileSync(path, s.save());
 * const r = analyzeSignals(await SignalTable.load([path]));
 * equal(r.shown[0].key, "total");
 * equal(r.gaps.length, 0);
 * ```
 */
export function analyzeSignals(t: SignalTable, options: SignalOptions = {}): SignalResult {
  const floor = options.detect?.floor ?? 15;
  const alerts: SignalAlert[] = [];
  const found: SignalEpisode[] = [];
  const detections = new Map<string, Detection>();
  let lastData = t.bins - 1;
  while (lastData >= 0 && t.gap[lastData]) lastData--;
  for (const key of t.keys) {
    const v = t.sourcesOf(key)!;
    let max = 0;
    for (let i = 0; i < v.length; i++) if (v[i] > max) max = v[i];
    // A median never exceeds the largest value: a series that never exceeds the floor cannot
    // alert, and most (small ASes) are such.
    if (max <= floor && key !== "total") continue;
    const d = detect(v, t.gap, options.detect);
    detections.set(key, d);
    for (let i = 0; i < v.length; i++) {
      const l = d.level[i];
      if (l === 0) continue;
      alerts.push({
        series: key,
        binStart: iso(t.binStart(i)),
        uniqueSources: v[i],
        baseline: d.baseline[i],
        ratio: round(v[i] / d.baseline[i]),
        kind: l < 0 ? "outage" : "surge",
        level: Math.abs(l) === 2 ? "critical" : "warning",
      });
    }
    for (const e of episodes(d, v, t.gap)) {
      found.push({
        series: key,
        kind: e.kind,
        level: e.level,
        start: iso(t.binStart(e.first)),
        end: iso(t.binStart(e.last + 1)),
        bins: e.bins,
        extremeRatio: round(e.extremeRatio),
        active: e.last === lastData,
      });
    }
  }
  // In time order (then by series): what an operator reads first is what happened first.
  const order = (a: { series: string }, b: { series: string }, x: string, y: string) =>
    x < y ? -1 : x > y ? 1 : a.series < b.series ? -1 : a.series > b.series ? 1 : 0;
  alerts.sort((a, b) => order(a, b, a.binStart, b.binStart));
  found.sort((a, b) => order(a, b, a.start, b.start));
  const gaps: DataGap[] = [];
  for (let i = 0; i < t.bins;) {
    if (!t.gap[i]) {
      i++;
      continue;
    }
    let e = i;
    while (e < t.bins && t.gap[e]) e++;
    gaps.push({ start: iso(t.binStart(i)), end: iso(t.binStart(e)), bins: e - i });
    i = e;
  }
  // Shown: the total, the top series of each split, every series with an episode.
  const top = options.top ?? 5;
  const byDim = new Map<string, string[]>();
  for (const k of t.keys) {
    if (k === "total") continue;
    const dim = k.slice(0, k.indexOf("="));
    let l = byDim.get(dim);
    if (!l) byDim.set(dim, l = []);
    l.push(k);
  }
  const total = new Map(t.keys.map((k, i) => [k, t.packetTotals[i]]));
  const shown = new Set<string>(t.keys.includes("total") ? ["total"] : []);
  for (const l of byDim.values()) {
    l.sort((a, b) => total.get(b)! - total.get(a)! || (a < b ? -1 : 1));
    for (const k of l.slice(0, top)) shown.add(k);
  }
  for (const e of found) shown.add(e.series);
  return {
    alerts,
    episodes: found,
    gaps,
    shown: [...shown].map((key) => ({
      key,
      detection: detections.get(key) ?? detect(t.sourcesOf(key)!, t.gap, options.detect),
    })),
    series: t.keys.length,
  };
}

/** The files of `timeseries --signals`, by name. */
export async function signalFiles(
  t: SignalTable,
  r: SignalResult,
): Promise<Record<string, string>> {
  const w = t.binSeconds;
  const vols = await t.volumes(r.shown.map((s) => s.key));
  const rows: (string | number)[][] = [];
  for (const s of r.shown) {
    const v = t.sourcesOf(s.key)!;
    const vol = vols.get(s.key)!;
    for (let i = 0; i < t.bins; i++) {
      const gap = t.gap[i] === 1;
      const l = s.detection.level[i];
      rows.push([
        s.key,
        iso(t.binStart(i)),
        gap ? "" : vol.packets[i],
        gap ? "" : vol.bytes[i],
        gap ? "" : v[i],
        Number.isNaN(s.detection.baseline[i]) ? "" : s.detection.baseline[i],
        l === 0
          ? ""
          : `${l < 0 ? "outage" : "surge"} ${Math.abs(l) === 2 ? "critical" : "warning"}`,
        gap ? 1 : 0,
      ]);
    }
  }
  const nd = (xs: object[]) => xs.map((x) => JSON.stringify(x) + "\n").join("");
  const summary = {
    binSeconds: w,
    start: iso(t.start),
    end: iso(t.binStart(t.bins)),
    bins: t.bins,
    series: r.series,
    alerts: r.alerts.length,
    episodes: r.episodes,
    gaps: r.gaps,
    latePackets: t.late,
    shown: r.shown.map((s) => s.key),
  };
  return {
    "signal_series.csv": toCsv(
      [
        "series",
        "bin_start",
        `packets_per_${w}s`,
        `bytes_per_${w}s`,
        `unique_sources_per_${w}s`,
        "baseline",
        "alert",
        "data_gap",
      ],
      rows,
    ),
    "signal_alerts.csv": toCsv(
      ["series", "bin_start", `unique_sources_per_${w}s`, "baseline", "ratio", "kind", "level"],
      r.alerts.map((
        a,
      ) => [a.series, a.binStart, a.uniqueSources, a.baseline, a.ratio, a.kind, a.level]),
    ),
    "signal_alerts.ndjson": nd(r.alerts),
    "signal_episodes.csv": toCsv(
      ["series", "kind", "level", "start", "end", "bins", "extreme_ratio", "active"],
      r.episodes.map((
        e,
      ) => [e.series, e.kind, e.level, e.start, e.end, e.bins, e.extremeRatio, e.active ? 1 : 0]),
    ),
    "signal_episodes.ndjson": nd(r.episodes),
    "data_gaps.csv": toCsv(["start", "end", "bins"], r.gaps.map((g) => [g.start, g.end, g.bins])),
    "signals.json": JSON.stringify(summary, null, 2) + "\n",
    "signals_report.html": signalReport(t, r),
  };
}

const esc = (x: string) => x.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
const COLORS = { critical: "#d00", warning: "#e69f00" };

function panel(t: SignalTable, key: string, d: Detection, title: string): string {
  const markers: { index: number; text: string; color: string }[] = [];
  let last = -1;
  const k = Math.max(1, Math.ceil(t.bins / 1500));
  const v = t.sourcesOf(key)!;
  for (let i = 0; i < t.bins; i++) {
    const l = d.level[i];
    if (l === 0 || Math.floor(i / k) === last) continue;
    last = Math.floor(i / k);
    const level = Math.abs(l) === 2 ? "critical" : "warning";
    markers.push({
      index: i,
      text: `${l < 0 ? "outage" : "surge"} ${level}: ${iso(t.binStart(i))}, ${v[i]} sources, ` +
        `baseline ${d.baseline[i]}`,
      color: COLORS[level],
    });
  }
  return `<figure class="panel" data-series="${esc(key)}">${
    timeChart({
      title,
      start: t.start,
      binSeconds: t.binSeconds,
      unit: `unique sources per ${t.binSeconds} s`,
      gap: t.gap,
      lines: [
        { name: "unique sources", values: v, color: "#1f6fb4" },
        { name: "baseline (moving median)", values: d.baseline, color: "#888", dashed: true },
      ],
      markers,
    })
  }</figure>`;
}

/** The self-contained HTML report: overview, outage panels per country, the series shown. */
export function signalReport(t: SignalTable, r: SignalResult): string {
  const det = new Map(r.shown.map((s) => [s.key, s.detection]));
  const active = r.episodes.filter((e) => e.active);
  const table = (head: string[], rows: (string | number)[][], id: string) =>
    rows.length === 0
      ? `<p id="${id}">None.</p>`
      : `<table id="${id}"><tr>${head.map((h) => `<th>${esc(h)}</th>`).join("")}</tr>\n${
        rows.map((row) => `<tr>${row.map((c) => `<td>${esc(String(c))}</td>`).join("")}</tr>`)
          .join("\n")
      }</table>`;
  const epRows = (l: SignalEpisode[]) =>
    l.map((e) => [e.series, e.kind, e.level, e.start, e.end, e.bins, e.extremeRatio]);
  const epHead = ["series", "kind", "level", "start", "end", "bins", "extreme ratio"];
  const countries = [
    ...new Set(
      r.episodes.filter((e) => e.kind === "outage" && e.series.startsWith("country="))
        .map((e) => e.series),
    ),
  ];
  const topRows = r.shown.filter((s) => s.key !== "total").map((s) => {
    const id = t.keys.indexOf(s.key);
    const v = t.sourcesOf(s.key)!;
    let peak = 0;
    for (const x of v) if (x > peak) peak = x;
    return [s.key, t.packetTotals[id], peak];
  }).sort((a, b) => (b[1] as number) - (a[1] as number));
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>darknet-events signals</title>
<style>body{font-family:sans-serif;margin:1.5em;color:#222;max-width:none}table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:3px 8px}figure{margin:1em 0;width:100%}.panels{display:grid;grid-template-columns:repeat(auto-fit,minmax(480px,1fr));gap:1em}</style>
</head><body>
<h1>darknet-events: outage and surge signals</h1>
<section id="overview"><h2>Overview</h2>
<p>${t.bins} bins of ${t.binSeconds} s from ${iso(t.start)} to ${
    iso(t.binStart(t.bins))
  }; ${r.series} series;
${r.alerts.length} alert bins in ${r.episodes.length} episodes (${active.length} active); ${r.gaps.length} data gap${
    r.gaps.length === 1 ? "" : "s"
  }.</p>
<h3>Active episodes</h3>${table(epHead, epRows(active), "active")}
<h3>Data gaps</h3>${
    table(["start", "end", "bins"], r.gaps.map((g) => [g.start, g.end, g.bins]), "gaps")
  }
<h3>Top series</h3>${table(["series", "packets", "peak unique sources per bin"], topRows, "top")}
</section>
${panel(t, "total", det.get("total")!, "All packets: unique sources")}
<section id="countries"><h2>Country outages</h2>
${countries.length ? "" : "<p>No country outage episodes.</p>"}
<div class="panels">${countries.map((k) => panel(t, k, det.get(k)!, k)).join("\n")}</div></section>
<section id="series"><h2>Series</h2><div class="panels">
${
    r.shown.filter((s) => s.key !== "total" && !countries.includes(s.key)).map((s) =>
      panel(t, s.key, s.detection, s.key)
    ).join("\n")
  }
</div></section>
<section id="episodes"><h2>Episodes</h2>${
    table(epHead, epRows(r.episodes), "episode-table")
  }</section>
</body></html>
`;
}

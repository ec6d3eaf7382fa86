/**
 * `timeseries --signals`: outage and surge signals from series files (`parse --seriesout`).
 *
 * @module
 */

import { DarknetError, ioError, UsageError } from "../errors.ts";
import { formatTable, numFlag } from "./_cli.ts";
import { SignalTable } from "../series/signal_table.ts";
import { analyzeSignals, signalFiles } from "../series/signal_analysis.ts";
import type { DetectOptions } from "../series/outage_detector.ts";

/** The settings of {@link signalOptions}. */
export interface SignalSettings {
  top: number;
  /** Baseline window and history needed, seconds. */
  window: number;
  minHistory: number;
  ratios: Omit<DetectOptions, "window" | "minHistory" | "floor">;
  floor: number;
}

/** The flags of `timeseries --signals` (parseFlags specs). */
export const SIGNAL_FLAGS = {
  signals: { type: "boolean" },
  "baseline-window": { type: "string" },
  "min-history": { type: "string" },
  floor: { type: "string" },
  critical: { type: "string" },
  warning: { type: "string" },
  "surge-warning": { type: "string" },
  "surge-critical": { type: "string" },
  "inpaint-low": { type: "string" },
  "inpaint-high": { type: "string" },
} as const;

/** `--help` lines of `timeseries --signals`. */
export const SIGNAL_HELP = `
With --signals (files of parse --seriesout, any number, in any order): outage and surge
signals. Every bin from the first to the last is on the axis (empty ones 0); a bin in which no
file has a packet is a data gap (never an alert, never in a baseline). Per series (total,
country=CC, asn=N, traffic=T, tool=T, tag=T, port=T/P), unique sources per bin against a
moving median of the history before it, inpainted while a value is extreme (below 0.8 or above
2 times the baseline, at most a window of bins). Writes signal_series.csv, signal_alerts.csv
and .ndjson, signal_episodes.csv and .ndjson, data_gaps.csv, signals.json and
signals_report.html into --outdir.
  --baseline-window D     history of the moving median (default 7d; D: seconds or 30m, 6h, 7d)
  --min-history D         history needed before any alert (default 1d, at most the window)
  --floor N               no alert unless the baseline is above N sources (default 15)
  --critical X            critical outage below X times the baseline (default 0.1)
  --warning X             warning below X times the baseline (default 0.2)
  --surge-warning X       surge warning at X times the baseline (default 3)
  --surge-critical X      critical surge at X times the baseline (default 5)
  --inpaint-low X, --inpaint-high X   extreme values, fed to the baseline as its own
                          prediction (defaults 0.8 and 2)
  --top K                 series drawn and written per split, by packets (default 5), beside
                          the total and every series with an episode`;

/**
 * A duration in seconds from "300", "300s", "30m", "6h" or "7d".
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { durationFlag } from "./timeseries_signals.ts";
 * equal(durationFlag("w", "7d", 0), 604800);
 * equal(durationFlag("w", "90", 0), 90);
 * ```
 */
export function durationFlag(name: string, v: unknown, def: number): number {
  if (v === undefined) return def;
  const m = /^(\d+(?:\.\d+)?)([smhd]?)$/.exec(String(v).trim());
  if (!m || Number(m[1]) <= 0) {
    throw new UsageError(`--${name}: expected a duration (300, 30m, 6h, 7d), got "${v}"`);
  }
  return Number(m[1]) * { "": 1, s: 1, m: 60, h: 3600, d: 86400 }[m[2] as "s"];
}

/** Runs `timeseries --signals FILE...`; returns the exit code. */
export async function signalsMain(
  values: Record<string, unknown>,
  files: string[],
): Promise<number> {
  if (files.length === 0) throw new UsageError("--signals needs series files (parse --seriesout)");
  const options = signalOptions(values);
  await writeSignals(await SignalTable.load(files), options, values);
  return 0;
}

/** The settings of the signal flags, checked (a `UsageError` for a bad one). */
export function signalOptions(values: Record<string, unknown>): SignalSettings {
  const top = values.top === undefined ? 5 : Number(values.top);
  if (!Number.isInteger(top) || top < 0) throw new UsageError(`--top: expected a whole number`);
  const window = durationFlag("baseline-window", values["baseline-window"], 7 * 86400);
  const minHistory = durationFlag("min-history", values["min-history"], 86400);
  const ratios = {
    critical: numFlag("critical", values.critical, 0.1),
    warning: numFlag("warning", values.warning, 0.2),
    surgeWarning: numFlag("surge-warning", values["surge-warning"], 3),
    surgeCritical: numFlag("surge-critical", values["surge-critical"], 5),
    inpaintLow: numFlag("inpaint-low", values["inpaint-low"], 0.8),
    inpaintHigh: numFlag("inpaint-high", values["inpaint-high"], 2),
  };
  if (ratios.warning < ratios.critical) {
    throw new UsageError("--warning must be at least --critical");
  }
  if (ratios.surgeCritical < ratios.surgeWarning) {
    throw new UsageError("--surge-critical must be at least --surge-warning");
  }
  return { top, window, minHistory, ratios, floor: numFlag("floor", values.floor, 15) };
}

/**
 * Detects and writes the signals of a table into `--outdir` (the files of `--signals`), and
 * prints a summary (JSON with `--json`). `quiet`: print nothing (`--pcap` prints its own).
 */
export async function writeSignals(
  t: SignalTable,
  o: SignalSettings,
  values: Record<string, unknown>,
  quiet = false,
): Promise<void> {
  const outdir = String(values.outdir ?? "out");
  const bins = (d: number) => Math.max(1, Math.round(d / t.binSeconds));
  const detect: DetectOptions = {
    ...o.ratios,
    window: bins(o.window),
    minHistory: Math.min(bins(o.window), bins(o.minHistory)),
    floor: o.floor,
  };
  const r = analyzeSignals(t, { detect, top: o.top });
  const out = await signalFiles(t, r);
  try {
    await Deno.mkdir(outdir, { recursive: true });
    for (const [name, text] of Object.entries(out)) {
      await Deno.writeTextFile(`${outdir}/${name}`, text);
    }
  } catch (e) {
    if (e instanceof DarknetError) throw e;
    throw ioError(e, outdir);
  }
  if (quiet) return;
  if (values.json) console.log(out["signals.json"].trimEnd());
  else {
    console.log(
      `${t.bins} bins of ${t.binSeconds} s, ${r.series} series, ${r.gaps.length} data gaps, ` +
        `${r.alerts.length} alert bins in ${r.episodes.length} episodes\n` +
        (r.episodes.length
          ? "\n" + formatTable(
            ["series", "kind", "level", "start", "end", "min/max ratio"],
            r.episodes.map((
              e,
            ) => [e.series, e.kind, e.level, e.start, e.end, String(e.extremeRatio)]),
          ) + "\n"
          : "") +
        `\nsignals_report.html and CSV in ${outdir}/`,
    );
  }
}

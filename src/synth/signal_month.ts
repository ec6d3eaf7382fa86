/**
 * Generated series files of a telescope's signals (tests and benchmarks of `timeseries
 * --signals`): per country and AS, unique sources per bin with diurnal variation and noise, and
 * injected events — an outage (a series drops to a fraction), a surge (it multiplies), a capture
 * gap (no bins at all). Deterministic for a seed.
 *
 * @module
 */

import { SeriesFileWriter } from "../series/series_file.ts";

/** An injected change of one series over [from, to) seconds. */
export interface Injected {
  series: string;
  from: number;
  to: number;
  /** Its sources (and packets) are multiplied by this. */
  factor: number;
}

/** Settings of {@link signalMonth}. */
export interface MonthOptions {
  /** Start, seconds (a whole number of files). */
  start: number;
  days: number;
  /** @default {300} */
  binSeconds?: number;
  /** Seconds per file. @default {86400} */
  fileSeconds?: number;
  /** Countries (series `country=C000` …) and ASes (`asn=1` …). */
  countries: number;
  asns?: number;
  changes?: Injected[];
  /** Capture gaps: no bins in [from, to). */
  gaps?: { from: number; to: number }[];
  /** @default {1} */
  seed?: number;
}

/** The series key of country number k. */
export const countryKey = (k: number): string => `country=C${String(k).padStart(3, "0")}`;

/** The base level (mean unique sources per bin) of country k and of AS k. */
export const countryBase = (k: number): number => 40 + Math.round(2000 / (k + 1));
const asnBase = (k: number) => 1 + Math.round(400 / (k + 1));

/**
 * The files of a generated month, one at a time (name and bytes).
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { signalMonth } from "./signal_month.ts";
 * const files = [...signalMonth({ start: 0, days: 2, countries: 3 })];
 * equal(files.length, 2);
 * ```
 */
export function* signalMonth(o: MonthOptions): Generator<{ name: string; bytes: Uint8Array }> {
  const bin = o.binSeconds ?? 300;
  const per = o.fileSeconds ?? 86400;
  const nc = o.countries;
  const na = o.asns ?? 0;
  const keys = ["total"];
  for (let k = 0; k < nc; k++) keys.push(countryKey(k));
  for (let k = 0; k < na; k++) keys.push(`asn=${k + 1}`);
  const base = Float64Array.from(
    keys,
    (_, i) => i === 0 ? 0 : i <= nc ? countryBase(i - 1) : asnBase(i - 1 - nc),
  );
  const phase = Float64Array.from(keys, (_, i) => ((i * 7919) % 24) / 24 / 4);
  const change = (o.changes ?? []).map((c) => ({ ...c, id: keys.indexOf(c.series) }));
  for (const c of change) if (c.id < 0) throw new Error(`no series ${c.series}`);
  let x = (o.seed ?? 1) >>> 0 || 1;
  const rnd = () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
  const v = new Float64Array(keys.length);
  const end = o.start + o.days * 86400;
  for (let f = o.start; f < end; f += per) {
    const w = new SeriesFileWriter(bin, ["country", "asn"], keys);
    let first = NaN;
    let last = NaN;
    for (let t = f; t < f + per; t += bin) {
      if ((o.gaps ?? []).some((g) => t >= g.from && t < g.to)) continue;
      const day = (t % 86400) / 86400;
      let total = 0;
      for (let i = 1; i < keys.length; i++) {
        let s = base[i] * (1 + 0.3 * Math.sin(2 * Math.PI * (day + phase[i]))) *
          (0.95 + 0.1 * rnd());
        for (const c of change) if (c.id === i && t >= c.from && t < c.to) s *= c.factor;
        v[i] = Math.round(s);
        if (i <= nc) total += v[i];
      }
      v[0] = total;
      let cells = 0;
      for (let i = 0; i < keys.length; i++) if (v[i] > 0) cells++;
      w.bin(t, cells);
      for (let i = 0; i < keys.length; i++) {
        if (v[i] > 0) w.cell(i, v[i] * 7, v[i] * 7 * 60, v[i]);
      }
      if (Number.isNaN(first)) first = t;
      last = t + bin - 1;
    }
    yield {
      name: `series-${new Date(f * 1000).toISOString().slice(0, 13)}.series`,
      bytes: w.finish(first, last),
    };
  }
}

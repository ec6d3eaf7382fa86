/**
 * Time series of events: events binned by input file or by time, grouped into series (by
 * traffic and port, country, ASN, fingerprint or attributed tool), with per-bin metrics (events, packets, bytes,
 * unique sources), a moving average and the original tool's deviation
 * `(x − MA_prev) / MA_prev`, growth alerts, a robust anomaly score (median/MAD z-score over the
 * bins before) and the Jaccard overlap of consecutive bins' source sets.
 *
 * @module
 */

import { trafficName } from "../decode/traffic.ts";
import type { EventJson } from "../model/darknet_event.ts";
import { toCsv } from "./_csv.ts";
import { DataError } from "../errors.ts";
import { packState, unpackState } from "../state/state_container.ts";

const TS_MAGIC = "DNTSSTAT";
const TS_VERSION = 1;
import { rfc3339Seconds, sourceKey } from "./event_stats.ts";
import { FINGERPRINTS } from "../fingerprints/registry.ts";
import { TAGS } from "../tags/traffic_tags.ts";

/** How events are grouped into series. */
export type SeriesBy =
  | "traffic,port"
  | "country"
  | "asn"
  | "fingerprint"
  | "tool"
  | "tag"
  | "scanner"
  | "protocol"
  | "shape";

/** Options of {@link TimeSeries}. */
export interface TimeSeriesOptions {
  /** Series grouping (default traffic,port). */
  by?: SeriesBy;
  /** Bin length in seconds by event First time; 0 = one bin per input file (default). */
  binSeconds?: number;
  /** Moving-average window in bins (default 3). */
  window?: number;
  /** Growth alert: deviation of events at least this (default 0.25). */
  alertGrowth?: number;
  /** Either alert only on bins with at least this many events (default 500). */
  alertMinEvents?: number;
  /** Robust z-score alert threshold (default 3.5). */
  alertZ?: number;
}

interface Cell {
  events: number;
  packets: number;
  bytes: number;
  sources: Set<number | string>;
}

/** One computed series. */
export interface SeriesResult {
  /** Series key, e.g. `TCPSYN/23`, `GB`, `AS64500`, `zmap`, or `total`. */
  key: string;
  /** Events per bin. */
  events: number[];
  /** Packets per bin. */
  packets: number[];
  /** Bytes per bin. */
  bytes: number[];
  /** Unique sources per bin. */
  sources: number[];
  /** Moving averages over the window. */
  maPackets: number[];
  /** Moving average of events. */
  maEvents: number[];
  /** (x − MA of the bins before) / that MA; 0 where undefined. */
  devPackets: number[];
  /** Deviation of events. */
  devEvents: number[];
  /** Robust z-scores against the bins before (0 where fewer than 3 bins precede). */
  zPackets: number[];
  /** Robust z-scores of events. */
  zEvents: number[];
  /** Jaccard overlap of the source sets of this bin and the one before (NaN for the first). */
  jaccard: number[];
}

/** An alert raised on a series at a bin. */
export interface Alert {
  /** Series key (`total` for all events). */
  series: string;
  /** Bin label. */
  bin: string;
  /** Which rule raised it. */
  kind: "growth" | "zscore";
  /** Which metric. */
  metric: "events" | "packets";
  /** The metric's value in the bin. */
  value: number;
  /** The deviation (growth) or z-score (zscore) that raised it. */
  score: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * Robust (modified) z-score of `x` against `history`: 0.6745 (x − median) / MAD, or, when the
 * MAD is 0, (x − median) / (1.2533 · mean absolute deviation); 0 with fewer than 3 bins before.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { robustZ } from "./timeseries.ts";
 * ok(robustZ(10, [1, 2, 3]) === 0.6745 * 8);
 * ok(robustZ(5, [1]) === 0);
 * ```
 */
export function robustZ(x: number, history: number[]): number {
  if (history.length < 3) return 0;
  const med = median(history);
  const mad = median(history.map((h) => Math.abs(h - med)));
  if (mad > 0) return (0.6745 * (x - med)) / mad;
  const meanAd = history.reduce((a, h) => a + Math.abs(h - med), 0) / history.length;
  if (meanAd > 0) return (x - med) / (1.2533 * meanAd);
  return x === med ? 0 : (x > med ? Infinity : -Infinity);
}

/**
 * Collects events into bins and series.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { TimeSeries } from "./timeseries.ts";
 * const ts = new TimeSeries({ binSeconds: 86400 });
 * ts.add({ SourceIP: "192.0.2.1", Traffic: 11, Port: 23, Packets: 5, Bytes: 300, First: "2020-10-21T16:00:00Z" } as never, "x");
 * ok(ts.result(5).total.packets[0] === 5);
 * ```
 */
export class TimeSeries {
  /** Series grouping. */
  readonly by: SeriesBy;
  /** Bin length in seconds (0: one bin per file). */
  readonly binSeconds: number;
  /** Moving-average window in bins. */
  readonly window: number;
  /** Growth alert threshold. */
  readonly alertGrowth: number;
  /** Minimum events of an alerting bin. */
  readonly alertMinEvents: number;
  /** Robust z-score alert threshold. */
  readonly alertZ: number;
  readonly #bins = new Map<string, number>(); // label -> index
  readonly #labels: string[] = [];
  readonly #series = new Map<string, Map<number, Cell>>();
  readonly #total = new Map<number, Cell>();

  /**
   * Creates an empty collection.
   */
  constructor(o: TimeSeriesOptions = {}) {
    this.by = o.by ?? "traffic,port";
    this.binSeconds = o.binSeconds ?? 0;
    this.window = o.window ?? 3;
    this.alertGrowth = o.alertGrowth ?? 0.25;
    this.alertMinEvents = o.alertMinEvents ?? 500;
    this.alertZ = o.alertZ ?? 3.5;
  }

  /** The bin label of an event read from `file`. */
  #bin(e: EventJson, file: string): number {
    let label: string;
    if (this.binSeconds <= 0) label = file.split("/").pop()!;
    else {
      const t = Math.floor(rfc3339Seconds(e.First) / this.binSeconds) * this.binSeconds;
      label = binLabel(t);
    }
    let i = this.#bins.get(label);
    if (i === undefined) {
      i = this.#labels.length;
      this.#bins.set(label, i);
      this.#labels.push(label);
    }
    return i;
  }

  #keys(e: EventJson): string[] {
    switch (this.by) {
      case "country":
        return [e.Country || "??"];
      case "asn":
        return [`AS${e.ASN ?? 0}`];
      case "fingerprint": {
        const o = e as unknown as Record<string, unknown>;
        const k = FINGERPRINTS.filter((f) => o[f.key] === true).map((f) => f.name);
        return k.length ? k : ["none"];
      }
      case "tool":
        return [typeof e.Tool === "string" && e.Tool !== "" ? e.Tool : "none"];
      case "protocol": // DoS attack vectors (timeseries --dos)
        return [String((e as unknown as { Protocol?: unknown }).Protocol ?? "?")];
      case "shape": // per-source roll-ups (timeseries --sources)
        return [String((e as unknown as { Shape?: unknown }).Shape ?? "?")];
      case "scanner":
        return [typeof e.Scanner === "string" && e.Scanner !== "" ? e.Scanner : "none"];
      case "tag": {
        const k = TAGS.filter((t) => (e.Tags?.[t] ?? 0) > 0);
        return k.length ? k : ["none"];
      }
      default:
        return [`${trafficName(e.Traffic)}/${e.Port}`];
    }
  }

  /** Adds an event read from `file`. */
  add(e: EventJson, file: string): void {
    const bin = this.#bin(e, file);
    const src = sourceKey(e.SourceIP);
    const put = (m: Map<number, Cell>, packets = e.Packets) => {
      let c = m.get(bin);
      if (!c) m.set(bin, c = { events: 0, packets: 0, bytes: 0, sources: new Set() });
      c.events++;
      c.packets += packets;
      c.bytes += e.Bytes ?? 0;
      c.sources.add(src);
    };
    put(this.#total);
    for (const k of this.#keys(e)) {
      let m = this.#series.get(k);
      if (!m) this.#series.set(k, m = new Map());
      // A tag's series counts the event's packets of that tag.
      put(m, this.by === "tag" && k !== "none" ? e.Tags[k] : e.Packets);
    }
  }

  /** The collected bins and series as structured-clonable data (to send from a Worker). */
  exportData(): unknown {
    return { labels: this.#labels, total: this.#total, series: this.#series };
  }

  /**
   * Adds data from {@link exportData} of events that came later in the input: bins new to this
   * collection are appended in the other's order, cells of shared bins are added up.
   */
  mergeData(data: unknown): void {
    const d = data as {
      labels: string[];
      total: Map<number, Cell>;
      series: Map<string, Map<number, Cell>>;
    };
    const map = d.labels.map((l) => {
      let i = this.#bins.get(l);
      if (i === undefined) {
        i = this.#labels.length;
        this.#bins.set(l, i);
        this.#labels.push(l);
      }
      return i;
    });
    const merge = (into: Map<number, Cell>, from: Map<number, Cell>) => {
      for (const [bin, c] of from) {
        const b = map[bin];
        const mine = into.get(b);
        if (!mine) {
          into.set(b, c);
          continue;
        }
        mine.events += c.events;
        mine.packets += c.packets;
        mine.bytes += c.bytes;
        let [big, small] = [mine.sources, c.sources];
        if (small.size > big.size) [big, small] = [small, big];
        for (const x of small) big.add(x);
        mine.sources = big;
      }
    };
    merge(this.#total, d.total);
    for (const [k, m] of d.series) {
      let mine = this.#series.get(k);
      if (!mine) this.#series.set(k, mine = new Map());
      merge(mine, m);
    }
  }

  /**
   * The collected bins and series as a state file's bytes (`--outstate`): versioned,
   * checksummed, with every bin's source set, so a later run can add bins (or more events to
   * existing time bins) and get exactly what one run over everything gives.
   */
  encodeState(): Uint8Array {
    const cells = (m: Map<number, Cell>) =>
      [...m].map(([bin, c]) => [bin, c.events, c.packets, c.bytes, [...c.sources]]);
    const body = {
      tool: "darknet-events timeseries",
      by: this.by,
      binSeconds: this.binSeconds,
      labels: this.#labels,
      total: cells(this.#total),
      series: [...this.#series].map(([k, m]) => [k, cells(m)]),
    };
    return packState(TS_MAGIC, TS_VERSION, new TextEncoder().encode(JSON.stringify(body)));
  }

  /** Loads a state written by {@link encodeState} into this (empty) collection. */
  loadState(bytes: Uint8Array, file: string): void {
    const raw = unpackState(bytes, TS_MAGIC, TS_VERSION, file);
    const bad = (msg: string) => new DataError(msg, { file });
    let body: {
      tool: string;
      by: SeriesBy;
      binSeconds: number;
      labels: string[];
      total: [number, number, number, number, (number | string)[]][];
      series: [string, [number, number, number, number, (number | string)[]][]][];
    };
    try {
      body = JSON.parse(new TextDecoder().decode(raw));
    } catch {
      throw bad("corrupt time-series state: unreadable");
    }
    if (body.tool !== "darknet-events timeseries" || !Array.isArray(body.labels)) {
      throw bad("corrupt time-series state: incomplete");
    }
    if (body.by !== this.by) {
      throw bad(`state was written with --by ${body.by}, this run uses ${this.by}`);
    }
    if (body.binSeconds !== this.binSeconds) {
      const name = (x: number) => (x === 0 ? "file" : String(x));
      throw bad(
        `state was written with --bin ${name(body.binSeconds)}, this run uses ${
          name(this.binSeconds)
        }`,
      );
    }
    if (this.#labels.length) throw new Error("loadState needs an empty TimeSeries");
    body.labels.forEach((l, i) => {
      // States of earlier versions labelled time bins 2026-11-01, 2026-11-01T13:00 or
      // 2026-11-01T13:00:00 (no zone): the same bins, now in RFC 3339 with Z.
      if (this.binSeconds > 0 && /^\d{4}-\d\d-\d\d(T\d\d:\d\d(:\d\d)?)?$/.test(l)) {
        l = binLabel(Date.parse(`${l.length === 10 ? `${l}T00:00` : l}Z`) / 1000);
      }
      this.#labels.push(l);
      this.#bins.set(l, i);
    });
    const fill = (rows: typeof body.total) => {
      const m = new Map<number, Cell>();
      for (const [bin, events, packets, bytes, sources] of rows) {
        if (!(bin >= 0 && bin < body.labels.length)) {
          throw bad("corrupt time-series state: bin out of range");
        }
        m.set(bin, { events, packets, bytes, sources: new Set(sources) });
      }
      return m;
    };
    for (const [bin, cell] of fill(body.total)) this.#total.set(bin, cell);
    for (const [k, rows] of body.series) this.#series.set(k, fill(rows));
  }

  /**
   * Bin labels in order: file bins in input order; time bins every one from the first to the
   * last (RFC 3339, Z), those without events too — a true time axis, where a quiet bin shows as
   * 0 instead of vanishing. Throws a `DataError` past {@link MAX_TIME_BINS}.
   */
  get bins(): string[] {
    if (this.binSeconds <= 0) return [...this.#labels];
    if (this.#labels.length === 0) return [];
    let lo = Infinity;
    let hi = -Infinity;
    for (const l of this.#labels) {
      const t = Date.parse(l) / 1000;
      if (t < lo) lo = t;
      if (t > hi) hi = t;
    }
    const n = (hi - lo) / this.binSeconds + 1;
    if (n > MAX_TIME_BINS) {
      throw new DataError(
        `the events span ${n.toLocaleString("en-US")} bins of ${this.binSeconds} s (${
          binLabel(lo)
        } to ${binLabel(hi)}): more than ${
          MAX_TIME_BINS.toLocaleString("en-US")
        }; give a wider --bin`,
      );
    }
    return Array.from({ length: n }, (_, i) => binLabel(lo + i * this.binSeconds));
  }

  #compute(key: string, cells: Map<number, Cell>, bins: string[]): SeriesResult {
    const order = bins.map((l) => this.#bins.get(l) ?? -1);
    const get = (f: (c: Cell) => number) => order.map((b) => (cells.get(b) ? f(cells.get(b)!) : 0));
    const events = get((c) => c.events);
    const packets = get((c) => c.packets);
    const w = this.window;
    const ma = (xs: number[]) =>
      xs.map((_, i) => {
        const from = Math.max(0, i - w + 1);
        const part = xs.slice(from, i + 1);
        return part.reduce((a, b) => a + b, 0) / part.length;
      });
    const maPackets = ma(packets);
    const maEvents = ma(events);
    const dev = (xs: number[], m: number[]) =>
      xs.map((x, i) => (i > 0 && m[i - 1] > 0 ? (x - m[i - 1]) / m[i - 1] : 0));
    // Against the bins before, at most Z_HISTORY of them: on a true time axis a series has a
    // bin for every period, and all of history would cost the square of their number.
    const z = (xs: number[]) =>
      xs.map((x, i) => robustZ(x, xs.slice(Math.max(0, i - Z_HISTORY), i)));
    const sets = order.map((b) => cells.get(b)?.sources ?? new Set<number | string>());
    const jaccard = sets.map((s, i) => {
      if (i === 0) return NaN;
      const prev = sets[i - 1];
      let inter = 0;
      for (const x of s) if (prev.has(x)) inter++;
      const union = s.size + prev.size - inter;
      return union === 0 ? NaN : inter / union;
    });
    return {
      key,
      events,
      packets,
      bytes: get((c) => c.bytes),
      sources: get((c) => c.sources.size),
      maPackets,
      maEvents,
      devPackets: dev(packets, maPackets),
      devEvents: dev(events, maEvents),
      zPackets: z(packets),
      zEvents: z(events),
      jaccard,
    };
  }

  /**
   * The total series, the selected series (`names`, or else the `top` by packets) and their
   * alerts.
   */
  result(
    top: number,
    names: string[] = [],
  ): { total: SeriesResult; series: SeriesResult[]; alerts: Alert[] } {
    const bins = this.bins;
    const total = this.#compute("total", this.#total, bins);
    let keys: string[];
    if (names.length) keys = names.filter((k) => this.#series.has(k));
    else {
      const sum = (m: Map<number, Cell>) => [...m.values()].reduce((a, c) => a + c.packets, 0);
      keys = [...this.#series.keys()].sort((a, b) =>
        sum(this.#series.get(b)!) - sum(this.#series.get(a)!) || (a < b ? -1 : 1)
      )
        .slice(0, top);
    }
    const series = keys.map((k) => this.#compute(k, this.#series.get(k)!, bins));
    const alerts: Alert[] = [];
    for (const s of [total, ...series]) {
      for (let i = 0; i < bins.length; i++) {
        if (s.devEvents[i] >= this.alertGrowth && s.events[i] >= this.alertMinEvents) {
          alerts.push({
            series: s.key,
            bin: bins[i],
            kind: "growth",
            metric: "events",
            value: s.events[i],
            score: s.devEvents[i],
          });
        }
        for (
          const [metric, zs, xs] of [["packets", s.zPackets, s.packets], [
            "events",
            s.zEvents,
            s.events,
          ]] as const
        ) {
          if (Math.abs(zs[i]) >= this.alertZ && s.events[i] >= this.alertMinEvents) {
            alerts.push({
              series: s.key,
              bin: bins[i],
              kind: "zscore",
              metric,
              value: xs[i],
              score: zs[i],
            });
          }
        }
      }
    }
    return { total, series, alerts };
  }
}

/** Time bins a series may span (a year of 5-minute bins; eleven years of hourly ones). */
export const MAX_TIME_BINS = 110_000;

/** Earlier bins a bin's robust z-score is taken against (two weeks of hourly bins). */
export const Z_HISTORY = 336;

/** A time bin's label: its start in RFC 3339 UTC, e.g. 2026-11-01T13:00:00Z. */
export function binLabel(sec: number): string {
  return new Date(sec * 1000).toISOString().replace(".000Z", "Z");
}

/**
 * The CSV header of a series: Merit's, then this tool's extra columns, for file bins (the
 * original's layout, a file a day); for time bins names that say the bin width.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { seriesHeader } from "./timeseries.ts";
 * equal(seriesHeader(0)[0], "Day");
 * equal(seriesHeader(600).slice(0, 3).join(), "bin_start,packets_per_600s,events_per_600s");
 * ```
 */
export function seriesHeader(binSeconds: number): string[] {
  if (binSeconds <= 0) return SERIES_HEADER;
  const w = `per_${binSeconds}s`;
  return [
    "bin_start",
    `packets_${w}`,
    `events_${w}`,
    "moving_average_packets",
    "moving_average_events",
    "packet_deviation",
    "event_deviation",
    `bytes_${w}`,
    `unique_sources_${w}`,
    "packet_z",
    "event_z",
    "source_jaccard",
  ];
}

/**
 * The original tool's CSV header, then this tool's extra columns.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { SERIES_HEADER } from "./timeseries.ts";
 * ok(SERIES_HEADER[0] === "Day" && SERIES_HEADER[6] === "Daily Event Deviation");
 * ```
 */
export const SERIES_HEADER = [
  "Day",
  "Packets",
  "Events",
  "Moving Average Packets",
  "Moving Average Events",
  "Daily Packet Deviation",
  "Daily Event Deviation",
  "Bytes",
  "Unique Sources",
  "Packet Z",
  "Event Z",
  "Source Jaccard",
];

/**
 * A series as CSV with {@link SERIES_HEADER}.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { seriesCsv, TimeSeries } from "./timeseries.ts";
 * const ts = new TimeSeries();
 * ts.add({ SourceIP: "192.0.2.1", Traffic: 11, Port: 23, Packets: 5, Bytes: 300 } as never, "day1.json");
 * ok(seriesCsv(ts.result(1).total, ts.bins).startsWith("Day,Packets,Events"));
 * ```
 */
export function seriesCsv(s: SeriesResult, bins: string[], binSeconds = 0): string {
  const r = (
    x: number,
  ) => (Number.isFinite(x) ? Number(x.toFixed(6)) : Number.isNaN(x) ? "" : x > 0 ? "inf" : "-inf");
  return toCsv(
    seriesHeader(binSeconds),
    bins.map((b, i) => [
      b,
      s.packets[i],
      s.events[i],
      r(s.maPackets[i]),
      r(s.maEvents[i]),
      r(s.devPackets[i]),
      r(s.devEvents[i]),
      s.bytes[i],
      s.sources[i],
      r(s.zPackets[i]),
      r(s.zEvents[i]),
      r(s.jaccard[i]),
    ]),
  );
}

/**
 * General statistics of events (the aggregator behind `count EVENTFILE...`): counts per
 * (traffic, port), coverage and scan-rate distributions, small versus large scans, per-country
 * and per-AS counts, and all of that again for each scanner fingerprint (ZMap, Masscan, Mirai);
 * events, packets and sources per attributed tool (`Tool`) and per SYN signature.
 * Events are added one at a time; nothing but the aggregates is kept.
 *
 * @module
 */

import { type Packed, SourceSet } from "./_source_set.ts";
import { trafficName } from "../decode/traffic.ts";
import { FINGERPRINTS } from "../fingerprints/registry.ts";
import { TOOLS } from "../attribution/tools.ts";
import { TAGS } from "../tags/traffic_tags.ts";
import type { EventJson } from "../model/darknet_event.ts";
import { toCsv } from "./_csv.ts";

/** Options of {@link EventStats}. */
export interface EventStatsOptions {
  /** Telescope size in addresses (default 475,136). */
  telescopeSize?: number;
  /** Coverage at or above which a scan is "large" (default 0.1). */
  largeCoverage?: number;
  /** Minimum events for a row of the per-country table (default 1). */
  minEvents?: number;
}

interface Tally {
  events: number;
  packets: number;
  bytes: number;
  /** While adding: a SourceSet; once packed (for merging): sorted uint32 sources plus other text. */
  sources: SourceSet | Packed;
}

function pack(s: SourceSet | Packed): Packed {
  return s instanceof SourceSet ? s.pack() : s;
}

// Union of two packed source lists (a merge walk over the sorted arrays).
function union(a: Packed, b: Packed): Packed {
  const out = new Uint32Array(a.u32.length + b.u32.length);
  let i = 0;
  let j = 0;
  let n = 0;
  while (i < a.u32.length && j < b.u32.length) {
    const x = a.u32[i];
    const y = b.u32[j];
    if (x < y) out[n++] = a.u32[i++];
    else if (y < x) out[n++] = b.u32[j++];
    else {
      out[n++] = x;
      i++;
      j++;
    }
  }
  while (i < a.u32.length) out[n++] = a.u32[i++];
  while (j < b.u32.length) out[n++] = b.u32[j++];
  return { u32: out.subarray(0, n), str: [...new Set([...a.str, ...b.str])].sort() };
}

function sourceCount(s: SourceSet | Packed): number {
  return s instanceof SourceSet ? s.size : s.u32.length + s.str.length;
}

/** IPv4 text as a uint32 (smaller and faster in a Set than the string), else the text. */
export function sourceKey(ip: string): number | string {
  let v = 0;
  let octet = 0;
  let dots = 0;
  let digits = 0;
  for (let i = 0; i < ip.length; i++) {
    const c = ip.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || octet > 255) return ip;
      v = v * 256 + octet;
      octet = 0;
      digits = 0;
      dots++;
    } else if (c >= 48 && c <= 57 && digits < 3) {
      octet = octet * 10 + c - 48;
      digits++;
    } else return ip;
  }
  if (dots !== 3 || digits === 0 || octet > 255) return ip;
  return v * 256 + octet;
}

/**
 * Seconds since the epoch of an RFC 3339 UTC time (`…Z`, any number of fraction digits),
 * parsed without `Date` (twice as many calls per event would dominate `count`).
 */
export function rfc3339Seconds(s: string): number {
  if (s.length < 20 || s.charCodeAt(s.length - 1) !== 90) return Date.parse(s) / 1000;
  const d = (i: number, n: number) => {
    let v = 0;
    for (let k = 0; k < n; k++) v = v * 10 + s.charCodeAt(i + k) - 48;
    return v;
  };
  let y = d(0, 4);
  const m = d(5, 2);
  const day = d(8, 2);
  let frac = 0;
  if (s.charCodeAt(19) === 46) {
    let scale = 0.1;
    for (let i = 20; i < s.length - 1; i++) {
      frac += (s.charCodeAt(i) - 48) * scale;
      scale /= 10;
    }
  }
  // Days from the civil date (proleptic Gregorian).
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  const days = era * 146097 + doe - 719468;
  return days * 86400 + d(11, 2) * 3600 + d(14, 2) * 60 + d(17, 2) + frac;
}

const newTally = (): Tally => ({
  events: 0,
  packets: 0,
  bytes: 0,
  sources: new SourceSet(),
});

// Coverage buckets: 10 per decade from 1e-6 to 1; rate buckets: decades from 1e-3 to 1e12.
const COVERAGE_EDGES = Array.from({ length: 61 }, (_, i) => 10 ** (-6 + i / 10));
const RATE_EDGES = Array.from({ length: 16 }, (_, i) => 10 ** (i - 3));

class Histogram {
  readonly edges: number[];
  readonly counts: number[];
  above = 0; // beyond the last edge (or infinite)
  n = 0;
  constructor(edges: number[]) {
    this.edges = edges;
    this.counts = new Array(edges.length).fill(0);
  }
  merge(o: { counts: number[]; above: number; n: number }): void {
    for (let i = 0; i < this.counts.length; i++) this.counts[i] += o.counts[i];
    this.above += o.above;
    this.n += o.n;
  }
  add(x: number): void {
    this.n++;
    // First edge ≥ x (binary search).
    let lo = 0;
    let hi = this.edges.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.edges[mid] < x) lo = mid + 1;
      else hi = mid;
    }
    if (lo === this.edges.length) this.above++;
    else this.counts[lo]++;
  }
  csv(label: string): string {
    let cum = 0;
    const rows: (string | number)[][] = this.edges.map((e, i) => {
      cum += this.counts[i];
      return [Number(e.toPrecision(6)), this.counts[i], cum, this.n ? cum / this.n : 0];
    });
    rows.push(["inf", this.above, this.n, this.n ? 1 : 0]);
    return toCsv([`${label}_at_most`, "events", "cumulative_events", "cumulative_fraction"], rows);
  }
}

function tally<K>(
  m: Map<K, Tally>,
  k: K,
  e: EventJson,
  src: number | string | null,
  packets: number = e.Packets,
): void {
  let t = m.get(k);
  if (!t) m.set(k, t = newTally());
  t.events++;
  t.packets += packets;
  t.bytes += e.Bytes;
  if (src !== null) (t.sources as SourceSet).add(src);
}

// Adds `o`'s tallies into `m` (sources united; the bigger set is kept and the smaller poured in).
function mergeTallies<K>(
  m: Map<K, Tally & { org?: string }>,
  o: Map<K, Tally & { org?: string }>,
): void {
  for (const [k, t] of o) {
    const mine = m.get(k);
    if (!mine) {
      m.set(k, t);
      continue;
    }
    mine.events += t.events;
    mine.packets += t.packets;
    mine.bytes += t.bytes;
    mine.sources = union(pack(mine.sources), pack(t.sources));
  }
}

class Breakdown {
  // (traffic, port) tables are keyed by traffic * 65536 + port.
  readonly byPort = new Map<number, Tally>();
  readonly small = new Map<number, Tally>();
  readonly large = new Map<number, Tally>();
  readonly byCountryPort = new Map<string, Tally>(); // no source sets: the CSV has no such column
  readonly byCountry = new Map<string, Tally>();
  readonly byAsn = new Map<number, Tally & { org: string }>();
  readonly coverage = new Histogram(COVERAGE_EDGES);
  readonly rates = new Histogram(RATE_EDGES);
  events = 0;
  packets = 0;
  bytes = 0;

  /** Packs every source set (sorted typed arrays: cheap to send to another thread and merge). */
  pack(): void {
    for (
      const m of [
        this.byPort,
        this.small,
        this.large,
        this.byCountryPort,
        this.byCountry,
        this.byAsn,
      ] as Map<
        unknown,
        Tally
      >[]
    ) {
      for (const t of m.values()) t.sources = pack(t.sources);
    }
  }

  /** Adds another breakdown (or its structured clone, e.g. from a Worker) into this one. */
  merge(o: Breakdown): void {
    mergeTallies(this.byPort, o.byPort);
    mergeTallies(this.small, o.small);
    mergeTallies(this.large, o.large);
    mergeTallies(this.byCountryPort, o.byCountryPort);
    mergeTallies(this.byCountry, o.byCountry);
    mergeTallies(this.byAsn, o.byAsn);
    this.coverage.merge(o.coverage);
    this.rates.merge(o.rates);
    this.events += o.events;
    this.packets += o.packets;
    this.bytes += o.bytes;
  }

  add(e: EventJson, coverage: number, rate: number, large: boolean): void {
    const src = sourceKey(e.SourceIP);
    const key = e.Traffic * 65536 + e.Port;
    tally(this.byPort, key, e, src);
    tally(large ? this.large : this.small, key, e, src);
    tally(this.byCountryPort, `${e.Country}|${e.Traffic}|${e.Port}`, e, null);
    tally(this.byCountry, e.Country, e, src);
    let a = this.byAsn.get(e.ASN);
    if (!a) this.byAsn.set(e.ASN, a = { ...newTally(), org: e.Org });
    a.events++;
    a.packets += e.Packets;
    a.bytes += e.Bytes;
    (a.sources as SourceSet).add(src);
    this.coverage.add(coverage);
    this.rates.add(rate);
    this.events++;
    this.packets += e.Packets;
    this.bytes += e.Bytes;
  }
}

function portRows(m: Map<number, Tally>): (string | number)[][] {
  return [...m].map(([k, t]) => {
    const traffic = Math.floor(k / 65536);
    const port = k % 65536;
    return [
      trafficName(traffic),
      traffic,
      port,
      t.events,
      t.packets,
      t.bytes,
      sourceCount(t.sources),
    ];
  }).sort((a, b) =>
    (b[3] as number) - (a[3] as number) || (a[1] as number) - (b[1] as number) ||
    (a[2] as number) - (b[2] as number)
  );
}

/** Distinct SYN signatures `count` keeps; later ones are tallied under {@link OTHER_SIGNATURES}. */
export const MAX_SIGNATURES = 100_000;
/** The row of the signatures beyond {@link MAX_SIGNATURES}. */
export const OTHER_SIGNATURES = "(other)";

// Per attributed tool, the registry's order, then events of no tool ("(none)").
function toolRows(m: Map<string, Tally>): (string | number)[][] {
  const names = [
    ...TOOLS.map((t) => t.name),
    ...[...m.keys()].filter((k) => k !== "" && !TOOLS.some((t) => t.name === k)).sort(),
    "",
  ];
  return names.filter((k) => m.has(k)).map((k) => {
    const t = m.get(k)!;
    return [k === "" ? "(none)" : k, t.events, t.packets, t.bytes, sourceCount(t.sources)];
  });
}

// Per signature, by events (then the signature).
function signatureRows(m: Map<string, Tally>): (string | number)[][] {
  return [...m].map(([k, t]) => [k, t.events, t.packets, t.bytes, sourceCount(t.sources)])
    .sort((a, b) =>
      (b[1] as number) - (a[1] as number) || String(a[0]).localeCompare(String(b[0]))
    );
}

const PORT_HEADER = [
  "traffic",
  "traffic_code",
  "port",
  "events",
  "packets",
  "bytes",
  "unique_sources",
];

/**
 * Event statistics.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { EventStats } from "./event_stats.ts";
 * const s = new EventStats({ telescopeSize: 65536 });
 * s.add({ SourceIP: "192.0.2.1", Traffic: 11, Port: 23, Packets: 10, Bytes: 600, UniqueDests: 10 } as never);
 * ok(s.summary(5).events === 1);
 * ```
 */
export class EventStats {
  /** Telescope size in addresses. */
  readonly telescopeSize: number;
  /** Coverage that makes a scan large. */
  readonly largeCoverage: number;
  /** Minimum events of a per-country row. */
  readonly minEvents: number;
  readonly #all = new Breakdown();
  // One breakdown per registered fingerprint, by name, in the registry's order.
  readonly #fp: Record<string, Breakdown> = Object.fromEntries(
    FINGERPRINTS.map((f) => [f.name, new Breakdown()]),
  );
  // By attributed tool ("" for none) and by SYN signature (at most MAX_SIGNATURES kept, the
  // rest under OTHER_SIGNATURES: a flood of forged windows must not grow this without bound).
  #byTool = new Map<string, Tally>();
  #bySignature = new Map<string, Tally>();
  // By traffic tag ("" for events without any): events, tagged packets, sources.
  #byTag = new Map<string, Tally>();
  // By known scanner's label ("" for none); labels are few (a --known-scanners file's).
  #byScanner = new Map<string, Tally>();

  /**
   * Creates an empty aggregator.
   */
  constructor(o: EventStatsOptions = {}) {
    this.telescopeSize = o.telescopeSize ?? 475136;
    this.largeCoverage = o.largeCoverage ?? 0.1;
    this.minEvents = o.minEvents ?? 1;
  }

  /**
   * The aggregates as structured-clonable data (Maps, Sets, plain objects), to send from a
   * Worker; {@link mergeData} adds them into another aggregator.
   */
  exportData(): unknown {
    this.#all.pack();
    for (const b of Object.values(this.#fp)) b.pack();
    for (const m of [this.#byTool, this.#bySignature, this.#byTag, this.#byScanner]) {
      for (const t of m.values()) t.sources = pack(t.sources);
    }
    return {
      scanners: this.#byScanner,
      all: this.#all,
      fp: this.#fp,
      tools: this.#byTool,
      signatures: this.#bySignature,
      tags: this.#byTag,
    };
  }

  /** Adds data from {@link exportData} (of events that came later in the input) into this. */
  mergeData(data: unknown): void {
    const d = data as {
      all: Breakdown;
      fp: Record<string, Breakdown>;
      tools: Map<string, Tally>;
      signatures: Map<string, Tally>;
      tags: Map<string, Tally>;
      scanners: Map<string, Tally>;
    };
    this.#all.pack();
    for (const b of Object.values(this.#fp)) b.pack();
    this.#all.merge(d.all);
    for (const f of FINGERPRINTS) this.#fp[f.name].merge(d.fp[f.name]);
    for (const m of [this.#byTool, this.#bySignature, this.#byTag, this.#byScanner]) {
      for (const t of m.values()) t.sources = pack(t.sources);
    }
    mergeTallies(this.#byTool, d.tools);
    mergeTallies(this.#byScanner, d.scanners);
    mergeTallies(this.#byTag, d.tags);
    for (const [k, t] of d.signatures) {
      const key = this.#bySignature.has(k) || this.#bySignature.size < MAX_SIGNATURES
        ? k
        : OTHER_SIGNATURES;
      mergeTallies(this.#bySignature, new Map([[key, t]]));
    }
  }

  /** Adds one event. */
  add(e: EventJson): void {
    e.Country ??= "";
    e.ASN ??= 0;
    e.Org ??= "";
    const coverage = (e.UniqueDests ?? 0) / this.telescopeSize;
    const dur = e.First && e.Last ? rfc3339Seconds(e.Last) - rfc3339Seconds(e.First) : 0;
    const rate = dur > 0 ? (e.Packets * (4294967296 / this.telescopeSize)) / dur : Infinity;
    const large = coverage >= this.largeCoverage;
    this.#all.add(e, coverage, rate, large);
    const o = e as unknown as Record<string, unknown>;
    for (const f of FINGERPRINTS) {
      if (o[f.key] === true) this.#fp[f.name].add(e, coverage, rate, large);
    }
    const src = sourceKey(e.SourceIP);
    tally(this.#byTool, typeof e.Tool === "string" ? e.Tool : "", e, src);
    // Tags: an event counts under each tag it has, with its tagged packets only.
    const tags = e.Tags;
    let tagged = false;
    if (tags && typeof tags === "object") {
      for (const name of TAGS) {
        const k = tags[name];
        if (typeof k === "number" && k > 0) {
          tally(this.#byTag, name, e, src, k);
          tagged = true;
        }
      }
    }
    if (!tagged) tally(this.#byTag, "", e, src);
    tally(this.#byScanner, typeof e.Scanner === "string" ? e.Scanner : "", e, src);
    const sig = e.SynSignature;
    if (typeof sig === "string" && sig !== "") {
      const key = this.#bySignature.has(sig) || this.#bySignature.size < MAX_SIGNATURES
        ? sig
        : OTHER_SIGNATURES;
      tally(this.#bySignature, key, e, src);
    }
  }

  /** The CSV files, by name. */
  files(): Record<string, string> {
    const b = this.#all;
    const out: Record<string, string> = {
      "counts.csv": toCsv(PORT_HEADER, portRows(b.byPort)),
      "small_counts.csv": toCsv(PORT_HEADER, portRows(b.small)),
      "large_counts.csv": toCsv(PORT_HEADER, portRows(b.large)),
      "coverage.csv": b.coverage.csv("coverage"),
      "rates.csv": b.rates.csv("rate_pps"),
      "country_counts.csv": toCsv(
        ["country", "traffic", "traffic_code", "port", "events", "packets"],
        [...b.byCountryPort].filter(([, t]) => t.events >= this.minEvents).map(([k, t]) => {
          // Split from the right: a country name may itself hold a "|".
          const b = k.lastIndexOf("|");
          const a = k.lastIndexOf("|", b - 1);
          const [country, traffic, port] = [k.slice(0, a), k.slice(a + 1, b), k.slice(b + 1)];
          return [
            country,
            trafficName(Number(traffic)),
            Number(traffic),
            Number(port),
            t.events,
            t.packets,
          ];
        }).sort((x, y) =>
          (y[4] as number) - (x[4] as number) || String(x[0]).localeCompare(String(y[0]))
        ),
      ),
      "country_total_counts.csv": toCsv(
        ["country", "events", "packets", "unique_sources"],
        [...b.byCountry].map(([c, t]) => [c, t.events, t.packets, sourceCount(t.sources)])
          .sort((x, y) =>
            (y[1] as number) - (x[1] as number) || String(x[0]).localeCompare(String(y[0]))
          ),
      ),
      "asn_counts.csv": toCsv(
        ["asn", "org", "events", "packets", "unique_sources"],
        [...b.byAsn].map(([a, t]) => [a, t.org, t.events, t.packets, sourceCount(t.sources)])
          .sort((x, y) =>
            (y[2] as number) - (x[2] as number) || (x[0] as number) - (y[0] as number)
          ),
      ),
    };
    out["tool_counts.csv"] = toCsv(
      ["tool", "events", "packets", "bytes", "unique_sources"],
      toolRows(this.#byTool),
    );
    out["tag_counts.csv"] = toCsv(
      ["tag", "events", "tagged_packets", "unique_sources"],
      [...TAGS, ""].filter((k) => this.#byTag.has(k)).map((k) => {
        const t = this.#byTag.get(k)!;
        return [k === "" ? "(none)" : k, t.events, t.packets, sourceCount(t.sources)];
      }),
    );
    out["scanner_counts.csv"] = toCsv(
      ["scanner", "events", "packets", "bytes", "unique_sources"],
      [...this.#byScanner].filter(([k]) => k !== "").sort((a, b) =>
        b[1].events - a[1].events || (a[0] < b[0] ? -1 : 1)
      ).concat(this.#byScanner.has("") ? [["", this.#byScanner.get("")!]] : []).map((
        [k, t],
      ) => [k === "" ? "(none)" : k, t.events, t.packets, t.bytes, sourceCount(t.sources)]),
    );
    out["syn_signatures.csv"] = toCsv(
      ["syn_signature", "events", "packets", "bytes", "unique_sources"],
      signatureRows(this.#bySignature),
    );
    for (const [name, f] of Object.entries(this.#fp)) {
      out[`${name}_port_counts.csv`] = toCsv(PORT_HEADER, portRows(f.byPort));
      out[`${name}_country_counts.csv`] = toCsv(
        ["country", "events", "packets", "unique_sources"],
        [...f.byCountry].map(([c, t]) => [c, t.events, t.packets, sourceCount(t.sources)])
          .sort((x, y) =>
            (y[1] as number) - (x[1] as number) || String(x[0]).localeCompare(String(y[0]))
          ),
      );
      out[`${name}_coverage.csv`] = f.coverage.csv("coverage");
      out[`${name}_rates.csv`] = f.rates.csv("rate_pps");
    }
    return out;
  }

  /**
   * Totals and the `top` (traffic, port) pairs by events (or by packets or sources).
   *
   * @param top rows of the top table
   * @param rankBy what the table ranks by
   */
  summary(top: number, rankBy: RankBy = "events"): EventSummary {
    const b = this.#all;
    const col = { events: 3, packets: 4, sources: 6 }[rankBy];
    const ports = portRows(b.byPort);
    // Stable: ties keep the order by events, then traffic and port.
    if (rankBy !== "events") ports.sort((x, y) => (y[col] as number) - (x[col] as number));
    return {
      rankedBy: rankBy,
      events: b.events,
      packets: b.packets,
      bytes: b.bytes,
      largeEvents: [...b.large.values()].reduce((n, t) => n + t.events, 0),
      fingerprints: Object.fromEntries(FINGERPRINTS.map((f) => [f.name, this.#fp[f.name].events])),
      tools: Object.fromEntries(TOOLS.map((t) => [t.name, this.#byTool.get(t.name)?.events ?? 0])),
      scanners: Object.fromEntries(
        [...this.#byScanner].filter(([k]) => k !== "").map(([k, t]) => [k, t.events]),
      ),
      tags: Object.fromEntries(TAGS.map((name) => {
        const t = this.#byTag.get(name);
        return [name, { events: t?.events ?? 0, packets: t?.packets ?? 0 }];
      })),
      topSynSignatures: signatureRows(this.#bySignature).slice(0, top).map((r) => ({
        signature: String(r[0]),
        events: Number(r[1]),
        packets: Number(r[2]),
        uniqueSources: Number(r[4]),
      })),
      topPorts: ports.slice(0, top).map((r) => ({
        traffic: String(r[0]),
        port: Number(r[2]),
        events: Number(r[3]),
        packets: Number(r[4]),
        uniqueSources: Number(r[6]),
      })),
    };
  }
}

/** What `count`'s top table ranks by. */
export type RankBy = "events" | "packets" | "sources";

/** Result of {@link EventStats.summary} (the `--json` output of `count`). */
export interface EventSummary {
  /** Events read. */
  events: number;
  /** Their packets. */
  packets: number;
  /** Their bytes. */
  bytes: number;
  /** Events with coverage at or above `--large-coverage`. */
  largeEvents: number;
  /** Events per registered fingerprint, by name (`zmap`, `masscan`, `mirai`, …). */
  fingerprints: Record<string, number>;
  /** Events attributed to each registered tool (`Tool`), by name. */
  tools: Record<string, number>;
  /** Events per known scanner's label (`Scanner`). */
  scanners: Record<string, number>;
  /** Per traffic tag: events with a packet of it, and those packets. */
  tags: Record<string, { events: number; packets: number }>;
  /** The SYN signatures with the most events. */
  topSynSignatures: {
    signature: string;
    events: number;
    packets: number;
    uniqueSources: number;
  }[];
  /** What {@link EventSummary.topPorts} is ranked by. */
  rankedBy: RankBy;
  /** The (traffic, port) pairs with the most events (or packets, or sources). */
  topPorts: {
    traffic: string;
    port: number;
    events: number;
    packets: number;
    uniqueSources: number;
  }[];
}

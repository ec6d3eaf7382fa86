/**
 * Per-source roll-ups (`parse --sourceout PATH`): what each source did across its events in one
 * output window — the run's event file, or each `--rotate` window: first and last packet,
 * packets, bytes, events, distinct ports and traffic types, distinct destinations and /24s
 * (united across its events, not summed), the fraction of the telescope it reached, a scan
 * shape, its attribution and traffic tags summed over its events, its known-scanner label, and a
 * flag for aggressive scanners. It consumes the events the run writes (after enrichment, so
 * their filters apply), so it costs per event, not per packet; the aggregator gives each event
 * its destinations for it (`EventAggregatorOptions.destinations`).
 *
 * Scan shape ({@link SHAPE_MANY}, {@link SHAPE_FEW}): `backscatter` when most packets are in
 * backscatter events (SYN-ACK, RST, ICMP replies and errors); `both` with ≥ 10 destinations and
 * ≥ 10 ports; `horizontal` with ≥ 10 destinations on ≤ 3 ports; `vertical` with ≥ 10 ports on
 * ≤ 3 destinations; `other` for the rest. Aggressive: dispersion above `aggressiveDispersion`
 * (10 % of the telescope), or packets or ports above the window's 99.99th percentile over its
 * sources.
 *
 * @module
 */

import type { DarknetEvent } from "../model/darknet_event.ts";
import { ICMP_ANSWERS, Traffic, trafficName } from "../decode/traffic.ts";
import { DistinctCounter } from "../dos/distinct_counter.ts";

import { formatTime } from "../stats/packet_stats.ts";
import { formatIpv4, formatIpv6 } from "../util/ip.ts";
import { attribute, TOOLS } from "../attribution/tools.ts";
import { TAGS } from "../tags/traffic_tags.ts";
import type { RecordColumn } from "../outputs/record_format.ts";

/** Destinations (ports) a horizontal (vertical) scan has at least, and both a `both` scan. */
export const SHAPE_MANY = 10;
/** Ports (destinations) a horizontal (vertical) scan has at most. */
export const SHAPE_FEW = 3;

/** Settings of {@link SourceRollup}. */
export interface SourceRollupOptions {
  /**
   * Telescope size in addresses (dispersion = distinct destinations / size).
   * @default {475136}
   */
  telescopeSize?: number;
  /**
   * Dispersion above which a source is aggressive.
   * @default {0.1}
   */
  aggressiveDispersion?: number;
  /**
   * Percentile of packets and of ports above which a source is aggressive.
   * @default {0.9999}
   */
  percentile?: number;
}

/** One source in one window: a `--sourceout` record. */
export interface SourceRecord {
  /** The source address. */
  Source: string;
  /** The rotation window (RFC 3339), or null for the whole run. */
  WindowStart: string | null;
  /** End of the window (excluded), or null. */
  WindowEnd: string | null;
  /** First packet of its events. */
  First: string;
  /** Last packet. */
  Last: string;
  /** Packets of its events. */
  Packets: number;
  /** Their captured bytes. */
  Bytes: number;
  /** Its events. */
  Events: number;
  /** Distinct event ports. */
  Ports: number;
  /** Its traffic types, by name. */
  TrafficTypes: string[];
  /** Distinct destinations across all its events. */
  UniqueDests: number;
  /** Distinct destination /24s (IPv6: distinct destinations, by a 32-bit hash). */
  UniqueDest24s: number;
  /** UniqueDests / telescope size. */
  Dispersion: number;
  /** horizontal, vertical, both, backscatter or other. */
  Shape: string;
  /** Packets each scanning tool matched, summed over its events. */
  Tools: Record<string, number>;
  /** The attribution of those sums (docs/attribution.md), or "". */
  Tool: string;
  /** Packets per traffic tag, summed. */
  Tags: Record<string, number>;
  /** Its known-scanner label (`--known-scanners`), or "". */
  Scanner: string;
  /** Country, AS and organisation (with enrichment). */
  Country: string;
  /** Origin AS (0 without enrichment). */
  ASN: number;
  /** AS organisation. */
  Org: string;
  /** Whether it is an aggressive scanner. */
  Aggressive: boolean;
  /** Why: dispersion, packets, ports (in that order). */
  AggressiveWhy: string[];
}

/** The columns of `--sourceout` records in a Parquet file, in the records' order. */
export const SOURCE_COLUMNS: readonly RecordColumn[] = [
  { key: "Source", kind: "text" },
  { key: "WindowStart", kind: "time", nullable: true },
  { key: "WindowEnd", kind: "time", nullable: true },
  { key: "First", kind: "time" },
  { key: "Last", kind: "time" },
  { key: "Packets", kind: "int" },
  { key: "Bytes", kind: "int" },
  { key: "Events", kind: "int" },
  { key: "Ports", kind: "int" },
  { key: "TrafficTypes", kind: "json" },
  { key: "UniqueDests", kind: "int" },
  { key: "UniqueDest24s", kind: "int" },
  { key: "Dispersion", kind: "double" },
  { key: "Shape", kind: "text" },
  { key: "Tools", kind: "json" },
  { key: "Tool", kind: "text" },
  { key: "Tags", kind: "json" },
  { key: "Scanner", kind: "text" },
  { key: "Country", kind: "text" },
  { key: "ASN", kind: "int" },
  { key: "Org", kind: "text" },
  { key: "Aggressive", kind: "boolean" },
  { key: "AggressiveWhy", kind: "json" },
];

const BACKSCATTER = new Uint8Array(256);
for (const t of [Traffic.TCPSYNACK, Traffic.TCPRST, ...ICMP_ANSWERS]) BACKSCATTER[t] = 1;

// One source in the open window.
class Source {
  firstSec: number;
  firstNsec: number;
  lastSec: number;
  lastNsec: number;
  packets = 0;
  bytes = 0;
  events = 0;
  backscatter = 0;
  traffic = 0; // bit per traffic code (codes < 32)
  ports = new DistinctCounter();
  // Its events' destinations (IPv6: their hashes), each event's array as it came; united once,
  // when the window ends (one sort of them all: a union per event copied the set each time).
  // Most sources have one event in a window: their sets are never sorted.
  dests: Uint32Array[] = [];
  // Distinct /24s of a set of one event's (its own count).
  n24 = 0;
  tools = new Float64Array(TOOLS.length);
  tags = new Float64Array(TAGS.length);
  scanner = "";
  country = "";
  asn = 0;
  org = "";
  readonly v: number;
  readonly src: number;
  readonly src6: Uint8Array | null;
  constructor(e: DarknetEvent) {
    this.v = e.version;
    this.src = e.src;
    this.src6 = e.version === 6 ? e.src6.slice() : null;

    this.firstSec = e.firstSec;
    this.firstNsec = e.firstNsec;
    this.lastSec = e.lastSec;
    this.lastNsec = e.lastNsec;
  }
}

/**
 * Per-source roll-ups of events.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { SourceRollup } from "./source_rollup.ts";
 * import { EventAggregator } from "../aggregation/event_aggregator.ts";
 * import { captureBatches } from "../capture/open_capture.ts";
 * const agg = new EventAggregator({ destinations: true });
 * const r = new SourceRollup();
 * for await (const b of await captureBatches(["testdata/captures-modern/masscan_master_syn.pcap"])) {
 *   for (const e of agg.add(b)) r.add(e);
 * }
 * for (const e of agg.openEvents()) r.add(e);
 * const [s] = r.endWindow(null);
 * equal(s.Source, "192.0.2.21");
 * equal(s.Events, 3); // ports 22, 80, 443
 * equal(s.UniqueDests, 1024); // the same /22 on each port: united, not 3072
 * equal(s.Shape, "horizontal");
 * ```
 */
export class SourceRollup {
  /** Telescope size in addresses. */
  readonly telescopeSize: number;
  /** Dispersion that makes a source aggressive. */
  readonly aggressiveDispersion: number;
  /** Percentile of packets and ports that makes a source aggressive. */
  readonly percentile: number;
  #v4 = new Map<number, Source>();
  #v6 = new Map<string, Source>();

  /** A roll-up with the given settings. */
  constructor(o: SourceRollupOptions = {}) {
    this.telescopeSize = o.telescopeSize ?? 475136;
    this.aggressiveDispersion = o.aggressiveDispersion ?? 0.1;
    this.percentile = o.percentile ?? 0.9999;
  }

  /** Sources in the open window. */
  get open(): number {
    return this.#v4.size + this.#v6.size;
  }

  /** Adds an event (with its `destinations`, or only its destination count is known). */
  add(e: DarknetEvent): void {
    let s: Source | undefined;
    if (e.version === 4) {
      s = this.#v4.get(e.src);
      if (s === undefined) this.#v4.set(e.src, s = new Source(e));
    } else {
      const k = Array.from(e.src6, (x) => x.toString(16).padStart(2, "0")).join("");
      s = this.#v6.get(k);
      if (s === undefined) this.#v6.set(k, s = new Source(e));
    }
    if (e.firstSec < s.firstSec || (e.firstSec === s.firstSec && e.firstNsec < s.firstNsec)) {
      s.firstSec = e.firstSec;
      s.firstNsec = e.firstNsec;
    }
    if (e.lastSec > s.lastSec || (e.lastSec === s.lastSec && e.lastNsec > s.lastNsec)) {
      s.lastSec = e.lastSec;
      s.lastNsec = e.lastNsec;
    }
    s.packets += e.packets;
    s.bytes += e.bytes;
    s.events++;
    if (BACKSCATTER[e.traffic] === 1) s.backscatter += e.packets;
    s.traffic |= 1 << e.traffic;
    s.ports.add(e.port);
    const d = e.destinations;
    if (d !== null && d.length > 0) {
      if (s.dests.length === 0) s.n24 = e.uniqueDest24s;
      s.dests.push(d);
    }
    for (let k = 0; k < e.tools.length; k++) s.tools[k] += e.tools[k];
    for (let k = 0; k < e.tags.length; k++) s.tags[k] += e.tags[k];
    if (s.scanner === "") s.scanner = e.scanner;
    if (s.country === "") s.country = e.country;
    if (s.asn === 0) {
      s.asn = e.asn;
      s.org = e.org;
    }
  }

  /**
   * Ends the window (`[start, end)` seconds of packet time, or null for the whole run): the
   * records of its sources in address order (IPv4 first), and an empty roll-up for the next.
   */
  endWindow(window: { start: number; end: number } | null): SourceRecord[] {
    const v4 = [...this.#v4.values()].sort((a, b) => a.src - b.src);
    const v6 = [...this.#v6].sort((a, b) => a[0] < b[0] ? -1 : 1).map(([, s]) => s);

    this.#v4 = new Map();
    this.#v6 = new Map();

    const all = [...v4, ...v6];
    if (all.length === 0) return [];
    // Each source's distinct destinations and /24s.
    const counts = (s: Source): [number, number] => {
      if (s.dests.length === 0) return [0, 0];
      if (s.dests.length === 1) return [s.dests[0].length, s.n24];
      return distinct(s.dests);
    };
    const at = (xs: number[]) => {
      xs.sort((a, b) => a - b);
      return xs[Math.floor(this.percentile * (xs.length - 1))];
    };
    // The percentile means something only with enough sources (10,000 for the 99.99th): with
    // fewer, the busiest source would always be "above" it.
    const enough = all.length * (1 - this.percentile) >= 1;
    const pkTop = enough ? at(all.map((s) => s.packets)) : Infinity;
    const portTop = enough ? at(all.map((s) => s.ports.count)) : Infinity;
    const start = window ? formatTime(window.start, 0) : null;
    const end = window ? formatTime(window.end, 0) : null;
    return all.map((s) => {
      const [n, n24] = counts(s);
      const ports = s.ports.count;
      const dispersion = n / this.telescopeSize;
      const why: string[] = [];
      if (dispersion > this.aggressiveDispersion) why.push("dispersion");
      if (s.packets > pkTop) why.push("packets");
      if (ports > portTop) why.push("ports");
      return {
        Source: s.v === 4 ? formatIpv4(s.src) : formatIpv6(s.src6!),
        WindowStart: start,
        WindowEnd: end,
        First: formatTime(s.firstSec, s.firstNsec),
        Last: formatTime(s.lastSec, s.lastNsec),
        Packets: s.packets,
        Bytes: s.bytes,
        Events: s.events,
        Ports: ports,
        TrafficTypes: Array.from({ length: 18 }, (_, k) => k)
          .filter((k) => (s.traffic >>> k) & 1).map(trafficName),
        UniqueDests: n,
        UniqueDest24s: s.v === 6 ? n : n24,
        Dispersion: dispersion,
        Shape: shape(s.backscatter * 2 > s.packets, n, ports),
        Tools: Object.fromEntries(
          TOOLS.flatMap((t, k) => s.tools[k] > 0 ? [[t.name, s.tools[k]]] : []),
        ),
        Tool: attribute(s.tools),
        Tags: Object.fromEntries(TAGS.flatMap((t, k) => s.tags[k] > 0 ? [[t, s.tags[k]]] : [])),
        Scanner: s.scanner,
        Country: s.country,
        ASN: s.asn,
        Org: s.org,
        Aggressive: why.length > 0,
        AggressiveWhy: why,
      };
    });
  }
}

// Distinct values and distinct /24s (value >>> 8) of several sets together.
function distinct(sets: Uint32Array[]): [number, number] {
  let total = 0;
  for (const d of sets) total += d.length;
  const all = new Uint32Array(total);
  let at = 0;
  for (const d of sets) {
    all.set(d, at);
    at += d.length;
  }
  all.sort();
  let n = 0;
  let n24 = 0;
  let last = -1;
  let last24 = -1;
  for (let i = 0; i < total; i++) {
    const x = all[i];
    if (x === last) continue;
    last = x;
    n++;
    if (x >>> 8 !== last24) {
      last24 = x >>> 8;
      n24++;
    }
  }
  return [n, n24];
}

function shape(backscatter: boolean, dests: number, ports: number): string {
  if (backscatter) return "backscatter";
  if (dests >= SHAPE_MANY && ports >= SHAPE_MANY) return "both";
  if (dests >= SHAPE_MANY && ports <= SHAPE_FEW) return "horizontal";
  if (ports >= SHAPE_MANY && dests <= SHAPE_FEW) return "vertical";
  return "other";
}

/**
 * Per-source roll-ups (`parse --sourceout PATH`): what each source did in an interval of packet
 * time (an hour by default, aligned to multiples of it), across all its events — packets, bytes,
 * the (traffic, port) keys of its events, distinct ports and traffic types, distinct
 * destinations and /24s (union over its events, not a sum), the fraction of the telescope it
 * reached, a scan shape, the scanning tools' per-packet matches and the traffic tags summed, and
 * a flag for aggressive scanners. An analyzer beside the event aggregator, on the same decoded
 * batches; records are written when their interval ends.
 *
 * Scan shape (thresholds `SHAPE_*`): `backscatter` when most packets are backscatter (SYN-ACK,
 * RST, ICMP replies and errors); `horizontal` with ≥ 10 destinations on ≤ 3 ports; `vertical`
 * with ≥ 10 ports on ≤ 3 destinations; `both` with ≥ 10 of each; `other` for the rest.
 * Aggressive: dispersion above `aggressiveDispersion` (10 % of the telescope), or packets or
 * distinct ports above the interval's 99.99th percentile over its sources.
 *
 * @module
 */

import type { Analyzer } from "../analysis/analyzer.ts";
import type { PacketBatch } from "../decode/packet_batch.ts";
import { Traffic, trafficName } from "../decode/traffic.ts";
import { DistinctCounter } from "../dos/distinct_counter.ts";
import { formatTime } from "../stats/packet_stats.ts";
import { formatIpv4, formatIpv6 } from "../util/ip.ts";
import { attribute, SEQUENCE_BITS, TOOLS } from "../attribution/tools.ts";
import { TAG_BITS, TAGS } from "../tags/traffic_tags.ts";
import { compareKeys, KeyTable } from "../util/key_table.ts";
import { DestSets } from "../aggregation/dest_set.ts";

/** Destinations (ports) a horizontal (vertical) scan has at least, and both a `both` scan. */
export const SHAPE_MANY = 10;
/** Ports (destinations) a horizontal (vertical) scan has at most. */
export const SHAPE_FEW = 3;

/** Settings of {@link SourceRollup}. */
export interface SourceRollupOptions {
  /**
   * Interval length in seconds of packet time (records per source and interval).
   * @default {3600}
   */
  interval?: number;
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
  /**
   * Traffic tags whose packets are left out (as `--exclude-tags` leaves them out of events).
   * @default {0}
   */
  excludeTags?: number;
}

/** One source in one interval: a `--sourceout` record. */
export interface SourceRecord {
  /** The source address. */
  Source: string;
  /** The interval (RFC 3339): start, and end (excluded). */
  IntervalStart: string;
  /** End of the interval. */
  IntervalEnd: string;
  /** First and last packet of the source in the interval. */
  First: string;
  /** Last packet. */
  Last: string;
  /** Packets. */
  Packets: number;
  /** Captured bytes. */
  Bytes: number;
  /** Distinct (traffic, port) keys: the events it made (an event cut by a gap counts once). */
  EventKeys: number;
  /** Distinct event ports. */
  Ports: number;
  /** Its traffic types, by name. */
  TrafficTypes: string[];
  /** Distinct destinations across all its events. */
  UniqueDests: number;
  /** Distinct destination /24s (IPv6: /64s). */
  UniqueDest24s: number;
  /** Whether the distinct counts are exact (else estimates within a few per cent). */
  UniqueCountsExact: boolean;
  /** UniqueDests / telescope size. */
  Dispersion: number;
  /** horizontal, vertical, both, backscatter or other. */
  Shape: string;
  /** Packets each scanning tool's per-packet rule matched (rules about a sequence: in events). */
  Tools: Record<string, number>;
  /** The attribution of those counts (docs/attribution.md), or "". */
  Tool: string;
  /** Packets per traffic tag. */
  Tags: Record<string, number>;
  /** Whether it is an aggressive scanner, and why (dispersion, packets, ports). */
  Aggressive: boolean;
  /** The reasons, in that order. */
  AggressiveWhy: string[];
}

const BACKSCATTER = new Uint8Array(256);
for (
  const t of [
    Traffic.TCPSYNACK,
    Traffic.TCPRST,
    Traffic.ICMPEchoReply,
    Traffic.ICMPDestinationUnreachable,
    Traffic.ICMPSourceQuench,
    Traffic.ICMPRedirect,
    Traffic.ICMPTimeExceeded,
    Traffic.ICMPParameterProblem,
    Traffic.ICMPTimestampReply,
    Traffic.ICMPInfoReply,
    Traffic.ICMPAddressMaskReply,
  ]
) BACKSCATTER[t] = 1;
const SINGLE_TOOLS = (1 << TOOLS.length) - 1 & ~SEQUENCE_BITS;

const word = (a: Uint8Array, o: number) =>
  ((a[o] << 24) | (a[o + 1] << 16) | (a[o + 2] << 8) | a[o + 3]) >>> 0;

// An IPv6 address from its four words.
function bytes6(w: Uint32Array, o: number): Uint8Array {
  const a = new Uint8Array(16);
  for (let k = 0; k < 4; k++) {
    const x = w[o + k];
    a[4 * k] = x >>> 24;
    a[4 * k + 1] = (x >>> 16) & 255;
    a[4 * k + 2] = (x >>> 8) & 255;
    a[4 * k + 3] = x & 255;
  }
  return a;
}

// The sources of one IP version in the open interval: a key table (the address: 1 or 4 words)
// and, per entry, typed-array columns. IPv4 destinations go into the event engine's `DestSets`
// (exact, deferred adds: the cheapest per packet, with the /24s counted too); the other distinct
// counts keep their first value in a column, and a counter object is made only when a second
// value comes (most sources of a telescope send one packet, or probe one port).
class SourceTable {
  readonly keys: KeyTable;
  firstSec = new Float64Array(0);
  firstNsec = new Uint32Array(0);
  lastSec = new Float64Array(0);
  lastNsec = new Uint32Array(0);
  packets = new Float64Array(0);
  bytes = new Float64Array(0);
  backscatter = new Float64Array(0);
  traffic = new Uint32Array(0); // bit per traffic code (codes < 32)
  first = new Uint32Array(0); // 4 per entry: event key, port, destination, /24
  counters: (DistinctCounter[] | undefined)[] = [];
  readonly dests4: DestSets | null;
  tools = new Map<number, Float64Array>();
  tags = new Map<number, Float64Array>();

  constructor(width: number) {
    this.keys = new KeyTable(width, 1024);
    this.dests4 = width === 1 ? new DestSets() : null;
    this.#ensure();
  }

  #ensure(): void {
    const cap = this.keys.capacity;
    if (this.packets.length >= cap) return;
    const g = <T extends Float64Array | Uint32Array>(a: T, k = 1): T => {
      const out = new (a.constructor as new (n: number) => T)(cap * k);
      out.set(a as never);
      return out;
    };
    this.firstSec = g(this.firstSec);
    this.firstNsec = g(this.firstNsec);
    this.lastSec = g(this.lastSec);
    this.lastNsec = g(this.lastNsec);
    this.packets = g(this.packets);
    this.bytes = g(this.bytes);
    this.backscatter = g(this.backscatter);
    this.traffic = g(this.traffic);
    this.first = g(this.first, 4);
  }

  // The entry of the key just looked up (`keys.added` says whether it is new), ready to count.
  entry(e: number, sec: number, nsec: number, key: number, port: number, dst: number, net: number) {
    if (!this.keys.added) return e;
    this.#ensure();
    this.firstSec[e] = this.lastSec[e] = sec;
    this.firstNsec[e] = this.lastNsec[e] = nsec;
    this.packets[e] = 0;
    this.bytes[e] = 0;
    this.backscatter[e] = 0;
    this.traffic[e] = 0;
    const f = this.first;
    f[4 * e] = key;
    f[4 * e + 1] = port;
    f[4 * e + 2] = dst;
    f[4 * e + 3] = net;
    this.counters[e] = undefined;
    return e;
  }

  // Counts the four values of a packet of entry e.
  distinct(e: number, key: number, port: number, dst: number, net: number): void {
    const d4 = this.dests4;
    if (d4 !== null) {
      d4.push(e, dst);
      dst = net = 0; // counted there
    }
    let c = this.counters[e];
    if (c === undefined) {
      const f = this.first;
      const o = 4 * e;
      if (f[o] === key && f[o + 1] === port && f[o + 2] === dst && f[o + 3] === net) return;
      c = this.counters[e] = [0, 1, 2, 3].map((k) => {
        const d = new DistinctCounter();
        d.add(f[o + k]);
        return d;
      });
    }
    c[0].add(key);
    c[1].add(port);
    c[2].add(dst);
    c[3].add(net);
  }

  // Distinct count k of entry e: event keys, ports, destinations, /24s.
  count(e: number, k: number): number {
    const d4 = this.dests4;
    if (d4 !== null && k >= 2) return k === 2 ? d4.count(e) : d4.count24(e);
    const c = this.counters[e];
    return c === undefined ? 1 : c[k].count;
  }

  exact(e: number): boolean {
    const c = this.counters[e];
    return c === undefined || c.every((d) => d.exact);
  }
}

/**
 * Per-source roll-ups of decoded batches.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { SourceRollup } from "./source_rollup.ts";
 * import { captureBatches } from "../capture/open_capture.ts";
 * const r = new SourceRollup();
 * for await (const b of await captureBatches(["testdata/captures-modern/masscan_master_syn.pcap"])) {
 *   r.add(b, 0, b.length);
 * }
 * const [s] = r.finish();
 * equal(s.Source, "192.0.2.21");
 * equal(s.UniqueDests, 1024);
 * equal(s.Shape, "horizontal");
 * ```
 */
export class SourceRollup implements Analyzer<SourceRecord[]> {
  /** The analyzer's name. */
  readonly name = "source-rollup";
  /** Interval length, seconds. */
  readonly interval: number;
  /** Telescope size in addresses. */
  readonly telescopeSize: number;
  /** Dispersion that makes a source aggressive. */
  readonly aggressiveDispersion: number;
  /** Percentile of packets and ports that makes a source aggressive. */
  readonly percentile: number;
  /** Tags whose packets are left out. */
  readonly excludeTags: number;
  #t4 = new SourceTable(1);
  #t6 = new SourceTable(4);
  #w6 = new Uint32Array(4);
  #start = -Infinity; // the open interval, seconds
  #ends = -Infinity;
  #done: SourceRecord[] = [];

  /** A roll-up with the given settings. */
  constructor(o: SourceRollupOptions = {}) {
    this.interval = o.interval ?? 3600;
    this.telescopeSize = o.telescopeSize ?? 475136;
    this.aggressiveDispersion = o.aggressiveDispersion ?? 0.1;
    this.percentile = o.percentile ?? 0.9999;
    this.excludeTags = (o.excludeTags ?? 0) & TAG_BITS;
  }

  /** Sources in the open interval. */
  get open(): number {
    return this.#t4.keys.size + this.#t6.keys.size;
  }

  /** Adds rows `from .. to-1`; an interval ends at the first packet of a later one. */
  add(b: PacketBatch, from = 0, to: number = b.length): void {
    const tagged = b.tagged;
    const exclude = tagged ? this.excludeTags : 0;
    const w6 = this.#w6;
    for (let i = from; i < to; i++) {
      const v = b.ipVersion[i];
      if (v === 0) continue;
      if (exclude !== 0 && (b.tags[i] & exclude) !== 0) continue;
      const sec = b.tsSec[i];
      const nsec = b.tsNsec[i];
      if (sec >= this.#ends) this.#next(sec);
      const t = b.traffic[i];
      const port = b.port[i];
      const key = (t << 16) | port;
      let tab: SourceTable;
      let e: number;
      let dst: number;
      let net: number;
      if (v === 4) {
        tab = this.#t4;
        dst = b.dst[i];
        net = dst >>> 8;
        e = tab.entry(tab.keys.add1(b.src[i]), sec, nsec, key, port, dst, net);
      } else {
        tab = this.#t6;
        const o = i << 4;
        for (let k = 0; k < 4; k++) w6[k] = word(b.src6, o + 4 * k);
        const d = b.dst6;
        dst = Math.imul(word(d, o) ^ Math.imul(word(d, o + 4), 0x9e3779b1), 0x85ebca6b) ^
          word(d, o + 8) ^ Math.imul(word(d, o + 12), 0xc2b2ae35);
        net = word(d, o) ^ Math.imul(word(d, o + 4), 0x9e3779b1);
        e = tab.entry(tab.keys.add(w6), sec, nsec, key, port, dst, net);
      }
      if (sec > tab.lastSec[e] || (sec === tab.lastSec[e] && nsec > tab.lastNsec[e])) {
        tab.lastSec[e] = sec;
        tab.lastNsec[e] = nsec;
      } else if (sec < tab.firstSec[e] || (sec === tab.firstSec[e] && nsec < tab.firstNsec[e])) {
        tab.firstSec[e] = sec;
        tab.firstNsec[e] = nsec;
      }
      tab.packets[e]++;
      tab.bytes[e] += b.capLen[i];
      tab.traffic[e] |= 1 << t;
      tab.backscatter[e] += BACKSCATTER[t];
      tab.distinct(e, key, port, dst, net);
      if (tagged) {
        const m = b.tools[i] & SINGLE_TOOLS;
        if (m !== 0) {
          let c = tab.tools.get(e);
          if (c === undefined) tab.tools.set(e, c = new Float64Array(TOOLS.length));
          for (let k = 0; k < TOOLS.length; k++) c[k] += (m >>> k) & 1;
        }
        const g = b.tags[i] & TAG_BITS;
        if (g !== 0) {
          let c = tab.tags.get(e);
          if (c === undefined) tab.tags.set(e, c = new Float64Array(TAGS.length));
          for (let k = 0; k < TAGS.length; k++) c[k] += (g >>> k) & 1;
        }
      }
    }
  }

  // A packet at `sec` is past the open interval: close it (if any) and open the one of `sec`.
  #next(sec: number): void {
    if (this.#ends !== -Infinity) this.#close();
    const n = Math.floor(sec / this.interval);
    this.#start = n * this.interval;
    this.#ends = this.#start + this.interval;
  }

  // Ends the open interval: its records, in source order, into #done.
  #close(): void {
    const t4 = this.#t4;
    const t6 = this.#t6;
    this.#t4 = new SourceTable(1);
    this.#t6 = new SourceTable(4);
    const n = t4.keys.size + t6.keys.size;
    if (n === 0) return;
    const rows: [SourceTable, number][] = [];
    for (let e = 0; e < t4.keys.size; e++) rows.push([t4, e]);
    for (let e = 0; e < t6.keys.size; e++) rows.push([t6, e]);
    const at = (xs: number[]) => {
      xs.sort((a, b) => a - b);
      return xs[Math.floor(this.percentile * (xs.length - 1))];
    };
    const pkTop = at(rows.map(([t, e]) => t.packets[e]));
    const portTop = at(rows.map(([t, e]) => t.count(e, 1)));
    rows.sort(([ta, a], [tb, b]) =>
      ta === tb
        ? compareKeys(
          ta.keys.keys,
          a * ta.keys.width,
          tb.keys.keys,
          b * tb.keys.width,
          ta.keys.width,
        )
        : ta === t4
        ? -1
        : 1
    );
    const startText = formatTime(this.#start, 0);
    const endText = formatTime(this.#ends, 0);
    for (const [t, e] of rows) {
      const dests = t.count(e, 2);
      const ports = t.count(e, 1);
      const dispersion = dests / this.telescopeSize;
      const why: string[] = [];
      if (dispersion > this.aggressiveDispersion) why.push("dispersion");
      if (t.packets[e] > pkTop) why.push("packets");
      if (ports > portTop) why.push("ports");
      const tools = t.tools.get(e) ?? new Float64Array(TOOLS.length);
      const tags = t.tags.get(e);
      const kw = t.keys.keys;
      const source = t === t4 ? formatIpv4(kw[e]) : formatIpv6(bytes6(kw, 4 * e));
      this.#done.push({
        Source: source,
        IntervalStart: startText,
        IntervalEnd: endText,
        First: formatTime(t.firstSec[e], t.firstNsec[e]),
        Last: formatTime(t.lastSec[e], t.lastNsec[e]),
        Packets: t.packets[e],
        Bytes: t.bytes[e],
        EventKeys: t.count(e, 0),
        Ports: ports,
        TrafficTypes: Array.from({ length: 18 }, (_, k) => k)
          .filter((k) => (t.traffic[e] >>> k) & 1).map(trafficName),
        UniqueDests: dests,
        UniqueDest24s: t.count(e, 3),
        UniqueCountsExact: t.exact(e),
        Dispersion: dispersion,
        Shape: shape(t.backscatter[e] * 2 > t.packets[e], dests, ports),
        Tools: Object.fromEntries(
          TOOLS.flatMap((x, k) => tools[k] > 0 ? [[x.name, tools[k]]] : []),
        ),
        Tool: attribute(tools),
        Tags: Object.fromEntries(TAGS.flatMap((x, k) => tags && tags[k] > 0 ? [[x, tags[k]]] : [])),
        Aggressive: why.length > 0,
        AggressiveWhy: why,
      });
    }
  }

  /** The records of intervals ended since the last call. */
  take(): SourceRecord[] {
    const out = this.#done;
    this.#done = [];
    return out;
  }

  /** Ends the open interval (the end of input): every record not taken yet. */
  finish(): SourceRecord[] {
    this.#close();
    return this.take();
  }

  /** Not supported: roll-ups of two halves of an interval are two records (see README). */
  merge(_o: this): void {
    throw new Error("source roll-ups do not merge");
  }

  /** The records not taken yet. */
  result(): SourceRecord[] {
    return [...this.#done];
  }
}

function shape(backscatter: boolean, dests: number, ports: number): string {
  if (backscatter) return "backscatter";
  if (dests >= SHAPE_MANY && ports >= SHAPE_MANY) return "both";
  if (dests >= SHAPE_MANY && ports <= SHAPE_FEW) return "horizontal";
  if (ports >= SHAPE_MANY && dests <= SHAPE_FEW) return "vertical";
  return "other";
}

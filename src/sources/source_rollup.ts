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

class Source {
  firstSec: number;
  firstNsec: number;
  lastSec: number;
  lastNsec: number;
  packets = 0;
  bytes = 0;
  backscatter = 0;
  traffic = 0; // bit per traffic code (codes < 32)
  keys = new DistinctCounter();
  ports = new DistinctCounter();
  dests = new DistinctCounter();
  nets = new DistinctCounter();
  tools: Float64Array | null = null;
  tags: Float64Array | null = null;
  constructor(
    readonly v: number,
    readonly src: number,
    readonly src6: Uint8Array | null,
    sec: number,
    nsec: number,
  ) {
    this.firstSec = this.lastSec = sec;
    this.firstNsec = this.lastNsec = nsec;
  }
}

const word = (a: Uint8Array, o: number) =>
  ((a[o] << 24) | (a[o + 1] << 16) | (a[o + 2] << 8) | a[o + 3]) >>> 0;

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
  #v4 = new Map<number, Source>();
  #v6 = new Map<string, Source>();
  #current = -Infinity; // interval number
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
    return this.#v4.size + this.#v6.size;
  }

  /** Adds rows `from .. to-1`; an interval ends at the first packet of a later one. */
  add(b: PacketBatch, from = 0, to: number = b.length): void {
    const tagged = b.tagged;
    for (let i = from; i < to; i++) {
      const v = b.ipVersion[i];
      if (v === 0) continue;
      if (this.excludeTags !== 0 && tagged && (b.tags[i] & this.excludeTags) !== 0) continue;
      const sec = b.tsSec[i];
      const nsec = b.tsNsec[i];
      const n = Math.floor(sec / this.interval);
      if (n > this.#current) {
        if (this.#current !== -Infinity) this.#close();
        this.#current = n;
      }
      let s: Source | undefined;
      let dst: number;
      let net: number;
      if (v === 4) {
        const src = b.src[i];
        s = this.#v4.get(src);
        if (s === undefined) this.#v4.set(src, s = new Source(4, src, null, sec, nsec));
        dst = b.dst[i];
        net = dst >>> 8;
      } else {
        const o = i << 4;
        const a = b.src6;
        const k = `${word(a, o)}.${word(a, o + 4)}.${word(a, o + 8)}.${word(a, o + 12)}`;
        s = this.#v6.get(k);
        if (s === undefined) {
          this.#v6.set(k, s = new Source(6, 0, a.slice(o, o + 16), sec, nsec));
        }
        const d = b.dst6;
        dst = Math.imul(word(d, o) ^ Math.imul(word(d, o + 4), 0x9e3779b1), 0x85ebca6b) ^
          word(d, o + 8) ^ Math.imul(word(d, o + 12), 0xc2b2ae35);
        net = word(d, o) ^ Math.imul(word(d, o + 4), 0x9e3779b1);
      }
      if (sec > s.lastSec || (sec === s.lastSec && nsec > s.lastNsec)) {
        s.lastSec = sec;
        s.lastNsec = nsec;
      } else if (sec < s.firstSec || (sec === s.firstSec && nsec < s.firstNsec)) {
        s.firstSec = sec;
        s.firstNsec = nsec;
      }
      s.packets++;
      s.bytes += b.capLen[i];
      const t = b.traffic[i];
      s.traffic |= 1 << t;
      if (BACKSCATTER[t] === 1) s.backscatter++;
      const port = b.port[i];
      s.keys.add((t << 16) | port);
      s.ports.add(port);
      s.dests.add(dst);
      s.nets.add(net);
      if (tagged) {
        const m = b.tools[i] & SINGLE_TOOLS;
        if (m !== 0) {
          const c = s.tools ??= new Float64Array(TOOLS.length);
          for (let k = 0; k < TOOLS.length; k++) c[k] += (m >>> k) & 1;
        }
        const g = b.tags[i] & TAG_BITS;
        if (g !== 0) {
          const c = s.tags ??= new Float64Array(TAGS.length);
          for (let k = 0; k < TAGS.length; k++) c[k] += (g >>> k) & 1;
        }
      }
    }
  }

  // Ends the open interval: its records, in source order, into #done.
  #close(): void {
    const all = [...this.#v4.values(), ...this.#v6.values()];
    this.#v4 = new Map();
    this.#v6 = new Map();
    if (all.length === 0) return;
    const at = (xs: number[]) => {
      xs.sort((a, b) => a - b);
      return xs[Math.floor(this.percentile * (xs.length - 1))];
    };
    const pkTop = at(all.map((s) => s.packets));
    const portTop = at(all.map((s) => s.ports.count));
    all.sort((a, b) => a.v - b.v || (a.v === 4 ? a.src - b.src : compareBytes(a.src6!, b.src6!)));
    const start = this.#current * this.interval;
    const startText = formatTime(start, 0);
    const endText = formatTime(start + this.interval, 0);
    for (const s of all) {
      const dests = s.dests.count;
      const ports = s.ports.count;
      const dispersion = dests / this.telescopeSize;
      const why: string[] = [];
      if (dispersion > this.aggressiveDispersion) why.push("dispersion");
      if (s.packets > pkTop) why.push("packets");
      if (ports > portTop) why.push("ports");
      const tools = s.tools ?? new Float64Array(TOOLS.length);
      const tags = s.tags;
      this.#done.push({
        Source: s.v === 4 ? formatIpv4(s.src) : formatIpv6(s.src6!),
        IntervalStart: startText,
        IntervalEnd: endText,
        First: formatTime(s.firstSec, s.firstNsec),
        Last: formatTime(s.lastSec, s.lastNsec),
        Packets: s.packets,
        Bytes: s.bytes,
        EventKeys: s.keys.count,
        Ports: ports,
        TrafficTypes: Array.from({ length: 18 }, (_, t) => t)
          .filter((t) => (s.traffic >>> t) & 1).map(trafficName),
        UniqueDests: dests,
        UniqueDest24s: s.nets.count,
        UniqueCountsExact: s.dests.exact && s.nets.exact && s.ports.exact && s.keys.exact,
        Dispersion: dispersion,
        Shape: shape(s.backscatter * 2 > s.packets, dests, ports),
        Tools: Object.fromEntries(
          TOOLS.flatMap((t, k) => tools[k] > 0 ? [[t.name, tools[k]]] : []),
        ),
        Tool: attribute(tools),
        Tags: Object.fromEntries(TAGS.flatMap((t, k) => tags && tags[k] > 0 ? [[t, tags[k]]] : [])),
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

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return 0;
}

/**
 * Packet-level statistics of captures, the aggregator behind `count --pcap`: packets and bytes
 * per traffic type, IP version and link type; unique sources and destinations; first and last
 * timestamp; top sources and ports; decode problems by kind. Follows the corsaro aggregator
 * shape, as an {@link Analyzer}: {@link PacketStats.add} per batch, {@link PacketStats.merge} to
 * combine, and {@link PacketStats.summary} (or `result`) to read out.
 *
 * @module
 */

import type { Analyzer } from "../analysis/analyzer.ts";
import type { PacketBatch } from "../decode/packet_batch.ts";
import { linkTypeName } from "../decode/link_type.ts";
import { PROBLEM_COUNT, problemName } from "../decode/problem.ts";
import { TRAFFIC_COUNT, trafficName } from "../decode/traffic.ts";
import { formatIpv4, formatIpv6Words } from "../util/ip.ts";
import { growF64, KeyTable } from "../util/key_table.ts";
import { DestSets } from "../aggregation/dest_set.ts";
import { ByteReader } from "../util/byte_reader.ts";
import { ByteWriter } from "../util/byte_writer.ts";
import { runsOf } from "../util/runs.ts";
import { TAG_RULES, TAGS } from "../tags/traffic_tags.ts";
import { tagTraffic } from "../attribution/tag_packets.ts";
import { DataError } from "../errors.ts";

/** A name with packet and byte counts. */
export interface CountRow {
  /** What is counted (traffic name, version, link type). */
  name: string;
  /** Packets. */
  packets: number;
  /** Captured bytes (link headers included). */
  bytes: number;
}

/** Result of {@link PacketStats.summary} (also the `--json` output of `count --pcap`). */
export interface PacketSummary {
  /** All packets read. */
  packets: number;
  /** All captured bytes. */
  bytes: number;
  /** Packets with a decoded IP header. */
  ipPackets: number;
  /** Earliest timestamp (RFC 3339), null for no packets. */
  first: string | null;
  /** Latest timestamp (RFC 3339), null for no packets. */
  last: string | null;
  /** Distinct IP sources (IPv4 and IPv6). */
  uniqueSources: number;
  /** Distinct IP destinations. */
  uniqueDestinations: number;
  /** Packets and bytes per traffic type (IP packets only). */
  traffic: CountRow[];
  /** Packets and bytes per IP version (non-IP, IPv4, IPv6). */
  ipVersions: CountRow[];
  /** Packets and bytes per link type. */
  linkTypes: CountRow[];
  /** Packets per decode problem (non-IP, truncated headers, …). */
  problems: { name: string; packets: number }[];
  /** Packets per link type that is not decoded. */
  unsupportedLinkTypes: { name: string; packets: number }[];
  /** The sources with the most packets. */
  topSources: { address: string; packets: number; bytes: number }[];
  /** The (TCP/UDP traffic type, port) pairs with the most packets. */
  topPorts: { traffic: string; port: number; packets: number; bytes: number }[];
  /** Packets and bytes per traffic tag (README "Traffic tags"), in the tags' order. */
  tags: CountRow[];
  /** Packets per tag rule that matched any, with the tag it sets. */
  tagRules: { name: string; tag: string; packets: number }[];
}

/**
 * Formats a (sec, nsec) timestamp as RFC 3339 UTC with nanoseconds. Works for any whole
 * second count (no `Date` range limit), so corrupt timestamps still print.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { formatTime } from "./packet_stats.ts";
 * ok(formatTime(1603296000, 5) === "2020-10-21T16:00:00.000000005Z");
 * ```
 */
export function formatTime(sec: number, nsec: number): string {
  // RFC 3339 ends with year 9999: a later time (only a corrupt timestamp gives one; parse
  // skips those packets) prints as the last time it can write.
  if (sec > LAST_SEC) return "9999-12-31T23:59:59.999999999Z";
  // Events print many timestamps from the same few minutes: the text up to the minute is
  // kept in a small cache by minute.
  const minute = Math.floor(sec / 60) * 60;
  const slot = (minute / 60) & (MINUTES - 1);
  let prefix = minutePrefix[slot];
  if (minuteKey[slot] !== minute) {
    prefix = minutePrefix[slot] = formatMinute(minute);
    minuteKey[slot] = minute;
  }
  const ss = sec - minute;
  return `${prefix}${p2(ss)}.${String(nsec).padStart(9, "0")}Z`;
}

const LAST_SEC = 253402300799; // 9999-12-31T23:59:59Z
const MINUTES = 64;
const minuteKey = new Float64Array(MINUTES).fill(NaN);
const minutePrefix: string[] = new Array(MINUTES).fill("");
const p2 = (x: number) => String(x).padStart(2, "0");

// "YYYY-MM-DDTHH:MM:" for a whole minute of seconds since the epoch.
function formatMinute(sec: number): string {
  const days = Math.floor(sec / 86400);
  const rem = sec - days * 86400;
  // Civil date from days since 1970-01-01 (proleptic Gregorian).
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  const hh = Math.floor(rem / 3600);
  const mm = Math.floor((rem % 3600) / 60);
  const year = y >= 0 && y <= 9999 ? String(y).padStart(4, "0") : String(y);
  return `${year}-${p2(m)}-${p2(d)}T${p2(hh)}:${p2(mm)}:`;
}

// Rows whose table slots are read ahead at a time (see #touch).
const AHEAD = 64;

/**
 * Aggregates {@link PacketBatch}es into packet-level statistics.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { PacketStats } from "./packet_stats.ts";
 * import { captureBatches } from "../capture/open_capture.ts";
 * const stats = new PacketStats();
 * for await (const b of await captureBatches(["testdata/pcap-formats/libtrace/100_packets.pcap"])) {
 *   stats.add(b);
 * }
 * ok(stats.summary(5).packets === 100);
 * ```
 */
export class PacketStats implements Analyzer<PacketSummary> {
  /** The analyzer's name. */
  readonly name = "packet-stats";
  /** Sources and ports listed by {@link PacketStats.result}. */
  readonly top: number;
  /** Packets added so far. */
  packets = 0;
  /** Captured bytes added so far. */
  bytes = 0;
  #trafficPk = new Float64Array(TRAFFIC_COUNT);
  #trafficBy = new Float64Array(TRAFFIC_COUNT);
  #verPk = new Float64Array(3); // non-IP, IPv4, IPv6
  #verBy = new Float64Array(3);
  #linkPk = new Float64Array(65536);
  #linkBy = new Float64Array(65536);
  #problems = new Float64Array(PROBLEM_COUNT);
  #unsupported = new Float64Array(65536);
  #portPk = new Float64Array(TRAFFIC_COUNT * 65536);
  #portBy = new Float64Array(TRAFFIC_COUNT * 65536);
  #src4 = new KeyTable(1);
  #src4Pk = new Float64Array(1024);
  #src4By = new Float64Array(1024);
  // IPv4 destinations as one exact set of per-/16 containers (bitmaps once dense): a telescope's
  // addresses in ~64 KiB, fed through the set's log (a sequential write per packet).
  #dst4 = new DestSets();
  #src6 = new KeyTable(4);
  #src6Pk = new Float64Array(1024);
  #src6By = new Float64Array(1024);
  #dst6 = new KeyTable(4);
  #firstSec = Infinity;
  #firstNsec = 0;
  #lastSec = -Infinity;
  #lastNsec = 0;
  #w = new Uint32Array(4);
  #tagPk = new Float64Array(TAGS.length);
  #tagBy = new Float64Array(TAGS.length);
  #rulePk = new Float64Array(TAG_RULES.length);
  // Tag words of the batch being added (-1: a free slot; words have 28 bits), their counts.
  #wordKey = new Int32Array(WORD_SLOTS).fill(-1);
  #wordPk = new Float64Array(WORD_SLOTS);
  #wordBy = new Float64Array(WORD_SLOTS);
  #sink = 0; // what #touch read (kept, so that the reads are not optimised away)

  /** Statistics listing the `top` sources and ports in {@link PacketStats.result}. */
  constructor(top = 10) {
    this.top = top;
  }

  /** Adds rows `from .. to-1` of a batch (every row by default). */
  add(b: PacketBatch, from = 0, to: number = b.length): void {
    // Tagged where the batch was decoded (a capture worker), else here.
    if (!b.trafficTagged) tagTraffic(b);
    const tags = b.tags;
    const wordKey = this.#wordKey;
    const wordPk = this.#wordPk;
    const wordBy = this.#wordBy;
    for (let i = from; i < to; i++) {
      // The address tables outgrow the caches (a telescope's destinations, one-off sources):
      // their slots for the next rows are read first, in a loop of loads alone, so that the
      // misses overlap instead of coming one per lookup.
      if (((i - from) & (AHEAD - 1)) === 0) this.#touch(b, i, Math.min(to, i + AHEAD));
      const len = b.capLen[i];
      const sec = b.tsSec[i];
      const nsec = b.tsNsec[i];
      if (sec < this.#firstSec || (sec === this.#firstSec && nsec < this.#firstNsec)) {
        this.#firstSec = sec;
        this.#firstNsec = nsec;
      }
      if (sec > this.#lastSec || (sec === this.#lastSec && nsec > this.#lastNsec)) {
        this.#lastSec = sec;
        this.#lastNsec = nsec;
      }
      const lt = b.linkType[i];
      this.#linkPk[lt]++;
      this.#linkBy[lt] += len;
      const pr = b.problem[i];
      this.#problems[pr]++;
      if (pr === 2) this.#unsupported[lt]++;
      const v = b.ipVersion[i];
      const vi = v === 4 ? 1 : v === 6 ? 2 : 0;
      this.#verPk[vi]++;
      this.#verBy[vi] += len;
      if (vi === 0) continue;
      const tw = tags[i];
      if (tw !== 0) {
        // Counted per tag word (a batch has few distinct ones), expanded at the batch's end.
        const s = Math.imul(tw, 0x9e3779b1) >>> (32 - WORD_BITS);
        if (wordKey[s] !== tw) {
          if (wordKey[s] !== -1) {
            this.#tag(wordKey[s], wordPk[s], wordBy[s]);
            wordPk[s] = 0;
            wordBy[s] = 0;
          }
          wordKey[s] = tw;
        }
        wordPk[s]++;
        wordBy[s] += len;
      }
      const t = b.traffic[i];
      this.#trafficPk[t]++;
      this.#trafficBy[t] += len;
      const pi = t * 65536 + b.port[i];
      this.#portPk[pi]++;
      this.#portBy[pi] += len;
      if (vi === 1) {
        const e = this.#src4.add1(b.src[i]);
        if (this.#src4.added && e >= this.#src4Pk.length) {
          this.#src4Pk = growF64(this.#src4Pk, this.#src4.capacity);
          this.#src4By = growF64(this.#src4By, this.#src4.capacity);
        }
        this.#src4Pk[e]++;
        this.#src4By[e] += len;
        this.#dst4.push(0, b.dst[i]);
      } else {
        const w = this.#w;
        const o = i << 4;
        this.#words(b.src6, o, w);
        const e = this.#src6.add(w);
        if (this.#src6.added && e >= this.#src6Pk.length) {
          this.#src6Pk = growF64(this.#src6Pk, this.#src6.capacity);
          this.#src6By = growF64(this.#src6By, this.#src6.capacity);
        }
        this.#src6Pk[e]++;
        this.#src6By[e] += len;
        this.#words(b.dst6, o, w);
        this.#dst6.add(w);
      }
    }
    this.#tagWords();
    this.packets += to - from;
    for (let i = from; i < to; i++) this.bytes += b.capLen[i];
  }

  // Packets and bytes of one tag word (bit t: tag t; bit 4 + k: rule k) into its tags and rules.
  #tag(w: number, pk: number, by: number): void {
    for (let t = 0; t < TAGS.length; t++) {
      if ((w >>> t) & 1) {
        this.#tagPk[t] += pk;
        this.#tagBy[t] += by;
      }
    }
    for (let r = w >>> 4, k = 0; r !== 0; r >>>= 1, k++) if (r & 1) this.#rulePk[k] += pk;
  }

  // The batch's tag words counted per word, into their tags and rules.
  #tagWords(): void {
    const wk = this.#wordKey;
    for (let s = 0; s < WORD_SLOTS; s++) {
      if (wk[s] === -1) continue;
      this.#tag(wk[s], this.#wordPk[s], this.#wordBy[s]);
      wk[s] = -1;
      this.#wordPk[s] = 0;
      this.#wordBy[s] = 0;
    }
  }

  #touch(b: PacketBatch, from: number, to: number): void {
    const src = this.#src4;
    let x = 0;
    for (let i = from; i < to; i++) {
      if (b.ipVersion[i] === 4) x ^= src.touch1(b.src[i]);
    }
    this.#sink ^= x;
  }

  #words(a: Uint8Array, o: number, w: Uint32Array): void {
    for (let k = 0; k < 4; k++) {
      const p = o + k * 4;
      w[k] = ((a[p] << 24) | (a[p + 1] << 16) | (a[p + 2] << 8) | a[p + 3]) >>> 0;
    }
  }

  /** Adds another aggregator's counts into this one (e.g. from a parallel worker). */
  merge(o: PacketStats): void {
    this.packets += o.packets;
    this.bytes += o.bytes;
    const sum = (a: Float64Array, b: Float64Array) => {
      for (let i = 0; i < a.length; i++) a[i] += b[i];
    };
    sum(this.#trafficPk, o.#trafficPk);
    sum(this.#trafficBy, o.#trafficBy);
    sum(this.#verPk, o.#verPk);
    sum(this.#verBy, o.#verBy);
    sum(this.#linkPk, o.#linkPk);
    sum(this.#linkBy, o.#linkBy);
    sum(this.#problems, o.#problems);
    sum(this.#unsupported, o.#unsupported);
    sum(this.#portPk, o.#portPk);
    sum(this.#portBy, o.#portBy);
    sum(this.#tagPk, o.#tagPk);
    sum(this.#tagBy, o.#tagBy);
    sum(this.#rulePk, o.#rulePk);
    for (let e = 0; e < o.#src4.size; e++) {
      const k = this.#src4.add1(o.#src4.keys[e]);
      this.#src4Pk = growF64(this.#src4Pk, this.#src4.capacity);
      this.#src4By = growF64(this.#src4By, this.#src4.capacity);
      this.#src4Pk[k] += o.#src4Pk[e];
      this.#src4By[k] += o.#src4By[e];
    }
    this.#dst4.addAll(0, o.#dst4, 0);
    for (let e = 0; e < o.#src6.size; e++) {
      const k = this.#src6.add(o.#src6.keys, e * 4);
      this.#src6Pk = growF64(this.#src6Pk, this.#src6.capacity);
      this.#src6By = growF64(this.#src6By, this.#src6.capacity);
      this.#src6Pk[k] += o.#src6Pk[e];
      this.#src6By[k] += o.#src6By[e];
    }
    for (let e = 0; e < o.#dst6.size; e++) this.#dst6.add(o.#dst6.keys, e * 4);
    if (
      o.#firstSec < this.#firstSec ||
      (o.#firstSec === this.#firstSec && o.#firstNsec < this.#firstNsec)
    ) {
      this.#firstSec = o.#firstSec;
      this.#firstNsec = o.#firstNsec;
    }
    if (
      o.#lastSec > this.#lastSec || (o.#lastSec === this.#lastSec && o.#lastNsec > this.#lastNsec)
    ) {
      this.#lastSec = o.#lastSec;
      this.#lastNsec = o.#lastNsec;
    }
  }

  /**
   * Everything it holds, as bytes {@link PacketStats.load} reads back (a split run's block
   * result, `stats.bin`): a JSON header (format, counts, first and last packet), the count
   * arrays (the large ones sparse: index, packets, bytes), the sources with their counts, and
   * the destinations (IPv4 as runs of consecutive addresses).
   */
  save(): Uint8Array {
    const w = new ByteWriter();
    const first = this.packets ? [this.#firstSec, this.#firstNsec] : null;
    const last = this.packets ? [this.#lastSec, this.#lastNsec] : null;
    w.json({ format: STATS_FORMAT, packets: this.packets, bytes: this.bytes, first, last });
    for (const a of this.#dense()) w.f64s(a, a.length);
    for (const [pk, by] of this.#sparse()) {
      let n = 0;
      for (let i = 0; i < pk.length; i++) if (pk[i] !== 0 || by[i] !== 0) n++;
      w.u32(n);
      for (let i = 0; i < pk.length; i++) {
        if (pk[i] !== 0 || by[i] !== 0) (w.u32(i), w.f64(pk[i]), w.f64(by[i]));
      }
    }
    const n4 = this.#src4.size;
    w.u32(n4);
    w.u32s(this.#src4.keys, n4);
    w.f64s(this.#src4Pk, n4);
    w.f64s(this.#src4By, n4);
    const [runs, nr] = runsOf(this.#dst4.values(0));
    w.u32(nr);
    w.u32s(runs, 2 * nr);
    const n6 = this.#src6.size;
    w.u32(n6);
    w.u32s(this.#src6.keys, 4 * n6);
    w.f64s(this.#src6Pk, n6);
    w.f64s(this.#src6By, n6);
    w.u32(this.#dst6.size);
    w.u32s(this.#dst6.keys, 4 * this.#dst6.size);
    return w.cut();
  }

  /**
   * Loads {@link PacketStats.save}'s bytes into this fresh analyzer; a `DataError` naming `file`
   * for anything impossible in them (counts not whole, indices out of order, a source twice,
   * bytes missing or left over). Nothing is allocated beyond what the bytes hold.
   */
  load(bytes: Uint8Array, file: string): void {
    if (this.packets !== 0) throw new Error("load needs a fresh PacketStats");
    const r = new ByteReader(
      bytes,
      (what, offset) => new DataError(`packet statistics: ${what}`, { file, offset }),
    );
    const h = r.json() as {
      format?: unknown;
      packets?: unknown;
      bytes?: unknown;
      first?: unknown;
      last?: unknown;
    };
    if (h?.format !== STATS_FORMAT) throw r.bad(`packet statistics format ${h?.format}`);
    const time = (t: unknown) => {
      if (!Array.isArray(t) || t.length !== 2 || !t.every(whole) || t[1] > 999_999_999) {
        throw r.bad("a first or last packet time");
      }
      return t as [number, number];
    };
    if (!whole(h.packets) || !whole(h.bytes)) throw r.bad("the packet or byte count");
    this.packets = h.packets;
    this.bytes = h.bytes;
    if (h.packets > 0) {
      [this.#firstSec, this.#firstNsec] = time(h.first);
      [this.#lastSec, this.#lastNsec] = time(h.last);
    }
    for (const a of this.#dense()) r.f64s(a, a.length);
    for (const [pk, by] of this.#sparse()) {
      const n = r.count(20);
      let prev = -1;
      for (let k = 0; k < n; k++) {
        const i = r.u32();
        if (i <= prev || i >= pk.length) throw r.bad("a count's index out of order");
        prev = i;
        pk[i] = r.f64();
        by[i] = r.f64();
        if (!whole(pk[i]) || !whole(by[i])) throw r.bad("a count that is not whole");
      }
    }
    const n4 = r.count(20);
    const keys4 = r.u32s(new Uint32Array(n4));
    this.#src4Pk = growF64(this.#src4Pk, n4);
    this.#src4By = growF64(this.#src4By, n4);
    const pk4 = r.f64s(new Float64Array(n4), n4);
    const by4 = r.f64s(new Float64Array(n4), n4);
    for (let e = 0; e < n4; e++) {
      const k = this.#src4.add1(keys4[e]);
      if (!this.#src4.added) throw r.bad("a source appears twice");
      this.#src4Pk = growF64(this.#src4Pk, this.#src4.capacity);
      this.#src4By = growF64(this.#src4By, this.#src4.capacity);
      this.#src4Pk[k] = pk4[e];
      this.#src4By[k] = by4[e];
    }
    const nr = r.count(8);
    const runs = r.u32s(new Uint32Array(2 * nr));
    let end = -1;
    for (let k = 0; k < nr; k++) {
      const start = runs[2 * k];
      const len = runs[2 * k + 1];
      if (len === 0 || start <= end || start + len > 2 ** 32) throw r.bad("destination runs");
      end = start + len - 1;
    }
    this.#dst4.addRuns(0, Float64Array.from(runs), nr);
    const n6 = r.count(32);
    const keys6 = r.u32s(new Uint32Array(4 * n6));
    const pk6 = r.f64s(new Float64Array(n6), n6);
    const by6 = r.f64s(new Float64Array(n6), n6);
    for (let e = 0; e < n6; e++) {
      const k = this.#src6.add(keys6, 4 * e);
      if (!this.#src6.added) throw r.bad("a source appears twice");
      this.#src6Pk = growF64(this.#src6Pk, this.#src6.capacity);
      this.#src6By = growF64(this.#src6By, this.#src6.capacity);
      this.#src6Pk[k] = pk6[e];
      this.#src6By[k] = by6[e];
    }
    const nd6 = r.count(16);
    const d6 = r.u32s(new Uint32Array(4 * nd6));
    for (let e = 0; e < nd6; e++) {
      this.#dst6.add(d6, 4 * e);
      if (!this.#dst6.added) throw r.bad("a destination appears twice");
    }
    for (const a of [pk4, by4, pk6, by6, ...this.#dense()]) {
      for (let i = 0; i < a.length; i++) if (!whole(a[i])) throw r.bad("a count that is not whole");
    }
    r.end();
  }

  // The count arrays saved whole, and those saved sparse (packets, bytes), in the file's order.
  #dense(): Float64Array[] {
    return [
      this.#trafficPk,
      this.#trafficBy,
      this.#verPk,
      this.#verBy,
      this.#problems,
      this.#tagPk,
      this.#tagBy,
      this.#rulePk,
    ];
  }

  #sparse(): [Float64Array, Float64Array][] {
    return [
      [this.#linkPk, this.#linkBy],
      [this.#unsupported, new Float64Array(this.#unsupported.length)],
      [this.#portPk, this.#portBy],
    ];
  }

  /** The statistics, with the {@link PacketStats.top} largest sources and ports. */
  result(): PacketSummary {
    return this.summary(this.top);
  }

  /** The statistics, with the `top` largest sources and ports by packets. */
  summary(top = 10): PacketSummary {
    const rows = (pk: Float64Array, by: Float64Array, name: (i: number) => string) => {
      const out: CountRow[] = [];
      for (let i = 0; i < pk.length; i++) {
        if (pk[i] > 0) out.push({ name: name(i), packets: pk[i], bytes: by[i] });
      }
      return out;
    };
    // Only sources and ports at or above the top-th largest packet count become rows (the ties
    // at it too, ordered below by address or port): formatting every address of a telescope's
    // sources cost more than counting them.
    const pk4 = this.#src4Pk.subarray(0, this.#src4.size);
    const pk6 = this.#src6Pk.subarray(0, this.#src6.size);
    const atLeast = threshold([pk4, pk6], top);
    const topSources: PacketSummary["topSources"] = [];
    for (let e = 0; e < this.#src4.size; e++) {
      if (pk4[e] < atLeast) continue;
      topSources.push({
        address: formatIpv4(this.#src4.keys[e]),
        /** Packets added so far. */
        packets: this.#src4Pk[e],
        /** Captured bytes added so far. */
        bytes: this.#src4By[e],
      });
    }
    for (let e = 0; e < this.#src6.size; e++) {
      if (pk6[e] < atLeast) continue;
      topSources.push({
        address: formatIpv6Words(this.#src6.keys, e * 4),
        packets: this.#src6Pk[e],
        bytes: this.#src6By[e],
      });
    }
    // Ties are broken by address so output is deterministic.
    topSources.sort((a, b) => b.packets - a.packets || (a.address < b.address ? -1 : 1));
    const topPorts: PacketSummary["topPorts"] = [];
    const ports = this.#portPk.subarray(11 * 65536, 17 * 65536);
    const portsAtLeast = Math.max(threshold([ports], top), Number.MIN_VALUE);
    for (let t = 11; t <= 16; t++) {
      for (let p = 0; p < 65536; p++) {
        const pk = this.#portPk[t * 65536 + p];
        if (pk >= portsAtLeast) {
          topPorts.push({
            traffic: trafficName(t),
            port: p,
            packets: pk,
            bytes: this.#portBy[t * 65536 + p],
          });
        }
      }
    }
    topPorts.sort((a, b) =>
      b.packets - a.packets || a.port - b.port || (a.traffic < b.traffic ? -1 : 1)
    );
    const named = (arr: Float64Array, name: (i: number) => string, skip = -1) => {
      const out: { name: string; packets: number }[] = [];
      for (let i = 0; i < arr.length; i++) {
        if (arr[i] > 0 && i !== skip) out.push({ name: name(i), packets: arr[i] });
      }
      return out;
    };
    return {
      packets: this.packets,
      bytes: this.bytes,
      ipPackets: this.#verPk[1] + this.#verPk[2],
      first: this.packets ? formatTime(this.#firstSec, this.#firstNsec) : null,
      last: this.packets ? formatTime(this.#lastSec, this.#lastNsec) : null,
      uniqueSources: this.#src4.size + this.#src6.size,
      uniqueDestinations: this.#dst4.count(0) + this.#dst6.size,
      traffic: rows(this.#trafficPk, this.#trafficBy, trafficName),
      ipVersions: rows(this.#verPk, this.#verBy, (i) => ["non-IP", "IPv4", "IPv6"][i]),
      linkTypes: rows(this.#linkPk, this.#linkBy, (i) => `${linkTypeName(i)} (${i})`),
      problems: named(this.#problems, problemName, 0),
      unsupportedLinkTypes: named(this.#unsupported, (i) => `${linkTypeName(i)} (${i})`),
      topSources: topSources.slice(0, top),
      topPorts: topPorts.slice(0, top),
      tags: TAGS.map((name, t) => ({ name, packets: this.#tagPk[t], bytes: this.#tagBy[t] })),
      tagRules: TAG_RULES.flatMap((r, k) =>
        this.#rulePk[k] > 0 ? [{ name: r.name, tag: r.tag, packets: this.#rulePk[k] }] : []
      ),
    };
  }
}

const WORD_BITS = 6;
const WORD_SLOTS = 1 << WORD_BITS;

/** The format of {@link PacketStats.save}'s bytes. */
const STATS_FORMAT = "darknet-events packet statistics 1";

const whole = (x: unknown): x is number =>
  typeof x === "number" && Number.isSafeInteger(x) && x >= 0;

// The top-th largest value above zero over the arrays (-Infinity when there are no more than
// `top` of them): every value above it is among the top; the caller orders the ties at it.
function threshold(arrays: Float64Array[], top: number): number {
  if (top <= 0) return Infinity;
  let n = 0;
  for (const a of arrays) for (let i = 0; i < a.length; i++) if (a[i] > 0) n++;
  if (n <= top) return -Infinity;
  const all = new Float64Array(n); // the values above zero (most ports have none)
  let o = 0;
  for (const a of arrays) for (let i = 0; i < a.length; i++) if (a[i] > 0) all[o++] = a[i];
  all.sort();
  return all[n - top];
}

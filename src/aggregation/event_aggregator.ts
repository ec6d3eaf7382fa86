/**
 * Turns decoded packets into darknet events: one per (source address, traffic code, port),
 * ended by an inactivity gap longer than the timeout. Per event it keeps First/Last, packets,
 * bytes, exact distinct destinations and /24s (/64s for IPv6), ZMap/Masscan/Mirai fingerprints
 * over every packet, and the frames of lowest rank (`_sampler.ts`). Time is packet time, never
 * wall clock.
 *
 * Lifecycle (corsaro-style): {@link EventAggregator.add} a batch → events it ended;
 * at end of input {@link EventAggregator.sweepIdle} (the events no later packet could continue),
 * then {@link EventAggregator.openEvents}; {@link EventAggregator.exportState} /
 * `importState` to carry open events across runs.
 *
 * Rules: a packet whose event has `ts − last > timeout` ends that event and starts a new one;
 * whenever packet time passes the last sweep by more than half the timeout, every event idle
 * for more than `timeout` ends (a sweep hands out its events and those gaps ended since the
 * last one in event order, `compareEventOrder`: last packet, then key): an idle event
 * ends at most 1.5 timeouts after its last packet, so one-off sources do not pile up for two.
 * Comparisons are strict.
 * A packet older than its event's last packet joins it without moving Last backwards (counted
 * in `stats.outOfOrder`). Only events passing the filters (packets ≥ threshold, unique
 * destinations ≥ uniques, rate ≥ rate) are returned.
 *
 * @module
 */

import { PacketBatch } from "../decode/packet_batch.ts";
import { touchAhead } from "./_touch_ahead.ts";
import { armedFingerprints } from "../fingerprints/registry.ts";
import { armedTools, SEQUENCE_BITS } from "../attribution/tools.ts";
import { tagPackets } from "../attribution/tag_packets.ts";
import { IPID_SMALL_STEP } from "../attribution/ipid_class.ts";
import { TAG_BITS } from "../tags/traffic_tags.ts";
import {
  ATTR,
  attrFirst,
  type Attribution,
  attrMatched,
  attrMerge,
  attrOf,
  attrOfSingle,
  attrPromote,
  attrSingle,
  attrSingleCompact,
  attrSingleExpand,
  attrSingleUnknown,
  attrTags,
  SINGLE_ATTR,
} from "./_attribution.ts";
import { SignatureTable } from "./_signature_table.ts";

// An entry's key, to compare with an event's (scratch).
const KEY_SCRATCH = new DarknetEvent();
// A single-packet event's attribution, expanded (scratch).
const SINGLE_WORDS = new Uint32Array(SINGLE_ATTR);
import { compareKeys, KeyTable, mix } from "../util/key_table.ts";
import {
  compareEventKeys,
  compareEventOrder,
  DarknetEvent,
  scanRate,
} from "../model/darknet_event.ts";
import {
  BYTES,
  EventTable,
  FIRST_ID,
  FIRST_NSEC,
  FIRST_SEC,
  FP,
  IPID_EQUAL,
  IPID_STEP,
  LAST_NSEC,
  LAST_SEC,
  NEXT,
  PACKETS,
  RNG,
  ROW_F64,
  ROW_U32,
  TAGS_SHIFT,
} from "./_event_table.ts";
import { eventSeed4, eventSeed6, packetRank } from "./_sampler.ts";
import {
  S6_DST,
  S_DST,
  S_LENFP,
  S_NSEC,
  S_REF,
  SINGLE6_F64,
  SINGLE6_U32,
  SINGLE_F64,
  SINGLE_U32,
  SingleTable,
} from "./_single_table.ts";

/** Options of {@link EventAggregator}. */
export interface EventAggregatorOptions {
  /** Inactivity gap in seconds that ends an event (default 624). */
  timeout?: number;
  /** Frames to sample per event (default 0). */
  samples?: number;
  /** Seed of the sampling ranks (default 1; see `_sampler.ts`). */
  seed?: number;
  /** Telescope size in addresses, for the rate estimate (default 475,136). */
  telescopeSize?: number;
  /** Minimum packets for an event to be returned (default 0). */
  threshold?: number;
  /** Minimum distinct destinations (default 0). */
  uniques?: number;
  /** Minimum estimated global scan rate in packets/s (default 0). */
  rate?: number;
  /**
   * Packets timed after this (Unix seconds) are implausible: counted in
   * `stats.implausibleTime` and skipped, so that one corrupt timestamp cannot move the clock
   * years ahead and end every open event (default: no limit; `parse` uses its start time plus
   * one day).
   */
  notAfter?: number;
  /**
   * Traffic tags (bits of `Tag`, `tags/traffic_tags.ts`) whose packets are dropped before they
   * join an event: counted in `stats.excludedByTags` only (default none).
   */
  excludeTags?: number;
  /**
   * Give each event its destinations (`DarknetEvent.destinations`), for per-source roll-ups
   * that unite them across a source's events (default false: they cost a copy per event).
   */
  destinations?: boolean;
  /**
   * Split runs (the map step of `parse --map`, `split/`): the first events of this block — those
   * starting within the timeout of its first packet, which may continue an event of the block
   * before — are also copied into `heads` when they end, whole and unfiltered, for the merge step
   * to join (default: none).
   */
  heads?: EventAggregator;
}

/** The packet-time clock carried in state files. */
export interface AggregatorClock {
  /** Latest packet time seen, seconds. */
  latestSec: number;
  /** … and nanoseconds. */
  latestNsec: number;
  /** Time of the last sweep, seconds. */
  sweepSec: number;
  /** … and nanoseconds. */
  sweepNsec: number;
}

/** Run counters. */
export interface AggregatorStats {
  /** Packets seen (all). */
  packets: number;
  /** Packets that carried an IP source and joined an event. */
  ipPackets: number;
  /** Packets older than their event's last packet. */
  outOfOrder: number;
  /** Events ended (before filtering). */
  eventsEnded: number;
  /** Events ended that failed a filter. */
  eventsFiltered: number;
  /** Packets skipped because their time was after `notAfter`. */
  implausibleTime: number;
  /** Packets dropped for a tag in `excludeTags`. */
  excludedByTags: number;
}

/**
 * Default timeout: the gap a 100 pps scanner leaves in a 475,136-address telescope with p = 0.001.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { DEFAULT_TIMEOUT, EventAggregator } from "./event_aggregator.ts";
 * ok(new EventAggregator().timeout === DEFAULT_TIMEOUT && DEFAULT_TIMEOUT === 624);
 * ```
 */
export const DEFAULT_TIMEOUT = 624;
/**
 * Default telescope size (ORION's).
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { DEFAULT_TELESCOPE_SIZE, EventAggregator } from "./event_aggregator.ts";
 * ok(new EventAggregator().telescopeSize === DEFAULT_TELESCOPE_SIZE);
 * ```
 */
export const DEFAULT_TELESCOPE_SIZE = 475136;

const EMPTY_BATCH = new PacketBatch(0);
/** How far lookups are touched ahead (from `touchAhead.from` one-packet events). */
const TOUCH_BATCH = 64;

/**
 * The event aggregator.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { EventAggregator } from "./event_aggregator.ts";
 * import { captureBatches } from "../capture/open_capture.ts";
 * const agg = new EventAggregator({ samples: 1 });
 * const ended = [];
 * for await (const b of await captureBatches(["testdata/demo/scan.pcap.gz"])) ended.push(...agg.add(b));
 * const all = [...ended, ...agg.openEvents()];
 * ok(all.some((e) => e.fingerprint("zmap")) && all.some((e) => e.fingerprint("mirai")));
 * ```
 */
export class EventAggregator {
  /** Inactivity gap in seconds that ends an event. */
  readonly timeout: number;
  /** Frames sampled per event. */
  readonly samples: number;
  /** Sampling seed. */
  readonly seed: number;
  /** Telescope size in addresses (for the rate). */
  readonly telescopeSize: number;
  /** Minimum packets of a returned event. */
  readonly threshold: number;
  /** Minimum distinct destinations of a returned event. */
  readonly uniques: number;
  /** Minimum estimated global rate (packets/s) of a returned event. */
  readonly minRate: number;
  /** Run counters. */
  readonly stats: AggregatorStats = {
    packets: 0,
    ipPackets: 0,
    outOfOrder: 0,
    eventsEnded: 0,
    eventsFiltered: 0,
    implausibleTime: 0,
    excludedByTags: 0,
  };
  /** Packets timed after this (Unix seconds) are skipped; see the options. */
  readonly notAfter: number;
  /** Tags whose packets are dropped; see the options. */
  readonly excludeTags: number;
  /** Whether events carry their destinations; see the options. */
  readonly destinations: boolean;
  #v4: EventTable;
  #v6: EventTable;
  // IPv4 events with a single packet so far (most of the open events), promoted to #v4 by
  // their second packet; see _single_table.ts.
  #singles = new SingleTable();
  // The same for IPv6 sources (most IPv6 events of a flood with spoofed sources).
  #singles6 = new SingleTable(true);
  readonly #timeoutNs: number;
  #latestSec = -Infinity;
  #latestNsec = 0;
  #sweepSec = -Infinity;
  #sweepNsec = 0;
  #pausedAt = -1;
  #sweepLeft = 0;
  readonly #key6 = new Uint32Array(5);
  // IPv6 keys and their hashes for the rows of one touch-ahead batch (see #touchAhead).
  readonly #aheadKeys = new Uint32Array(TOUCH_BATCH * 5);
  readonly #aheadHash = new Uint32Array(TOUCH_BATCH);
  #sink = 0; // what #touchAhead read (kept, so that the reads are not optimised away)
  // SYN signatures of the one-packet events (kept as numbers in their rows).
  #sigs = new SignatureTable();
  readonly #w6 = new Uint32Array(4);
  // Events a gap ended since the last sweep (passing the filters), made already: the next sweep
  // hands them out with its own, in event order.
  readonly #pending: DarknetEvent[] = [];
  // Split runs: where ended first events go, and the latest start of one (the first packet's
  // time plus the timeout; set by the first packet).
  readonly #heads: EventAggregator | undefined;
  #headSec = -Infinity;
  #headNsec = 0;
  #firstSec = -Infinity;
  #firstNsec = 0;

  /** Creates an aggregator. */
  constructor(o: EventAggregatorOptions = {}) {
    this.timeout = o.timeout ?? DEFAULT_TIMEOUT;
    this.samples = o.samples ?? 0;
    this.seed = (o.seed ?? 1) >>> 0;
    this.telescopeSize = o.telescopeSize ?? DEFAULT_TELESCOPE_SIZE;
    this.threshold = o.threshold ?? 0;
    this.uniques = o.uniques ?? 0;
    this.minRate = o.rate ?? 0;
    this.notAfter = o.notAfter ?? Infinity;
    this.excludeTags = (o.excludeTags ?? 0) & TAG_BITS;
    this.destinations = o.destinations ?? false;
    this.#heads = o.heads;
    this.#timeoutNs = this.timeout * 1e9;
    this.#v4 = new EventTable(false, this.samples);
    this.#v6 = new EventTable(true, this.samples);
    // A few calls without packets, so that the code after the loop has type feedback before
    // V8 optimises `add` in the middle of its first big batch (on-stack replacement; feedback
    // is only recorded from about the eighth call). Otherwise that optimised code bails out at
    // the loop's end, again and again, and each batch restarts in a slow tier.
    for (let k = 0; k < 16; k++) this.add(EMPTY_BATCH);
    this.stats.packets = 0;
  }

  /**
   * Events ended by a gap since the last sweep, waiting for the next one (or for
   * {@link EventAggregator.sweepIdle} or {@link EventAggregator.openEvents}) to leave in event
   * order. A state file is saved only when none are waiting.
   */
  get endedWaiting(): number {
    return this.#pending.length;
  }

  /** Number of open events. */
  get openCount(): number {
    return this.#v4.size + this.#v6.size + this.#singles.size + this.#singles6.size;
  }

  /**
   * The row at which the last `add(…, pauseForSweep)` stopped for a sweep, or -1 if it added
   * all its rows.
   */
  get pausedAt(): number {
    return this.#pausedAt;
  }

  /** While {@link EventAggregator.sweepChunks} runs: events still to come after this chunk. */
  get sweepLeft(): number {
    return this.#sweepLeft;
  }

  /** Latest packet time seen, as [sec, nsec] (or null before the first packet). */
  get clock(): [number, number] | null {
    return this.#latestSec === -Infinity ? null : [this.#latestSec, this.#latestNsec];
  }

  /**
   * Adds rows `from .. to-1` of a batch (all by default); returns the events a sweep they made
   * due ended (with those gaps ended since the last sweep) that pass the filters, in event
   * order. With `pauseForSweep`, it stops at a row that makes a
   * sweep due instead of sweeping: {@link EventAggregator.pausedAt} is then that row, the caller
   * takes the sweep with {@link EventAggregator.sweepChunks} and calls `add` again from there
   * (so that a sweep ending many events makes them a chunk at a time; see the stream).
   */
  add(b: PacketBatch, from = 0, to: number = b.length, pauseForSweep = false): DarknetEvent[] {
    // Events a packet ends (a gap) wait for the next sweep, which hands them out in order.
    const out = this.#pending;
    const swept: DarknetEvent[] = [];
    const n = to;
    this.#pausedAt = -1;
    this.stats.packets += to - from;
    const t4 = this.#v4;
    const keys4 = t4.keys;
    const sweepNs = this.#timeoutNs / 2;
    const ipVersion = b.ipVersion;
    const tsSec = b.tsSec;
    const tsNsec = b.tsNsec;
    const trafficA = b.traffic;
    const srcA = b.src;
    const dstA = b.dst;
    const portA = b.port;
    const capLen = b.capLen;
    if (!b.tagged) tagPackets(b);
    const tagsA = b.tags;
    const exclude = this.excludeTags;
    const dests = t4.dests4;
    const notAfter = this.notAfter;
    const sampling = this.samples > 0;
    let ipPackets = 0;
    // The clock lives in locals during the loop (written back before a sweep and at the end).
    let latestSec = this.#latestSec;
    let latestNsec = this.#latestNsec;
    let sweepSec = this.#sweepSec;
    let sweepNsec = this.#sweepNsec;
    // With millions of one-packet events (a flood of new sources) every packet's key lookup is
    // a cache miss: the next rows' slots are touched a batch ahead so that the misses overlap.
    const ahead = this.#singles.size >= touchAhead.from;
    const ahead6 = this.#singles6.size >= touchAhead.from;
    for (let i = from; i < n; i++) {
      if ((ahead || ahead6) && ((i - from) & (TOUCH_BATCH - 1)) === 0) {
        this.#touchAhead(b, i, Math.min(n, i + TOUCH_BATCH), ahead, ahead6);
      }
      const v = ipVersion[i];
      if (v === 0) continue;
      if (exclude !== 0 && (tagsA[i] & exclude) !== 0) {
        this.stats.excludedByTags++;
        continue;
      }
      ipPackets++;
      const sec = tsSec[i];
      const nsec = tsNsec[i];
      if (sec > latestSec || (sec === latestSec && nsec > latestNsec)) {
        // Only a packet that would move the clock can be beyond notAfter (the clock never is).
        if (sec > notAfter) {
          this.stats.implausibleTime++;
          ipPackets--;
          continue;
        }
        latestSec = sec;
        latestNsec = nsec;
        if (sweepSec === -Infinity) {
          sweepSec = sec;
          sweepNsec = nsec;
          if (this.#firstSec === -Infinity) {
            this.#firstSec = sec;
            this.#firstNsec = nsec;
            this.#headSec = sec + this.timeout;
            this.#headNsec = nsec;
          }
        } else if ((sec - sweepSec) * 1e9 + (nsec - sweepNsec) > sweepNs) {
          this.#latestSec = latestSec;
          this.#latestNsec = latestNsec;
          if (pauseForSweep) { // row i is added again after the sweep: uncount it and the rest
            this.#pausedAt = i;
            this.stats.packets -= n - i;
            ipPackets--;
            break;
          }
          this.#sweep(swept);
          sweepSec = this.#sweepSec;
          sweepNsec = this.#sweepNsec;
        }
      }
      if (v === 6) {
        this.#add6(b, i, out, ahead6 ? (i - from) & (TOUCH_BATCH - 1) : -1);
        continue;
      }
      const traffic = trafficA[i];
      const src = srcA[i];
      const k1 = (traffic << 16) | portA[i];
      let e = keys4.find2(src, k1);
      if (e < 0) {
        // A new key, or the second packet of a single-packet event (then promoted to `e`).
        e = this.#single(b, i, src, k1, out);
        if (e < 0) continue;
      }
      this.#continue(t4, e, sec, nsec, out);
      const rowF = t4.rowF;
      const f = e * ROW_F64;
      const k = ++rowF[f + PACKETS];
      rowF[f + BYTES] += capLen[i];
      const dst = dstA[i];
      dests.push(e, dst);
      // An event keeps the bits of the rules every packet matched (none are armed for traffic
      // they do not apply to); the IP ID pairs are counted in the row (bits 16-31: the last).
      const rowU = t4.rowU;
      const u = e * ROW_U32;
      const fp = rowU[u + FP];
      const fpm = b.fingerprints[i] | 0xffffff00;
      if ((fp & FIRST_ID) !== 0) {
        rowU[u + FP] = fp & fpm;
        attrFirst(rowU, u, t4.attr, e * ATTR, b, i);
      } else {
        const id = b.ipId[i];
        const d = (id - (fp >>> 16)) & 0xffff;
        // Random IDs (most scanners) are neither: no store.
        if (d <= IPID_SMALL_STEP) rowU[u + (d === 0 ? IPID_EQUAL : IPID_STEP)]++;
        rowU[u + FP] = ((fp & fpm & 0xffff) | (id << 16)) >>> 0;
        // Tags: the same as every packet's before (nearly always), else counted per tag.
        const tg = tagsA[i] & TAG_BITS;
        if (((fp >>> TAGS_SHIFT) & 31) !== tg) attrTags(rowU, u, t4.attr, e * ATTR, tg, k);
      }
      const m = b.tools[i];
      if (m !== 0) {
        // One rule that is not about a sequence (the common case): its counter, inline.
        if ((m & (m - 1) & 0xff) === 0 && (m & SEQUENCE_BITS) === 0) {
          t4.attr[e * ATTR + 31 - Math.clz32(m)]++;
        } else attrMatched(t4.attr, e * ATTR, m, b, i, dst, t4.seq, e);
      }
      if (sampling) {
        const r = packetRank(rowU[u + RNG], sec, nsec, dst, capLen[i]);
        if (r < rowF[f + NEXT]) t4.offer(e, r, b.buffers[b.buf[i]], b.offset[i], capLen[i]);
      }
    }
    this.#latestSec = latestSec;
    this.#latestNsec = latestNsec;
    this.#sweepSec = sweepSec;
    this.#sweepNsec = sweepNsec;
    this.stats.ipPackets += ipPackets;
    return swept;
  }

  // Reads the single-packet tables' first slot for the keys of rows from .. to-1. IPv6 keys
  // and hashes are made first, in a loop of their own, and kept for #add6 (row i at
  // (i - from) of the batch): a loop that only loads holds enough misses in flight to overlap
  // them, where one that also hashes five words did not (measured: no gain).
  #touchAhead(b: PacketBatch, from: number, to: number, v4: boolean, v6: boolean): void {
    let x = 0;
    if (v4) {
      const keys = this.#singles.keys;
      for (let i = from; i < to; i++) {
        if (b.ipVersion[i] === 4) x ^= keys.touch2(b.src[i], (b.traffic[i] << 16) | b.port[i]);
      }
    }
    if (v6) {
      const keys = this.#singles6.keys;
      const ak = this.#aheadKeys;
      const ah = this.#aheadHash;
      const s6 = b.src6;
      for (let i = from; i < to; i++) {
        if (b.ipVersion[i] !== 6) continue;
        const k = (i - from) * 5;
        const o = i << 4;
        for (let w = 0; w < 4; w++) {
          const p = o + w * 4;
          ak[k + w] = ((s6[p] << 24) | (s6[p + 1] << 16) | (s6[p + 2] << 8) | s6[p + 3]) >>> 0;
        }
        ak[k + 4] = (b.traffic[i] << 16) | b.port[i];
        ah[i - from] = keys.hash(ak, k);
      }
      for (let i = from; i < to; i++) {
        if (b.ipVersion[i] === 6) x ^= keys.touchHash(ah[i - from]);
      }
    }
    this.#sink ^= x;
  }

  // Packet i has a key without a full event: it starts a single-packet event (returns -1), ends
  // one after a gap longer than the timeout and takes its place (-1), or joins one, which is
  // then promoted to a full event: returns its entry in #v4 (the packet is not added yet).
  #single(b: PacketBatch, i: number, src: number, k1: number, out: DarknetEvent[]): number {
    const st = this.#singles;
    const s = st.keys.add2(src, k1);
    const added = st.keys.added;
    if (added) st.ensure();
    if (added || this.#endsSingle(st, s, b, i, out)) {
      this.#fillSingle(s, b, i);
      return -1;
    }
    return this.#promote(s, src, k1);
  }

  // Whether packet i comes after a gap longer than the timeout since single-packet event s:
  // then s is ended (and its entry is free for the packet's new event).
  #endsSingle(st: SingleTable, s: number, b: PacketBatch, i: number, out: DarknetEvent[]): boolean {
    const gap = (b.tsSec[i] - st.rowF[s * st.f64PerRow]) * 1e9 +
      (b.tsNsec[i] - st.rowU[s * st.u32PerRow + S_NSEC]);
    if (gap <= this.#timeoutNs) return false;
    if (
      this.#heads && this.#isHead(st.rowF[s * st.f64PerRow], st.rowU[s * st.u32PerRow + S_NSEC])
    ) this.#heads._absorb(this, st.v6 ? 3 : 0, s); // whole, for the merge step to join
    this.#endSingle(st, s, out);
    return true;
  }

  // IPv6 (key in #key6): as #single, for #singles6 and #v6.
  #single6(b: PacketBatch, i: number, h: number, out: DarknetEvent[]): number {
    const st = this.#singles6;
    const s = st.keys.addHashed(this.#key6, 0, h);
    const added = st.keys.added;
    if (added) st.ensure();
    if (added || this.#endsSingle(st, s, b, i, out)) {
      this.#fillSingle6(s, b, i);
      return -1;
    }
    return this.#promote6(s);
  }

  #fillSingle6(s: number, b: PacketBatch, i: number): void {
    const st = this.#singles6;
    const u = s * SINGLE6_U32;
    const d6 = b.dst6;
    const o = i << 4;
    for (let x = 0; x < 4; x++) {
      const p = o + x * 4;
      st.rowU[u + (x === 0 ? S_DST : S6_DST + x - 1)] =
        ((d6[p] << 24) | (d6[p + 1] << 16) | (d6[p + 2] << 8) | d6[p + 3]) >>> 0;
    }
    const len = b.capLen[i];
    st.rowF[s * SINGLE6_F64] = b.tsSec[i];
    st.rowU[u + S_NSEC] = b.tsNsec[i];
    st.rowU[u + S_LENFP] = len;
    st.rowI[u + S_REF] = this.samples > 0
      ? this.#v6.store.put(b.buffers[b.buf[i]], b.offset[i], len)
      : 0;
    attrSingle(st.rowU, u + st.attrAt, b, i, b.tools[i], this.#sigs, st.values, s);
  }

  // The attribution of the single-packet event whose row starts at word u of st, continued by
  // entry e of t (`dst`: its packet's destination's last word).
  #promoteAttribution(st: SingleTable, u: number, t: EventTable, e: number, dst: number): void {
    attrSingleExpand(st.rowU, u + st.attrAt, this.#sigs, SINGLE_WORDS, st.values, u / st.u32PerRow);
    attrPromote(SINGLE_WORDS, 0, t.rowU, e * ROW_U32, t.attr, e * ATTR, dst, t.seq, e);
  }

  // Moves IPv6 single-packet event s into #v6 exactly as if its packet had been added there.
  #promote6(s: number): number {
    const t = this.#v6;
    const st = this.#singles6;
    const u = s * SINGLE6_U32;
    const e = t.keys.add(st.keys.keys, s * 5);
    this.#open(t, e, st.rowF[s * SINGLE6_F64], st.rowU[u + S_NSEC]);
    this.#promoteAttribution(st, u, t, e, st.rowU[u + S6_DST + 2]);
    const f = e * ROW_F64;
    t.rowF[f + PACKETS] = 1;
    t.rowF[f + BYTES] = st.rowU[u + S_LENFP] & 0xffffff;
    const w = this.#w6;
    w[0] = st.rowU[u + S_DST];
    for (let x = 1; x < 4; x++) w[x] = st.rowU[u + S6_DST + x - 1];
    (t.dests6[e] = new KeyTable(4, 4)).add(w);
    (t.nets6[e] = new KeyTable(2, 4)).add2(w[0], w[1]);
    if (this.samples > 0) {
      const len = st.rowU[u + S_LENFP] & 0xffffff;
      const r = packetRank(
        t.rowU[e * ROW_U32 + RNG],
        t.rowF[f + FIRST_SEC],
        st.rowU[u + S_NSEC],
        hashDest6(w[0], w[1], w[2], w[3]),
        len,
      );
      t.offerStored(e, r, st.rowI[u + S_REF], len);
    }
    st.remove(s);
    return e;
  }

  // Single-packet event s := packet i (fingerprints checked, sampled if samples are kept).
  #fillSingle(s: number, b: PacketBatch, i: number): void {
    const st = this.#singles;
    const u = s * SINGLE_U32;
    const dst = b.dst[i];
    const len = b.capLen[i];
    const fp = armedFingerprints(b.traffic[i], false) & b.fingerprints[i];
    st.rowF[s * SINGLE_F64] = b.tsSec[i];
    st.rowU[u + S_NSEC] = b.tsNsec[i];
    st.rowU[u + S_DST] = dst;
    st.rowU[u + S_LENFP] = ((fp << 24) | len) >>> 0;
    st.rowI[u + S_REF] = this.samples > 0
      ? this.#v4.store.put(b.buffers[b.buf[i]], b.offset[i], len)
      : 0;
    attrSingle(st.rowU, u + st.attrAt, b, i, b.tools[i], this.#sigs, st.values, s);
  }

  // Moves single-packet event s into #v4 exactly as if its packet had been added there; returns
  // the event's entry.
  #promote(s: number, src: number, k1: number): number {
    const t = this.#v4;
    const st = this.#singles;
    const u = s * SINGLE_U32;
    const e = t.keys.add2(src, k1);
    this.#open(t, e, st.rowF[s * SINGLE_F64], st.rowU[u + S_NSEC]);
    this.#promoteAttribution(st, u, t, e, st.rowU[u + S_DST]);
    const f = e * ROW_F64;
    t.rowF[f + PACKETS] = 1;
    t.rowF[f + BYTES] = st.rowU[u + S_LENFP] & 0xffffff;
    t.dests4.add(e, st.rowU[u + S_DST]);
    // Its fingerprint bits (armed ones only, by #fillSingle); the row's other FP bits stay.
    const fpw = t.rowU[e * ROW_U32 + FP];
    t.rowU[e * ROW_U32 + FP] = ((fpw & ~0xff) | (st.rowU[u + S_LENFP] >>> 24)) >>> 0;
    if (this.samples > 0) {
      const len = st.rowU[u + S_LENFP] & 0xffffff;
      const r = packetRank(
        t.rowU[e * ROW_U32 + RNG],
        t.rowF[f + FIRST_SEC],
        st.rowU[u + S_NSEC],
        st.rowU[u + S_DST],
        len,
      );
      t.offerStored(e, r, st.rowI[u + S_REF], len);
    }
    st.remove(s);
    return e;
  }

  // Ends single-packet event s (counted, returned in `out` if it passes) and frees its sample.
  #endSingle(st: SingleTable, s: number, out: DarknetEvent[]): void {
    this.stats.eventsEnded++;
    if (this.#singlesPass()) out.push(this.#singleEvent(st, s));
    else this.stats.eventsFiltered++;
    this.#freeSingleSample(st, s);
  }

  #freeSingleSample(st: SingleTable, s: number): void {
    const ref = s * st.u32PerRow + S_REF;
    (st.v6 ? this.#v6 : this.#v4).store.free(st.rowI[ref]);
    st.rowI[ref] = 0;
  }

  // Whether single-packet events pass the filters (a zero duration makes the rate infinite).
  #singlesPass(): boolean {
    return this.threshold <= 1 && this.uniques <= 1;
  }

  // Single-packet event s of table st as a DarknetEvent.
  #singleEvent(st: SingleTable, s: number): DarknetEvent {
    const u = s * st.u32PerRow;
    const ev = new DarknetEvent();
    keyInto(ev, st.keys.keys, s, st.v6);
    ev.firstSec = ev.lastSec = st.rowF[s * st.f64PerRow];
    ev.firstNsec = ev.lastNsec = st.rowU[u + S_NSEC];
    ev.packets = 1;
    ev.bytes = st.rowU[u + S_LENFP] & 0xffffff;
    ev.uniqueDests = ev.uniqueDest24s = 1;
    ev.fingerprints = st.rowU[u + S_LENFP] >>> 24;
    if (this.destinations) {
      ev.destinations = Uint32Array.of(
        st.v6
          ? hashDest6(
            st.rowU[u + S_DST],
            st.rowU[u + S6_DST],
            st.rowU[u + S6_DST + 1],
            st.rowU[u + S6_DST + 2],
          )
          : st.rowU[u + S_DST],
      );
    }
    attrSingleExpand(st.rowU, u + st.attrAt, this.#sigs, SINGLE_WORDS, st.values, s);
    setAttribution(ev, attrOfSingle(SINGLE_WORDS, 0));
    const ref = st.rowI[u + S_REF];
    if (ref !== 0) {
      ev.samples = [(st.v6 ? this.#v6 : this.#v4).sampleCopy(ref, st.rowU[u + S_LENFP] & 0xffffff)];
    }
    return ev;
  }

  // A new entry `e`: an event that starts at (sec, nsec).
  #open(t: EventTable, e: number, sec: number, nsec: number): void {
    t.ensure();
    this.#restart(t, e, sec, nsec);
  }

  // (Re)starts entry `e` as a new event at (sec, nsec): fingerprints armed for its traffic, the
  // sampling seeded from the run's seed and the key (not the start: halves of an event sampled
  // apart must rank packets alike; see _sampler.ts).
  #restart(t: EventTable, e: number, sec: number, nsec: number): void {
    const kw = t.keys.keys;
    let k1: number;
    let seed: number;
    if (t.v6) {
      k1 = kw[e * 5 + 4];
      seed = eventSeed6(this.seed, kw[e * 5], kw[e * 5 + 1], kw[e * 5 + 2], kw[e * 5 + 3], k1);
    } else {
      k1 = kw[e * 2 + 1];
      seed = eventSeed4(this.seed, kw[e * 2], k1);
    }
    const traffic = k1 >>> 16;
    t.start(e, sec, nsec, armedFingerprints(traffic, t.v6), seed, armedTools(traffic, t.v6));
  }

  // Continues event `e` with a packet at (sec, nsec), or ends it and starts a new one after a
  // gap longer than the timeout.
  #continue(t: EventTable, e: number, sec: number, nsec: number, out: DarknetEvent[]): void {
    const rowF = t.rowF;
    const rowU = t.rowU;
    const f = e * ROW_F64;
    const u = e * ROW_U32;
    const gap = (sec - rowF[f + LAST_SEC]) * 1e9 + (nsec - rowU[u + LAST_NSEC]);
    if (gap > this.#timeoutNs) {
      this.#end(t, e, out);
      this.#restart(t, e, sec, nsec);
    } else if (gap < 0) {
      this.stats.outOfOrder++;
      if (
        sec < rowF[f + FIRST_SEC] || (sec === rowF[f + FIRST_SEC] && nsec < rowU[u + FIRST_NSEC])
      ) {
        rowF[f + FIRST_SEC] = sec;
        rowU[u + FIRST_NSEC] = nsec;
      }
    } else {
      rowF[f + LAST_SEC] = sec;
      rowU[u + LAST_NSEC] = nsec;
    }
  }

  // Packet i, IPv6; `ahead` is its place in the touch-ahead batch holding its key and hash, or
  // -1 (none made).
  #add6(b: PacketBatch, i: number, out: DarknetEvent[], ahead: number): void {
    const t = this.#v6;
    const key = this.#key6;
    const o = i << 4;
    let h: number;
    if (ahead >= 0) {
      const ak = this.#aheadKeys;
      for (let w = 0; w < 5; w++) key[w] = ak[ahead * 5 + w];
      h = this.#aheadHash[ahead];
    } else {
      const s6 = b.src6;
      for (let w = 0; w < 4; w++) {
        const p = o + w * 4;
        key[w] = ((s6[p] << 24) | (s6[p + 1] << 16) | (s6[p + 2] << 8) | s6[p + 3]) >>> 0;
      }
      key[4] = (b.traffic[i] << 16) | b.port[i];
      h = t.keys.hash(key);
    }
    const sec = b.tsSec[i];
    const nsec = b.tsNsec[i];
    let e = t.keys.findHashed(key, 0, h);
    if (e < 0) {
      // A new key, or the second packet of a single-packet event (then promoted to `e`).
      e = this.#single6(b, i, h, out);
      if (e < 0) return;
    }
    this.#continue(t, e, sec, nsec, out);
    const f = e * ROW_F64;
    const k = ++t.rowF[f + PACKETS];
    t.rowF[f + BYTES] += b.capLen[i];
    const w = this.#w6;
    const d6 = b.dst6;
    for (let x = 0; x < 4; x++) {
      const p = o + x * 4;
      w[x] = ((d6[p] << 24) | (d6[p + 1] << 16) | (d6[p + 2] << 8) | d6[p + 3]) >>> 0;
    }
    (t.dests6[e] ??= new KeyTable(4, 4)).add(w);
    (t.nets6[e] ??= new KeyTable(2, 4)).add2(w[0], w[1]);
    const u = e * ROW_U32;
    const tg = b.tags[i] & TAG_BITS;
    const fp = t.rowU[u + FP];
    if ((fp & FIRST_ID) !== 0) {
      t.rowU[u + FP] &= ~FIRST_ID;
      attrFirst(t.rowU, u, t.attr, e * ATTR, b, i);
    } else if (((fp >>> TAGS_SHIFT) & 31) !== tg) attrTags(t.rowU, u, t.attr, e * ATTR, tg, k);
    const m = b.tools[i];
    if (m !== 0) attrMatched(t.attr, e * ATTR, m, b, i, w[3], t.seq, e);
    if (this.samples > 0) {
      const r = packetRank(
        t.rowU[u + RNG],
        sec,
        nsec,
        hashDest6(w[0], w[1], w[2], w[3]),
        b.capLen[i],
      );
      if (r < t.rowF[f + NEXT]) t.offer(e, r, b.buffers[b.buf[i]], b.offset[i], b.capLen[i]);
    }
  }

  // Ends entry e of table t: counts it and, if it passes the filters, materialises it.
  #end(t: EventTable, e: number, out: DarknetEvent[]): void {
    if (
      this.#heads && this.#isHead(t.rowF[e * ROW_F64 + FIRST_SEC], t.rowU[e * ROW_U32 + FIRST_NSEC])
    ) this.#heads._absorb(this, t.v6 ? 2 : 1, e); // whole, for the merge step to join
    this.stats.eventsEnded++;
    const ev = this.#passing(t, e);
    if (ev) out.push(ev);
    else this.stats.eventsFiltered++;
  }

  #passing(t: EventTable, e: number): DarknetEvent | null {
    return this.#passes(t, e) ? this.#materialize(t, e) : null;
  }

  // Whether entry e of table t passes the filters (decided from its row, before any object).
  #passes(t: EventTable, e: number): boolean {
    const f = e * ROW_F64;
    const packets = t.rowF[f + PACKETS];
    if (packets < this.threshold || t.uniqueDests(e) < this.uniques) return false;
    if (this.minRate <= 0) return true;
    const u = e * ROW_U32;
    const duration = (t.rowF[f + LAST_SEC] - t.rowF[f + FIRST_SEC]) +
      (t.rowU[u + LAST_NSEC] - t.rowU[u + FIRST_NSEC]) / 1e9;
    return scanRate(packets, duration, t.v6 ? 6 : 4, this.telescopeSize) >= this.minRate;
  }

  #materialize(t: EventTable, e: number): DarknetEvent {
    const ev = new DarknetEvent();
    keyInto(ev, t.keys.keys, e, t.v6);
    const f = e * ROW_F64;
    const u = e * ROW_U32;
    ev.firstSec = t.rowF[f + FIRST_SEC];
    ev.firstNsec = t.rowU[u + FIRST_NSEC];
    ev.lastSec = t.rowF[f + LAST_SEC];
    ev.lastNsec = t.rowU[u + LAST_NSEC];
    ev.packets = t.rowF[f + PACKETS];
    ev.bytes = t.rowF[f + BYTES];
    ev.uniqueDests = t.uniqueDests(e);
    ev.uniqueDest24s = t.uniqueNets(e);
    ev.fingerprints = t.rowU[u + FP];
    if (this.destinations) {
      // In any order: a roll-up sorts only the sets of sources with several events.
      if (!t.v6) ev.destinations = t.dests4.values(e, false);
      else {
        const k = t.dests6[e];
        const out = new Uint32Array(k?.size ?? 0);
        for (let j = 0; j < out.length; j++) {
          const w = k!.keys;
          out[j] = hashDest6(w[4 * j], w[4 * j + 1], w[4 * j + 2], w[4 * j + 3]);
        }
        ev.destinations = out;
      }
    }
    setAttribution(ev, attrOf(t.rowU, u, t.attr, e * ATTR, t.v6, ev.packets));
    if (this.samples > 0) ev.samples = t.samplesOf(e);
    return ev;
  }

  /**
   * End of input, before {@link EventAggregator.openEvents}: ends the events idle for more than
   * the timeout at the latest packet time — no later packet could continue them — and returns
   * those passing the filters, in event order, as a sweep does. The sweep schedule is left as it
   * was, so a run continued from a state file saved afterwards sweeps where one run would.
   *
   * @example
   * ```ts
   * import { ok } from "node:assert/strict";
   * import { EventAggregator } from "./event_aggregator.ts";
   * import { captureBatches } from "../capture/open_capture.ts";
   * const agg = new EventAggregator({ timeout: 60 });
   * for await (const b of await captureBatches(["testdata/demo/scan.pcap.gz"])) agg.add(b);
   * const open = agg.openCount;
   * const idle = agg.sweepIdle();
   * ok(agg.openCount + idle.length === open);
   * ```
   */
  sweepIdle(): DarknetEvent[] {
    const out: DarknetEvent[] = [];
    for (const chunk of this.idleChunks(Infinity)) for (const e of chunk) out.push(e);
    return out;
  }

  /** {@link EventAggregator.sweepIdle} a chunk at a time, as {@link EventAggregator.sweepChunks}. */
  *idleChunks(size = 1024): Generator<DarknetEvent[]> {
    if (this.#latestSec === -Infinity) return;
    const sec = this.#sweepSec;
    const nsec = this.#sweepNsec;
    yield* this.sweepChunks(size);
    this.#sweepSec = sec;
    this.#sweepNsec = nsec;
  }

  // Ends every event idle for more than the timeout at the current clock.
  #sweep(out: DarknetEvent[]): void {
    for (const chunk of this.sweepChunks(Infinity)) for (const e of chunk) out.push(e);
  }

  /**
   * The sweep that `add(…, pauseForSweep)` stopped for: ends every event idle for more than the
   * timeout at the current clock and yields those passing the filters (with the events gaps ended
   * since the last sweep) in event order, `size` at a
   * time, each made once the one before was taken; the entries leave the tables when the last
   * chunk has been taken. Add no packets until it is done.
   */
  *sweepChunks(size = 1024): Generator<DarknetEvent[]> {
    const st = this.#singles;
    const tables = [st, this.#v4, this.#v6, this.#singles6] as const;
    // Idle entries that fail the filters leave at once; those passing stay until made into
    // events. Removing an entry moves the table's last one into its place: scanning downwards,
    // that one was scanned already, so a passing one's reference follows it (`at`).
    const refs: number[] = []; // passing: table × 2^30 + entry (see openEventChunks)
    const at = new Map<number, number>(); // reference → index in refs
    let ended = 0;
    // Entry e of table x is idle: keep it if it passes, else remove it now.
    const retire = (x: number, e: number, passes: boolean, last: number) => {
      const ref = x * 2 ** 30 + e;
      // A split run's first event: also whole, for the merge step to join.
      if (this.#heads && this.#refIsHead(tables, ref)) this.#heads._absorb(this, x, e);
      ended++;
      if (passes) {
        at.set(ref, refs.length);
        refs.push(ref);
        return;
      }
      this.#removeEntry(x, e);
      const r = last === e ? undefined : at.get(x * 2 ** 30 + last);
      if (r !== undefined) {
        at.delete(x * 2 ** 30 + last);
        at.set(ref, r);
        refs[r] = ref;
      }
    };
    const latestSec = this.#latestSec;
    const latestNsec = this.#latestNsec;
    const singlesPass = this.#singlesPass();
    for (const x of [0, 3]) {
      const t = tables[x] as SingleTable;
      const rf = t.f64PerRow;
      const ru = t.u32PerRow;
      for (let s = t.size - 1; s >= 0; s--) {
        const quiet = (latestSec - t.rowF[s * rf]) * 1e9 + (latestNsec - t.rowU[s * ru + S_NSEC]);
        if (quiet > this.#timeoutNs) retire(x, s, singlesPass, t.size - 1);
      }
    }
    for (let x = 1; x <= 2; x++) {
      const t = x === 1 ? this.#v4 : this.#v6;
      for (let e = t.size - 1; e >= 0; e--) {
        const quiet = (latestSec - t.rowF[e * ROW_F64 + LAST_SEC]) * 1e9 +
          (latestNsec - t.rowU[e * ROW_U32 + LAST_NSEC]);
        if (quiet > this.#timeoutNs) retire(x, e, this.#passes(t, e), t.size - 1);
      }
    }
    this.stats.eventsEnded += ended;
    this.stats.eventsFiltered += ended - refs.length;
    yield* this.#ordered(tables, refs, size, (left) => (this.#sweepLeft = left));
    this.#sweepLeft = 0;
    // The passing ones, highest entry first in each table: the entry moved into a removed one's
    // place is then never one still to remove.
    refs.sort((a, b) => b - a);
    for (const ref of refs) this.#removeEntry(Math.floor(ref / 2 ** 30), ref % 2 ** 30);
    this.#sweepSec = this.#latestSec;
    this.#sweepNsec = this.#latestNsec;
  }

  // The events of `refs` (entries, see #refEvent) and those waiting in #pending, in event order
  // (last packet, then key), `size` at a time, each chunk made once the one before was taken;
  // `left` is told how many are still to come after each chunk.
  *#ordered(
    tables: readonly [SingleTable, EventTable, EventTable, SingleTable],
    refs: number[],
    size: number,
    left?: (n: number) => void,
  ): Generator<DarknetEvent[]> {
    // Emptied in place: `add` holds the array while it runs.
    const pending = this.#pending.splice(0).sort(compareEventOrder);
    // Each reference's last packet time, read once for the sort.
    const lastSec = new Float64Array(refs.length);
    const lastNsec = new Uint32Array(refs.length);
    const order = new Uint32Array(refs.length);
    for (let i = 0; i < refs.length; i++) {
      const x = Math.floor(refs[i] / 2 ** 30);
      const e = refs[i] % 2 ** 30;
      order[i] = i;
      if (x === 0 || x === 3) {
        const t = tables[x] as SingleTable;
        lastSec[i] = t.rowF[e * t.f64PerRow];
        lastNsec[i] = t.rowU[e * t.u32PerRow + S_NSEC];
      } else {
        const t = tables[x] as EventTable;
        lastSec[i] = t.rowF[e * ROW_F64 + LAST_SEC];
        lastNsec[i] = t.rowU[e * ROW_U32 + LAST_NSEC];
      }
    }
    order.sort((a, b) =>
      lastSec[a] - lastSec[b] || lastNsec[a] - lastNsec[b] ||
      compareEntryKeys(tables, refs[a], refs[b])
    );
    const total = refs.length + pending.length;
    let i = 0; // next of order
    let p = 0; // next of pending
    while (i + p < total) {
      const chunk: DarknetEvent[] = [];
      while (chunk.length < size && i + p < total) {
        let takeRef = i < refs.length;
        if (takeRef && p < pending.length) {
          const q = pending[p];
          const r = order[i];
          takeRef = lastSec[r] < q.lastSec ||
            (lastSec[r] === q.lastSec && lastNsec[r] < q.lastNsec);
          // Equal times: a key still in the tables is never a pending event's (that one ended).
          if (lastSec[r] === q.lastSec && lastNsec[r] === q.lastNsec) {
            const x = Math.floor(refs[r] / 2 ** 30);
            keyInto(KEY_SCRATCH, tables[x].keys.keys, refs[r] % 2 ** 30, x >= 2);
            takeRef = compareEventKeys(KEY_SCRATCH, q) < 0;
          }
        }
        chunk.push(takeRef ? this.#refEvent(tables, refs[order[i++]]) : pending[p++]);
      }
      left?.(total - i - p);
      yield chunk;
    }
  }

  // The event of a reference (table × 2^30 + entry; tables 0 and 3 hold single-packet events).
  #refEvent(
    tables: readonly [SingleTable, EventTable, EventTable, SingleTable],
    ref: number,
  ): DarknetEvent {
    const x = Math.floor(ref / 2 ** 30);
    const e = ref % 2 ** 30;
    return x === 0 || x === 3
      ? this.#singleEvent(tables[x] as SingleTable, e)
      : this.#materialize(tables[x] as EventTable, e);
  }

  // Removes entry e of table x (0 singles, 1 #v4, 2 #v6, 3 IPv6 singles) with what it holds.
  #removeEntry(x: number, e: number): void {
    if (x === 0 || x === 3) {
      const st = x === 0 ? this.#singles : this.#singles6;
      this.#freeSingleSample(st, e);
      st.remove(e);
    } else (x === 1 ? this.#v4 : this.#v6).remove(e);
  }

  /**
   * Ends all open events (end of input) and returns those passing the filters (and any a gap
   * ended since the last sweep), in event order.
   * With `keep`, the events stay open (for saving them to a state file afterwards).
   */
  openEvents(keep = false): DarknetEvent[] {
    const out: DarknetEvent[] = [];
    for (const chunk of this.openEventChunks(keep)) for (const e of chunk) out.push(e);
    return out;
  }

  /**
   * {@link EventAggregator.openEvents} a chunk at a time: the passing events are put in event order
   * from the tables, then made into objects `size` at a time as the caller asks for them, so
   * the end of a run holds one chunk of event objects (and their sample copies), not all of
   * them. Yields at least one chunk (maybe empty). Add no packets until it is done; the tables
   * are emptied (unless `keep`) when the last chunk has been taken.
   */
  *openEventChunks(keep = false, size = 1024): Generator<DarknetEvent[]> {
    // Entries passing the filters as numbers: table (0 singles, 1 #v4, 2 #v6) × 2^30 + entry.
    const refs: number[] = [];
    const st = this.#singles;
    const st6 = this.#singles6;
    const counted = !keep;
    if (counted) this.stats.eventsEnded += this.openCount;
    if (this.#singlesPass()) {
      for (let s = 0; s < st.size; s++) refs.push(s);
      for (let s = 0; s < st6.size; s++) refs.push(3 * 2 ** 30 + s);
    } else if (counted) this.stats.eventsFiltered += st.size + st6.size;
    const tables = [st, this.#v4, this.#v6, st6] as const;
    for (let x = 1; x <= 2; x++) {
      const t = tables[x] as EventTable;
      for (let e = 0; e < t.size; e++) {
        if (this.#passes(t, e)) refs.push(x * 2 ** 30 + e);
        else if (counted) this.stats.eventsFiltered++;
      }
    }
    let any = false;
    for (const chunk of this.#ordered(tables, refs, size)) {
      any = true;
      yield chunk;
    }
    if (!any) yield [];
    if (!keep) { // all ended: start from empty tables rather than removing entries one by one
      this.#singles = new SingleTable();
      this.#singles6 = new SingleTable(true);
      this.#v4 = new EventTable(false, this.samples);
      this.#v6 = new EventTable(true, this.samples);
      this.#sigs = new SignatureTable();
    }
  }

  // Whether an event starting at (sec, nsec) is one of a split run's first events.
  #isHead(sec: number, nsec: number): boolean {
    return sec < this.#headSec || (sec === this.#headSec && nsec <= this.#headNsec);
  }

  #refIsHead(tables: readonly [SingleTable, EventTable, EventTable, SingleTable], ref: number) {
    const [fs, fn] = this.#first(tables, ref);
    return this.#isHead(fs, fn);
  }

  // The first packet's time of a reference.
  #first(
    tables: readonly [SingleTable, EventTable, EventTable, SingleTable],
    ref: number,
  ): [number, number] {
    const x = Math.floor(ref / 2 ** 30);
    const e = ref % 2 ** 30;
    if (x === 0 || x === 3) {
      const t = tables[x] as SingleTable;
      return [t.rowF[e * t.f64PerRow], t.rowU[e * t.u32PerRow + S_NSEC]];
    }
    const t = tables[x] as EventTable;
    return [t.rowF[e * ROW_F64 + FIRST_SEC], t.rowU[e * ROW_U32 + FIRST_NSEC]];
  }

  #tables(): readonly [SingleTable, EventTable, EventTable, SingleTable] {
    return [this.#singles, this.#v4, this.#v6, this.#singles6];
  }

  /**
   * @internal Split runs: the open events as references (table × 2^30 + entry; tables 0 IPv4
   * one-packet, 1 IPv4, 2 IPv6, 3 IPv6 one-packet), with their keys (copies) and first and last
   * packet times; with `startedBy`, only those whose first packet is not after it.
   */
  _entries(
    startedBy?: [number, number],
  ): { ref: number; key: Uint32Array; first: [number, number]; last: [number, number] }[] {
    const tables = this.#tables();
    const out = [];
    for (let x = 0; x < 4; x++) {
      const t = tables[x];
      const w = t.keys.width;
      for (let e = 0; e < t.size; e++) {
        const ref = x * 2 ** 30 + e;
        const first = this.#first(tables, ref);
        if (
          startedBy &&
          (first[0] > startedBy[0] || (first[0] === startedBy[0] && first[1] > startedBy[1]))
        ) continue;
        let last: [number, number] = first;
        if (x === 1 || x === 2) {
          const ft = t as EventTable;
          last = [ft.rowF[e * ROW_F64 + LAST_SEC], ft.rowU[e * ROW_U32 + LAST_NSEC]];
        }
        out.push({ ref, key: t.keys.keys.slice(e * w, e * w + w), first, last });
      }
    }
    return out;
  }

  /** @internal Split runs: the first packet's time (of this aggregator's own packets), or null. */
  get _firstPacket(): [number, number] | null {
    return this.#firstSec === -Infinity ? null : [this.#firstSec, this.#firstNsec];
  }

  /** @internal Split runs: the reference of the open event of `key` (2 or 5 words), or -1. */
  _find(key: Uint32Array): number {
    const v6 = key.length === 5;
    const st = v6 ? this.#singles6 : this.#singles;
    const t = v6 ? this.#v6 : this.#v4;
    const s = v6 ? st.keys.find(key) : st.keys.find2(key[0], key[1]);
    if (s >= 0) return (v6 ? 3 : 0) * 2 ** 30 + s;
    const e = v6 ? t.keys.find(key) : t.keys.find2(key[0], key[1]);
    return e < 0 ? -1 : (v6 ? 2 : 1) * 2 ** 30 + e;
  }

  /** @internal Split runs: what copying the open event `ref` costs — its distinct destinations. */
  _weight(ref: number): number {
    const x = Math.floor(ref / 2 ** 30);
    if (x === 0 || x === 3) return 1;
    return (x === 1 ? this.#v4 : this.#v6).uniqueDests(ref % 2 ** 30);
  }

  /** @internal Split runs: the last packet's time of reference `ref`. */
  _last(ref: number): [number, number] {
    const x = Math.floor(ref / 2 ** 30);
    const e = ref % 2 ** 30;
    if (x === 0 || x === 3) return this.#first(this.#tables(), ref);
    const t = x === 1 ? this.#v4 : this.#v6;
    return [t.rowF[e * ROW_F64 + LAST_SEC], t.rowU[e * ROW_U32 + LAST_NSEC]];
  }

  /**
   * @internal Split runs: ends the open event `ref` (counted as ended, and as filtered if it
   * fails the filters) and removes it; returns it if it passes.
   */
  _end(ref: number): DarknetEvent | null {
    const x = Math.floor(ref / 2 ** 30);
    const e = ref % 2 ** 30;
    const tables = this.#tables();
    this.stats.eventsEnded++;
    let ev: DarknetEvent | null;
    if (x === 0 || x === 3) {
      ev = this.#singlesPass() ? this.#singleEvent(tables[x] as SingleTable, e) : null;
    } else ev = this.#passing(tables[x] as EventTable, e);
    if (!ev) this.stats.eventsFiltered++;
    this.#removeEntry(x, e);
    return ev;
  }

  /** @internal Split runs: removes the open event `ref` uncounted. */
  _drop(ref: number): void {
    this.#removeEntry(Math.floor(ref / 2 ** 30), ref % 2 ** 30);
  }

  /**
   * @internal Split and merge (issue 18): entry `e` of `other`'s table `x` (0 IPv4 one-packet,
   * 1 IPv4, 2 IPv6, 3 IPv6 one-packet) joins this aggregator's open event of the same key as
   * its next packets — leaving the state one pass over both would (counts added, times, the
   * destinations united, the samples of lowest rank, the attribution's boundary pairs: attrMerge)
   * — or, without one, is copied in as it is. Settings must be the same. Joining promotes a
   * one-packet entry of `other` (so `other` may change); a copy leaves `other` alone. Returns the
   * reference here.
   */
  _absorb(other: EventAggregator, x: number, e: number): number {
    const v6 = x >= 2;
    const src = other.#tables()[x];
    const w = v6 ? 5 : 2;
    const key = src.keys.keys.slice(e * w, e * w + w);
    const here = this._find(key);
    if (here < 0) return this.#copyIn(other, x, e, key);
    const hx = Math.floor(here / 2 ** 30);
    let a = here % 2 ** 30;
    if (hx === 0) a = this.#promote(a, key[0], key[1]);
    else if (hx === 3) a = this.#promote6(a);
    let b = e;
    if (x === 0) b = other.#promote(e, key[0], key[1]);
    else if (x === 3) b = other.#promote6(e);
    this.#join(v6 ? this.#v6 : this.#v4, a, v6 ? other.#v6 : other.#v4, b);
    return (v6 ? 2 : 1) * 2 ** 30 + a;
  }

  /**
   * @internal Split and merge: `other`'s open event `ref` (A) joins this aggregator's open event
   * `here` (B) of the same key as its *earlier* packets — the state one pass over A's packets
   * then B's leaves, kept in B's entry (the copying costs A's size, not B's). `other`'s entry is
   * left spent (drop it).
   */
  _prepend(other: EventAggregator, ref: number, here: number): void {
    let x = Math.floor(ref / 2 ** 30);
    let a = ref % 2 ** 30;
    const v6 = x >= 2;
    const ot = other.#tables();
    const w = v6 ? 5 : 2;
    if (x === 0 || x === 3) {
      const key = ot[x].keys.keys.slice(a * w, a * w + w);
      a = v6 ? other.#promote6(a) : other.#promote(a, key[0], key[1]);
      x = v6 ? 2 : 1;
    }
    let hx = Math.floor(here / 2 ** 30);
    let b = here % 2 ** 30;
    if (hx === 0 || hx === 3) {
      const st = hx === 0 ? this.#singles : this.#singles6;
      const key = st.keys.keys.slice(b * w, b * w + w);
      b = v6 ? this.#promote6(b) : this.#promote(b, key[0], key[1]);
      hx = v6 ? 2 : 1;
    }
    const at = (v6 ? other.#v6 : other.#v4) as EventTable;
    const t = v6 ? this.#v6 : this.#v4;
    const fa = a * ROW_F64;
    const fb = b * ROW_F64;
    const ua = a * ROW_U32;
    const ub = b * ROW_U32;
    // The attribution merged into A's words (A first), then those words into B's entry.
    attrMerge(
      at.rowU,
      ua,
      at.attr,
      a * ATTR,
      at.rowF[fa + PACKETS],
      at.seq,
      a,
      t.rowU,
      ub,
      t.attr,
      b * ATTR,
      t.rowF[fb + PACKETS],
      t.seq,
      b,
    );
    for (const k of [FP, IPID_EQUAL, IPID_STEP]) t.rowU[ub + k] = at.rowU[ua + k];
    t.attr.set(at.attr.subarray(a * ATTR, (a + 1) * ATTR), b * ATTR);
    const sq = at.seq.get(a);
    if (sq) t.seq.set(b, sq.slice());
    else t.seq.delete(b);
    addSpan(t, b, at, a);
    this.#copyDests(t, b, at, a);
    // Samples: A's in order, then B's own offered after them (a tie stays with A's).
    const S = this.samples;
    const mine: [number, number, number][] = [];
    for (let j = 0; j < S; j++) {
      const k = b * S + j;
      if (t.sampleRef[k] === 0) break;
      mine.push([t.sampleRank[k], t.sampleRef[k], t.sampleLen[k]]);
      t.sampleRef[k] = 0;
    }
    for (let j = 0; j < S; j++) {
      const k = a * S + j;
      if (at.sampleRef[k] === 0) break;
      const len = at.sampleLen[k];
      t.putSample(b, j, at.store.get(at.sampleRef[k], len), 0, len, at.sampleRank[k]);
    }
    t.settle(b);
    for (const [rank, sref, len] of mine) {
      if (rank < t.rowF[fb + NEXT]) t.offerStored(b, rank, sref, len);
      else t.store.free(sref);
    }
  }

  // Full event b of table bt (another aggregator's) joins full event a of t.
  #join(t: EventTable, a: number, bt: EventTable, b: number): void {
    const fa = a * ROW_F64;
    const fb = b * ROW_F64;
    const ua = a * ROW_U32;
    const ub = b * ROW_U32;
    attrMerge(
      t.rowU,
      ua,
      t.attr,
      a * ATTR,
      t.rowF[fa + PACKETS],
      t.seq,
      a,
      bt.rowU,
      ub,
      bt.attr,
      b * ATTR,
      bt.rowF[fb + PACKETS],
      bt.seq,
      b,
    );
    addSpan(t, a, bt, b);
    this.#copyDests(t, a, bt, b);
    // B's samples in packet order, each below A's threshold kept (a tie stays with A's).
    const S = this.samples;
    for (let j = 0; j < S; j++) {
      const k = b * S + j;
      const ref = bt.sampleRef[k];
      if (ref === 0) break;
      const len = bt.sampleLen[k];
      if (bt.sampleRank[k] < t.rowF[fa + NEXT]) {
        t.offer(a, bt.sampleRank[k], bt.store.get(ref, len), 0, len);
      }
    }
  }

  // Every destination of b (table bt) into a's set (table t).
  #copyDests(t: EventTable, a: number, bt: EventTable, b: number): void {
    if (!t.v6) {
      t.dests4.addAll(a, bt.dests4, b);
      return;
    }
    const d = bt.dests6[b];
    if (d) {
      const to = (t.dests6[a] ??= new KeyTable(4, Math.max(4, d.size)));
      const nets = (t.nets6[a] ??= new KeyTable(2, 4));
      for (let i = 0; i < d.size; i++) {
        const k = d.keys.subarray(4 * i, 4 * i + 4);
        to.add(k);
        nets.add2(k[0], k[1]);
      }
    }
  }

  // Entry e of other's table x copied in as a new open event of `key`.
  #copyIn(other: EventAggregator, x: number, e: number, key: Uint32Array): number {
    if (x === 0 || x === 3) {
      const st = x === 0 ? other.#singles : other.#singles6;
      const u = e * st.u32PerRow;
      attrSingleExpand(st.rowU, u + st.attrAt, other.#sigs, SINGLE_WORDS, st.values, e);
      const len = st.rowU[u + S_LENFP] & 0xffffff;
      const ref = st.rowI[u + S_REF];
      const frame = ref !== 0 ? (x === 0 ? other.#v4 : other.#v6).store.get(ref, len) : null;
      const sec = st.rowF[e * st.f64PerRow];
      const nsec = st.rowU[u + S_NSEC];
      if (x === 0) {
        this._loadSingle(
          key[0],
          key[1],
          sec,
          nsec,
          st.rowU[u + S_DST],
          len,
          st.rowU[u + S_LENFP] >>> 24,
          frame,
          SINGLE_WORDS,
        );
      } else {
        const dst = Uint32Array.of(
          st.rowU[u + S_DST],
          st.rowU[u + S6_DST],
          st.rowU[u + S6_DST + 1],
          st.rowU[u + S6_DST + 2],
        );
        this._loadSingle6(key, sec, nsec, dst, len, frame, SINGLE_WORDS);
      }
      return this._find(key);
    }
    const v6 = x === 2;
    const t = v6 ? this.#v6 : this.#v4;
    const bt = v6 ? other.#v6 : other.#v4;
    const a = v6 ? t.keys.add(key) : t.keys.add2(key[0], key[1]);
    t.ensure();
    const fa = a * ROW_F64;
    const fb = e * ROW_F64;
    const ua = a * ROW_U32;
    const ub = e * ROW_U32;
    t.start(a, bt.rowF[fb + FIRST_SEC], bt.rowU[ub + FIRST_NSEC], 0, bt.rowU[ub + RNG]);
    for (const k of [LAST_SEC, PACKETS, BYTES]) t.rowF[fa + k] = bt.rowF[fb + k];
    for (const k of [LAST_NSEC, FP, IPID_EQUAL, IPID_STEP]) t.rowU[ua + k] = bt.rowU[ub + k];
    t.attr.set(bt.attr.subarray(e * ATTR, (e + 1) * ATTR), a * ATTR);
    const sq = bt.seq.get(e);
    if (sq) t.seq.set(a, sq.slice());
    this.#copyDests(t, a, bt, e);
    const S = this.samples;
    for (let j = 0; j < S; j++) {
      const k = e * S + j;
      if (bt.sampleRef[k] === 0) break;
      const len = bt.sampleLen[k];
      t.putSample(a, j, bt.store.get(bt.sampleRef[k], len), 0, len, bt.sampleRank[k]);
    }
    t.settle(a);
    return (v6 ? 2 : 1) * 2 ** 30 + a;
  }

  /** @internal Tables and clock (null before the first packet), for the state file. */
  get _internals(): {
    singles: SingleTable;
    singles6: SingleTable;
    v4: EventTable;
    v6: EventTable;
    clock: AggregatorClock | null;
    signatures: SignatureTable;
  } {
    return {
      signatures: this.#sigs,
      singles: this.#singles,
      singles6: this.#singles6,
      v4: this.#v4,
      v6: this.#v6,
      clock: this.#latestSec === -Infinity ? null : {
        latestSec: this.#latestSec,
        latestNsec: this.#latestNsec,
        sweepSec: this.#sweepSec,
        sweepNsec: this.#sweepNsec,
      },
    };
  }

  /**
   * @internal A single-packet IPv4 event from a state file: (src, traffic << 16 | port) with
   * its packet's time, destination, captured length, fingerprint bits and frame (if sampled).
   * Returns false if the key is already open.
   */
  _loadSingle(
    src: number,
    k1: number,
    sec: number,
    nsec: number,
    dst: number,
    len: number,
    fp: number,
    frame: Uint8Array | null,
    attr: Uint32Array | null,
  ): boolean {
    const st = this.#singles;
    if (this.#v4.keys.find2(src, k1) >= 0) return false;
    const s = st.keys.add2(src, k1);
    if (!st.keys.added) return false;
    st.ensure();
    const u = s * SINGLE_U32;
    st.rowF[s * SINGLE_F64] = sec;
    st.rowU[u + S_NSEC] = nsec;
    st.rowU[u + S_DST] = dst;
    st.rowU[u + S_LENFP] = ((fp << 24) | len) >>> 0;
    st.rowI[u + S_REF] = frame ? this.#v4.store.put(frame, 0, len) : 0;
    if (attr) attrSingleCompact(attr, st.rowU, u + st.attrAt, this.#sigs, st.values, s);
    else attrSingleUnknown(st.rowU, u + st.attrAt);
    return true;
  }

  /** @internal Whether an IPv4 key is open as a single-packet event (state files check it). */
  _isSingle(src: number, k1: number): boolean {
    return this.#singles.keys.find2(src, k1) >= 0;
  }

  /**
   * @internal A single-packet IPv6 event from a state file: key (four source words and
   * traffic << 16 | port), time, destination words, captured length and frame (if sampled).
   * Returns false if the key is already open.
   */
  _loadSingle6(
    key: Uint32Array,
    sec: number,
    nsec: number,
    dst: Uint32Array,
    len: number,
    frame: Uint8Array | null,
    attr: Uint32Array | null,
  ): boolean {
    const st = this.#singles6;
    if (this.#v6.keys.find(key) >= 0) return false;
    const s = st.keys.add(key);
    if (!st.keys.added) return false;
    st.ensure();
    const u = s * SINGLE6_U32;
    st.rowF[s * SINGLE6_F64] = sec;
    st.rowU[u + S_NSEC] = nsec;
    st.rowU[u + S_DST] = dst[0];
    for (let x = 1; x < 4; x++) st.rowU[u + S6_DST + x - 1] = dst[x];
    st.rowU[u + S_LENFP] = len;
    st.rowI[u + S_REF] = frame ? this.#v6.store.put(frame, 0, len) : 0;
    if (attr) attrSingleCompact(attr, st.rowU, u + st.attrAt, this.#sigs, st.values, s);
    else attrSingleUnknown(st.rowU, u + st.attrAt);
    return true;
  }

  /** @internal Whether an IPv6 key is open as a single-packet event (state files check it). */
  _isSingle6(key: Uint32Array): boolean {
    return this.#singles6.keys.find(key) >= 0;
  }

  /** @internal Restores the clock from a state file. */
  _setClock(c: AggregatorClock | null): void {
    if (c === null) return;
    this.#latestSec = c.latestSec;
    this.#latestNsec = c.latestNsec;
    this.#sweepSec = c.sweepSec;
    this.#sweepNsec = c.sweepNsec;
  }
}

// Entry b of table bt's times and counts into entry a of t: the earlier first packet, the later
// last one, packets and bytes added (two halves of one event, in either order).
function addSpan(t: EventTable, a: number, bt: EventTable, b: number): void {
  const fa = a * ROW_F64;
  const fb = b * ROW_F64;
  const ua = a * ROW_U32;
  const ub = b * ROW_U32;
  const before = (s1: number, n1: number, s2: number, n2: number) =>
    s1 < s2 || (s1 === s2 && n1 < n2);
  const [bf, bfn, af, afn] = [
    bt.rowF[fb + FIRST_SEC],
    bt.rowU[ub + FIRST_NSEC],
    t.rowF[fa + FIRST_SEC],
    t.rowU[ua + FIRST_NSEC],
  ];
  if (before(bf, bfn, af, afn)) {
    t.rowF[fa + FIRST_SEC] = bf;
    t.rowU[ua + FIRST_NSEC] = bfn;
  }
  const [al, aln, bl, bln] = [
    t.rowF[fa + LAST_SEC],
    t.rowU[ua + LAST_NSEC],
    bt.rowF[fb + LAST_SEC],
    bt.rowU[ub + LAST_NSEC],
  ];
  if (before(al, aln, bl, bln)) {
    t.rowF[fa + LAST_SEC] = bl;
    t.rowU[ua + LAST_NSEC] = bln;
  }
  t.rowF[fa + PACKETS] += bt.rowF[fb + PACKETS];
  t.rowF[fa + BYTES] += bt.rowF[fb + BYTES];
}

/** An IPv6 destination (four words) as the 32-bit value roll-ups count. */
export function hashDest6(w0: number, w1: number, w2: number, w3: number): number {
  return (mix(w0 ^ mix(w1 ^ mix(w2 ^ mix(w3)))) >>> 0);
}

function setAttribution(ev: DarknetEvent, a: Attribution): void {
  ev.tools = a.matched;
  ev.toolPackets = a.tested;
  ev.synSignature = a.synSignature;
  ev.ipIdClass = a.ipIdClass;
  ev.tags = a.tags;
}

// The source, traffic and port of entry e's key (in `kw`, of an IPv4 or IPv6 table) into ev.
function keyInto(ev: DarknetEvent, kw: Uint32Array, e: number, v6: boolean): void {
  if (v6) {
    ev.version = 6;
    ev.src6 = new Uint8Array(16);
    const dv = new DataView(ev.src6.buffer);
    for (let w = 0; w < 4; w++) dv.setUint32(w * 4, kw[e * 5 + w]);
    ev.traffic = kw[e * 5 + 4] >>> 16;
    ev.port = kw[e * 5 + 4] & 0xffff;
  } else {
    ev.src = kw[e * 2];
    ev.traffic = kw[e * 2 + 1] >>> 16;
    ev.port = kw[e * 2 + 1] & 0xffff;
  }
}

// compareEventKeys on table entries (see openEventChunks): IPv4 before IPv6, then source
// address, traffic and port — the key words in order, as unsigned numbers.
function compareEntryKeys(
  tables: readonly [SingleTable, EventTable, EventTable, SingleTable],
  a: number,
  b: number,
): number {
  const xa = Math.floor(a / 2 ** 30);
  const xb = Math.floor(b / 2 ** 30);
  const v6a = xa >= 2;
  if (v6a !== (xb >= 2)) return v6a ? 1 : -1;
  const w = v6a ? 5 : 2;
  return compareKeys(
    tables[xa].keys.keys,
    (a % 2 ** 30) * w,
    tables[xb].keys.keys,
    (b % 2 ** 30) * w,
    w,
  );
}

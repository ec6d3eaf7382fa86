/**
 * Turns decoded packets into darknet events: one per (source address, traffic code, port),
 * ended by an inactivity gap longer than the timeout. Per event it keeps First/Last, packets,
 * bytes, exact distinct destinations and /24s (/64s for IPv6), ZMap/Masscan/Mirai fingerprints
 * over every packet, and a reservoir sample of frames. Time is packet time, never wall clock.
 *
 * Lifecycle (corsaro-style): {@link EventAggregator.add} a batch → events it ended;
 * {@link EventAggregator.openEvents} at end of input; {@link EventAggregator.exportState} /
 * `importState` to carry open events across runs.
 *
 * Rules: a packet whose event has `ts − last > timeout` ends that event and starts a new one;
 * whenever packet time passes the last sweep by more than `timeout`, every event idle for more
 * than `timeout` ends (events ending in one sweep are ordered by key). Comparisons are strict.
 * A packet older than its event's last packet joins it without moving Last backwards (counted
 * in `stats.outOfOrder`). Only events passing the filters (packets ≥ threshold, unique
 * destinations ≥ uniques, rate ≥ rate) are returned.
 *
 * @module
 */

import type { PacketBatch } from "../capture/packet_batch.ts";
import { Traffic } from "../decode/traffic.ts";
import { KeyTable, mix } from "../util/key_table.ts";
import { compareEventKeys, DarknetEvent } from "./darknet_event.ts";
import {
  BYTES,
  EventTable,
  FIRST_NSEC,
  FIRST_SEC,
  FP,
  FP_MASSCAN,
  FP_MIRAI,
  FP_ZMAP,
  LAST_NSEC,
  LAST_SEC,
  PACKETS,
  RNG,
  ROW,
} from "./_event_table.ts";

/** Options of {@link EventAggregator}. */
export interface EventAggregatorOptions {
  /** Inactivity gap in seconds that ends an event (default 624). */
  timeout?: number;
  /** Frames to sample per event (default 0). */
  samples?: number;
  /** Seed of the sampling PRNG (default 1). */
  seed?: number;
  /** Telescope size in addresses, for the rate estimate (default 475,136). */
  telescopeSize?: number;
  /** Minimum packets for an event to be returned (default 0). */
  threshold?: number;
  /** Minimum distinct destinations (default 0). */
  uniques?: number;
  /** Minimum estimated global scan rate in packets/s (default 0). */
  rate?: number;
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
}

/**
 * Default timeout: the gap a 100 pps scanner leaves in a 475,136-address telescope with p = 0.001.
 *
 * @example
 * ```ts
 * import { DEFAULT_TIMEOUT, EventAggregator } from "./event_aggregator.ts";
 * console.assert(new EventAggregator().timeout === DEFAULT_TIMEOUT && DEFAULT_TIMEOUT === 624);
 * ```
 */
export const DEFAULT_TIMEOUT = 624;
/**
 * Default telescope size (ORION's).
 *
 * @example
 * ```ts
 * import { DEFAULT_TELESCOPE_SIZE, EventAggregator } from "./event_aggregator.ts";
 * console.assert(new EventAggregator().telescopeSize === DEFAULT_TELESCOPE_SIZE);
 * ```
 */
export const DEFAULT_TELESCOPE_SIZE = 475136;

/**
 * The event aggregator.
 *
 * @example
 * ```ts
 * import { EventAggregator } from "./event_aggregator.ts";
 * import { captureBatches } from "../capture/open_capture.ts";
 * const agg = new EventAggregator({ samples: 1 });
 * const ended = [];
 * for await (const b of await captureBatches(["testdata/demo/scan.pcap.gz"])) ended.push(...agg.add(b));
 * const all = [...ended, ...agg.openEvents()];
 * console.assert(all.some((e) => e.zmap) && all.some((e) => e.mirai));
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
  };
  readonly #v4: EventTable;
  readonly #v6: EventTable;
  readonly #timeoutNs: number;
  #latestSec = -Infinity;
  #latestNsec = 0;
  #sweepSec = -Infinity;
  #sweepNsec = 0;
  readonly #key6 = new Uint32Array(5);
  readonly #w6 = new Uint32Array(4);

  /** Creates an aggregator. */
  constructor(o: EventAggregatorOptions = {}) {
    this.timeout = o.timeout ?? DEFAULT_TIMEOUT;
    this.samples = o.samples ?? 0;
    this.seed = (o.seed ?? 1) >>> 0;
    this.telescopeSize = o.telescopeSize ?? DEFAULT_TELESCOPE_SIZE;
    this.threshold = o.threshold ?? 0;
    this.uniques = o.uniques ?? 0;
    this.minRate = o.rate ?? 0;
    this.#timeoutNs = this.timeout * 1e9;
    this.#v4 = new EventTable(false, this.samples);
    this.#v6 = new EventTable(true, this.samples);
  }

  /** Number of open events. */
  get openCount(): number {
    return this.#v4.size + this.#v6.size;
  }

  /** Latest packet time seen, as [sec, nsec] (or null before the first packet). */
  get clock(): [number, number] | null {
    return this.#latestSec === -Infinity ? null : [this.#latestSec, this.#latestNsec];
  }

  /**
   * Adds rows `from .. to-1` of a batch (all by default); returns the events they ended that
   * pass the filters, in order of ending.
   */
  add(b: PacketBatch, from = 0, to: number = b.length): DarknetEvent[] {
    const out: DarknetEvent[] = [];
    const n = to;
    this.stats.packets += to - from;
    const t4 = this.#v4;
    const keys4 = t4.keys;
    const S = this.samples;
    const timeoutNs = this.#timeoutNs;
    const ipVersion = b.ipVersion;
    const tsSec = b.tsSec;
    const tsNsec = b.tsNsec;
    const trafficA = b.traffic;
    const srcA = b.src;
    const dstA = b.dst;
    const portA = b.port;
    const capLen = b.capLen;
    const ipId = b.ipId;
    const tcpSeq = b.tcpSeq;
    const dstPort = b.dstPort;
    const dests = t4.dests4;
    let ipPackets = 0;
    for (let i = from; i < n; i++) {
      const v = ipVersion[i];
      if (v === 0) continue;
      ipPackets++;
      const sec = tsSec[i];
      const nsec = tsNsec[i];
      if (sec > this.#latestSec || (sec === this.#latestSec && nsec > this.#latestNsec)) {
        this.#latestSec = sec;
        this.#latestNsec = nsec;
        if (this.#sweepSec === -Infinity) {
          this.#sweepSec = sec;
          this.#sweepNsec = nsec;
        } else if ((sec - this.#sweepSec) * 1e9 + (nsec - this.#sweepNsec) > timeoutNs) {
          this.#sweep(out);
        }
      }
      if (v === 6) {
        this.#add6(b, i, out);
        continue;
      }
      const traffic = trafficA[i];
      const src = srcA[i];
      const k1 = (traffic << 16) | portA[i];
      const e = keys4.add2(src, k1);
      const fp0 = traffic === Traffic.TCPSYN ? 7 : 0;
      const k = this.#touch(
        t4,
        e,
        keys4.added,
        sec,
        nsec,
        fp0,
        this.seed ^ mix(src ^ mix(k1 ^ sec)),
        out,
      );
      const row = t4.row;
      const r = e << 3;
      row[r + BYTES] += capLen[i];
      const dst = dstA[i];
      dests.add(e, dst);
      const fp = row[r + FP];
      if (fp !== 0) {
        const id = ipId[i];
        const seq = tcpSeq[i];
        let f = fp;
        if (id !== 54321) f &= ~FP_ZMAP;
        if (id !== ((dst ^ dstPort[i] ^ seq) & 0xffff)) f &= ~FP_MASSCAN;
        if (seq !== dst) f &= ~FP_MIRAI;
        row[r + FP] = f;
      }
      if (S > 0) this.#sample(t4, e, k, b, i);
    }
    this.stats.ipPackets += ipPackets;
    return out;
  }

  // Starts, continues or restarts (after a gap longer than the timeout) event `e` for a packet
  // at (sec, nsec); returns the event's packet count including this packet.
  #touch(
    t: EventTable,
    e: number,
    added: boolean,
    sec: number,
    nsec: number,
    fp: number,
    seed: number,
    out: DarknetEvent[],
  ): number {
    if (added) {
      t.ensure();
      t.start(e, sec, nsec, fp, mix(seed));
    }
    const row = t.row;
    const r = e * ROW;
    if (!added) {
      const gap = (sec - row[r + LAST_SEC]) * 1e9 + (nsec - row[r + LAST_NSEC]);
      if (gap > this.#timeoutNs) {
        this.#end(t, e, out);
        t.start(e, sec, nsec, fp, mix(seed));
      } else if (gap < 0) {
        this.stats.outOfOrder++;
        if (
          sec < row[r + FIRST_SEC] || (sec === row[r + FIRST_SEC] && nsec < row[r + FIRST_NSEC])
        ) {
          row[r + FIRST_SEC] = sec;
          row[r + FIRST_NSEC] = nsec;
        }
      } else {
        row[r + LAST_SEC] = sec;
        row[r + LAST_NSEC] = nsec;
      }
    }
    return ++row[r + PACKETS];
  }

  #add6(b: PacketBatch, i: number, out: DarknetEvent[]): void {
    const t = this.#v6;
    const key = this.#key6;
    const o = i << 4;
    const s6 = b.src6;
    for (let w = 0; w < 4; w++) {
      const p = o + w * 4;
      key[w] = ((s6[p] << 24) | (s6[p + 1] << 16) | (s6[p + 2] << 8) | s6[p + 3]) >>> 0;
    }
    const traffic = b.traffic[i];
    key[4] = (traffic << 16) | b.port[i];
    const sec = b.tsSec[i];
    const nsec = b.tsNsec[i];
    const seed = this.seed ^ mix(key[0] ^ mix(key[3] ^ mix(key[4] ^ sec)));
    const e = t.keys.add(key);
    const k = this.#touch(t, e, t.keys.added, sec, nsec, 0, seed, out);
    t.row[e * ROW + BYTES] += b.capLen[i];
    const w = this.#w6;
    const d6 = b.dst6;
    for (let x = 0; x < 4; x++) {
      const p = o + x * 4;
      w[x] = ((d6[p] << 24) | (d6[p + 1] << 16) | (d6[p + 2] << 8) | d6[p + 3]) >>> 0;
    }
    (t.dests6[e] ??= new KeyTable(4, 4)).add(w);
    (t.nets6[e] ??= new KeyTable(2, 4)).add2(w[0], w[1]);
    if (this.samples > 0) this.#sample(t, e, k, b, i);
  }

  // Reservoir sampling over all of the event's packets (k is this packet's 1-based number).
  #sample(t: EventTable, e: number, k: number, b: PacketBatch, i: number): void {
    const S = this.samples;
    let j: number;
    if (k <= S) j = k - 1;
    else {
      let x = t.row[e * ROW + RNG];
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      x >>>= 0;
      t.row[e * ROW + RNG] = x;
      // A uniform index in [0, k): multiply instead of a floating-point modulo.
      j = Math.floor(x * 2.3283064365386963e-10 * k);
      if (j >= S) return;
    }
    t.putSample(e, j, b.buffers[b.buf[i]], b.offset[i], b.capLen[i]);
  }

  // Ends entry e of table t: counts it and, if it passes the filters, materialises it.
  #end(t: EventTable, e: number, out: DarknetEvent[]): void {
    this.stats.eventsEnded++;
    const ev = this.#passing(t, e);
    if (ev) out.push(ev);
    else this.stats.eventsFiltered++;
  }

  #passing(t: EventTable, e: number): DarknetEvent | null {
    const packets = t.row[e * ROW + PACKETS];
    if (packets < this.threshold) return null;
    const uniques = t.uniqueDests(e);
    if (uniques < this.uniques) return null;
    const ev = this.#materialize(t, e);
    if (this.minRate > 0 && ev.rate(this.telescopeSize) < this.minRate) return null;
    return ev;
  }

  #materialize(t: EventTable, e: number): DarknetEvent {
    const ev = new DarknetEvent();
    const kw = t.keys.keys;
    if (t.v6) {
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
    const r = e * ROW;
    ev.firstSec = t.row[r + FIRST_SEC];
    ev.firstNsec = t.row[r + FIRST_NSEC];
    ev.lastSec = t.row[r + LAST_SEC];
    ev.lastNsec = t.row[r + LAST_NSEC];
    ev.packets = t.row[r + PACKETS];
    ev.bytes = t.row[r + BYTES];
    ev.uniqueDests = t.uniqueDests(e);
    ev.uniqueDest24s = t.uniqueNets(e);
    const fp = t.row[r + FP];
    ev.zmap = (fp & FP_ZMAP) !== 0;
    ev.masscan = (fp & FP_MASSCAN) !== 0;
    ev.mirai = (fp & FP_MIRAI) !== 0;
    const S = this.samples;
    for (let j = 0; j < S; j++) {
      const s = t.sample(e, j);
      if (s) ev.samples.push(s);
    }
    return ev;
  }

  // Ends every event idle for more than the timeout at the current clock.
  #sweep(out: DarknetEvent[]): void {
    const swept: DarknetEvent[] = [];
    for (const t of [this.#v4, this.#v6]) {
      for (let e = t.size - 1; e >= 0; e--) {
        const idle = (this.#latestSec - t.row[e * ROW + LAST_SEC]) * 1e9 +
          (this.#latestNsec - t.row[e * ROW + LAST_NSEC]);
        if (idle > this.#timeoutNs) {
          this.#end(t, e, swept);
          t.remove(e);
        }
      }
    }
    swept.sort(compareEventKeys);
    out.push(...swept);
    this.#sweepSec = this.#latestSec;
    this.#sweepNsec = this.#latestNsec;
  }

  /**
   * Ends all open events (end of input) and returns those passing the filters, ordered by key.
   * With `keep`, the events stay open (for saving them to a state file afterwards).
   */
  openEvents(keep = false): DarknetEvent[] {
    const out: DarknetEvent[] = [];
    for (const t of [this.#v4, this.#v6]) {
      for (let e = t.size - 1; e >= 0; e--) {
        const ev = this.#passing(t, e);
        if (ev) out.push(ev);
        if (!keep) {
          this.stats.eventsEnded++;
          if (!ev) this.stats.eventsFiltered++;
          t.remove(e);
        }
      }
    }
    return out.sort(compareEventKeys);
  }

  /** @internal Tables and clock (null before the first packet), for the state file. */
  get _internals(): { v4: EventTable; v6: EventTable; clock: AggregatorClock | null } {
    return {
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

  /** @internal Restores the clock from a state file. */
  _setClock(c: AggregatorClock | null): void {
    if (c === null) return;
    this.#latestSec = c.latestSec;
    this.#latestNsec = c.latestNsec;
    this.#sweepSec = c.sweepSec;
    this.#sweepNsec = c.sweepNsec;
  }
}

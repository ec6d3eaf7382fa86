/**
 * The merge step of a split run (issue 18): blocks of the input (e.g. hours of files) each
 * aggregated on their own — the map step, `parse --map` — are stitched together in order into
 * exactly the events of one sequential run.
 *
 * Within a block only two kinds of events are unfinished. Its **first events** (heads: events
 * starting within the timeout of the block's first packet) may continue an event of the block
 * before; the map step keeps them whole, unfiltered ({@link EventAggregatorOptions.heads}),
 * beside writing them as if they were not continued. Its **last events** (tails: still open at
 * the block's end) may continue into the next block; the map step keeps them as a state file
 * keeps open events. Every other event is final and written by the block itself.
 *
 * The merger carries the open events from block to block. For each block, in order: each head
 * joins the carried event of its key if the gap is at most the timeout (the joined event replaces
 * the head's own in the output; joined to a tail, it stays open), else the carried one ends;
 * carried events idle beyond the timeout at the block's last packet end; the block's tails are
 * carried on. Joining is exact for every per-event structure — counts, times, destination sets,
 * samples (the lowest ranks), the tool attribution, fingerprint bits and traffic tags
 * (`EventAggregator._absorb`). With packets in time order, events of one run are sorted by
 * (Last, key) (`compareEventOrder`), so a block's events and the merger's own interleave into
 * the very order of one run.
 *
 * @module
 */

import {
  type AggregatorClock,
  EventAggregator,
  type EventAggregatorOptions,
} from "../aggregation/event_aggregator.ts";
import { compareEventOrder, type DarknetEvent } from "../model/darknet_event.ts";

/** What the merger needs of a block besides its events. */
export interface BlockEnds {
  /** Its first events that ended within it (the map step's `heads`). */
  heads: EventAggregator;
  /** Its events still open at its end (the map step's aggregator after the end of input). */
  tails: EventAggregator;
  /** Its clock at the end (latest packet, last sweep). */
  clock: AggregatorClock;
  /** Its earliest packet time, [sec, nsec]: not before the previous block's latest. */
  earliest: [number, number];
  /** The latest start of a first event: the block's first packet time plus the timeout. */
  headLimit: [number, number];
}

/** The merger's answer for one block. */
export interface BlockMerge {
  /** Events the merge ended here (joined first events, carried ones), in event order. */
  events: DarknetEvent[];
  /**
   * Keys (see {@link keyString}) whose first event in the block's own output is replaced by a
   * joined one in `events`: the block's event of that key starting by `headLimit` is dropped.
   */
  replaced: Set<string>;
}

/** An event key as text: version, source words, traffic << 16 | port. */
export function keyString(key: Uint32Array): string {
  return key.join(".");
}

const before = (a: [number, number], b: [number, number]) =>
  a[0] < b[0] || (a[0] === b[0] && a[1] < b[1]);

/**
 * Stitches blocks into one run's events.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { SplitMerger } from "./split_merger.ts";
 * import { EventAggregator } from "../aggregation/event_aggregator.ts";
 * import { captureBatches } from "../capture/open_capture.ts";
 * // One block, the whole demo capture: its own events plus the merger's are one run's.
 * const heads = new EventAggregator();
 * const agg = new EventAggregator({ heads });
 * let own = 0;
 * let first: [number, number] | undefined;
 * for await (const b of await captureBatches(["testdata/demo/scan.pcap.gz"])) {
 *   first ??= [b.tsSec[0], b.tsNsec[0]];
 *   own += agg.add(b).length;
 * }
 * own += agg.sweepIdle().length;
 * const m = new SplitMerger({});
 * const { events } = m.block({
 *   heads,
 *   tails: agg,
 *   clock: agg._internals.clock!,
 *   earliest: first!,
 *   headLimit: [first![0] + agg.timeout, first![1]],
 * });
 * const rest = m.finish();
 * const one = new EventAggregator();
 * let n = 0;
 * for await (const b of await captureBatches(["testdata/demo/scan.pcap.gz"])) n += one.add(b).length;
 * n += one.sweepIdle().length + one.openEvents().length;
 * equal(own + events.length + rest.length, n);
 * ```
 */
export class SplitMerger {
  // The carried open events: after each block, that block's tails (the few carried events that
  // go on copied into them — a block's open events are not copied one by one) …
  #open: EventAggregator;
  // … and the events that outgrew the block they continue (a scanner running for days): they
  // stay here and each block's part joins them, so a long event costs its blocks' parts once,
  // not its whole destination set again at every boundary.
  readonly #long: EventAggregator;
  #latest: [number, number] | null = null;
  #joined = 0;
  #ended = 0;
  #filtered = 0;
  readonly #timeoutNs: number;

  /** A merger for blocks made with `settings` (timeout, samples, seed, filters, …). */
  constructor(settings: Omit<EventAggregatorOptions, "heads">) {
    this.#open = new EventAggregator(settings);
    this.#long = new EventAggregator(settings);
    this.#timeoutNs = this.#open.timeout * 1e9;
  }

  /**
   * Before the first block: the open events of an earlier run (an aggregator a state file was
   * loaded into, with the same settings) are carried into the first block, as `--cachein`
   * carries them into a run.
   */
  resume(earlier: EventAggregator): void {
    if (this.#latest !== null) throw new Error("resume before the first block");
    const clock = earlier._internals.clock;
    this.#open = earlier;
    if (clock) this.#latest = [clock.latestSec, clock.latestNsec];
  }

  /**
   * The carried open events gathered in one aggregator (the long ones moved in): after the last
   * block, the run's open events, e.g. to save in a state file.
   */
  carried(): EventAggregator {
    const long = this.#long;
    for (const c of long._entries()) {
      const ref = long._find(c.key);
      this.#open._absorb(long, Math.floor(ref / 2 ** 30), ref % 2 ** 30);
      long._drop(long._find(c.key));
    }
    return this.#open;
  }

  /** Events the merge ended, and of those filtered out. */
  get stats(): { eventsEnded: number; eventsFiltered: number } {
    return {
      eventsEnded: this.#ended + this.#open.stats.eventsEnded + this.#long.stats.eventsEnded,
      eventsFiltered: this.#filtered + this.#open.stats.eventsFiltered +
        this.#long.stats.eventsFiltered,
    };
  }

  /**
   * Takes the next block's ends (its heads and tails are consumed); returns the events this
   * merge ends and the first events of the block's own output they replace.
   */
  block(b: BlockEnds): BlockMerge {
    if (this.#latest && before(b.earliest, this.#latest)) {
      throw new RangeError(
        "a block starts before the previous one ends: blocks must be in time order",
      );
    }
    const open = this.#open;
    const events: DarknetEvent[] = [];
    const replaced = new Set<string>();
    const headStats = { ...b.heads.stats };
    const firsts = [
      ...b.heads._entries().map((x) => ({ ...x, from: b.heads })),
      ...b.tails._entries(b.headLimit).map((x) => ({ ...x, from: b.tails })),
    ];
    const long = this.#long;
    const ref = (a: EventAggregator, key: Uint32Array): [number, number] => {
      const r = a._find(key);
      return [Math.floor(r / 2 ** 30), r % 2 ** 30];
    };
    for (const c of firsts) {
      let carried = long;
      let here = long._find(c.key);
      if (here < 0) here = (carried = open)._find(c.key);
      if (here < 0) continue;
      const last = carried._last(here);
      const gap = (c.first[0] - last[0]) * 1e9 + (c.first[1] - last[1]);
      if (gap > this.#timeoutNs) {
        const ev = carried._end(here); // a gap: the carried event is over
        if (ev) events.push(ev);
        continue;
      }
      // Found again each time: joining promotes one-packet entries, which moves others.
      this.#joined++;
      if (c.from === b.heads) {
        let ev: DarknetEvent | null;
        if (carried === open && open._weight(here) < b.heads._weight(b.heads._find(c.key))) {
          // The carried part the smaller: it joins the head's entry as its earlier packets.
          b.heads._prepend(open, here, b.heads._find(c.key));
          open._drop(open._find(c.key));
          ev = b.heads._end(b.heads._find(c.key));
        } else ev = carried._end(carried._absorb(b.heads, ...ref(b.heads, c.key)));
        if (ev) events.push(ev);
        replaced.add(keyString(c.key));
      } else if (carried === long || open._weight(here) > b.tails._weight(b.tails._find(c.key))) {
        // Joined to a tail, the carried part the larger: the tail's part joins it, where it is
        // (moved to the long ones once).
        carried._absorb(b.tails, ...ref(b.tails, c.key));
        b.tails._drop(b.tails._find(c.key));
        if (carried === open) {
          long._absorb(open, ...ref(open, c.key));
          open._drop(open._find(c.key));
        }
      } else {
        // Joined to a tail: it goes on in the block's tails (the carried part copied there).
        b.tails._prepend(open, open._find(c.key), b.tails._find(c.key));
        open._drop(open._find(c.key));
      }
    }
    // Carried events no packet of this block continued, idle beyond the timeout at its end.
    open._setClock(b.clock);
    long._setClock(b.clock);
    events.push(...open.sweepIdle(), ...long.sweepIdle());
    // The others (a block shorter than the timeout) go on beside the block's tails.
    for (const c of open._entries()) {
      const ref = open._find(c.key);
      b.tails._absorb(open, Math.floor(ref / 2 ** 30), ref % 2 ** 30);
    }
    this.#ended += open.stats.eventsEnded + b.heads.stats.eventsEnded - headStats.eventsEnded;
    this.#filtered += open.stats.eventsFiltered + b.heads.stats.eventsFiltered -
      headStats.eventsFiltered;
    this.#open = b.tails;
    this.#latest = [b.clock.latestSec, b.clock.latestNsec];
    events.sort(compareEventOrder);
    return { events, replaced };
  }

  /** Whether an open event of `key` is carried (only its block's first event can join it). */
  isCarried(key: Uint32Array): boolean {
    return this.#open._find(key) >= 0 || this.#long._find(key) >= 0;
  }

  /** Open events carried into the next block (none: its first events cannot join any). */
  get carrying(): number {
    return this.#open.openCount + this.#long.openCount;
  }

  /** Events joined across a block boundary so far. */
  get joined(): number {
    return this.#joined;
  }

  /** After the last block: the events still open, ended, in event order (as a run's end). */
  finish(): DarknetEvent[] {
    const open = this.#open;
    const long = this.#long;
    return [...open.sweepIdle(), ...long.sweepIdle(), ...open.openEvents(), ...long.openEvents()]
      .sort(compareEventOrder);
  }
}

/** An event's key words (2 for IPv4, 5 for IPv6), as the aggregator's tables hold them. */
export function eventKey(e: DarknetEvent): Uint32Array {
  const k1 = ((e.traffic << 16) | e.port) >>> 0;
  if (e.version === 4) return Uint32Array.of(e.src >>> 0, k1);
  const dv = new DataView(e.src6.buffer, e.src6.byteOffset, 16);
  return Uint32Array.of(dv.getUint32(0), dv.getUint32(4), dv.getUint32(8), dv.getUint32(12), k1);
}

/**
 * The aggregating stage of the chain: packet batches in, {@link EventChunk}s out — the events
 * each batch ended (omitted when none), then, at the end of input, the events idle for more than
 * the timeout (a last sweep: finished, `open: false`), then chunks with `open: true`
 * holding the still-open events that pass the filters, in event order (one chunk per rotation
 * window; without rotation, 1,024 events per chunk). Those are ended too,
 * unless `keepOpen` is set: then they stay in the aggregator (e.g. to be saved to a state
 * file) and the chunk is a snapshot.
 *
 * @module
 */

import type { PacketBatch } from "../decode/packet_batch.ts";
import type { DarknetEvent } from "../model/darknet_event.ts";
import type { EventAggregator } from "./event_aggregator.ts";
import type { encodeState } from "../state/state_file.ts";
import type { Analyzer } from "../analysis/analyzer.ts";

// Events a sweep hands out at a time: large enough that the sweeps of a filtered run (a few
// thousand events) stay one synchronous step, small enough that one ending the one-off sources
// of an unfiltered run (tens of thousands) never holds them all as objects at once.
const SWEEP_CHUNK = 4096;

/** Events leaving the aggregator. */
export interface EventChunk {
  /** Events in event order (`compareEventOrder`) within a sweep. */
  events: DarknetEvent[];
  /** True for the events still open at the end of input (or of a rotation window). */
  open: boolean;
  /** With `rotate`: the window of packet time, [start, end) in seconds, the events belong to. */
  window?: { start: number; end: number };
  /** With `rotate` and `keepOpen`: on a window's closing chunk, the state file bytes then. */
  state?: Uint8Array;
}

/** Options of {@link EventAggregatorStream}. */
export interface EventAggregatorStreamOptions {
  /** Leave open events in the aggregator at end of input instead of emitting them. */
  keepOpen?: boolean;
  /**
   * With `keepOpen` and no rotation: whether the open events are still emitted (as `open`
   * chunks, e.g. for `--ongoingout`) at the end of input. Without anyone to read them, making
   * millions of event objects only to drop them is skipped. @default true
   */
  emitOpen?: boolean;
  /**
   * Rotation period in seconds of packet time. Each time packet time crosses a multiple of it,
   * the stream ends the window's idle events (as at the end of input) and emits the window's
   * closing chunk (`open: true`, a snapshot of the open events, and with `keepOpen` the state
   * bytes) before any event of the next window.
   */
  rotate?: number;
  /**
   * Analyzers that see every batch too, before the aggregator (packets decoded once, several
   * consumers: `parse --statsout` runs `PacketStats` here). @default []
   */
  analyzers?: readonly Analyzer[];
}

/**
 * TransformStream from packet batches to ended events.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { EventAggregatorStream } from "./event_aggregator_stream.ts";
 * import { EventAggregator } from "./event_aggregator.ts";
 * import { CaptureSet } from "../capture/capture_set.ts";
 * const set = await CaptureSet.open(["testdata/demo/scan.pcap.gz"]);
 * const agg = new EventAggregator({ uniques: 100 });
 * let n = 0;
 * for await (const c of set.readable.pipeThrough(new EventAggregatorStream(agg))) n += c.events.length;
 * ok(n === 5);
 * ```
 */
export class EventAggregatorStream extends TransformStream<PacketBatch, EventChunk> {
  readonly #end: { open: number };

  /** Wraps `aggregator` (which keeps its state and counters for the caller). */
  constructor(aggregator: EventAggregator, options: EventAggregatorStreamOptions = {}) {
    const R = options.rotate ?? 0;
    const analyzers = options.analyzers ?? [];
    const end = { open: 0 };
    let start = NaN; // current window start (seconds), with rotation
    // The state encoder (and node:zlib behind it) is loaded only when snapshots are asked for.
    let encode: typeof encodeState | undefined;
    type Controller = TransformStreamDefaultController<EventChunk>;
    // Until the chunk just enqueued has been taken.
    const taken = async (controller: Controller) => {
      while ((controller.desiredSize ?? 0) < 0) await new Promise((r) => setTimeout(r, 0));
    };
    // Adds rows `from .. to-1`; a sweep's events leave a chunk at a time, each made once the one
    // before was taken, so that a sweep ending tens of thousands of events (one-off sources
    // timing out together) never holds them all as objects at once.
    // (A promise only if a sweep ends more than one chunk: the usual batch stays synchronous.)
    const add = (
      controller: Controller,
      batch: PacketBatch,
      from: number,
      to: number,
      window?: { start: number; end: number },
    ): Promise<void> | undefined => {
      for (;;) {
        const ended = aggregator.add(batch, from, to, true);
        if (ended.length > 0) controller.enqueue({ events: ended, open: false, window });
        from = aggregator.pausedAt;
        if (from < 0) return;
        const chunks = aggregator.sweepChunks(SWEEP_CHUNK);
        let r = chunks.next();
        if (!r.done && aggregator.sweepLeft > 0) {
          const at = from;
          return (async () => {
            for (; !r.done; r = chunks.next()) {
              controller.enqueue({ events: r.value, open: false, window });
              await taken(controller);
            }
            await add(controller, batch, at, to, window);
          })();
        }
        for (; !r.done; r = chunks.next()) {
          controller.enqueue({ events: r.value, open: false, window });
        }
      }
    };
    // With rotation: the batch's rows window by window, each window closed when the next begins.
    const windows = async (controller: Controller, batch: PacketBatch) => {
      const ts = batch.tsSec;
      let i = 0;
      while (i < batch.length) {
        if (Number.isNaN(start)) start = Math.floor(ts[i] / R) * R;
        let j = i;
        while (j < batch.length && ts[j] < start + R) j++;
        for (const a of analyzers) a.add(batch, i, j);
        await add(controller, batch, i, j, { start, end: start + R });
        if (j < batch.length) {
          close(controller, false);
          start = Math.floor(ts[j] / R) * R;
        }
        i = j;
      }
      batch.release?.();
    };
    const close = (controller: Controller, final: boolean) => {
      const keep = options.keepOpen ?? false;
      // As at the end of input (and as batch mode's hourly runs do): events no later packet
      // could continue are finished in this window.
      const idle = aggregator.sweepIdle();
      if (idle.length > 0) {
        controller.enqueue({ events: idle, open: false, window: { start, end: start + R } });
      }
      const chunk: EventChunk = {
        events: aggregator.openEvents(keep || !final),
        open: true,
        window: { start, end: start + R },
      };
      if (keep) chunk.state = encode!(aggregator);
      controller.enqueue(chunk);
      for (const a of analyzers) a.endInterval?.(start + R);
    };
    super(
      {
        async start() {
          if (R > 0 && options.keepOpen) {
            encode = (await import("../state/state_file.ts")).encodeState;
          }
        },
        transform(batch, controller) {
          if (R <= 0) {
            for (const a of analyzers) a.add(batch, 0, batch.length);
            // Then samples have been copied: the batch's memory can be reused.
            const release = () => batch.release?.();
            const pending = add(controller, batch, 0, batch.length);
            return pending ? pending.then(release) : release();
          }
          return windows(controller, batch);
        },
        async flush(controller) {
          if (R > 0) {
            if (!Number.isNaN(start)) close(controller, true);
            end.open = aggregator.openCount;
            return;
          }
          for (const a of analyzers) a.endInterval?.(Infinity);
          // Events no later packet could continue have ended: they are finished, not open.
          for (const events of aggregator.idleChunks(SWEEP_CHUNK)) {
            controller.enqueue({ events, open: false });
            await taken(controller);
          }
          end.open = aggregator.openCount;
          // A chunk at a time, each made once the one before was taken: the end of a run holds
          // one chunk of event objects, not all of them.
          if (options.keepOpen && options.emitOpen === false) return;
          for (const events of aggregator.openEventChunks(options.keepOpen)) {
            controller.enqueue({ events, open: true });
            await taken(controller);
          }
        },
      },
      { highWaterMark: 1 },
      { highWaterMark: 0 },
    );
    this.#end = end;
  }

  /** Events still open when the input ended (before they were written or saved). */
  get openAtEnd(): number {
    return this.#end.open;
  }
}

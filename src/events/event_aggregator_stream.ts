/**
 * The aggregating stage of the chain: packet batches in, {@link EventChunk}s out — the events
 * each batch ended (omitted when none), then, at the end of input, one chunk with `open: true`
 * holding the still-open events that pass the filters, ordered by key. Those are ended too,
 * unless `keepOpen` is set: then they stay in the aggregator (e.g. to be saved to a state
 * file) and the chunk is a snapshot.
 *
 * @example
 * ```ts
 * import { EventAggregatorStream } from "./event_aggregator_stream.ts";
 * import { EventAggregator } from "./event_aggregator.ts";
 * import { CaptureSet } from "../capture/capture_set.ts";
 * const set = await CaptureSet.open(["testdata/demo/scan.pcap.gz"]);
 * const agg = new EventAggregator({ uniques: 100 });
 * let n = 0;
 * for await (const c of set.readable.pipeThrough(new EventAggregatorStream(agg))) n += c.events.length;
 * console.assert(n === 5);
 * ```
 * @module
 */

import type { PacketBatch } from "../capture/packet_batch.ts";
import type { DarknetEvent } from "./darknet_event.ts";
import type { EventAggregator } from "./event_aggregator.ts";

/** Events leaving the aggregator. */
export interface EventChunk {
  /** Events in order of ending. */
  events: DarknetEvent[];
  /** True for the events still open at the end of input. */
  open: boolean;
}

/** Options of {@link EventAggregatorStream}. */
export interface EventAggregatorStreamOptions {
  /** Leave open events in the aggregator at end of input instead of emitting them. */
  keepOpen?: boolean;
}

/** TransformStream from packet batches to ended events. */
export class EventAggregatorStream extends TransformStream<PacketBatch, EventChunk> {
  /** Wraps `aggregator` (which keeps its state and counters for the caller). */
  constructor(aggregator: EventAggregator, options: EventAggregatorStreamOptions = {}) {
    super(
      {
        transform(batch, controller) {
          const ended = aggregator.add(batch);
          batch.release?.(); // samples were copied: the batch's memory can be reused
          if (ended.length > 0) controller.enqueue({ events: ended, open: false });
        },
        flush(controller) {
          controller.enqueue({ events: aggregator.openEvents(options.keepOpen), open: true });
        },
      },
      { highWaterMark: 1 },
      { highWaterMark: 0 },
    );
  }
}

/**
 * The writing end of the chain: routes {@link EventChunk}s to event files. Ended events go to
 * `events`; the events still open at the end of input go to `ongoing` (if given) and, when
 * `writeOpen` is set, to `events` as well (a run without a state file to carry them). Closing
 * or aborting the stream closes the writers, so the files are valid JSON either way.
 *
 * @module
 */

import type { EventChunk } from "../aggregation/event_aggregator_stream.ts";
import type { EventWriter } from "./event_writer.ts";

/** Options of {@link EventSink}. */
export interface EventSinkOptions {
  /** Where ended events go. */
  events: EventWriter;
  /** Where the events open at end of input go, if anywhere. */
  ongoing?: EventWriter;
  /** Also write the events open at end of input to `events`. */
  writeOpen: boolean;
  /** Flush files after every chunk (live runs: `tail -f` sees events at once). */
  flushEach?: boolean;
}

/**
 * WritableStream of event chunks into event files.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { EventSink } from "./event_sink.ts";
 * import { EventWriter } from "./event_writer.ts";
 * import { ndjson } from "./ndjson.ts";
 * import { DarknetEvent } from "../model/darknet_event.ts";
 * const path = Deno.makeTempFileSync();
 * const events = await EventWriter.create(path, { format: ndjson });
 * const chunks = [{ events: [new DarknetEvent()], open: false }, { events: [new DarknetEvent()], open: true }];
 * await ReadableStream.from(chunks).pipeTo(new EventSink({ events, writeOpen: false }));
 * ok(Deno.readTextFileSync(path).trim().split("\n").length === 1);
 * ```
 */
export class EventSink extends WritableStream<EventChunk> {
  /** Creates the sink; it closes the writers when the stream closes or aborts. */
  constructor(o: EventSinkOptions) {
    const closeAll = () => {
      try {
        o.events.close();
      } finally {
        o.ongoing?.close();
      }
    };
    super({
      write(chunk) {
        if (chunk.open) {
          if (o.ongoing) { for (const e of chunk.events) o.ongoing.write(e); }
          if (o.writeOpen) { for (const e of chunk.events) o.events.write(e); }
        } else for (const e of chunk.events) o.events.write(e);
        if (o.flushEach && !o.events.format.holdsBack) {
          o.events.flush();
          o.ongoing?.flush();
        }
      },
      close: closeAll,
      abort: closeAll,
    });
  }
}

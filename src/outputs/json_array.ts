/**
 * Merit's format: one JSON array of event objects, one per line.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { jsonArray } from "./json_array.ts";
 * import { EventBuffer } from "./event_buffer.ts";
 * import { DarknetEvent } from "../model/darknet_event.ts";
 * const enc = jsonArray.create();
 * const out = new EventBuffer(1024);
 * enc.open(out);
 * enc.add(out, new DarknetEvent());
 * const text = new TextDecoder().decode(out.buf.subarray(0, out.len)) +
 *   new TextDecoder().decode(enc.closing());
 * equal(JSON.parse(text).length, 1);
 * ```
 * @module
 */

import type { EventEncoder, EventFormat } from "./event_encoder.ts";

const CLOSE_EMPTY = new TextEncoder().encode("]\n"); // after "["
const CLOSE = new TextEncoder().encode("\n]\n"); // after the last event

/** A JSON array (the default). */
export const jsonArray: EventFormat = {
  name: "json",
  description: "a JSON array of events, one per line (Merit's format; the default)",
  create(): EventEncoder {
    let count = 0;
    return {
      open: (out) => out.ascii("["),
      add(out, e) {
        out.ascii(count === 0 ? "\n" : ",\n");
        out.event(e);
        count++;
      },
      closing: () => count === 0 ? CLOSE_EMPTY : CLOSE,
    };
  },
};

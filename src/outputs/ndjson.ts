/**
 * Newline-delimited JSON: one event object per line (`--newdl`, as Merit's flag).
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { ndjson } from "./ndjson.ts";
 * import { EventBuffer } from "./event_buffer.ts";
 * import { DarknetEvent } from "../model/darknet_event.ts";
 * const enc = ndjson.create();
 * const out = new EventBuffer(1024);
 * enc.open(out);
 * enc.add(out, new DarknetEvent());
 * enc.add(out, new DarknetEvent());
 * equal(new TextDecoder().decode(out.buf.subarray(0, out.len)).split("\n").length, 3);
 * ```
 * @module
 */

import type { EventEncoder, EventFormat } from "./event_encoder.ts";

const NOTHING = new Uint8Array(0);

/** One object per line. */
export const ndjson: EventFormat = {
  name: "ndjson",
  description: "one JSON object per line (as --newdl)",
  create: (): EventEncoder => ({
    open: () => {},
    add(out, e) {
      out.event(e);
      out.ascii("\n");
    },
    closing: () => NOTHING,
  }),
};

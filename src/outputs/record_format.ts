/**
 * Records of the other analyses (`--dosout`'s attack vectors, …) written as the event files are:
 * a JSON array, or one object per line for NDJSON, through the same `EventWriter` (a valid file
 * after every flush; pipes; atomic failure handling). A record is any JSON-able object; the
 * writer hands it to the encoder as it was given.
 *
 * @module
 */

import type { EventEncoder, EventFormat } from "./event_encoder.ts";

const te = new TextEncoder();
const CLOSE_EMPTY = te.encode("]\n");
const CLOSE = te.encode("\n]\n");
const NONE = new Uint8Array(0);

/**
 * The record format that goes with an event format: NDJSON for `ndjson`, else a JSON array.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { recordFormat } from "./record_format.ts";
 * import { ndjson } from "./ndjson.ts";
 * import { EventWriter } from "./event_writer.ts";
 * const path = `${Deno.makeTempDirSync()}/r.ndjson`;
 * const w = await EventWriter.create(path, { format: recordFormat(ndjson) });
 * w.write({ Victim: "192.0.2.1", Packets: 30 } as never);
 * w.close();
 * equal(Deno.readTextFileSync(path), '{"Victim":"192.0.2.1","Packets":30}\n');
 * ```
 */
export function recordFormat(events: EventFormat): EventFormat {
  const lines = events.name === "ndjson";
  return {
    name: `${lines ? "ndjson" : "json"}-records`,
    description: "records of an analysis, as the events' format",
    create(): EventEncoder {
      let count = 0;
      return {
        open: (out) => {
          if (!lines) out.ascii("[");
        },
        add(out, r) {
          const text = JSON.stringify(r);
          if (lines) out.text(`${text}\n`);
          else {
            out.ascii(count === 0 ? "\n" : ",\n");
            out.text(text);
          }
          count++;
        },
        closing: () => lines ? NONE : count === 0 ? CLOSE_EMPTY : CLOSE,
      };
    },
  };
}

// Worker side of the parallel `count`: aggregates the event files it is given and posts the
// aggregates (or the error that stopped it) back.

/// <reference lib="deno.worker" />

import { serveEventFiles } from "./_event_files_worker.ts";
import { EventStats, type EventStatsOptions } from "./event_stats.ts";

serveEventFiles((options: EventStatsOptions) => {
  const stats = new EventStats(options);
  return {
    add: (r) => stats.add(r.event),
    export: () => {
      const data = stats.exportData();
      return { data, transfer: packedBuffers(data) };
    },
  };
});

// The packed source arrays (whole buffers, each once) in the exported data: transferred instead
// of copied.
function packedBuffers(data: unknown): ArrayBuffer[] {
  const transfer: ArrayBuffer[] = [];
  const walk = (x: unknown): void => {
    if (x instanceof Uint32Array) {
      if (
        x.byteOffset === 0 && x.byteLength === x.buffer.byteLength &&
        !transfer.includes(x.buffer as ArrayBuffer)
      ) {
        transfer.push(x.buffer as ArrayBuffer);
      }
    } else if (x instanceof Map) { for (const v of x.values()) walk(v); }
    else if (x && typeof x === "object" && !(x instanceof Set) && !Array.isArray(x)) {
      for (const v of Object.values(x)) walk(v);
    }
  };
  walk(data);
  return transfer;
}

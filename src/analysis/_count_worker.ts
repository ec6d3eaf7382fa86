// Worker side of the parallel `count`: aggregates the event files it is given and posts the
// aggregates (or the error that stopped it) back.

/// <reference lib="deno.worker" />

import { DarknetError } from "../errors.ts";
import {
  type InvalidEvents,
  readerOptions,
  type ReaderSettings,
  readEvents,
} from "./event_reader.ts";
import { EventStats, type EventStatsOptions } from "./event_stats.ts";

self.onmessage = async (ev: MessageEvent) => {
  const { files, options, reader } = ev.data as {
    files: string[];
    options: EventStatsOptions;
    reader: ReaderSettings;
  };
  const invalid: InvalidEvents = { count: 0 };
  const ro = readerOptions(reader, invalid);
  const stats = new EventStats(options);
  let error: { message: string; exitCode: number } | undefined;
  try {
    for await (const r of readEvents(files, ro)) stats.add(r.event);
  } catch (e) {
    error = e instanceof DarknetError
      ? { message: e.message, exitCode: e.exitCode }
      : { message: `internal error: ${(e as Error).message}`, exitCode: 70 };
  }
  const data = stats.exportData() as {
    all: { byPort: Map<unknown, { sources: { u32: Uint32Array } }> };
  };
  // Transfer the packed source arrays instead of copying them.
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
  self.postMessage({ data, error, invalid }, transfer);
  self.close();
};

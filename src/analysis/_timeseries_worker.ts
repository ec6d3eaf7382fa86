// Worker side of the parallel `timeseries`: collects the event files it is given and posts the
// collected bins and series (or the error that stopped it) back.

/// <reference lib="deno.worker" />

import { DarknetError } from "../errors.ts";
import {
  type InvalidEvents,
  readerOptions,
  type ReaderSettings,
  readEvents,
} from "./event_reader.ts";
import { TimeSeries, type TimeSeriesOptions } from "./timeseries.ts";

self.onmessage = async (ev: MessageEvent) => {
  const { files, options, reader } = ev.data as {
    files: string[];
    options: TimeSeriesOptions;
    reader: ReaderSettings;
  };
  const invalid: InvalidEvents = { count: 0 };
  const ro = readerOptions(reader, invalid);
  const ts = new TimeSeries(options);
  let error: { message: string; exitCode: number } | undefined;
  try {
    for await (const r of readEvents(files, ro)) ts.add(r.event, r.file);
  } catch (e) {
    error = e instanceof DarknetError
      ? { message: e.message, exitCode: e.exitCode }
      : { message: `internal error: ${(e as Error).message}`, exitCode: 70 };
  }
  self.postMessage({ data: ts.exportData(), error, invalid });
  self.close();
};

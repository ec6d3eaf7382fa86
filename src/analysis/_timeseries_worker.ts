// Worker side of the parallel `timeseries`: collects the event files it is given and posts the
// collected bins and series (or the error that stopped it) back.

/// <reference lib="deno.worker" />

import { serveEventFiles } from "./_event_files_worker.ts";
import { TimeSeries, type TimeSeriesOptions } from "./timeseries.ts";

serveEventFiles((options: TimeSeriesOptions) => {
  const ts = new TimeSeries(options);
  return { add: (r) => ts.add(r.event, r.file), export: () => ({ data: ts.exportData() }) };
});

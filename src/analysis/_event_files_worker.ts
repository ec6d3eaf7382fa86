// The common body of the workers of the parallel `count` and `timeseries`: reads the event
// files it is given into an analyzer and posts what the analyzer exports (or the error that
// stopped it) back, with the typed arrays it names transferred, not copied.

/// <reference lib="deno.worker" />

import { DarknetError } from "../errors.ts";
import {
  type InvalidEvents,
  readerOptions,
  type ReaderSettings,
  type ReadEvent,
  readEvents,
} from "./event_reader.ts";

/** What a worker's analyzer does: take each record read, then export its data. */
export interface EventFilesAnalyzer {
  add(r: ReadEvent): void;
  /** The data to post, and the buffers to transfer with it. */
  export(): { data: unknown; transfer?: ArrayBuffer[] };
}

/** Answers the one message a worker gets: `files`, `options` (for `make`), `reader` settings. */
export function serveEventFiles<O>(make: (options: O) => EventFilesAnalyzer): void {
  self.onmessage = async (ev: MessageEvent) => {
    const { files, options, reader } = ev.data as {
      files: string[];
      options: O;
      reader: ReaderSettings;
    };
    const invalid: InvalidEvents = { count: 0 };
    const ro = readerOptions(reader, invalid);
    const a = make(options);
    let error: { message: string; exitCode: number } | undefined;
    try {
      for await (const r of readEvents(files, ro)) a.add(r);
    } catch (e) {
      error = e instanceof DarknetError
        ? { message: e.message, exitCode: e.exitCode }
        : { message: `internal error: ${(e as Error).message}`, exitCode: 70 };
    }
    const { data, transfer = [] } = a.export();
    self.postMessage({ data, error, invalid }, transfer);
    self.close();
  };
}

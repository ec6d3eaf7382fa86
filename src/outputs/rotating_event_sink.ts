/**
 * The writing end for `--rotate`: one set of files per window of packet time, named as batch
 * mode names them (`results_START_END.json`, `ongoing_START_END.json`, `cache_START_END.state`),
 * so a long-running sensor leaves the same hourly files as a batch run over hourly captures.
 * A window's results file receives the events that ended in it; when the window closes, the
 * events still open go to its ongoing file and the state to its state file, and the results
 * file is closed. Events are flushed after every chunk so `tail -f` sees them at once.
 *
 * @module
 */

import type { EventChunk } from "../aggregation/event_aggregator_stream.ts";
import { EventWriter } from "./event_writer.ts";
import type { EventFormat } from "./event_encoder.ts";
import { ioError } from "../errors.ts";

/** Options of {@link RotatingEventSink}. */
export interface RotatingEventSinkOptions {
  /** Directory for the files. */
  outdir: string;
  /** Rotation period in seconds (for the file names). */
  rotate: number;
  /** The files' format. @default jsonArray */
  format?: EventFormat;
}

// `2020-10-21T16`, `…T16-10` or `…T16-10-05`: RFC 3339 with "-" for ":", a name every file
// system takes (Windows refuses ":"; Merit's run_parse.py wrote `2020-10-21:16`).
function stamp(sec: number, period: number): string {
  const iso = new Date(sec * 1000).toISOString();
  const hour = `${iso.slice(0, 10)}T${iso.slice(11, 13)}`;
  if (period % 3600 === 0) return hour;
  if (period % 60 === 0) return `${hour}-${iso.slice(14, 16)}`;
  return `${hour}-${iso.slice(14, 16)}-${iso.slice(17, 19)}`;
}

/**
 * The Hive partition of a window's files, from its name's start: `date=YYYY-MM-DD/hour=HH`.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { hivePartition } from "./rotating_event_sink.ts";
 * equal(hivePartition("2020-10-21T16-10_2020-10-21T16-20"), "date=2020-10-21/hour=16");
 * ```
 */
export function hivePartition(windowName: string): string {
  return `date=${windowName.slice(0, 10)}/hour=${windowName.slice(11, 13)}`;
}

/**
 * `START_END` of the window starting at `start` (seconds) with the given period.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { windowName } from "./rotating_event_sink.ts";
 * ok(windowName(1603296000, 600) === "2020-10-21T16-00_2020-10-21T16-10");
 * ```
 */
export function windowName(start: number, period: number): string {
  return `${stamp(start, period)}_${stamp(start + period, period)}`;
}

/**
 * WritableStream of event chunks into per-window files.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { RotatingEventSink, windowName } from "./rotating_event_sink.ts";
 * ok(windowName(1603296000, 3600) === "2020-10-21T16_2020-10-21T17");
 * const dir = Deno.makeTempDirSync();
 * await ReadableStream.from([{ events: [], open: true, window: { start: 0, end: 60 } }])
 *   .pipeTo(new RotatingEventSink({ outdir: dir, rotate: 60 }));
 * ok(Deno.readTextFileSync(`${dir}/results_1970-01-01T00-00_1970-01-01T00-01.json`) === "[]\n");
 * ```
 */
export class RotatingEventSink extends WritableStream<EventChunk> {
  /** Files written so far (paths), in order. */
  readonly files: string[] = [];

  /** Creates the sink; it closes the current files when the stream closes or aborts. */
  constructor(o: RotatingEventSinkOptions) {
    let results: EventWriter | undefined;
    let current = "";
    const ext = o.format?.extension ?? "json";
    // The window's folder: --outdir, or its Hive partition for a format that asks for one.
    const folder = async (name: string) => {
      if (!o.format?.hive) return o.outdir;
      const dir = `${o.outdir}/${hivePartition(name)}`;
      await Deno.mkdir(dir, { recursive: true }).catch((e) => Promise.reject(ioError(e, dir)));
      return dir;
    };
    const files = (): string[] => this.files;
    const open = async (name: string) => {
      if (current === name && results) return results;
      results?.close();
      current = name;
      const path = `${await folder(name)}/results_${name}.${ext}`;
      results = await EventWriter.create(path, { format: o.format });
      files().push(path);
      return results;
    };
    super({
      async write(chunk) {
        const name = chunk.window ? windowName(chunk.window.start, o.rotate) : current;
        const w = await open(name);
        if (!chunk.open) {
          for (const e of chunk.events) w.write(e);
          if (!o.format?.holdsBack) w.flush();
          return;
        }
        const ongoingPath = `${await folder(name)}/ongoing_${name}.${ext}`;
        const ongoing = await EventWriter.create(ongoingPath, { format: o.format });
        for (const e of chunk.events) ongoing.write(e);
        ongoing.close();
        files().push(ongoingPath);
        if (chunk.state) {
          const statePath = `${o.outdir}/cache_${name}.state`;
          // Imported on first use: state files need node:zlib, which most runs never load.
          await (await import("../state/state_file.ts")).writeState(chunk.state, statePath);
          files().push(statePath);
        }
        w.close();
        results = undefined;
      },
      close() {
        results?.close();
      },
      abort() {
        results?.close();
      },
    });
  }
}

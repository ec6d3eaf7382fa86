// `parse --jobs N`: a split run on one machine. The captures are cut into N blocks of whole files
// (in order, about equal in bytes), each block's map step runs in a Worker of its own (as
// `parse --map` would), and the merge step (`parse --merge`) stitches the block results, kept in a
// temporary folder, into the events of one sequential run.

import { DarknetError, DataError, IoError, ioError, UsageError } from "../errors.ts";
import type { ParseConfig, ParseResult } from "./run_parse.ts";
import { runMerge } from "./merge_mode.ts";
import type { StopSignals } from "./_stop_signals.ts";
import { Progress, type ProgressFigures } from "./_progress.ts";

/**
 * `paths` in at most `n` runs of consecutive files, each about the same number of bytes.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { blocksOf } from "./jobs_mode.ts";
 * deepEqual(blocksOf(["a", "b", "c", "d"], [1, 1, 1, 1], 2), [["a", "b"], ["c", "d"]]);
 * deepEqual(blocksOf(["a", "b", "c"], [10, 1, 1], 2), [["a"], ["b", "c"]]);
 * deepEqual(blocksOf(["a"], [5], 4), [["a"]]);
 * ```
 */
export function blocksOf(paths: string[], sizes: number[], n: number): string[][] {
  const total = sizes.reduce((a, b) => a + b, 0);
  const out: string[][] = [];
  let acc = 0;
  for (let i = 0; i < paths.length; i++) {
    // A new block when this file starts past the next share (and files are left for the rest).
    const share = (total * out.length) / n;
    if (out.length === 0 || (acc >= share && out.length < n)) out.push([]);
    out.at(-1)!.push(paths[i]);
    acc += sizes[i];
  }
  return out;
}

/** The files in at most `n` blocks of about equal size ({@link blocksOf}). */
export async function fileBlocks(paths: string[], n: number): Promise<string[][]> {
  return blocksOf(paths, await fileSizes(paths), n);
}

async function fileSizes(paths: string[]): Promise<number[]> {
  const sizes: number[] = [];
  for (const p of paths) {
    try {
      sizes.push((await Deno.stat(p)).size);
    } catch (e) {
      throw ioError(e, p);
    }
  }
  return sizes;
}

/** Runs `cfg` as `jobs` map steps in Workers and one merge. */
export async function runJobs(
  cfg: ParseConfig,
  jobs: number,
  signals: StopSignals,
): Promise<ParseResult> {
  const t0 = performance.now();
  if (cfg.pcaps.includes("-")) throw new UsageError("--jobs reads files, not stdin");
  const sizes = await fileSizes(cfg.pcaps);
  const groups = blocksOf(cfg.pcaps, sizes, jobs);
  // The progress line's total from the start (a job reports its own only once it reads).
  const totalBytes = sizes.reduce((a, b) => a + b, 0);
  const tmp = await Deno.makeTempDir({ prefix: "darknet-events-jobs-" });
  // Signal series: each block's file in the --seriesout folder (timeseries --signals unites them).
  if (cfg.seriesout !== undefined) {
    await Deno.mkdir(cfg.seriesout, { recursive: true }).catch((e) =>
      Promise.reject(ioError(e, cfg.seriesout!))
    );
  }
  const dirs = groups.map((_, k) => `${tmp}/block-${String(k).padStart(4, "0")}`);
  const workers: Worker[] = [];
  // One progress line over all the jobs: their figures summed.
  const progress = new Progress(!cfg.quiet);
  const figures: ProgressFigures[] = groups.map(() => ({
    bytesRead: 0,
    totalBytes: 0,
    packets: 0,
    openEvents: 0,
  }));
  const sum = (k: keyof ProgressFigures) => figures.reduce((a, f) => a + (f[k] ?? 0), 0);
  try {
    const { format, ...rest } = cfg;
    const stopped = new Promise<never>((_, reject) =>
      signals.onStop(() =>
        reject(
          new IoError(
            `stopped by ${signals.stopped} while the blocks were aggregated: nothing written`,
          ),
        )
      )
    );
    stopped.catch(() => {});
    await Promise.race([
      stopped,
      Promise.all(groups.map((pcaps, k) =>
        new Promise<void>((resolve, reject) => {
          const w = new Worker(new URL("./_map_worker.ts", import.meta.url), { type: "module" });
          workers.push(w);
          w.onmessage = (m) => {
            if (m.data.progress) {
              figures[k] = m.data.progress;
              progress.update({
                bytesRead: sum("bytesRead"),
                totalBytes,
                packets: sum("packets"),
                openEvents: sum("openEvents"),
              });
              return;
            }
            w.terminate();
            if (m.data.error) {
              const [message, code] = m.data.error;
              reject(
                code === 2
                  ? new UsageError(message)
                  : code === 65
                  ? new DataError(message)
                  : new IoError(message),
              );
            } else resolve();
          };
          w.onerror = (e) => {
            e.preventDefault();
            reject(new Error(e.message));
          };
          w.postMessage({
            ...rest,
            cachein: undefined, // the merge carries an earlier run's open events, not a block
            dosout: undefined, // the blocks hold the DoS analysis; the merge writes --dosout
            mapDos: cfg.dosout !== undefined,
            statsout: undefined, // the blocks hold their statistics; the merge writes --statsout
            mapStats: cfg.statsout !== undefined,
            sourceout: undefined, // the blocks hold roll-up records; the merge writes --sourceout
            mapSources: cfg.sourceout !== undefined,
            pcaps,
            map: dirs[k],
            formatName: format.name,
            oneThread: true,
            seriesout: cfg.seriesout !== undefined
              ? `${cfg.seriesout}/series_block${String(k).padStart(4, "0")}.series`
              : undefined,
          });
        })
      )),
    ]);
    progress.done();
    const r = await runMerge({ ...cfg, pcaps: dirs });
    return {
      ...r,
      seconds: (performance.now() - t0) / 1000,
      loadSeconds: 0,
      stopSignal: signals.stopped,
    };
  } catch (e) {
    if (!(e instanceof DarknetError)) throw e;
    return {
      packets: 0,
      eventsWritten: 0,
      eventsFiltered: 0,
      openSaved: 0,
      outOfOrder: 0,
      implausibleTime: 0,
      excludedByTags: 0,
      notAfter: 0,
      openAtFailure: 0,
      seconds: (performance.now() - t0) / 1000,
      loadSeconds: 0,
      stopSignal: signals.stopped,
      error: e,
    };
  } finally {
    progress.done();
    for (const w of workers) w.terminate();
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
  }
}

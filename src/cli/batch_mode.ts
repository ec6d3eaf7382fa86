/**
 * `parse` batch mode, the original's `run_parse.py` built in: walks hourly capture files from
 * `--from` up to (not including) `--to` in blocks of `--block` hours, carrying state from block
 * to block, and writes `results_START_END.json`, `ongoing_START_END.json` and
 * `cache_START_END.state` (START and END as `YYYY-MM-DDTHH`, END exclusive) into `--outdir`.
 * (Merit's run_parse.py wrote `YYYY-MM-DD:HH`; ":" is not allowed in Windows file names. Both
 * spellings are accepted by `--from` and `--to`.) A missing hour is reported and skipped; packet
 * time simply moves on. Blocks are made one at a time, so a long range costs no memory.
 *
 * @example
 * ```ts
 * import { batchBlocks } from "./batch_mode.ts";
 * import { equal } from "node:assert/strict";
 * const b = [...batchBlocks("2020-10-21:16", "2020-10-21T19", 2, "x/{date}.{hour}.pcap")];
 * equal(b.length, 2);
 * equal(b[0].window, "2020-10-21T16_2020-10-21T18");
 * equal(b[1].paths[0], "x/2020-10-21.18.pcap");
 * ```
 * @module
 */

import { ioError, UsageError } from "../errors.ts";
import { intFlag } from "./_cli.ts";
import { commonConfig, formatParseSummary, runParse } from "./run_parse.ts";
import { StopSignals } from "./_stop_signals.ts";
import { hivePartition } from "../outputs/rotating_event_sink.ts";

/** One block of hours. */
export interface BatchBlock {
  /** `START_END`, as in the output file names. */
  window: string;
  /** Capture path of every hour in the block, in order. */
  paths: string[];
  /** `YYYY-MM-DDTHH` of every hour in the block. */
  hours: string[];
}

function parseHour(flag: string, s: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})[:T](\d{2})$/.exec(s);
  let t = NaN;
  if (m) {
    // Not Date.UTC(y, …): it reads years 0-99 as 1900-1999.
    const d = new Date(0);
    d.setUTCFullYear(+m[1], +m[2] - 1, +m[3]);
    d.setUTCHours(+m[4]);
    t = d.getTime();
  }
  if (
    !m || Number.isNaN(t) || new Date(t).getUTCDate() !== +m[3] ||
    new Date(t).getUTCMonth() !== +m[2] - 1 || +m[4] > 23
  ) {
    throw new UsageError(`--${flag}: expected YYYY-MM-DDTHH (or YYYY-MM-DD:HH), got "${s}"`);
  }
  if (+m[1] < 1970) {
    throw new UsageError(`--${flag}: ${s} is before 1970 (captures are timed from 1970 on)`);
  }
  return t;
}

function fmt(t: number): { hour: string; date: string; hh: string } {
  const iso = new Date(t).toISOString();
  return {
    hour: `${iso.slice(0, 10)}T${iso.slice(11, 13)}`,
    date: iso.slice(0, 10),
    hh: iso.slice(11, 13),
  };
}

/** The blocks of a batch run, made as they are taken (flags are checked at the call). */
export function batchBlocks(
  from: string,
  to: string,
  block: number,
  pattern: string,
): IterableIterator<BatchBlock> {
  const start = parseHour("from", from);
  const end = parseHour("to", to);
  if (end <= start) throw new UsageError("--to must be later than --from");
  if (!pattern.includes("{hour}") && !pattern.includes("{date}")) {
    throw new UsageError("--input: the pattern needs {date} and {hour}");
  }
  return blocksOf(start, end, block, pattern);
}

function* blocksOf(
  start: number,
  end: number,
  block: number,
  pattern: string,
): Generator<BatchBlock> {
  const H = 3600_000;
  for (let t = start; t < end; t += block * H) {
    const stop = Math.min(end, t + block * H);
    const paths: string[] = [];
    const hours: string[] = [];
    for (let h = t; h < stop; h += H) {
      const f = fmt(h);
      const [y, mo, d] = f.date.split("-");
      paths.push(
        pattern.replaceAll("{date}", f.date).replaceAll("{hour}", f.hh).replaceAll("{year}", y)
          .replaceAll("{month}", mo).replaceAll("{day}", d),
      );
      hours.push(f.hour);
    }
    yield { window: `${fmt(t).hour}_${fmt(stop).hour}`, paths, hours };
  }
}

/** Runs batch mode; returns the exit code. */
export async function parseBatchMode(
  v: Record<string, unknown>,
  positionals: string[],
  after: Record<string, string[]> = {},
): Promise<number> {
  for (const f of ["from", "to", "input", "outdir"]) {
    if (v[f] === undefined) {
      throw new UsageError(`batch mode needs --from, --to, --input and --outdir (--${f} missing)`);
    }
  }
  for (const f of ["pcap", "eventout", "ongoingout", "cacheout"]) {
    if (v[f] !== undefined) {
      throw new UsageError(`--${f} cannot be used in batch mode (files are named per block)`);
    }
  }
  // A batch is a sequence of runs, each one block; split runs cut their input themselves.
  for (const f of ["map", "merge", "jobs", "queue", "dos", "stats", "sources"]) {
    if (v[f] !== undefined) {
      throw new UsageError(`--${f} cannot be used in batch mode (a split run takes --pcap files)`);
    }
  }
  const stray = positionals.filter((p) =>
    !(after.pfx2asin ?? []).includes(p) && !(after.dns ?? []).includes(p)
  );
  if (stray.length) throw new UsageError(`unexpected argument "${stray[0]}"`);
  const common = commonConfig(v, after);
  const block = intFlag("block", v.block, 1, 1);
  const blocks = batchBlocks(String(v.from), String(v.to), block, String(v.input));
  const outdir = String(v.outdir);
  await Deno.mkdir(outdir, { recursive: true }).catch(() => {});
  // The analyses' files per block, in the folders their flags name (created).
  const folders = {
    dosout: v.dosout as string | undefined,
    sourceout: v.sourceout as string | undefined,
    seriesout: v.seriesout as string | undefined,
  };
  for (const [flag, dir] of Object.entries(folders)) {
    if (dir === undefined) continue;
    if (dir === "") throw new UsageError(`--${flag}: an empty path`);
    await Deno.mkdir(dir, { recursive: true }).catch((e) => Promise.reject(ioError(e, dir)));
  }
  let cachein = common.cachein;
  const ext = common.format?.extension ?? "json";
  // A signal between two blocks ends the batch there (one during a block ends that block first,
  // as in a single run, and then the batch).
  const signals = new StopSignals(); // held until the process exits, as in parseMain
  for (const b of blocks) {
    if (signals.stopped) {
      console.error(`parse: stopped by ${signals.stopped} before ${b.window}`);
      break;
    }
    const r = await runBlock(b);
    if (r !== undefined) return r;
    if (signals.stopped) {
      console.error(`parse: stopped by ${signals.stopped} after ${b.window}`);
      break;
    }
  }
  return 0;

  // One block; an exit code if the batch must stop with it.
  async function runBlock(b: BatchBlock): Promise<number | undefined> {
    const present: string[] = [];
    b.paths.forEach((p, i) => {
      try {
        Deno.statSync(p);
        present.push(p);
      } catch {
        console.error(`parse: ${b.hours[i]}: no capture at ${p}, skipped`);
      }
    });
    const cacheout = `${outdir}/cache_${b.window}.state`;
    // A format that asks for them gets Hive partitions of the block's start hour.
    const dir = common.format?.hive ? `${outdir}/${hivePartition(b.window)}` : outdir;
    if (dir !== outdir) {
      await Deno.mkdir(dir, { recursive: true }).catch((e) => Promise.reject(ioError(e, dir)));
    }
    const r = await runParse({
      ...common,
      pcaps: present,
      eventout: `${dir}/results_${b.window}.${ext}`,
      ongoingout: `${dir}/ongoing_${b.window}.${ext}`,
      cachein,
      cacheout,
      inputFlag: "--input",
      dosout: folders.dosout && `${folders.dosout}/dos_${b.window}.${ext}`,
      sourceout: folders.sourceout && `${folders.sourceout}/sources_${b.window}.${ext}`,
      seriesout: folders.seriesout && `${folders.seriesout}/series_${b.window}.series`,
    }, signals);
    if (!common.quiet) console.error(`${b.window}: ${formatParseSummary(r)}`);
    if (r.error) {
      console.error(`parse: ${r.error.message}`);
      return r.error.exitCode;
    }
    cachein = cacheout;
    return undefined;
  }
}

/**
 * The series files of many runs (hourly captures, a month of them, in any order) on one true
 * time axis: every bin from the first to the last, empty bins 0, bins without a single packet
 * marked as data gaps. Runs that share a bin (each holds it as an edge bin, with its sketches)
 * are united (exact up to the sketches' limit, 1,024 sources a series, then HyperLogLog);
 * runs that overlap elsewhere are refused. Unique sources are kept for every
 * series (4 bytes a bin); packets and bytes for the series asked for, in a second pass.
 *
 * @module
 */

import { DataError } from "../errors.ts";
import { readStateFile } from "../state/state_container.ts";
import { readSeriesFile, type SeriesFile } from "./series_file.ts";
import type { SourceSketch } from "./source_sketch.ts";

// Payloads kept between passes while they fit; beyond, files are read again.
const KEEP_BYTES = 128 * 1024 * 1024;

// A series in a bin that runs share: the runs' sketches united.
interface EdgeCell {
  runs: number;
  sources: number;
  sketch: SourceSketch;
}

/**
 * Series from series files.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { SignalTable } from "./signal_table.ts";
 * import { SignalSeries } from "./signal_series.ts";
 * import { captureBatches } from "../capture/open_capture.ts";
 * const s = new SignalSeries({ binSeconds: 600 });
 * for await (const b of await captureBatches(["testdata/demo/scan.pcap.gz"])) s.add(b);
 * s.endInterval(Infinity);
 * const path = `${Deno.makeTempDirSync()}/run.series`;
 * Deno.writeFileSync(path, s.save());
 * const t = await SignalTable.load([path]);
 * equal(t.bins, 6);
 * equal(t.sourcesOf("total")!.length, 6);
 * ```
 */
export class SignalTable {
  /** Bin width, seconds. */
  readonly binSeconds: number;
  /** Start of the first bin, seconds. */
  readonly start: number;
  /** Bins on the axis. */
  readonly bins: number;
  /** Series keys, in order of first appearance. */
  readonly keys: string[] = [];
  /** Per bin: 1 when no run had a packet in it. */
  readonly gap: Uint8Array;
  /** Per series: packets over every bin (for ranking). */
  readonly packetTotals: number[] = [];
  /** Packets for a bin already closed in their run (more than a bin out of order): in no bin. */
  late = 0;
  readonly #ids = new Map<string, number>();
  readonly #sources: Uint32Array[] = [];
  readonly #paths: string[];
  readonly #kept: (SeriesFile | null)[];
  readonly #read: (i: number) => Promise<Uint8Array>;

  private constructor(
    paths: string[],
    read: (i: number) => Promise<Uint8Array>,
    files: (SeriesFile | null)[],
    binSeconds: number,
    start: number,
    bins: number,
  ) {
    this.#paths = paths;
    this.#read = read;
    this.#kept = files;
    this.binSeconds = binSeconds;
    this.start = start;
    this.bins = bins;
    this.gap = new Uint8Array(bins).fill(1);
  }

  /** Reads and unites series files; throws a `DataError` or `IoError` naming a file. */
  static load(paths: string[]): Promise<SignalTable> {
    return SignalTable.#build(paths, (i) => readStateFile(paths[i]));
  }

  /** Unites series files' bytes held in memory (`names` for messages). */
  static fromBytes(names: string[], bytes: Uint8Array[]): Promise<SignalTable> {
    return SignalTable.#build(names, (i) => Promise.resolve(bytes[i]));
  }

  static async #build(
    paths: string[],
    read: (i: number) => Promise<Uint8Array>,
  ): Promise<SignalTable> {
    if (paths.length === 0) throw new DataError("no series files");
    const files: (SeriesFile | null)[] = [];
    let kept = 0;
    let bin = 0;
    let lo = Infinity;
    let hi = -Infinity;
    for (const [i, path] of paths.entries()) {
      const bytes = await read(i);
      const f = readSeriesFile(bytes, path);
      if (bin && f.header.binSeconds !== bin) {
        throw new DataError(
          `bins of ${f.header.binSeconds} s, but ${paths[0]} has bins of ${bin} s`,
          { file: path },
        );
      }
      bin = f.header.binSeconds;
      if (f.header.firstBin !== null) {
        lo = Math.min(lo, f.header.firstBin);
        hi = Math.max(hi, f.header.lastBin!);
      }
      kept += bytes.length * 8; // a rough bound of the payload
      files.push(kept <= KEEP_BYTES ? f : null);
    }
    const bins = lo === Infinity ? 0 : (hi - lo) / bin + 1;
    if (bins > 1e8) throw new DataError(`${bins} bins of ${bin} s: too many`, { file: paths[0] });
    const t = new SignalTable(paths, read, files, bin, lo === Infinity ? 0 : lo, bins);
    await t.#first();
    return t;
  }

  async #file(i: number): Promise<SeriesFile> {
    return this.#kept[i] ?? readSeriesFile(await this.#read(i), this.#paths[i]);
  }

  #id(key: string): number {
    let id = this.#ids.get(key);
    if (id === undefined) {
      id = this.keys.length;
      this.#ids.set(key, id);
      this.keys.push(key);
      this.packetTotals.push(0);
      this.#sources.push(new Uint32Array(this.bins));
    }
    return id;
  }

  async #first(): Promise<void> {
    const owner = new Int32Array(this.bins).fill(-1);
    const edgeOwned = new Uint8Array(this.bins);
    const edges = new Map<number, Map<number, EdgeCell>>(); // bin → series → cell
    for (let f = 0; f < this.#paths.length; f++) {
      const file = await this.#file(f);
      this.late += file.header.late;
      const ids = file.header.keys.map((k) => this.#id(k));
      let lastStart = NaN;
      file.forEachCell((start, key, packets, _bytes, sources, sketch) => {
        const b = (start - this.start) / this.binSeconds;
        if (start !== lastStart) {
          lastStart = start;
          const edge = sketch !== null;
          if (owner[b] >= 0 && !(edge && edgeOwned[b])) {
            throw new DataError(
              `bin ${iso(start)} is also in ${this.#paths[owner[b]]}, inside one of the two ` +
                `runs: the inputs overlap`,
              { file: this.#paths[f] },
            );
          }
          owner[b] = f;
          edgeOwned[b] = edge ? 1 : 0;
          this.gap[b] = 0;
        }
        const id = ids[key];
        this.packetTotals[id] += packets;
        if (sketch === null) {
          this.#sources[id][b] = sources;
          return;
        }
        let m = edges.get(b);
        if (!m) edges.set(b, m = new Map());
        const c = m.get(id);
        if (!c) m.set(id, { runs: 1, sources, sketch });
        else {
          c.runs++;
          c.sketch.merge(sketch);
        }
      });
    }
    // One run's count is exact; several runs' is their union's (exact while the sketch is).
    for (const [b, m] of edges) {
      for (const [id, c] of m) this.#sources[id][b] = c.runs === 1 ? c.sources : c.sketch.count;
    }
  }

  /** Unique sources per bin of a series (0 where it had none), or undefined. */
  sourcesOf(key: string): Uint32Array | undefined {
    const id = this.#ids.get(key);
    return id === undefined ? undefined : this.#sources[id];
  }

  /** Packets and bytes per bin of the series named (a second pass over the files). */
  async volumes(
    keys: string[],
  ): Promise<Map<string, { packets: Float64Array; bytes: Float64Array }>> {
    const out = new Map<string, { packets: Float64Array; bytes: Float64Array }>();
    const wanted = new Map<number, { packets: Float64Array; bytes: Float64Array }>();
    for (const k of keys) {
      const id = this.#ids.get(k);
      if (id === undefined || wanted.has(id)) continue;
      const v = { packets: new Float64Array(this.bins), bytes: new Float64Array(this.bins) };
      wanted.set(id, v);
      out.set(k, v);
    }
    for (let f = 0; f < this.#paths.length; f++) {
      const file = await this.#file(f);
      const ids = file.header.keys.map((k) => this.#ids.get(k)!);
      file.forEachCell((start, key, packets, bytes) => {
        const v = wanted.get(ids[key]);
        if (!v) return;
        const b = (start - this.start) / this.binSeconds;
        v.packets[b] += packets;
        v.bytes[b] += bytes;
      });
    }
    return out;
  }

  /** Start of bin `i`, seconds. */
  binStart(i: number): number {
    return this.start + i * this.binSeconds;
  }
}

/** A time in seconds as RFC 3339 UTC, `Z`, without fractions when whole. */
export function iso(sec: number): string {
  return new Date(sec * 1000).toISOString().replace(".000Z", "Z");
}

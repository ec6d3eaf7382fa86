/**
 * The series file (`parse --seriesout`): one run's signal series in the state container
 * (magic `DNSERIES`, version, CRC-32, gzip; written atomically). The payload is a u32 length
 * and a JSON header (bin width, splits, first and last packet time, the series keys), then one
 * record per bin, ascending: f64 start (seconds), u8 edge, u32 cells, and per cell u32 key
 * number, f64 packets, f64 bytes, u32 unique sources and — in an edge bin (the run's first and
 * last, which another run's packets may share) — the cell's {@link SourceSketch}. Little-endian.
 * Every field is checked on reading; a file is refused with one line naming it and the problem.
 *
 * @module
 */

import { DataError } from "../errors.ts";
import { packState, unpackState } from "../state/state_container.ts";
import { SourceSketch } from "./source_sketch.ts";

const MAGIC = "DNSERIES";
const VERSION = 1;
const TOOL = "darknet-events signal series";

/** One series of one bin. */
export interface SeriesCell {
  /** Packets. */
  packets: number;
  /** Bytes (captured frame lengths, as events count them). */
  bytes: number;
  /** Unique sources (exact up to the sketch's limit). */
  sources: number;
  /** The sources themselves, while another run's may still be united with them. */
  sketch: SourceSketch | null;
}

/** One bin of a run. */
export interface SeriesBin {
  /** Bin start, Unix seconds. */
  start: number;
  /** Whether it is the run's first or last bin (kept with sketches). */
  edge: boolean;
  /** Series key → cell; `total` in every bin. */
  cells: Map<string, SeriesCell>;
}

/** What a series file says about its run. */
export interface SeriesHeader {
  /** Bin width, seconds. */
  binSeconds: number;
  /** The splits the run kept. */
  dims: readonly string[];
  /** First packet time (seconds; null when the run saw none). */
  firstPacket: number | null;
  /** Last packet time (seconds; null when the run saw none). */
  lastPacket: number | null;
  /** Packets for a bin already closed (more than a bin out of order): in no bin. */
  late: number;
  /** Series keys, numbered by position. */
  keys: string[];
  /** Bins in the file. */
  bins: number;
  /** Start of the first bin (null without bins). */
  firstBin: number | null;
  /** Start of the last bin (null without bins). */
  lastBin: number | null;
}

/** A run's series, as {@link writeSeriesFile} takes it. */
export interface SeriesRun {
  /** Bin width, seconds. */
  binSeconds: number;
  /** The splits kept. */
  dims: readonly string[];
  /** First packet time (seconds; NaN: none). */
  firstPacket: number;
  /** Last packet time (seconds; NaN: none). */
  lastPacket: number;
  /** Packets for bins already closed, in no bin. */
  late: number;
  /** The closed bins, ascending. */
  bins: SeriesBin[];
}

/**
 * A run's series as a series file's bytes.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { readSeriesFile, writeSeriesFile } from "./series_file.ts";
 * const cells = new Map([["total", { packets: 5, bytes: 300, sources: 2, sketch: null }]]);
 * const bytes = writeSeriesFile({
 *   binSeconds: 300, dims: [], firstPacket: 600, lastPacket: 899, late: 0,
 *   bins: [{ start: 600, edge: false, cells }],
 * });
 * const f = readSeriesFile(bytes, "s.series");
 * let n = 0;
 * f.forEachCell((start, key, packets) => (n += packets, equal(f.header.keys[key], "total")));
 * equal(n, 5);
 * ```
 */
export function writeSeriesFile(run: SeriesRun): Uint8Array {
  // Keys numbered in sorted order (`total` first): the bytes follow from the counts alone, not
  // from the order the counting met the series in.
  const all = new Set<string>();
  for (const b of run.bins) for (const k of b.cells.keys()) all.add(k);
  const sorted = [...all].sort((a, b) =>
    a === "total" ? -1 : b === "total" ? 1 : a < b ? -1 : a > b ? 1 : 0
  );
  const keyNo = new Map(sorted.map((k, i) => [k, i]));
  const w = new SeriesFileWriter(run.binSeconds, run.dims, [...keyNo.keys()]);
  for (const b of run.bins) {
    const edge = b.edge && [...b.cells.values()].every((c) => c.sketch);
    w.bin(b.start, b.cells.size, edge);
    // Cells in key order, so that equal runs give equal bytes.
    const cells = [...b.cells].sort((x, y) => keyNo.get(x[0])! - keyNo.get(y[0])!);
    for (const [k, c] of cells) {
      w.cell(keyNo.get(k)!, c.packets, c.bytes, c.sources, edge ? c.sketch : null);
    }
  }
  return w.finish(run.firstPacket, run.lastPacket, run.late);
}

/**
 * Writes a series file bin by bin (what {@link writeSeriesFile} and the generators of tests and
 * benchmarks use): `bin` announces a bin and its number of cells, `cell` gives each.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { readSeriesFile, SeriesFileWriter } from "./series_file.ts";
 * const w = new SeriesFileWriter(300, [], ["total"]);
 * w.bin(0, 1);
 * w.cell(0, 10, 600, 3);
 * equal(readSeriesFile(w.finish(0, 299), "x").header.bins, 1);
 * ```
 */
export class SeriesFileWriter {
  readonly #binSeconds: number;
  readonly #dims: readonly string[];
  readonly #keys: string[];
  #buf = new Uint8Array(1 << 16);
  #v = new DataView(this.#buf.buffer);
  #o = 0;
  #bins = 0;
  #first: number | null = null;
  #last: number | null = null;
  #left = 0;
  #edge = false;

  /** A file of bins `binSeconds` wide, with these splits and series keys. */
  constructor(binSeconds: number, dims: readonly string[], keys: string[]) {
    this.#binSeconds = binSeconds;
    this.#dims = dims;
    this.#keys = keys;
  }

  #room(n: number): void {
    if (this.#o + n <= this.#buf.length) return;
    const b = new Uint8Array(Math.max(this.#buf.length * 2, this.#o + n));
    b.set(this.#buf.subarray(0, this.#o));
    this.#buf = b;
    this.#v = new DataView(b.buffer);
  }

  /** Starts a bin (after the last) of `cells` cells; an edge bin's cells carry sketches. */
  bin(start: number, cells: number, edge = false): void {
    if (this.#left !== 0) throw new Error("the last bin is missing cells");
    if (this.#last !== null && start <= this.#last) throw new Error("bins out of order");
    this.#room(13);
    this.#v.setFloat64(this.#o, start, true);
    this.#v.setUint8(this.#o + 8, edge ? 1 : 0);
    this.#v.setUint32(this.#o + 9, cells, true);
    this.#o += 13;
    this.#bins++;
    this.#first ??= start;
    this.#last = start;
    this.#left = cells;
    this.#edge = edge;
  }

  /** One cell of the bin: key number, packets, bytes, unique sources (and the sketch). */
  cell(
    key: number,
    packets: number,
    bytes: number,
    sources: number,
    sketch: SourceSketch | null = null,
  ): void {
    if (this.#left-- <= 0) throw new Error("more cells than the bin announced");
    if (this.#edge !== (sketch !== null)) throw new Error("an edge bin's cells need sketches");
    this.#room(24 + (sketch ? sketch.byteLength : 0));
    const v = this.#v;
    const o = this.#o;
    v.setUint32(o, key, true);
    v.setFloat64(o + 4, packets, true);
    v.setFloat64(o + 12, bytes, true);
    v.setUint32(o + 20, sources, true);
    this.#o = sketch ? sketch.write(v, o + 24) : o + 24;
  }

  /** The file's bytes, with the run's first and last packet time (NaN: none). */
  finish(firstPacket: number, lastPacket: number, late = 0): Uint8Array {
    if (this.#left !== 0) throw new Error("the last bin is missing cells");
    const header: SeriesHeader & { tool: string } = {
      tool: TOOL,
      binSeconds: this.#binSeconds,
      dims: this.#dims,
      firstPacket: Number.isNaN(firstPacket) ? null : firstPacket,
      lastPacket: Number.isNaN(lastPacket) ? null : lastPacket,
      late,
      keys: this.#keys,
      bins: this.#bins,
      firstBin: this.#first,
      lastBin: this.#last,
    };
    const head = new TextEncoder().encode(JSON.stringify(header));
    const out = new Uint8Array(4 + head.length + this.#o);
    new DataView(out.buffer).setUint32(0, head.length, true);
    out.set(head, 4);
    out.set(this.#buf.subarray(0, this.#o), 4 + head.length);
    return packState(MAGIC, VERSION, out);
  }
}

/** A series file read and checked, its bins read on demand. */
export interface SeriesFile {
  /** The header, checked. */
  header: SeriesHeader;
  /**
   * Calls `cell` for every cell, bins ascending: the bin start, the key's number in
   * `header.keys`, packets, bytes, unique sources, and in an edge bin its sketch (else null).
   * Throws a `DataError` naming the file and byte offset for anything impossible.
   */
  forEachCell(
    cell: (
      start: number,
      key: number,
      packets: number,
      bytes: number,
      sources: number,
      sketch: SourceSketch | null,
    ) => void,
  ): void;
}

/**
 * Checks a series file's container and header; its cells are read by `forEachCell`.
 * Throws a `DataError` naming `file`.
 */
export function readSeriesFile(bytes: Uint8Array, file: string): SeriesFile {
  const p = unpackState(bytes, MAGIC, VERSION, file);
  const v = new DataView(p.buffer, p.byteOffset, p.byteLength);
  // Offsets are into the uncompressed payload (the file is gzip).
  const bad = (msg: string, offset?: number) =>
    new DataError(offset === undefined ? msg : `${msg} (payload byte ${offset})`, { file });
  if (p.length < 4) throw bad("series file: no header");
  const hl = v.getUint32(0, true);
  if (hl > p.length - 4) throw bad("series file: the header is cut short", 0);
  let h: SeriesHeader & { tool?: string };
  try {
    h = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(p.subarray(4, 4 + hl)));
  } catch {
    throw bad("series file: the header is not JSON", 4);
  }
  const time = (x: unknown) => x === null || (typeof x === "number" && Number.isFinite(x));
  if (
    h?.tool !== TOOL || !Number.isInteger(h.binSeconds) || h.binSeconds < 1 ||
    !Array.isArray(h.keys) || !h.keys.every((k) => typeof k === "string") ||
    !Array.isArray(h.dims) || !Number.isInteger(h.bins) || h.bins < 0 ||
    !time(h.firstPacket) || !time(h.lastPacket) || !Number.isInteger(h.late) || h.late < 0 ||
    !time(h.firstBin) || !time(h.lastBin) || (h.bins > 0) !== (h.firstBin !== null) ||
    (h.firstBin !== null && (h.lastBin === null || h.lastBin < h.firstBin))
  ) {
    throw bad("not a series file of this tool (parse --seriesout)", 4);
  }
  if (new Set(h.keys).size !== h.keys.length) throw bad("series file: a key appears twice", 4);
  const header: SeriesHeader = {
    binSeconds: h.binSeconds,
    dims: h.dims,
    firstPacket: h.firstPacket,
    lastPacket: h.lastPacket,
    late: h.late,
    keys: h.keys,
    bins: h.bins,
    firstBin: h.firstBin,
    lastBin: h.lastBin,
  };
  return {
    header,
    forEachCell(cell) {
      const seen = new Int32Array(header.keys.length).fill(-1);
      let o = 4 + hl;
      let prev = -Infinity;
      for (let b = 0; b < header.bins; b++) {
        if (o + 13 > p.length) throw bad("series file: a bin is cut short", o);
        const start = v.getFloat64(o, true);
        const edge = v.getUint8(o + 8);
        const n = v.getUint32(o + 9, true);
        if (
          !Number.isInteger(start) || start % header.binSeconds !== 0 || start <= prev ||
          start < header.firstBin! || start > header.lastBin!
        ) {
          throw bad(`series file: bin start ${start} is not after the last on a bin boundary`, o);
        }
        if (edge > 1 || n > header.keys.length) throw bad("series file: a bad bin record", o);
        prev = start;
        o += 13;
        for (let c = 0; c < n; c++) {
          if (o + 24 > p.length) throw bad("series file: a cell is cut short", o);
          const key = v.getUint32(o, true);
          const packets = v.getFloat64(o + 4, true);
          const bytes = v.getFloat64(o + 12, true);
          const sources = v.getUint32(o + 20, true);
          if (
            key >= header.keys.length || seen[key] === b || !Number.isSafeInteger(packets) ||
            !Number.isSafeInteger(bytes) || packets < 1 || bytes < 0 || sources > packets ||
            sources < 1
          ) {
            throw bad("series file: an impossible cell (key, packets, bytes or sources)", o);
          }
          seen[key] = b;
          o += 24;
          let sketch: SourceSketch | null = null;
          if (edge) {
            try {
              [sketch, o] = SourceSketch.read(v, o);
            } catch (e) {
              throw bad(`series file: ${(e as Error).message}`, o);
            }
            if (sketch.exact && sketch.count !== sources) {
              throw bad("series file: a cell's sources disagree with its sketch", o);
            }
          }
          cell(start, key, packets, bytes, sources, sketch);
        }
      }
      if (o !== p.length) throw bad("series file: bytes after the last bin", o);
    },
  };
}

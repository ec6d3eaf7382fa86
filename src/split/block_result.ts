/**
 * A block result: what the map step of a split run (`parse --map DIR`) leaves for the merge step
 * (`parse --merge`), as a folder any scheduler can move — written under a temporary name and
 * renamed into place, so it is whole or absent:
 *
 * | file            | holds                                                                                      |
 * | --------------- | ------------------------------------------------------------------------------------------ |
 * | `block.json`    | format version, settings, enrichment flags, inputs, first packet, clock, counters, SHA-256s |
 * | `events.ndjson` | the block's own events (enriched), one per line, in event order                             |
 * | `events.index`  | per event 40 bytes: Last (f64 s, u32 ns), first-event flag, IP version, key (5 u32), length |
 * | `heads.state`   | its first events that ended in it, whole (a state file, gzip level 0: stored)              |
 * | `tails.state`   | its events open at its end (a state file, stored)                                          |
| `dos.json`      | with `--dos`: its DoS reports, open and first vectors (`DosVictims.saveState`), counts      |
| `stats.bin`     | with `--stats`: its packet statistics (`PacketStats.save`)                                  |
| `sources.bin`   | with `--sources`: per event written, what a per-source roll-up takes (destinations too)     |
 *
 * The merge checks the version, every checksum and that every block was made with the same
 * settings before reading one event.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { DataError, ioError, UsageError } from "../errors.ts";
import type { AggregatorClock, AggregatorStats } from "../aggregation/event_aggregator.ts";
import type { DosOptions, DosReport, DosState } from "../dos/dos_victims.ts";

/** The block format's version (`block.json`'s `version`). */
export const BLOCK_VERSION = 1;

/** Bytes per event in `events.index`. */
export const INDEX_ENTRY = 40;

/** The settings every block of a run and its merge must share. */
export interface BlockSettings {
  /** `--timeout`, seconds. */
  timeout: number;
  /** Telescope size in addresses. */
  telescopeSize: number;
  /** `--samples`. */
  samples: number;
  /** `--seed`. */
  seed: number;
  /** `--threshold`. */
  threshold: number;
  /** `--uniques`. */
  uniques: number;
  /** `--rate`. */
  rate: number;
  /** `--exclude-tags` (tag bits). */
  excludeTags: number;
  /** The enrichment flags (databases, DNS, known scanners), as given. */
  enrichment: string;
  /** The DoS analysis's settings, when the block holds it (`dos.json`). */
  dos?: DosOptions;
  /** Whether the block holds its packet statistics (`stats.bin`). */
  stats?: boolean;
  /** Whether the block holds its events' roll-up records (`sources.bin`). */
  sources?: boolean;
}

/** `dos.json`: a map step's DoS analysis. */
export interface BlockDos {
  /** Reports of the vectors that ended in the block and did not start near its first packet. */
  reports: DosReport[];
  /** Its open vectors, and those that started near its first packet and ended (`heads`). */
  state: DosState;
  /** Backscatter packets. */
  backscatter: number;
  /** Vectors it reported. */
  reported: number;
  /** Vectors that ended below the thresholds. */
  belowThresholds: number;
}

/** `block.json`. */
export interface BlockHeader {
  /** Always "darknet-events". */
  tool: "darknet-events";
  /** Always "block". */
  kind: "block";
  /** {@link BLOCK_VERSION} of the build that wrote it. */
  version: number;
  /** The settings it was made with. */
  settings: BlockSettings;
  /** Its captures, in order. */
  inputs: string[];
  /** The block's first packet, [sec, nsec], or null for a block without packets. */
  first: [number, number] | null;
  /** The latest start of a first event (first packet + timeout), or null. */
  headLimit: [number, number] | null;
  /** Its clock at the end (latest packet, last sweep), or null. */
  clock: AggregatorClock | null;
  /** The map step's counters (packets, events ended and filtered, …). */
  stats: AggregatorStats;
  /** Events in events.ndjson. */
  events: number;
  /** SHA-256 (hex) of each other file. */
  sha256: Record<string, string>;
}

const FILES = ["events.ndjson", "events.index", "heads.state", "tails.state"] as const;

/** The files a block result folder holds only with `--dos` and `--stats`. */
export const OPTIONAL_BLOCK_FILES: readonly string[] = ["dos.json", "stats.bin", "sources.bin"];

/** The files of a block result folder (the optional ones last). */
export const BLOCK_FILES: readonly string[] = ["block.json", ...FILES, ...OPTIONAL_BLOCK_FILES];

/**
 * Writes a block result: events as they come, then the rest at `finish`.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { BlockWriter, readBlock } from "./block_result.ts";
 * import { EventAggregator } from "../aggregation/event_aggregator.ts";
 * import { encodeState } from "../state/state_file.ts";
 * const dir = `${Deno.makeTempDirSync()}/block`;
 * const w = await BlockWriter.create(dir);
 * w.add(new TextEncoder().encode('{"SourceIP":"192.0.2.1"}\n'), 100, 0, Uint32Array.of(1, 2), true);
 * const empty = encodeState(new EventAggregator());
 * const settings = {
 *   timeout: 624, telescopeSize: 475136, samples: 0, seed: 1, threshold: 0, uniques: 0, rate: 0,
 *   excludeTags: 0, enrichment: "[]",
 * };
 * const stats = {
 *   packets: 1, ipPackets: 1, outOfOrder: 0, eventsEnded: 1, eventsFiltered: 0,
 *   implausibleTime: 0, excludedByTags: 0,
 * };
 * await w.finish(
 *   { settings, inputs: [], first: [100, 0], headLimit: [724, 0], clock: null, stats },
 *   empty,
 *   empty,
 * );
 * const b = await readBlock(dir); // checksums checked
 * equal(b.header.events, 1);
 * equal(b.index.getFloat64(0, true), 100);
 * ```
 */
export class BlockWriter {
  /** Where the result goes (it exists only once `finish` renamed it there). */
  readonly dir: string;
  readonly #tmp: string;
  readonly #events: Deno.FsFile;
  readonly #hash = createHash("sha256");
  #index = new Uint8Array(INDEX_ENTRY * 1024);
  #indexDv = new DataView(this.#index.buffer);
  #count = 0;
  // Lines gathered and written a megabyte at a time (not a write per event).
  readonly #buf = new Uint8Array(1 << 20);
  #used = 0;
  // sources.bin (opened by the first record): its file, hash and pending bytes.
  #sources: {
    file: Deno.FsFile;
    hash: ReturnType<typeof createHash>;
    parts: Uint8Array[];
    n: number;
  } | null = null;

  private constructor(dir: string, tmp: string, events: Deno.FsFile) {
    this.dir = dir;
    this.#tmp = tmp;
    this.#events = events;
  }

  /** Starts a block result at `dir` (which must not exist). */
  static async create(dir: string): Promise<BlockWriter> {
    try {
      await Deno.lstat(dir);
      throw new UsageError(`--map ${dir}: exists already (a block result is never overwritten)`);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) {
        if (e instanceof UsageError) throw e;
        throw ioError(e, dir);
      }
    }
    const slash = dir.replace(/\/+$/, "").lastIndexOf("/");
    const base = dir.replace(/\/+$/, "");
    const tmp = `${base.slice(0, slash + 1)}.${base.slice(slash + 1)}.${crypto.randomUUID()}.tmp`;
    try {
      await Deno.mkdir(tmp);
      const f = await Deno.open(`${tmp}/events.ndjson`, { write: true, createNew: true });
      return new BlockWriter(base, tmp, f);
    } catch (e) {
      throw ioError(e, dir);
    }
  }

  /** One event: its NDJSON line (newline included), Last, key words and whether it is a first event. */
  add(line: Uint8Array, lastSec: number, lastNsec: number, key: Uint32Array, head: boolean): void {
    if (this.#used + line.length > this.#buf.length) this.#drain();
    if (line.length > this.#buf.length) this.#write(line);
    else {
      this.#buf.set(line, this.#used);
      this.#used += line.length;
    }
    if ((this.#count + 1) * INDEX_ENTRY > this.#index.length) {
      const grown = new Uint8Array(this.#index.length * 2);
      grown.set(this.#index);
      this.#index = grown;
      this.#indexDv = new DataView(grown.buffer);
    }
    const dv = this.#indexDv;
    const p = this.#count++ * INDEX_ENTRY;
    dv.setFloat64(p, lastSec, true);
    dv.setUint32(p + 8, lastNsec, true);
    dv.setUint8(p + 12, head ? 1 : 0);
    dv.setUint8(p + 13, key.length === 5 ? 6 : 4);
    for (let k = 0; k < 5; k++) dv.setUint32(p + 16 + 4 * k, k < key.length ? key[k] : 0, true);
    dv.setUint32(p + 36, line.length, true);
  }

  /** An event's roll-up record (`sources/_source_record.ts`), in the order of its line. */
  addSource(record: Uint8Array): void {
    const s = this.#sources ??= {
      file: Deno.openSync(`${this.#tmp}/sources.bin`, { write: true, createNew: true }),
      hash: createHash("sha256"),
      parts: [],
      n: 0,
    };
    s.parts.push(record);
    s.n += record.length;
    if (s.n >= 1 << 20) this.#drainSources();
  }

  #drainSources(): void {
    const s = this.#sources;
    if (!s || s.n === 0) return;
    const all = new Uint8Array(s.n);
    let o = 0;
    for (const p of s.parts) {
      all.set(p, o);
      o += p.length;
    }
    try {
      for (let k = 0; k < all.length;) k += s.file.writeSync(all.subarray(k));
    } catch (e) {
      throw ioError(e, `${this.dir}/sources.bin`);
    }
    s.hash.update(all);
    s.parts = [];
    s.n = 0;
  }

  #drain(): void {
    this.#write(this.#buf.subarray(0, this.#used));
    this.#used = 0;
  }

  #write(bytes: Uint8Array): void {
    try {
      let o = 0;
      while (o < bytes.length) o += this.#events.writeSync(bytes.subarray(o));
    } catch (e) {
      throw ioError(e, `${this.dir}/events.ndjson`);
    }
    this.#hash.update(bytes);
  }

  /** Writes the rest and renames the folder into place. */
  async finish(
    header: Omit<BlockHeader, "tool" | "kind" | "version" | "events" | "sha256">,
    heads: Uint8Array,
    tails: Uint8Array,
    extra: { dos?: BlockDos; stats?: Uint8Array } = {},
  ): Promise<void> {
    try {
      const dosBytes = extra.dos && new TextEncoder().encode(`${JSON.stringify(extra.dos)}\n`);
      const stats = extra.stats;
      this.#drainSources();
      this.#sources?.file.syncSync();
      this.#sources?.file.close();
      this.#drain();
      this.#events.syncSync();
      this.#events.close();
      const index = this.#index.subarray(0, this.#count * INDEX_ENTRY);
      const sha256: Record<string, string> = {
        "events.ndjson": this.#hash.digest("hex"),
        "events.index": sha(index),
        "heads.state": sha(heads),
        "tails.state": sha(tails),
        ...(dosBytes ? { "dos.json": sha(dosBytes) } : {}),
        ...(stats ? { "stats.bin": sha(stats) } : {}),
        ...(this.#sources ? { "sources.bin": this.#sources.hash.digest("hex") } : {}),
      };
      if (dosBytes) await Deno.writeFile(`${this.#tmp}/dos.json`, dosBytes);
      if (stats) await Deno.writeFile(`${this.#tmp}/stats.bin`, stats);
      await Deno.writeFile(`${this.#tmp}/events.index`, index);
      await Deno.writeFile(`${this.#tmp}/heads.state`, heads);
      await Deno.writeFile(`${this.#tmp}/tails.state`, tails);
      const full: BlockHeader = {
        tool: "darknet-events",
        kind: "block",
        version: BLOCK_VERSION,
        ...header,
        events: this.#count,
        sha256,
      };
      await Deno.writeTextFile(`${this.#tmp}/block.json`, `${JSON.stringify(full, null, 1)}\n`);
      await Deno.rename(this.#tmp, this.dir);
    } catch (e) {
      this.abort();
      throw ioError(e, this.dir);
    }
  }

  /** Gives up: removes the temporary folder. */
  abort(): void {
    try {
      this.#events.close();
    } catch { /* closed */ }
    try {
      this.#sources?.file.close();
    } catch { /* closed */ }
    try {
      Deno.removeSync(this.#tmp, { recursive: true });
    } catch { /* gone */ }
  }
}

function sha(b: Uint8Array): string {
  return createHash("sha256").update(b).digest("hex");
}

/** A block result read back and checked. */
export interface Block {
  /** Its folder. */
  dir: string;
  /** Its block.json. */
  header: BlockHeader;
  /** events.index. */
  index: DataView;
  /** Path of heads.state. */
  heads: string;
  /** Path of tails.state. */
  tails: string;
  /** Path of events.ndjson. */
  events: string;
  /** Path of dos.json, when the block holds the DoS analysis. */
  dos?: string;
  /** Path of stats.bin, when the block holds its packet statistics. */
  stats?: string;
  /** Path of sources.bin, when the block holds its events' roll-up records. */
  sources?: string;
}

/**
 * Reads `dir`'s `block.json` and index and checks the version and every file's SHA-256
 * (reading each once). Throws a `DataError` naming the file, or an `IoError`.
 */
export async function readBlock(dir: string): Promise<Block> {
  const path = `${dir}/block.json`;
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    throw ioError(e, path);
  }
  let h: BlockHeader;
  try {
    h = JSON.parse(text);
  } catch {
    throw new DataError("not a block result (block.json is not JSON)", { file: path });
  }
  if (h?.tool !== "darknet-events" || h.kind !== "block") {
    throw new DataError("not a block result of darknet-events", { file: path });
  }
  if (h.version !== BLOCK_VERSION) {
    throw new DataError(`block format ${h.version}; this build reads ${BLOCK_VERSION}`, {
      file: path,
    });
  }
  const has = (f: string) => h.sha256 !== null && typeof h.sha256 === "object" && f in h.sha256;
  const hasDos = has("dos.json");
  const hasStats = has("stats.bin");
  const hasSources = has("sources.bin");
  const optional = OPTIONAL_BLOCK_FILES.filter(has);
  for (const f of [...FILES, ...optional]) {
    const p = `${dir}/${f}`;
    const hash = createHash("sha256");
    let file: Deno.FsFile;
    try {
      file = await Deno.open(p);
    } catch (e) {
      throw ioError(e, p);
    }
    try {
      const buf = new Uint8Array(1 << 20);
      for (;;) {
        const n = await file.read(buf);
        if (n === null) break;
        hash.update(buf.subarray(0, n));
      }
    } catch (e) {
      throw ioError(e, p);
    } finally {
      file.close();
    }
    if (hash.digest("hex") !== h.sha256?.[f]) {
      throw new DataError("checksum mismatch: the block result is damaged", { file: p });
    }
  }
  const idx = await Deno.readFile(`${dir}/events.index`);
  if (idx.length !== h.events * INDEX_ENTRY) {
    throw new DataError(`${idx.length} index bytes for ${h.events} events`, {
      file: `${dir}/events.index`,
    });
  }
  return {
    dir,
    header: h,
    index: new DataView(idx.buffer, idx.byteOffset, idx.byteLength),
    heads: `${dir}/heads.state`,
    tails: `${dir}/tails.state`,
    events: `${dir}/events.ndjson`,
    ...(hasDos ? { dos: `${dir}/dos.json` } : {}),
    ...(hasStats ? { stats: `${dir}/stats.bin` } : {}),
    ...(hasSources ? { sources: `${dir}/sources.bin` } : {}),
  };
}

/** A block's `dos.json`, read and checked for its shape (its checksum was, by readBlock). */
export async function readBlockDos(b: Block): Promise<BlockDos> {
  const path = b.dos!;
  let d: BlockDos;
  try {
    d = JSON.parse(await Deno.readTextFile(path));
  } catch (e) {
    if (e instanceof SyntaxError) throw new DataError("dos.json is not JSON", { file: path });
    throw ioError(e, path);
  }
  const n = (x: unknown) => typeof x === "number" && Number.isSafeInteger(x) && x >= 0;
  if (
    typeof d !== "object" || d === null || !Array.isArray(d.reports) ||
    typeof d.state !== "object" || d.state === null || !n(d.backscatter) || !n(d.reported) ||
    !n(d.belowThresholds) ||
    !d.reports.every((r) =>
      typeof r === "object" && r !== null && typeof r.First === "string" &&
      typeof r.Victim === "string" && typeof r.Protocol === "string"
    )
  ) throw new DataError("dos.json: not a block's DoS analysis", { file: path });
  return d;
}

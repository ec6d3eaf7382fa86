/**
 * Packet-level signals per time bin (`parse --seriesout`, `timeseries --pcap`): packets, bytes
 * and unique source addresses, overall and per traffic type, port, tool, traffic tag, country,
 * region and AS — the telescope signals IODA and CAIDA's dashboards watch for outages.
 *
 * Per packet it costs one typed-array hash insert: a bin's distinct (source, class) pairs, the
 * class being the traffic type, tags, tools (and port). A bin closes when a packet two bins
 * later comes (or at the end of input): its pairs are taken in source order, each source looked
 * up once (country, region, AS) and counted once in every series it belongs to — exact counts. The
 * run's first and last bins keep their tables, from which each series' {@link SourceSketch} is
 * made when the file is written: another run's packets may fall in those bins too, and
 * `timeseries` unites the runs there (exact up to the sketch's limit). A packet for a bin
 * already closed (more than a bin out of order) is late: counted apart (the file's `late`), in
 * no bin.
 *
 * @module
 */

import type { Analyzer } from "../analysis/analyzer.ts";
import type { PacketBatch } from "../decode/packet_batch.ts";
import { TRAFFIC_COUNT, trafficName } from "../decode/traffic.ts";
import { TOOLS } from "../attribution/tools.ts";
import { tagPackets } from "../attribution/tag_packets.ts";
import { Tag, TAGS } from "../tags/traffic_tags.ts";
import { growF64, KeyTable } from "../util/key_table.ts";
import { PairTable } from "./_pair_table.ts";
import { keyOf4, keyOf6, SourceSketch } from "./source_sketch.ts";
import { type SeriesBin, type SeriesCell, writeSeriesFile } from "./series_file.ts";

/** The ways a signal is split, besides the total. */
export const SERIES_DIMS = ["traffic", "port", "tool", "tag", "country", "region", "asn"] as const;
/** One of {@link SERIES_DIMS}. */
export type SeriesDim = typeof SERIES_DIMS[number];
/** The splits kept unless told otherwise (`port` makes many series). */
export const DEFAULT_SERIES_DIMS: readonly SeriesDim[] = [
  "traffic",
  "tool",
  "tag",
  "country",
  "region",
  "asn",
];

/** A source's country (ISO code, "" unknown) and AS number (0 unknown). */
export interface SourcePlace {
  /** ISO country code, "" when unknown. */
  country: string;
  /** AS number, 0 when unknown. */
  asn: number;
  /** Region (ISO 3166-2 subdivision code without the country, e.g. "ENG"), "" when unknown. */
  region?: string;
}

/**
 * Where a source is: `v6` null for an IPv4 source `v4`, else 16 bytes at `off` of `v6`.
 * Called once per distinct source per bin.
 */
export type SourceLookup = (v4: number, v6: Uint8Array | null, off: number) => SourcePlace;

/** Options of {@link SignalSeries}. */
export interface SignalSeriesOptions {
  /**
   * Bin width in seconds (a whole number ≥ 1).
   * @default {300}
   */
  binSeconds?: number;
  /**
   * The splits kept. `country` and `asn` need `lookup`; `port` adds a series per traffic type
   * and port (many).
   * @default {["traffic", "tool", "tag", "country", "asn"]}
   */
  dims?: readonly SeriesDim[];
  /** Country and AS of a source (without it, no country or AS series). */
  lookup?: SourceLookup;
}

// One open bin: its distinct (source, class) pairs with their packets and bytes.
class OpenBin {
  readonly t4: PairTable;
  readonly t6 = new KeyTable(5, 16);
  // Packets and bytes of IPv6 entry e at [2e] and [2e + 1].
  pb6 = new Float64Array(32);
  // Sized for `hint` pairs (the last bin's): a table grown from small rehashes all the way up.
  constructor(hint: number) {
    this.t4 = new PairTable(hint);
  }
}

// A cell while its bin closes: `seen` is the number of the last source counted in it.
type Cell = SeriesCell & { seen: number };

// A closed bin's series (key → cell), and its table (with its sources' places) while it may
// be the run's first or last.
interface ClosedBin {
  cells: Map<string, Cell>;
  table: OpenBin | null;
  places: (SourcePlace | undefined)[];
}

const TRAFFIC_KEYS = Array.from({ length: TRAFFIC_COUNT }, (_, k) => `traffic=${trafficName(k)}`);
const TOOL_KEYS = TOOLS.map((t) => `tool=${t.name}`);
const TAG_KEYS = TAGS.map((t) => `tag=${t}`);
// IODA's telescope signal counts sources of traffic neither spoofed nor erratic.
const NOT_CLEAN = Tag.spoofed | Tag.erratic;

/**
 * Packets, bytes and unique sources per bin and series.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { SignalSeries } from "./signal_series.ts";
 * import { captureBatches } from "../capture/open_capture.ts";
 * const s = new SignalSeries({ binSeconds: 600 });
 * for await (const b of await captureBatches(["testdata/demo/scan.pcap.gz"])) s.add(b);
 * s.endInterval(Infinity);
 * const bins = s.result();
 * equal(bins.length, 6);
 * equal(bins.reduce((n, b) => n + b.cells.get("total")!.packets, 0), 20000);
 * ```
 */
export class SignalSeries implements Analyzer<SeriesBin[]> {
  /** The analyzer's name. */
  readonly name = "signal-series";
  /** Bin width in seconds. */
  readonly binSeconds: number;
  /** The splits kept (country and AS only with a lookup). */
  readonly dims: readonly SeriesDim[];
  /** Packets for a bin already closed (more than a bin out of order): in no bin. */
  late = 0;
  /** Time of the first packet seen (seconds), NaN before any. */
  firstPacket: number = NaN;
  /** Time of the last packet seen (seconds), NaN before any. */
  lastPacket: number = NaN;
  readonly #lookup?: SourceLookup;
  readonly #port: boolean;
  readonly #open = new Map<number, OpenBin>();
  readonly #closed = new Map<number, ClosedBin>();
  readonly #tabled = new Set<number>(); // closed bins that keep their table (first, last)
  readonly #drained = new Set<number>(); // bins written by drain()
  #curAbs = NaN;
  #cur: OpenBin | null = null;
  #maxAbs = -Infinity;
  #minAbs = Infinity;
  readonly #key = new Uint32Array(5);
  #hint = 0; // pairs of the largest bin closed
  readonly #k64 = new Uint32Array(2);

  /** An empty series. */
  constructor(options: SignalSeriesOptions = {}) {
    const bin = options.binSeconds ?? 300;
    if (!Number.isInteger(bin) || bin < 1) throw new RangeError(`bin width ${bin}`);
    this.binSeconds = bin;
    const dims = options.dims ?? DEFAULT_SERIES_DIMS;
    this.dims = dims.filter((d) =>
      options.lookup || (d !== "country" && d !== "region" && d !== "asn")
    );
    this.#lookup = options.lookup;
    this.#port = this.dims.includes("port");
  }

  /** Adds the IP packets of rows `from .. to-1` (every row by default). */
  add(b: PacketBatch, from = 0, to: number = b.length): void {
    if (!b.tagged) tagPackets(b);
    const bs = this.binSeconds;
    const { ipVersion, tsSec, traffic, tags, tools, capLen, src } = b;
    const port = this.#port;
    let first = this.firstPacket;
    let last = this.lastPacket;
    // The current bin's time range: no division a packet.
    let lo = this.#curAbs * bs;
    let hi = lo + bs;
    let bin = this.#cur;
    for (let i = from; i < to; i++) {
      const v = ipVersion[i];
      if (v === 0) continue;
      const t = tsSec[i];
      if (t < first) first = t;
      if (t > last) last = t;
      if (!(t >= lo && t < hi)) {
        this.#enter(Math.floor(t / bs));
        lo = this.#curAbs * bs;
        hi = lo + bs;
        bin = this.#cur;
        if (first !== first) first = last = t; // the first packet: NaN before
      }
      let cls = traffic[i] | ((tags[i] & 15) << 5) | (tools[i] << 9);
      if (port) cls = (cls | (b.port[i] << 16)) >>> 0;
      if (bin === null) {
        // A bin already closed (more than a bin out of order): whether its source is new there
        // cannot be told without the bin's table, so the packet is counted apart.
        this.late++;
        continue;
      }
      if (v === 4) {
        bin.t4.add(src[i], cls, capLen[i]);
      } else {
        const k = this.#key;
        k[0] = cls;
        const o = i << 4;
        const s6 = b.src6;
        for (let w = 0; w < 4; w++) {
          const p = o + w * 4;
          k[w + 1] = ((s6[p] << 24) | (s6[p + 1] << 16) | (s6[p + 2] << 8) | s6[p + 3]) >>> 0;
        }
        const e = bin.t6.add(k);
        const pb = 2 * e >= bin.pb6.length ? (bin.pb6 = growF64(bin.pb6, 4 * (e + 1))) : bin.pb6;
        pb[2 * e]++;
        pb[2 * e + 1] += capLen[i];
      }
    }
    this.firstPacket = first;
    this.lastPacket = last;
  }

  // A packet of bin `abs`: open it (closing bins two behind the newest), or, for a bin already
  // closed, no open bin (#cur null: the packet is late).
  #enter(abs: number): void {
    this.#curAbs = abs;
    if (abs < this.#minAbs) this.#minAbs = abs;
    if (this.#closed.has(abs) || this.#drained.has(abs)) {
      this.#cur = null;
      return;
    }
    let bin = this.#open.get(abs);
    if (!bin) this.#open.set(abs, bin = new OpenBin(this.#hint));
    this.#cur = bin;
    if (abs > this.#maxAbs) {
      this.#maxAbs = abs;
      for (const a of [...this.#open.keys()]) if (a < abs - 1) this.#close(a);
    }
  }

  // The series keys a (source, class) pair counts in that follow from its class alone.
  #classKeys(cls: number): string[] {
    const keys = ["total"];
    const traffic = cls & 31;
    for (const d of this.dims) {
      switch (d) {
        case "traffic":
          keys.push(TRAFFIC_KEYS[traffic]);
          break;
        case "port":
          keys.push(`port=${trafficName(traffic)}/${cls >>> 16}`);
          break;
        case "tool": {
          const tools = (cls >>> 9) & 0x7f;
          for (let k = 0; k < TOOL_KEYS.length; k++) if (tools & (1 << k)) keys.push(TOOL_KEYS[k]);
          break;
        }
        case "tag": {
          const tags = (cls >>> 5) & 15;
          for (let k = 0; k < TAG_KEYS.length; k++) if (tags & (1 << k)) keys.push(TAG_KEYS[k]);
          if ((tags & NOT_CLEAN) === 0) keys.push("tag=clean");
          break;
        }
      }
    }
    return keys;
  }

  // Counts a bin's (source, class) pairs in source order: each source looked up once and counted
  // once per series (`seen` numbers the source); with `sketches`, also into each series' sketch
  // (only the run's first and last bins need them: another run may share those bins). `known`:
  // the places of a first tally of the same bin, in source order.
  #tally(
    bin: OpenBin,
    sketches: boolean,
    known?: (SourcePlace | undefined)[],
  ): { cells: Map<string, Cell>; places: (SourcePlace | undefined)[] } {
    const cells = new Map<string, Cell>();
    const cell = (key: string) => {
      let c = cells.get(key);
      if (!c) {
        c = {
          packets: 0,
          bytes: 0,
          sources: 0,
          sketch: sketches ? new SourceSketch() : null,
          seen: 0,
        };
        cells.set(key, c);
      }
      return c;
    };
    // The cells of each class met, found once per bin instead of by key per pair.
    const byClass = new Map<number, Cell[]>();
    const country = this.dims.includes("country") && this.#lookup !== undefined;
    const region = this.dims.includes("region") && this.#lookup !== undefined;
    const asn = this.dims.includes("asn") && this.#lookup !== undefined;
    const k = this.#k64;
    let seen = 0;
    let places: Cell[] = [];
    const bump = (c: Cell, packets: number, bytes: number) => {
      c.packets += packets;
      c.bytes += bytes;
      if (c.seen !== seen) {
        c.seen = seen;
        c.sources++;
        c.sketch?.add(k[0], k[1]);
      }
    };
    const count = (cls: number, packets: number, bytes: number) => {
      let list = byClass.get(cls);
      if (!list) byClass.set(cls, list = this.#classKeys(cls).map(cell));
      for (const c of list) bump(c, packets, bytes);
      for (const c of places) bump(c, packets, bytes);
    };
    const placeCells = (p: SourcePlace | undefined) => {
      places = [];
      if (country) places.push(cell(`country=${p?.country || "??"}`));
      if (region) {
        places.push(cell(`region=${p?.country || "??"}-${p?.region || "??"}`));
      }
      if (asn) places.push(cell(`asn=${p?.asn ?? 0}`));
    };
    // Each source's place, looked up once: a bin tallied again (with sketches) reuses them.
    const looked: (SourcePlace | undefined)[] = [];
    const where = (v4: number, v6: Uint8Array | null) => {
      const p = known ? known[seen] : this.#lookup!(v4, v6, 0);
      looked[seen] = p;
      return p;
    };
    const p4 = bin.t4.sorted();
    for (let j = 0; j < p4.src.length; j++) {
      const src = p4.src[j];
      if (j === 0 || src !== p4.src[j - 1]) {
        seen++;
        keyOf4(src, k);
        if (country || region || asn) placeCells(where(src, null));
      }
      count(p4.cls[j], p4.packets[j], p4.bytes[j]);
    }
    const keys6 = bin.t6.keys;
    const cmp6 = (a: number, b: number) => {
      for (let w = 1; w < 5; w++) {
        const d = keys6[a * 5 + w] - keys6[b * 5 + w];
        if (d !== 0) return d;
      }
      return 0;
    };
    const order6 = Uint32Array.from({ length: bin.t6.size }, (_, e) => e).sort(cmp6);
    const bytes = new Uint8Array(16);
    const dv = new DataView(bytes.buffer);
    for (let j = 0; j < order6.length; j++) {
      const e = order6[j];
      if (j === 0 || cmp6(e, order6[j - 1]) !== 0) {
        seen++;
        for (let w = 0; w < 4; w++) dv.setUint32(w * 4, keys6[e * 5 + 1 + w]);
        keyOf6(bytes, 0, k);
        if (country || region || asn) placeCells(where(0, bytes));
      }
      count(keys6[e * 5], bin.pb6[2 * e], bin.pb6[2 * e + 1]);
    }
    return { cells, places: looked };
  }

  // Closes a bin: exact counts now; its table kept while it may be the run's first or last bin
  // (whose sketches are made from it when the series is written).
  #close(abs: number): void {
    const bin = this.#open.get(abs)!;
    this.#open.delete(abs);
    if (this.#cur === bin) {
      this.#cur = null;
      this.#curAbs = NaN;
    }
    this.#hint = Math.max(this.#hint, bin.t4.size);
    const { cells, places } = this.#tally(bin, false);
    this.#closed.set(abs, { cells, table: bin, places });
    this.#tabled.add(abs);
    let lo = Infinity;
    let hi = -Infinity;
    for (const a of this.#closed.keys()) {
      if (a < lo) lo = a;
      if (a > hi) hi = a;
    }
    for (const a of this.#tabled) {
      if (a !== lo && a !== hi) {
        const c = this.#closed.get(a)!;
        c.table = null;
        c.places = [];
        this.#tabled.delete(a);
      }
    }
  }

  /** Closes every bin that starts before `end` (seconds); `Infinity` at the end of input. */
  endInterval(end: number): void {
    for (const a of [...this.#open.keys()]) if ((a + 1) * this.binSeconds <= end) this.#close(a);
  }

  /** Not supported: runs are united by `timeseries` from their series files. */
  merge(): void {
    throw new Error("signal series are merged from their files (timeseries --signals)");
  }

  /**
   * The closed bins, ascending: each with its series (`total` always; `traffic=TCPSYN`,
   * `tool=zmap`, `tag=clean`, `country=NL`, `asn=1136`, `port=TCPSYN/23`, …). The first and
   * last (`edge`) carry sketches too.
   */
  result(): SeriesBin[] {
    const abs = [...this.#closed.keys()].sort((a, b) => a - b);
    return abs.map((a, i) => {
      const c = this.#closed.get(a)!;
      const edge = (i === 0 || i === abs.length - 1) && c.table !== null;
      return {
        start: a * this.binSeconds,
        edge,
        cells: edge ? this.#tally(c.table!, true, c.places).cells : c.cells,
      };
    });
  }

  /**
   * The series file of the bins closed so far, which are then forgotten (a later packet for one
   * of them is late); null when none closed. `parse --rotate` writes one per window.
   */
  drain(): Uint8Array | null {
    if (this.#closed.size === 0) return null;
    const bytes = this.save();
    for (const a of this.#closed.keys()) this.#drained.add(a);
    this.#closed.clear();
    this.#tabled.clear();
    this.late = 0;
    this.firstPacket = this.lastPacket = NaN;
    return bytes;
  }

  /** The series file's bytes (`parse --seriesout`), after {@link endInterval}(Infinity). */
  save(): Uint8Array {
    return writeSeriesFile({
      binSeconds: this.binSeconds,
      dims: this.dims,
      firstPacket: this.firstPacket,
      lastPacket: this.lastPacket,
      late: this.late,
      bins: this.result(),
    });
  }
}

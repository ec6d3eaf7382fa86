/**
 * Packet-level time series of captures (`timeseries --pcap`): per bin of packet time and per
 * traffic type, packets and unique sources — the telescope signal that CAIDA's report plugin and
 * IODA compute. Per packet it costs one typed-array hash insert; no Map or Set.
 *
 * @module
 */

import type { Analyzer } from "./analyzer.ts";
import { DataError } from "../errors.ts";
import { packState, unpackState } from "../state/state_container.ts";
import type { PacketBatch } from "../decode/packet_batch.ts";
import { TRAFFIC_COUNT, trafficName } from "../decode/traffic.ts";
import { KeyTable } from "../util/key_table.ts";
import { toCsv } from "./_csv.ts";

const TOOL = "darknet-events packet timeseries";
const PTS_MAGIC = "DNPTSSTA";
const PTS_VERSION = 1;

/** One bin and traffic type of a {@link PacketTimeSeries}. */
export interface PacketSeriesRow {
  /** Bin start (RFC 3339). */
  binStart: string;
  /** Traffic name. */
  traffic: string;
  /** Traffic code. */
  code: number;
  /** Packets. */
  packets: number;
  /** Distinct sources. */
  uniqueSources: number;
}

/**
 * Packets and unique sources per bin and traffic type.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { PacketTimeSeries } from "./packet_timeseries.ts";
 * import { captureBatches } from "../capture/open_capture.ts";
 * const ts = new PacketTimeSeries(600);
 * for await (const b of await captureBatches(["testdata/demo/scan.pcap.gz"])) ts.add(b);
 * ok(ts.bins.length === 6);
 * ```
 */
export class PacketTimeSeries implements Analyzer<PacketSeriesRow[]> {
  /** The analyzer's name. */
  readonly name = "packet-timeseries";
  /** Bin length in seconds. */
  readonly binSeconds: number;
  readonly #binOf = new Map<number, number>(); // absolute bin number -> index
  readonly #starts: number[] = [];
  #packets = new Float64Array(64 * TRAFFIC_COUNT);
  #sources = new Float64Array(64 * TRAFFIC_COUNT);
  readonly #seen4 = new KeyTable(2);
  readonly #seen6 = new KeyTable(5);
  readonly #key6 = new Uint32Array(5);
  #lastAbs = NaN;
  #lastIdx = 0;

  /**
   * Creates an empty series with bins of `binSeconds`.
   */
  constructor(binSeconds: number) {
    this.binSeconds = binSeconds;
  }

  #bin(sec: number): number {
    const abs = Math.floor(sec / this.binSeconds);
    if (abs === this.#lastAbs) return this.#lastIdx;
    let i = this.#binOf.get(abs);
    if (i === undefined) {
      i = this.#starts.length;
      this.#binOf.set(abs, i);
      this.#starts.push(abs * this.binSeconds);
      if ((i + 1) * TRAFFIC_COUNT > this.#packets.length) {
        const grow = (a: Float64Array) => {
          const g = new Float64Array(a.length * 2);
          g.set(a);
          return g;
        };
        this.#packets = grow(this.#packets);
        this.#sources = grow(this.#sources);
      }
    }
    this.#lastAbs = abs;
    this.#lastIdx = i;
    return i;
  }

  /** Adds the IP packets of rows `from .. to-1` of a batch (every row by default). */
  add(b: PacketBatch, from = 0, to: number = b.length): void {
    for (let i = from; i < to; i++) {
      const v = b.ipVersion[i];
      if (v === 0) continue;
      const slot = this.#bin(b.tsSec[i]) * TRAFFIC_COUNT + b.traffic[i];
      this.#packets[slot]++;
      if (v === 4) {
        this.#seen4.add2(slot, b.src[i]);
        if (this.#seen4.added) this.#sources[slot]++;
      } else {
        const k = this.#key6;
        k[0] = slot;
        const o = i << 4;
        for (let w = 0; w < 4; w++) {
          const p = o + w * 4;
          k[w + 1] =
            ((b.src6[p] << 24) | (b.src6[p + 1] << 16) | (b.src6[p + 2] << 8) | b.src6[p + 3]) >>>
            0;
        }
        this.#seen6.add(k);
        if (this.#seen6.added) this.#sources[slot]++;
      }
    }
  }

  /**
   * Adds another series of the same bin length (other packets: a later part of the input, or
   * another split of it): packets add up, unique sources are counted once over both.
   */
  merge(o: PacketTimeSeries): void {
    if (o.binSeconds !== this.binSeconds) throw new Error("merging series of other bins");
    const slotOf = (oi: number) => this.#bin(o.#starts[oi]) * TRAFFIC_COUNT;
    for (let oi = 0; oi < o.#starts.length; oi++) {
      const base = slotOf(oi);
      for (let k = 0; k < TRAFFIC_COUNT; k++) {
        this.#packets[base + k] += o.#packets[oi * TRAFFIC_COUNT + k];
      }
    }
    const w4 = o.#seen4.keys;
    for (let e = 0; e < o.#seen4.size; e++) {
      const slot = w4[e * 2];
      const mine = slotOf(Math.floor(slot / TRAFFIC_COUNT)) + (slot % TRAFFIC_COUNT);
      this.#seen4.add2(mine, w4[e * 2 + 1]);
      if (this.#seen4.added) this.#sources[mine]++;
    }
    const w6 = o.#seen6.keys;
    const k = this.#key6;
    for (let e = 0; e < o.#seen6.size; e++) {
      const slot = w6[e * 5];
      k[0] = slotOf(Math.floor(slot / TRAFFIC_COUNT)) + (slot % TRAFFIC_COUNT);
      for (let x = 1; x < 5; x++) k[x] = w6[e * 5 + x];
      this.#seen6.add(k);
      if (this.#seen6.added) this.#sources[k[0]]++;
    }
  }

  /** Rows per bin (ascending) and traffic type with packets. */
  result(): PacketSeriesRow[] {
    const rows: PacketSeriesRow[] = [];
    for (const t of this.bins) {
      const i = this.#binOf.get(t / this.binSeconds)!;
      const binStart = new Date(t * 1000).toISOString().replace(".000Z", "Z");
      for (let k = 0; k < TRAFFIC_COUNT; k++) {
        const packets = this.#packets[i * TRAFFIC_COUNT + k];
        if (packets > 0) {
          rows.push({
            binStart,
            traffic: trafficName(k),
            code: k,
            packets,
            uniqueSources: this.#sources[i * TRAFFIC_COUNT + k],
          });
        }
      }
    }
    return rows;
  }

  /**
   * The series as a state file's bytes (`timeseries --pcap --outstate`): versioned, checksummed,
   * with every bin's source set, so that a later run continues exactly (two runs carrying state
   * give what one run over both gives).
   */
  save(): Uint8Array {
    const body = {
      tool: TOOL,
      binSeconds: this.binSeconds,
      starts: this.#starts,
      packets: [...this.#packets.subarray(0, this.#starts.length * TRAFFIC_COUNT)],
      sources: [...this.#sources.subarray(0, this.#starts.length * TRAFFIC_COUNT)],
      seen4: [...this.#seen4.keys.subarray(0, this.#seen4.size * 2)],
      seen6: [...this.#seen6.keys.subarray(0, this.#seen6.size * 5)],
    };
    return packState(PTS_MAGIC, PTS_VERSION, new TextEncoder().encode(JSON.stringify(body)));
  }

  /** Loads a state written by {@link save} into this fresh series; every field is checked. */
  load(bytes: Uint8Array, file: string): void {
    const bad = (msg: string) => new DataError(`packet time-series state: ${msg}`, { file });
    if (this.#starts.length) throw new Error("load needs an empty PacketTimeSeries");
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(new TextDecoder().decode(unpackState(bytes, PTS_MAGIC, PTS_VERSION, file)));
    } catch (e) {
      if (e instanceof DataError) throw e;
      throw bad("unreadable");
    }
    const ints = (v: unknown, what: string, max = Number.MAX_SAFE_INTEGER) => {
      if (!Array.isArray(v) || !v.every((x) => Number.isInteger(x) && x >= 0 && x <= max)) {
        throw bad(`${what} are not whole numbers from 0 to ${max}`);
      }
      return v as number[];
    };
    if (body?.tool !== TOOL) throw bad("not a packet time-series state");
    if (body.binSeconds !== this.binSeconds) {
      throw bad(`written with --bin ${body.binSeconds}, this run uses ${this.binSeconds}`);
    }
    const starts = ints(body.starts, "bin starts");
    const cells = starts.length * TRAFFIC_COUNT;
    const packets = ints(body.packets, "packet counts");
    const sources = ints(body.sources, "source counts");
    const seen4 = ints(body.seen4, "IPv4 sources", 0xffffffff);
    const seen6 = ints(body.seen6, "IPv6 sources", 0xffffffff);
    if (packets.length !== cells || sources.length !== cells) {
      throw bad("counts do not fit the bins");
    }
    if (seen4.length % 2 || seen6.length % 5) throw bad("a source record is cut short");
    for (const s of starts) {
      if (s % this.binSeconds !== 0) throw bad(`bin start ${s} is not on a bin boundary`);
      this.#bin(s);
    }
    if (this.#starts.length !== starts.length) throw bad("a bin appears twice");
    this.#packets.set(packets);
    const counted = new Float64Array(cells);
    const source = (slot: number) => {
      if (slot >= cells || packets[slot] === 0) {
        throw bad(`a source in cell ${slot}, which has no packets`);
      }
      counted[slot]++;
    };
    for (let e = 0; e < seen4.length; e += 2) {
      source(seen4[e]);
      this.#seen4.add2(seen4[e], seen4[e + 1]);
      if (!this.#seen4.added) throw bad("an IPv4 source appears twice in a cell");
    }
    const k = this.#key6;
    for (let e = 0; e < seen6.length; e += 5) {
      source(seen6[e]);
      for (let x = 0; x < 5; x++) k[x] = seen6[e + x];
      this.#seen6.add(k);
      if (!this.#seen6.added) throw bad("an IPv6 source appears twice in a cell");
    }
    for (let c = 0; c < cells; c++) {
      if (counted[c] !== sources[c] || sources[c] > packets[c]) {
        throw bad(`cell ${c}: ${sources[c]} sources counted, ${counted[c]} listed`);
      }
    }
    this.#sources.set(sources);
  }

  /** Bin start times (seconds), ascending. */
  get bins(): number[] {
    return [...this.#starts].sort((a, b) => a - b);
  }

  /** Packets per bin (ascending bins) for a traffic code, or for all when `traffic` is -1. */
  packets(traffic: number): number[] {
    return this.bins.map((t) => {
      const i = this.#binOf.get(t / this.binSeconds)!;
      if (traffic >= 0) return this.#packets[i * TRAFFIC_COUNT + traffic];
      let n = 0;
      for (let k = 0; k < TRAFFIC_COUNT; k++) n += this.#packets[i * TRAFFIC_COUNT + k];
      return n;
    });
  }

  /** CSV: one row per bin and traffic type with packets. */
  csv(): string {
    return toCsv(
      ["bin_start", "traffic", "traffic_code", "packets", "unique_sources"],
      this.result().map((r) => [r.binStart, r.traffic, r.code, r.packets, r.uniqueSources]),
    );
  }
}

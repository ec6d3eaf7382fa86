/**
 * Consumers of decoded packets, with one small lifecycle (as corsaro3's plugins): rows of a
 * batch are added in packet order, intervals end (rotation windows, the end of input), an
 * instance that saw other packets is merged in, and the results are read out. Packets are decoded and classified once, in the capture stage; every
 * analyzer reads the same batches (`parse --statsout` runs `PacketStats` beside the event
 * aggregator; `count --pcap` runs it alone; `timeseries --pcap` runs `PacketTimeSeries`).
 *
 * @module
 */

import type { PacketBatch } from "../decode/packet_batch.ts";

/**
 * One analyzer.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import type { Analyzer } from "./analyzer.ts";
 * import { runAnalyzers } from "./analyzer.ts";
 * import { captureBatches } from "../capture/open_capture.ts";
 * import { Traffic } from "../decode/traffic.ts";
 * // TCP SYN packets seen.
 * class Syns implements Analyzer<number> {
 *   readonly name = "syns";
 *   n = 0;
 *   add(b: Parameters<Analyzer["add"]>[0], from: number, to: number) {
 *     for (let i = from; i < to; i++) if (b.traffic[i] === Traffic.TCPSYN) this.n++;
 *   }
 *   merge(o: Syns) {
 *     this.n += o.n;
 *   }
 *   result() {
 *     return this.n;
 *   }
 * }
 * const syns = new Syns();
 * await runAnalyzers(await captureBatches(["testdata/demo/scan.pcap.gz"]), [syns]);
 * equal(syns.result() > 0, true);
 * ```
 */
export interface Analyzer<R = unknown> {
  /** A short name, for messages. */
  readonly name: string;
  /** Adds rows `from .. to-1` of a batch (batches come in packet order; rows are not kept). */
  add(b: PacketBatch, from: number, to: number): void;
  /** Adds what another analyzer of the same kind saw (other packets) into this one. */
  merge(other: this): void;
  /**
   * Every packet timed before `end` (seconds) has been added: an interval is over (optional).
   * Beside the event aggregator (`EventAggregatorStream`'s `analyzers`), called at each
   * `--rotate` window's end, with rows given window by window, and at the end of input with
   * `Infinity` — where an analyzer closes and reports a period, as corsaro3's plugins do.
   */
  endInterval?(end: number): void;
  /** The results so far. */
  result(): R;
  /** What it holds, as a state file's bytes (optional: for runs that continue earlier ones). */
  save?(): Uint8Array;
  /**
   * Loads what {@link Analyzer.save} wrote into this fresh analyzer; throws a `DataError` naming
   * `file` for anything impossible in it.
   */
  load?(bytes: Uint8Array, file: string): void;
}

/**
 * Runs every analyzer over every batch of `batches` (each batch released afterwards when it
 * came from a pool).
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { runAnalyzers } from "./analyzer.ts";
 * import { captureBatches } from "../capture/open_capture.ts";
 * import { PacketStats } from "../stats/packet_stats.ts";
 * const stats = new PacketStats();
 * await runAnalyzers(await captureBatches(["testdata/demo/scan.pcap.gz"]), [stats]);
 * equal(stats.result().packets, 20000);
 * ```
 */
export async function runAnalyzers(
  batches: AsyncIterable<PacketBatch>,
  analyzers: readonly Analyzer[],
): Promise<void> {
  for await (const b of batches) {
    for (const a of analyzers) a.add(b, 0, b.length);
    b.release?.();
  }
}

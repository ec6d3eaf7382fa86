/**
 * {@link CaptureSet} on a second core: a Worker reads, decompresses and decodes the captures
 * and transfers each batch's arrays to this thread without copying, so that decoding overlaps
 * with whatever consumes the batches (event aggregation in `parse`). Same interface and error
 * semantics as `CaptureSet`: input errors end the stream and are kept in `error`.
 *
 * The worker needs the same read permission as the caller (Workers inherit it).
 *
 * @module
 */

import { DarknetError } from "../errors.ts";
import { CaptureSet } from "./capture_set.ts";
import { PacketBatch } from "../decode/packet_batch.ts";
import type { DosOptions, DosReport, DosState } from "../dos/dos_victims.ts";
import type { SeriesDim } from "../series/signal_series.ts";
import type { PlaceSources } from "../series/place_lookup.ts";

/** Options of {@link WorkerCaptureSet.open}. */
export interface WorkerCaptureSetOptions {
  /** Batches the worker may run ahead (default 4; more bought no speed, only memory). */
  window?: number;
  /**
   * Tag each batch's packets there too (`tagPackets`: scanning tools, Merit fingerprints and
   * traffic tags; `"traffic"`: the traffic tags alone, `tagTraffic`), taking that work off the
   * consumer's thread (parse sets it: its aggregator reads the tags; `count --pcap` the traffic
   * tags). Default false.
   */
  tagPackets?: boolean | "traffic";
  /**
   * Find DoS victims there too (`dos/dos_victims.ts`, with these settings; `keepOpen`: the
   * vectors open at the end are kept as state instead of reported). Its reports come with the
   * batches ({@link WorkerCaptureSet.takeDosReports}), the rest at the end
   * ({@link WorkerCaptureSet.dosEnd}); a state to continue goes in first
   * ({@link WorkerCaptureSet.sendDosState}).
   */
  dos?: DosOptions & { keepOpen: boolean };
  /**
   * Make the signal series there too (`series/signal_series.ts`: bins, splits, and the
   * databases for country and AS); the series file's bytes come at the end
   * ({@link WorkerCaptureSet.seriesBytes}).
   */
  series?: { binSeconds: number; dims: SeriesDim[]; places: PlaceSources };
}

/** What the capture worker's DoS analysis left at the end of input. */
export interface DosEnd {
  /** Reports of the vectors that ended last (all open ones unless kept). */
  reports: DosReport[];
  /** The open vectors (`DosVictims.saveState`), when kept. */
  state?: DosState;
  /** Vectors left open (kept in `state`). */
  open: number;
  /** Backscatter packets seen. */
  backscatter: number;
  /** Vectors reported in all. */
  reported: number;
  /** Vectors ended below the thresholds. */
  belowThresholds: number;
}

/**
 * Captures decoded in a Worker.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { WorkerCaptureSet } from "./worker_capture_set.ts";
 * const set = await WorkerCaptureSet.open(["testdata/pcap-formats/libtrace/100_packets.pcap"]);
 * let n = 0;
 * for await (const b of set.readable) n += b.length;
 * ok(n === 100 && set.error === undefined);
 * ```
 */
export class WorkerCaptureSet {
  /** The input paths, in order. */
  readonly paths: readonly string[];
  /** Sum of the input sizes (undefined for pipes). */
  readonly totalBytes: number | undefined;
  /** The packets of all inputs. */
  readonly readable: ReadableStream<PacketBatch>;
  #error: DarknetError | undefined;
  #bytesRead = 0;
  #dosReports: DosReport[] = [];
  #dosEnd: DosEnd | undefined;
  #series: Uint8Array | undefined;

  private constructor(
    paths: string[],
    total: number | undefined,
    window: number,
    tagPackets: boolean | "traffic",
    dos: (DosOptions & { keepOpen: boolean }) | undefined,
    series: WorkerCaptureSetOptions["series"],
  ) {
    this.paths = paths;
    this.totalBytes = total;
    let worker: Worker | undefined;
    // Batches received but not yet taken by the consumer, and the pull waiting for one.
    const queue: PacketBatch[] = [];
    let ended = false;
    let waiting: (() => void) | null = null;
    const notify = () => {
      waiting?.();
      waiting = null;
    };
    this.readable = new ReadableStream<PacketBatch>({
      start: () => {
        worker = new Worker(new URL("./_capture_worker.ts", import.meta.url), { type: "module" });
        this.#worker = worker;
        worker.onmessage = (ev: MessageEvent) => {
          const m = ev.data;
          this.#bytesRead = m.bytesRead;
          if (m.dos !== undefined) {
            if (m.type === "batch") this.#dosReports.push(...m.dos);
            else this.#dosEnd = m.dos;
          }
          if (m.type === "end" && m.series) this.#series = m.series;
          if (m.type === "batch") {
            const b = PacketBatch.fromColumns(m.length, m.source, m.buffers, m.cols);
            b.tagged = m.tagged === true;
            b.trafficTagged = m.trafficTagged === true;
            // Done with it: the arrays and whole read buffers go back to the worker's pool
            // (transferred, so this batch is unusable afterwards), instead of the worker
            // allocating fresh ones for every batch.
            b.release = () => {
              b.release = undefined;
              if (ended) return;
              const cols = b.columns();
              const transfer: ArrayBuffer[] = [];
              for (const a of Object.values(cols)) {
                if (a.buffer.byteLength > 0 && !transfer.includes(a.buffer as ArrayBuffer)) {
                  transfer.push(a.buffer as ArrayBuffer); // the core columns share one buffer
                }
              }
              const lent: boolean[] = m.lent;
              const buffers = b.buffers.filter((x, i) =>
                lent[i] && !transfer.includes(x.buffer as ArrayBuffer)
              );
              for (const x of buffers) transfer.push(x.buffer as ArrayBuffer);
              worker!.postMessage({ type: "release", cols, buffers }, transfer);
            };
            queue.push(b);
          } else {
            if (m.error) this.#error = new DarknetError(m.error.message, m.error.exitCode);
            ended = true;
            worker!.terminate();
          }
          notify();
        };
        worker.onerror = (ev: ErrorEvent) => {
          ev.preventDefault();
          this.#error = new DarknetError(`internal error in the capture worker: ${ev.message}`, 70);
          ended = true;
          worker!.terminate();
          notify();
        };
        worker.postMessage({ type: "start", paths, window, tagPackets, dos, series });
      },
      pull: async (controller) => {
        while (queue.length === 0 && !ended) await new Promise<void>((r) => waiting = r);
        const b = queue.shift();
        if (b === undefined) {
          controller.close();
          return;
        }
        controller.enqueue(b);
        // The consumer took one batch: the worker may decode one more.
        if (!ended) worker!.postMessage({ type: "ack" });
      },
      cancel: () => {
        ended = true;
        worker?.terminate();
      },
    }, { highWaterMark: 0 });
  }

  /** Checks every path (as `CaptureSet.open` does), then starts the worker. */
  static async open(paths: string[], o: WorkerCaptureSetOptions = {}): Promise<WorkerCaptureSet> {
    const check = await CaptureSet.open(paths);
    await check.readable.cancel();
    return new WorkerCaptureSet(
      paths,
      check.totalBytes,
      o.window ?? 4,
      o.tagPackets ?? false,
      o.dos,
      o.series,
    );
  }

  /** Gives the worker's DoS analysis the state to continue (null: none); needed before it starts. */
  sendDosState(state: unknown): void {
    this.#worker?.postMessage({ type: "dos-state", state });
  }

  /** The DoS reports received since the last call, in the order of the packets. */
  takeDosReports(): DosReport[] {
    const out = this.#dosReports;
    this.#dosReports = [];
    return out;
  }

  /** The series file's bytes the worker made, after the stream ended. */
  get seriesBytes(): Uint8Array | undefined {
    return this.#series;
  }

  /** What the worker's DoS analysis left at the end (after the stream ended). */
  get dosEnd(): DosEnd | undefined {
    return this.#dosEnd;
  }

  #worker: Worker | undefined;

  /** Ends the stream soon (after the batches already decoded), as on SIGTERM. */
  stop(): void {
    this.#worker?.postMessage({ type: "stop" });
  }

  /** The input error that ended the stream early, if any. */
  get error(): DarknetError | undefined {
    return this.#error;
  }

  /** Bytes read so far over all inputs. */
  get bytesRead(): number {
    return this.#bytesRead;
  }
}

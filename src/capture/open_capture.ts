/**
 * Opening captures: file or stdin → (gunzip if the bytes start with the gzip magic) →
 * {@link PcapDecoderStream}. Compression is detected from the content, never the file name.
 *
 * @module
 */

import { FileSource } from "../io/file_source.ts";
import type { BatchPool } from "./batch_pool.ts";
import type { PacketBatch } from "../decode/packet_batch.ts";
import { type CaptureInfo, PcapDecoderStream } from "./pcap_decoder_stream.ts";

/** An opened capture. */
export interface Capture {
  /** The name used in messages (path or `-`). */
  readonly name: string;
  /** True when the input was gzip-compressed. */
  readonly compressed: boolean;
  /** The raw file (for its size and bytes read so far). */
  readonly source: FileSource;
  /** Container facts learned while reading. */
  readonly info: CaptureInfo;
  /** The decoded packets. */
  readonly batches: ReadableStream<PacketBatch>;
}

/** Options of {@link openCapture}. */
export interface OpenCaptureOptions {
  /** Read size in bytes (default 1 MiB). */
  chunkSize?: number;
  /** Recycle read buffers and batches through this pool (consumers must `release()`). */
  pool?: BatchPool;
  /** Decompress gzip input in a Worker (default: yes, unless already in a worker). */
  gunzipWorker?: boolean;
}

/**
 * Opens one capture file (or `-` for stdin). Throws an `IoError` if it cannot be opened.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { openCapture } from "./open_capture.ts";
 * const cap = await openCapture("testdata/pcap-formats/libtrace/sll.pcap.gz");
 * let n = 0;
 * for await (const batch of cap.batches) n += batch.length;
 * ok(cap.compressed && n > 0);
 * ```
 */
export async function openCapture(
  path: string | FileSource,
  options: OpenCaptureOptions = {},
): Promise<Capture> {
  const source = typeof path === "string"
    ? await FileSource.open(path, options.chunkSize, options.pool)
    : path;
  path = source.name;
  const reader = source.readable.getReader();
  // Peek at the first two bytes (stdin may deliver them in separate reads).
  const head: Uint8Array[] = [];
  let headLen = 0;
  while (headLen < 2) {
    const r = await reader.read();
    if (r.done) break;
    head.push(r.value);
    headLen += r.value.length;
  }
  const first = head.length === 0
    ? new Uint8Array(0)
    : head[0].length >= 2 || head.length === 1
    ? head[0]
    : Uint8Array.of(head[0][0], head[1][0]);
  const compressed = first.length >= 2 && first[0] === 0x1f && first[1] === 0x8b;
  // Gzip input is read a quarter chunk at a time: captures compress about 4:1, so each read
  // inflates to about one full output chunk, instead of bursts of four queued at once (measured:
  // 2–5 MB less at the peak).
  if (compressed) source.chunkSize = Math.max(1, source.chunkSize >>> 2);
  const bytes = new ReadableStream<Uint8Array>({
    start(c) {
      for (const h of head) c.enqueue(h);
    },
    async pull(c) {
      const r = await reader.read();
      if (r.done) c.close();
      else c.enqueue(r.value);
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  }, { highWaterMark: 0 });
  // Inflate on the other core (the default) unless this already runs in a worker thread.
  const inWorker =
    typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope !== "undefined";
  // (Loaded only for gzip input: node:zlib alone takes 30–45 ms to start.)
  const gunzip = !compressed
    ? undefined
    : (options.gunzipWorker ?? !inWorker)
    ? new (await import("../io/worker_gunzip_stream.ts")).WorkerGunzipStream({ name: path })
    : new (await import("../io/gunzip_stream.ts")).GunzipStream({ name: path, pool: options.pool });
  const decoder = new PcapDecoderStream({
    name: path,
    pool: options.pool,
    upstreamError: () => source.error ?? gunzip?.error,
  });
  const batches = (gunzip ? bytes.pipeThrough(gunzip) : bytes).pipeThrough(decoder);
  return { name: path, compressed, source, info: decoder.info, batches };
}

/**
 * All packets of several captures, in order, as one stream. Every path is opened (and so
 * checked) before the first packet is read. `onOpen` is told about each capture as it starts.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { captureBatches } from "./open_capture.ts";
 * const dir = "testdata/pcap-formats/libtrace/";
 * let n = 0;
 * for await (const b of await captureBatches([dir + "100_packets.pcap", dir + "100_packetsns.pcap"])) {
 *   n += b.length;
 * }
 * ok(n === 200);
 * ```
 */
export async function captureBatches(
  paths: string[],
  options: OpenCaptureOptions & { onOpen?: (c: Capture) => void } = {},
): Promise<ReadableStream<PacketBatch>> {
  // Check every input first (stdin is opened lazily: it can only be read once anyway).
  for (const p of paths) if (p !== "-") (await FileSource.open(p)).readable.cancel();
  async function* all(): AsyncGenerator<PacketBatch> {
    for (const p of paths) {
      const cap = await openCapture(p, options);
      options.onOpen?.(cap);
      yield* cap.batches;
    }
  }
  return ReadableStream.from(all());
}

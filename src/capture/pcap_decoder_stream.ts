/**
 * The pcap TransformStream: capture bytes in, batches of decoded and classified packets out.
 *
 * Reads classic pcap (µs and ns, either byte order, and the "modified" `a1b2cd34` magic) and
 * pcapng (several sections of either byte order, several interfaces each with its own link
 * type, snap length, `if_tsresol` and `if_tsoffset`; EPB, SPB and OPB; other blocks skipped by
 * length without being buffered). Frames are decoded in the same pass by
 * {@link decodeFrame}.
 *
 * Batching and ownership: every input chunk yields at most one {@link PacketBatch} holding all
 * records completed by that chunk. Frames are views into the input chunks (which the stream
 * never modifies); a record split across chunks is stitched into a small buffer of its own.
 * Give it large chunks (≥ 256 KiB) for throughput.
 *
 * Errors: malformed input rejects the stream with a {@link DataError} naming the input, the
 * byte offset and the problem. Because a batch is only produced when the reader has asked for
 * one, the batch holding the packets before the error is always delivered before the error.
 * An error raised upstream (e.g. a broken gzip member) can be handed in through
 * `options.upstreamError` so that it surfaces here, after all good packets.
 *
 * @module
 */

import type { DarknetError } from "../errors.ts";
import { type CaptureInfo, CaptureParser } from "./_capture_parser.ts";
import type { BatchPool } from "./batch_pool.ts";
import type { PacketBatch } from "../decode/packet_batch.ts";

export type { CaptureInfo } from "./_capture_parser.ts";

/** Options of {@link PcapDecoderStream}. */
export interface PcapDecoderStreamOptions {
  /** The input's name for error messages (default `"-"`). */
  name?: string;
  /** Returns an error raised by an earlier stage that closed its output early. */
  upstreamError?: () => DarknetError | undefined;
  /** Take batches from this pool (their consumer releases them back). */
  pool?: BatchPool;
}

/**
 * TransformStream from capture-file bytes to decoded {@link PacketBatch}es.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { PcapDecoderStream } from "./pcap_decoder_stream.ts";
 * const bytes = await Deno.readFile("testdata/pcap-formats/libtrace/100_packets.pcap");
 * const batches = ReadableStream.from([bytes]).pipeThrough(new PcapDecoderStream({ name: "x" }));
 * let packets = 0;
 * for await (const batch of batches) packets += batch.length;
 * ok(packets === 100);
 * ```
 */
export class PcapDecoderStream extends TransformStream<Uint8Array, PacketBatch> {
  readonly #parser: CaptureParser;

  /** Creates a decoder for one capture file (one pcap, or one pcapng with any sections). */
  constructor(options: PcapDecoderStreamOptions = {}) {
    const parser = new CaptureParser(options.name ?? "-", options.pool);
    super(
      {
        transform(chunk, controller) {
          let batch: PacketBatch | null;
          try {
            batch = parser.push(chunk);
          } catch (e) {
            const partial = (e as { batch?: PacketBatch | null }).batch;
            if (partial) controller.enqueue(partial);
            throw e;
          }
          if (batch !== null) controller.enqueue(batch);
        },
        flush() {
          const upstream = options.upstreamError?.();
          if (upstream) throw upstream;
          parser.end();
        },
      },
      { highWaterMark: 1 },
      { highWaterMark: 0 },
    );
    this.#parser = parser;
  }

  /** What has been learned about the container so far (format, interfaces, packets, bytes). */
  get info(): CaptureInfo {
    return this.#parser.info;
  }
}

/**
 * Recycles the big allocations of the capture path — 1 MiB read buffers and batch arrays — so
 * that a long run neither zeroes fresh memory for every chunk nor leaves hundreds of megabytes
 * of garbage for the collector. A consumer that is done with a batch calls its `release()`
 * (set by whoever owns the pool); batches without one are simply left to the collector.
 *
 * @module
 */

import { PacketBatch } from "./packet_batch.ts";

/**
 * Free lists of read buffers (by size) and batches (by capacity).
 *
 * @example
 * ```ts
 * import { BatchPool } from "./batch_pool.ts";
 * const pool = new BatchPool();
 * const a = pool.takeChunk(1024);
 * pool.giveChunk(a);
 * console.assert(pool.takeChunk(1024) === a);
 * ```
 */
export class BatchPool {
  #chunks = new Map<number, Uint8Array[]>();
  #batches = new Map<number, PacketBatch[]>();
  /** Upper bound of pooled objects of one size, so a burst does not pin memory forever. */
  readonly limit: number;

  /** Creates a pool keeping at most `limit` free objects per size (default 16). */
  constructor(limit = 16) {
    this.limit = limit;
  }

  /** A zeroed-or-reused buffer of exactly `size` bytes. */
  takeChunk(size: number): Uint8Array {
    return this.#chunks.get(size)?.pop() ?? new Uint8Array(size);
  }

  /** Returns a buffer (a view is widened to its whole underlying buffer). */
  giveChunk(buf: Uint8Array): void {
    const whole = buf.byteOffset === 0 && buf.byteLength === buf.buffer.byteLength
      ? buf
      : new Uint8Array(buf.buffer as ArrayBuffer);
    const list = this.#chunks.get(whole.length) ?? [];
    if (list.length < this.limit) list.push(whole);
    this.#chunks.set(whole.length, list);
  }

  /** An empty batch with room for `capacity` packets (its rows are stale until written). */
  takeBatch(capacity: number): PacketBatch {
    const b = this.#batches.get(capacity)?.pop();
    if (!b) return new PacketBatch(capacity);
    b.length = 0;
    b.buffers.length = 0;
    b.source = "";
    return b;
  }

  /** Returns a batch for reuse. */
  giveBatch(b: PacketBatch): void {
    const list = this.#batches.get(b.capacity) ?? [];
    if (list.length < this.limit) list.push(b);
    this.#batches.set(b.capacity, list);
  }
}

/**
 * Recycles the big allocations of the capture path — 1 MiB read buffers and batch arrays — so
 * that a long run neither zeroes fresh memory for every chunk nor leaves hundreds of megabytes
 * of garbage for the collector. A consumer that is done with a batch calls its `release()`
 * (set by whoever owns the pool); batches without one are simply left to the collector.
 *
 * @module
 */

import { PacketBatch } from "../decode/packet_batch.ts";

/**
 * Free lists of read buffers (by size) and batches.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { BatchPool } from "./batch_pool.ts";
 * const pool = new BatchPool();
 * const a = pool.takeChunk(1024);
 * pool.giveChunk(a);
 * ok(pool.takeChunk(1024) === a);
 * ```
 */
export class BatchPool {
  #chunks = new Map<number, Uint8Array[]>();
  #lent = new WeakSet<ArrayBufferLike>();
  #batches: PacketBatch[] = [];
  /** Upper bound of pooled objects of one size, so a burst does not pin memory forever. */
  readonly limit: number;

  /** Creates a pool keeping at most `limit` free objects per size (default 16). */
  constructor(limit = 16) {
    this.limit = limit;
  }

  /** A zeroed-or-reused buffer of exactly `size` bytes, lent by this pool. */
  takeChunk(size: number): Uint8Array {
    let list = this.#chunks.get(size);
    if (list === undefined) this.#chunks.set(size, list = []);
    const buf = list.pop();
    if (buf !== undefined) return buf;
    const fresh = new Uint8Array(size);
    this.#lent.add(fresh.buffer);
    return fresh;
  }

  /**
   * True if `x` is a view into a buffer this pool lent: one that goes back to the pool when
   * its batch is released (other buffers may be shared with someone else).
   */
  lent(x: Uint8Array): boolean {
    return this.#lent.has(x.buffer);
  }

  /**
   * Returns a buffer (a view is widened to its whole underlying buffer) and counts it as lent
   * (a buffer handed to another thread comes back as a new object). Buffers of a size never
   * passed to `takeChunk` are dropped.
   */
  giveChunk(buf: Uint8Array): void {
    const whole = buf.byteOffset === 0 && buf.byteLength === buf.buffer.byteLength
      ? buf
      : new Uint8Array(buf.buffer as ArrayBuffer);
    const list = this.#chunks.get(whole.length);
    if (list === undefined || list.length >= this.limit) return;
    this.#lent.add(whole.buffer);
    list.push(whole);
  }

  /** An empty batch with room for `capacity` packets (its rows are stale until written). */
  takeBatch(capacity: number): PacketBatch {
    // Any free batch at least this big will do (decompressed chunks vary in size, so exact
    // capacities would rarely match and every batch would be new).
    const list = this.#batches;
    let i = list.length - 1;
    while (i >= 0 && list[i].capacity < capacity) i--;
    if (i < 0) return new PacketBatch(capacity);
    const b = list[i];
    list.splice(i, 1);
    b.length = 0;
    b.buffers.length = 0;
    b.source = "";
    b.tagged = false;
    b.trafficTagged = false;
    b.tagsDecoded = false;
    return b;
  }

  /** Returns a batch for reuse (kept if fewer than `limit` are waiting). */
  giveBatch(b: PacketBatch): void {
    if (this.#batches.length < this.limit) this.#batches.push(b);
  }
}

/**
 * A cache of at most about `2 × capacity` entries that keeps what is used: two generations,
 * lookups and inserts go to the young one, which becomes the old one when full (the old one is
 * dropped then); a hit in the old generation moves the entry back to the young one. LRU-like at
 * a `Map`'s cost, so that a sensor running for months keeps a bounded memory.
 *
 * @module
 */

/**
 * The cache.
 *
 * @example
 * ```ts
 * import { equal, ok } from "node:assert/strict";
 * import { BoundedCache } from "./bounded_cache.ts";
 * const c = new BoundedCache<number>(2);
 * c.set("a", 1);
 * c.set("b", 2);
 * c.set("c", 3); // young {a, b} becomes old
 * equal(c.get("a"), 1); // moved back to young
 * c.set("d", 4); // young {c, a} becomes old; b is gone
 * equal(c.get("b"), undefined);
 * ok(c.size <= 4);
 * ```
 */
export class BoundedCache<V> {
  /** Entries per generation. */
  readonly capacity: number;
  #young = new Map<string, V>();
  #old = new Map<string, V>();

  /** A cache of two generations of `capacity` entries. */
  constructor(capacity: number) {
    this.capacity = Math.max(1, capacity);
  }

  /** The value for `k`, if cached. */
  get(k: string): V | undefined {
    const v = this.#young.get(k);
    if (v !== undefined) return v;
    const o = this.#old.get(k);
    if (o !== undefined) this.set(k, o);
    return o;
  }

  /** Caches `v` for `k`. */
  set(k: string, v: V): void {
    if (this.#young.size >= this.capacity) {
      this.#old = this.#young;
      this.#young = new Map();
    }
    this.#young.set(k, v);
  }

  /** Entries held now (at most twice the capacity). */
  get size(): number {
    return this.#young.size + this.#old.size;
  }
}

/**
 * A bounded count of distinct 32-bit values: exact up to {@link EXACT_LIMIT} values (an
 * open-addressing table of at most 8 KiB), then a HyperLogLog sketch of 2^12 one-byte registers
 * (4 KiB; standard error 1.04 / √4096 ≈ 1.6 %). A victim of a spoofed flood sees up to a
 * telescope's worth of attacker addresses; this keeps it to kilobytes whatever the packets.
 * Mergeable (a union), and savable as JSON.
 *
 * @module
 */

import { hllEstimate } from "../util/hll.ts";

/** Distinct values counted exactly before the sketch takes over. */
export const EXACT_LIMIT = 1024;
const P = 12;
const M = 1 << P;
const EMPTY = new Uint32Array(0); // the table of a counter of at most one value

// A 32-bit mixer (MurmurHash3's finaliser): spreads nearby addresses over every register.
function mix(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/**
 * Distinct values, exact while few.
 *
 * @example
 * ```ts
 * import { equal, ok } from "node:assert/strict";
 * import { DistinctCounter } from "./distinct_counter.ts";
 * const c = new DistinctCounter();
 * for (let i = 0; i < 3000; i++) c.add(i % 1000);
 * equal(c.count, 1000);
 * ok(c.exact);
 * for (let i = 0; i < 100000; i++) c.add(i);
 * ok(!c.exact && Math.abs(c.count - 100000) < 5000);
 * ```
 */
export class DistinctCounter {
  // Exact: the first value alone (most counters never see a second: no table), then a table of
  // the values (0 marks an empty slot; the value 0 itself is `#zero`), at most half full.
  #first = -1;
  #last = -1;
  #table: Uint32Array | null = EMPTY;
  #size = 0;
  #zero = false;
  #reg: Uint8Array | null = null;

  /** Counts `x` (a 32-bit value). */
  add(x: number): void {
    x >>>= 0;
    // The first or the last value again (a victim's port, an attacker's /16): no lookup.
    if ((x === this.#first || x === this.#last) && this.#size > 0) return;
    this.#last = x;
    if (this.#size === 0) {
      this.#first = x;
      this.#size = 1;
      return;
    }
    if (this.#size === 1 && this.#table === EMPTY) {
      if (x === this.#first) return;
      this.#table = new Uint32Array(16);
      const f = this.#first;
      if (f === 0) this.#zero = true;
      else this.#insert(f);
    }
    if (this.#table === null) return this.#put(x);
    if (x === 0) {
      if (!this.#zero) {
        this.#zero = true;
        this.#size++;
      }
    } else if (this.#insert(x)) this.#size++;
    else return;
    if (this.#size > EXACT_LIMIT) this.#sketch();
    else if (this.#size * 2 > this.#table!.length) this.#grow();
  }

  // Inserts a non-zero value; true if it was new.
  #insert(x: number): boolean {
    const t = this.#table!;
    const mask = t.length - 1;
    for (let j = mix(x) & mask;; j = (j + 1) & mask) {
      if (t[j] === x) return false;
      if (t[j] === 0) {
        t[j] = x;
        return true;
      }
    }
  }

  #grow(): void {
    const old = this.#table!;
    this.#table = new Uint32Array(old.length * 2);
    for (const x of old) if (x !== 0) this.#insert(x);
  }

  #values(): number[] {
    if (this.#table === EMPTY) return this.#size === 1 ? [this.#first] : [];
    const out = this.#zero ? [0] : [];
    for (const x of this.#table!) if (x !== 0) out.push(x);
    return out;
  }

  #put(x: number): void {
    const h = mix(x);
    const j = h >>> (32 - P);
    const rest = (h << P) >>> 0;
    const rank = rest === 0 ? 32 - P + 1 : Math.clz32(rest) + 1;
    const r = this.#reg!;
    if (rank > r[j]) r[j] = rank;
  }

  #sketch(): void {
    const values = this.#values();
    this.#reg = new Uint8Array(M);
    this.#table = null;
    for (const x of values) this.#put(x);
  }

  /** Whether {@link count} is exact. */
  get exact(): boolean {
    return this.#table !== null;
  }

  /** The number of distinct values added (estimated once not {@link exact}). */
  get count(): number {
    if (this.#table !== null) return this.#size;
    return hllEstimate(this.#reg!);
  }

  /** Adds the values `o` counted (a union). */
  merge(o: DistinctCounter): void {
    if (o.#table !== null) {
      for (const x of o.#values()) this.add(x);
      return;
    }
    if (this.#table !== null) this.#sketch();
    const r = this.#reg!;
    const q = o.#reg!;
    for (let j = 0; j < M; j++) if (q[j] > r[j]) r[j] = q[j];
  }

  /** As JSON: the values (sorted), or the registers in base64. */
  toJSON(): { values: number[] } | { registers: string } {
    if (this.#table !== null) return { values: this.#values().sort((a, b) => a - b) };
    return { registers: this.#reg!.toBase64() };
  }

  /** A counter from {@link toJSON}'s form; throws a description of what is wrong. */
  static fromJSON(j: unknown): DistinctCounter {
    const c = new DistinctCounter();
    const o = j as { values?: unknown; registers?: unknown };
    if (typeof o !== "object" || o === null) throw new Error("not a distinct count");
    if (Array.isArray(o.values)) {
      // A counter holds at most EXACT_LIMIT; a DoS vector saves up to a few hundred more.
      if (o.values.length > 4 * EXACT_LIMIT) throw new Error("too many exact values");
      for (const v of o.values) {
        if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new Error(`value ${v}`);
        c.add(v);
      }
      return c;
    }
    if (typeof o.registers !== "string") throw new Error("not a distinct count");
    let r: Uint8Array;
    try {
      r = Uint8Array.fromBase64(o.registers);
    } catch {
      throw new Error("registers not base64");
    }
    if (r.length !== M || r.some((x) => x > 32 - P + 1)) throw new Error("bad registers");
    c.#table = null;
    c.#reg = r;
    return c;
  }
}

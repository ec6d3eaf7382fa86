/**
 * An open-addressing hash table over fixed-width keys of 32-bit words, stored in typed arrays.
 * Entries are dense (`0 .. size-1`): callers keep their values in parallel typed arrays indexed
 * by entry, and move them when {@link KeyTable.delete} moves the last entry into a hole. No
 * per-key object is ever allocated, which is what keeps per-packet aggregation at millions of
 * packets per second (a `Map` keyed by strings manages well under one million).
 *
 * @example
 * ```ts
 * import { KeyTable } from "./key_table.ts";
 * const t = new KeyTable(1);
 * const a = t.add1(0x0a000001);
 * console.assert(t.added && t.add1(0x0a000001) === a && !t.added && t.size === 1);
 * ```
 * @module
 */

const GOLDEN = 0x9e3779b1;

function mix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Hash table mapping keys of `width` uint32 words to dense entry numbers. */
export class KeyTable {
  /** Words per key. */
  readonly width: number;
  /** Number of entries. */
  size = 0;
  /** Keys of entries `0 .. size-1`, `width` words each. Replaced when the table grows. */
  keys: Uint32Array;
  /** True if the last `add*` call inserted a new key. */
  added = false;
  #slots: Int32Array;
  #mask: number;
  #scratch: Uint32Array;

  /** Creates a table for keys of `width` words with room for `capacity` entries. */
  constructor(width: number, capacity = 1024) {
    this.width = width;
    let slots = 16;
    while (slots < capacity * 2) slots *= 2;
    this.#slots = new Int32Array(slots);
    this.#mask = slots - 1;
    this.keys = new Uint32Array((slots >>> 1) * width);
    this.#scratch = new Uint32Array(width);
  }

  /** Entries the dense arrays can hold before they grow; size parallel arrays to this. */
  get capacity(): number {
    return this.keys.length / this.width;
  }

  #hashAt(keys: Uint32Array, off: number): number {
    const w = this.width;
    if (w === 1) return mix(Math.imul(keys[off], GOLDEN));
    if (w === 2) {
      const a = keys[off];
      return mix(Math.imul(a, GOLDEN) ^ Math.imul(keys[off + 1] ^ (a >>> 15), 0x85ebca77));
    }
    let h = 0x811c9dc5;
    for (let i = 0; i < w; i++) h = Math.imul(h ^ keys[off + i], GOLDEN) ^ (h >>> 15);
    return mix(h);
  }

  #grow(): void {
    const slots = new Int32Array(this.#slots.length * 2);
    const mask = slots.length - 1;
    const keys = new Uint32Array((slots.length >>> 1) * this.width);
    keys.set(this.keys.subarray(0, this.size * this.width));
    this.keys = keys;
    for (let e = 0; e < this.size; e++) {
      let s = this.#hashAt(keys, e * this.width) & mask;
      while (slots[s] !== 0) s = (s + 1) & mask;
      slots[s] = e + 1;
    }
    this.#slots = slots;
    this.#mask = mask;
  }

  /** Finds or inserts a one-word key; returns its entry. */
  add1(a: number): number {
    const slots = this.#slots;
    const mask = this.#mask;
    let s = mix(Math.imul(a, GOLDEN)) & mask;
    for (;;) {
      const e = slots[s];
      if (e === 0) break;
      if (this.keys[e - 1] === a >>> 0) {
        this.added = false;
        return e - 1;
      }
      s = (s + 1) & mask;
    }
    this.added = true;
    if ((this.size + 1) * 2 > slots.length) {
      this.#grow();
      return this.add1(a);
    }
    const e = this.size++;
    this.keys[e] = a;
    slots[s] = e + 1;
    return e;
  }

  /** Finds or inserts a two-word key; returns its entry. */
  add2(a: number, b: number): number {
    const slots = this.#slots;
    const mask = this.#mask;
    const keys = this.keys;
    let s = mix(Math.imul(a, GOLDEN) ^ Math.imul(b ^ (a >>> 15), 0x85ebca77)) & mask;
    for (;;) {
      const e = slots[s];
      if (e === 0) break;
      const k = (e - 1) << 1;
      if (keys[k] === a >>> 0 && keys[k + 1] === b >>> 0) {
        this.added = false;
        return e - 1;
      }
      s = (s + 1) & mask;
    }
    this.added = true;
    if ((this.size + 1) * 2 > slots.length) {
      this.#grow();
      return this.add2(a, b);
    }
    const e = this.size++;
    keys[e << 1] = a;
    keys[(e << 1) + 1] = b;
    slots[s] = e + 1;
    return e;
  }

  /** Finds or inserts the key in `key[off .. off+width)`; returns its entry. */
  add(key: Uint32Array, off = 0): number {
    const w = this.width;
    const slots = this.#slots;
    const mask = this.#mask;
    const keys = this.keys;
    let s = this.#hashAt(key, off) & mask;
    for (;;) {
      const e = slots[s];
      if (e === 0) break;
      const k = (e - 1) * w;
      let eq = true;
      for (let i = 0; i < w; i++) {
        if (keys[k + i] !== key[off + i]) {
          eq = false;
          break;
        }
      }
      if (eq) {
        this.added = false;
        return e - 1;
      }
      s = (s + 1) & mask;
    }
    this.added = true;
    if ((this.size + 1) * 2 > slots.length) {
      this.#grow();
      return this.add(key, off);
    }
    const e = this.size++;
    for (let i = 0; i < w; i++) this.keys[e * w + i] = key[off + i];
    slots[s] = e + 1;
    return e;
  }

  /** Entry of the key in `key[off ..]`, or -1. */
  find(key: Uint32Array, off = 0): number {
    const w = this.width;
    const mask = this.#mask;
    let s = this.#hashAt(key, off) & mask;
    for (;;) {
      const e = this.#slots[s];
      if (e === 0) return -1;
      const k = (e - 1) * w;
      let eq = true;
      for (let i = 0; i < w; i++) {
        if (this.keys[k + i] !== key[off + i]) {
          eq = false;
          break;
        }
      }
      if (eq) return e - 1;
      s = (s + 1) & mask;
    }
  }

  #slotOf(entry: number): number {
    const mask = this.#mask;
    let s = this.#hashAt(this.keys, entry * this.width) & mask;
    while (this.#slots[s] !== entry + 1) s = (s + 1) & mask;
    return s;
  }

  /**
   * Removes `entry`. To keep entries dense the last entry moves into its place: returns the
   * old number of the entry that moved (the caller moves its values from there to `entry`),
   * or -1 if `entry` was the last.
   */
  delete(entry: number): number {
    const slots = this.#slots;
    const mask = this.#mask;
    // Backward-shift deletion keeps probe chains intact without tombstones.
    let hole = this.#slotOf(entry);
    let s = (hole + 1) & mask;
    while (slots[s] !== 0) {
      const home = this.#hashAt(this.keys, (slots[s] - 1) * this.width) & mask;
      // Move slots[s] into the hole if its home is not cyclically in (hole, s].
      if (((s - home) & mask) >= ((s - hole) & mask)) {
        slots[hole] = slots[s];
        hole = s;
      }
      s = (s + 1) & mask;
    }
    slots[hole] = 0;
    const last = --this.size;
    if (last === entry) return -1;
    const w = this.width;
    const ls = this.#slotOf(last);
    this.keys.copyWithin(entry * w, last * w, last * w + w);
    slots[ls] = entry + 1;
    return last;
  }

  /** Copies entry `e`'s key into a reused scratch array (valid until the next call). */
  key(e: number): Uint32Array {
    const w = this.width;
    for (let i = 0; i < w; i++) this.#scratch[i] = this.keys[e * w + i];
    return this.#scratch;
  }

  /** Removes every entry, keeping the allocated memory. */
  clear(): void {
    this.#slots.fill(0);
    this.size = 0;
  }
}

/**
 * Returns `arr` if it holds at least `n` elements, else a copy grown to `n`.
 *
 * @example
 * ```ts
 * import { growF64 } from "./key_table.ts";
 * console.assert(growF64(new Float64Array(2), 8).length === 8);
 * ```
 */
export function growF64(arr: Float64Array<ArrayBuffer>, n: number): Float64Array<ArrayBuffer> {
  if (arr.length >= n) return arr;
  const out = new Float64Array(n);
  out.set(arr);
  return out;
}

/**
 * An open-addressing hash table over fixed-width keys of 32-bit words, stored in typed arrays.
 * Entries are dense (`0 .. size-1`): callers keep their values in parallel typed arrays indexed
 * by entry, and move them when {@link KeyTable.delete} moves the last entry into a hole. No
 * per-key object is ever allocated, which is what keeps per-packet aggregation at millions of
 * packets per second (a `Map` keyed by strings manages well under one million).
 *
 * Each slot holds the entry number and a copy of its key words side by side, so a lookup
 * usually touches a single cache line; linear probing with backward-shift deletion keeps probe
 * chains short without tombstones.
 *
 * @module
 */

const GOLDEN = 0x9e3779b1;

/**
 * The MurmurHash3 finaliser: spreads the bits of a 32-bit value (for hashing and seeding).
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { mix } from "./key_table.ts";
 * ok(mix(1) !== 1 && mix(1) === mix(1));
 * ```
 */
export function mix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

// Entries a table of `slots` slots holds: at most 3/4 full (linear probing stays short: ~2.5
// slots looked at for a key that is there, ~8.5 for one that is not, at the very fullest).
function room(slots: number): number {
  return (slots >>> 2) * 3;
}

function hash1(a: number): number {
  return mix(Math.imul(a, GOLDEN));
}

function hash2(a: number, b: number): number {
  return mix(Math.imul(a, GOLDEN) ^ Math.imul(b ^ (a >>> 15), 0x85ebca77));
}

/**
 * Hash table mapping keys of `width` uint32 words to dense entry numbers.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { KeyTable } from "./key_table.ts";
 * const t = new KeyTable(1);
 * const a = t.add1(0x0a000001);
 * ok(t.added && t.add1(0x0a000001) === a && !t.added && t.size === 1);
 * ```
 */
export class KeyTable {
  /** Words per key. */
  readonly width: number;
  /** Number of entries. */
  size = 0;
  /** Keys of entries `0 .. size-1`, `width` words each. Replaced when the table grows. */
  keys: Uint32Array;
  /** True if the last `add*` call inserted a new key. */
  added = false;
  readonly #stride: number;
  #tab: Uint32Array; // per slot: entry + 1 (0 = empty), then the key words
  #mask: number;
  #slotOf: Int32Array; // entry -> slot
  #scratch: Uint32Array;

  /** Creates a table for keys of `width` words with room for `capacity` entries. */
  constructor(width: number, capacity = 1024) {
    this.width = width;
    this.#stride = width + 1;
    let slots = 16;
    while (slots * 3 < capacity * 4) slots *= 2;
    this.#tab = new Uint32Array(slots * this.#stride);
    this.#mask = slots - 1;
    this.keys = new Uint32Array(room(slots) * width);
    this.#slotOf = new Int32Array(room(slots));
    this.#scratch = new Uint32Array(width);
  }

  /** Entries the dense arrays can hold before they grow; size parallel arrays to this. */
  get capacity(): number {
    return this.keys.length / this.width;
  }

  #hashAt(a: Uint32Array, off: number): number {
    const w = this.width;
    if (w === 1) return hash1(a[off]);
    if (w === 2) return hash2(a[off], a[off + 1]);
    let h = 0x811c9dc5;
    for (let i = 0; i < w; i++) h = Math.imul(h ^ a[off + i], GOLDEN) ^ (h >>> 15);
    return mix(h);
  }

  #grow(): void {
    const w = this.width;
    const st = this.#stride;
    // Tables of millions grow fourfold: each growth rehashes every key, and a flood of new keys
    // would pay that at 4 M, 8 M and 16 M slots instead of at 4 M and 16 M.
    const slots = (this.#mask + 1) * (this.#mask + 1 >= 1 << 22 ? 4 : 2);
    const tab = new Uint32Array(slots * st);
    const mask = slots - 1;
    const keys = new Uint32Array(room(slots) * w);
    keys.set(this.keys.subarray(0, this.size * w));
    const slotOf = new Int32Array(room(slots));
    // Reinserted in the order of the old slots, not of the entries: a key's new home slot is
    // its old one or that plus the old size, so the writes run along two streams instead of
    // jumping all over the new table (a cache miss per key in a table of millions).
    const old = this.#tab;
    for (let o = 0; o <= this.#mask; o++) {
      const e1 = old[o * st];
      if (e1 === 0) continue;
      let s = this.#hashAt(old, o * st + 1) & mask;
      while (tab[s * st] !== 0) s = (s + 1) & mask;
      tab[s * st] = e1;
      for (let i = 1; i <= w; i++) tab[s * st + i] = old[o * st + i];
      slotOf[e1 - 1] = s;
    }
    this.#tab = tab;
    this.#mask = mask;
    this.keys = keys;
    this.#slotOf = slotOf;
  }

  #insert(s: number): number {
    const e = this.size++;
    const w = this.width;
    const st = this.#stride;
    const tab = this.#tab;
    tab[s * st] = e + 1;
    for (let i = 0; i < w; i++) this.keys[e * w + i] = tab[s * st + 1 + i];
    this.#slotOf[e] = s;
    return e;
  }

  /** Finds or inserts a one-word key; returns its entry. */
  add1(a: number): number {
    a >>>= 0;
    const tab = this.#tab;
    const mask = this.#mask;
    let s = hash1(a) & mask;
    for (;;) {
      const p = s << 1;
      const e = tab[p];
      if (e === 0) break;
      if (tab[p + 1] === a) {
        this.added = false;
        return e - 1;
      }
      s = (s + 1) & mask;
    }
    this.added = true;
    if (this.size === this.capacity) {
      this.#grow();
      return this.add1(a);
    }
    tab[(s << 1) + 1] = a;
    return this.#insert(s);
  }

  /** Finds or inserts a two-word key; returns its entry. */
  add2(a: number, b: number): number {
    a >>>= 0;
    b >>>= 0;
    const s = this.#slot2(a, b);
    if (s >= 0) {
      this.added = false;
      return this.#tab[s * 3] - 1;
    }
    this.added = true;
    if (this.size === this.capacity) {
      this.#grow();
      return this.add2(a, b);
    }
    const slot = -s - 1;
    this.#tab[slot * 3 + 1] = a;
    this.#tab[slot * 3 + 2] = b;
    return this.#insert(slot);
  }

  /** Entry of the two-word key (a, b), or -1. */
  find2(a: number, b: number): number {
    const s = this.#slot2(a >>> 0, b >>> 0);
    return s >= 0 ? this.#tab[s * 3] - 1 : -1;
  }

  /** As {@link KeyTable.touch2}, for a one-word key. */
  touch1(a: number): number {
    return this.#tab[(hash1(a >>> 0) & this.#mask) << 1];
  }

  /**
   * Reads the first slot where the two-word key (a, b) would be, so that its memory is on its
   * way to the cache: touching a batch of keys before looking them up lets the misses overlap.
   */
  touch2(a: number, b: number): number {
    return this.#tab[(hash2(a >>> 0, b >>> 0) & this.#mask) * 3];
  }

  /**
   * The hash that places the key in `key[off .. off+width)` (the same for every table of this
   * width): computed once, it serves {@link KeyTable.touchHash}, {@link KeyTable.findHashed}
   * and {@link KeyTable.addHashed} of any table of the width.
   */
  hash(key: Uint32Array, off = 0): number {
    return this.#hashAt(key, off);
  }

  /**
   * Reads the first slot of the key with hash `h`, as {@link KeyTable.touch2} does. A loop of
   * these alone (hashes computed before it) keeps many misses in flight at once; a loop that
   * also hashes holds too few loads in the processor's window to overlap them.
   */
  touchHash(h: number): number {
    return this.#tab[(h & this.#mask) * this.#stride];
  }

  // Slot holding the two-word key (a, b), or the empty slot where it would go: -(slot + 1).
  #slot2(a: number, b: number): number {
    const tab = this.#tab;
    const mask = this.#mask;
    let s = hash2(a, b) & mask;
    for (;;) {
      const p = s * 3;
      const e = tab[p];
      if (e === 0) return -(s + 1);
      if (tab[p + 1] === a && tab[p + 2] === b) return s;
      s = (s + 1) & mask;
    }
  }

  // Slot holding `key[off ..]`, or the empty slot where it would go (negative: -(slot + 1)).
  #probe(key: Uint32Array, off: number, h: number): number {
    const w = this.width;
    const st = this.#stride;
    const tab = this.#tab;
    const mask = this.#mask;
    let s = h & mask;
    for (;;) {
      const p = s * st;
      if (tab[p] === 0) return -(s + 1);
      let eq = true;
      for (let i = 0; i < w; i++) {
        if (tab[p + 1 + i] !== key[off + i]) {
          eq = false;
          break;
        }
      }
      if (eq) return s;
      s = (s + 1) & mask;
    }
  }

  /** Finds or inserts the key in `key[off .. off+width)`; returns its entry. */
  add(key: Uint32Array, off = 0): number {
    return this.addHashed(key, off, this.#hashAt(key, off));
  }

  /** As {@link KeyTable.add}, given the key's {@link KeyTable.hash}. */
  addHashed(key: Uint32Array, off: number, h: number): number {
    const s = this.#probe(key, off, h);
    if (s >= 0) {
      this.added = false;
      return this.#tab[s * this.#stride] - 1;
    }
    this.added = true;
    if (this.size === this.capacity) {
      this.#grow();
      return this.addHashed(key, off, h);
    }
    const slot = -s - 1;
    for (let i = 0; i < this.width; i++) this.#tab[slot * this.#stride + 1 + i] = key[off + i];
    return this.#insert(slot);
  }

  /** Entry of the key in `key[off ..]`, or -1. */
  find(key: Uint32Array, off = 0): number {
    return this.findHashed(key, off, this.#hashAt(key, off));
  }

  /** As {@link KeyTable.find}, given the key's {@link KeyTable.hash}. */
  findHashed(key: Uint32Array, off: number, h: number): number {
    const s = this.#probe(key, off, h);
    return s >= 0 ? this.#tab[s * this.#stride] - 1 : -1;
  }

  /**
   * Removes `entry`. To keep entries dense the last entry moves into its place: returns the
   * old number of the entry that moved (the caller moves its values from there to `entry`),
   * or -1 if `entry` was the last.
   */
  delete(entry: number): number {
    const tab = this.#tab;
    const mask = this.#mask;
    const st = this.#stride;
    const slotOf = this.#slotOf;
    // Backward-shift deletion keeps probe chains intact without tombstones.
    let hole = slotOf[entry];
    let s = (hole + 1) & mask;
    while (tab[s * st] !== 0) {
      const home = this.#hashAt(tab, s * st + 1) & mask;
      // Move slot s into the hole unless its home lies cyclically in (hole, s].
      if (((s - home) & mask) >= ((s - hole) & mask)) {
        for (let i = 0; i < st; i++) tab[hole * st + i] = tab[s * st + i];
        slotOf[tab[hole * st] - 1] = hole;
        hole = s;
      }
      s = (s + 1) & mask;
    }
    tab[hole * st] = 0;
    const last = --this.size;
    if (last === entry) return -1;
    const w = this.width;
    const ls = slotOf[last];
    tab[ls * st] = entry + 1;
    slotOf[entry] = ls;
    const keys = this.keys;
    for (let i = 0; i < w; i++) keys[entry * w + i] = keys[last * w + i];
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
    this.#tab.fill(0);
    this.size = 0;
  }
}

/**
 * Orders two keys of `w` words, at `a[i ..]` and `b[j ..]`, word by word as unsigned numbers
 * (for IPv4 event keys: source, then traffic << 16 | port).
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { compareKeys } from "./key_table.ts";
 * const k = Uint32Array.of(1, 9, 2, 0);
 * ok(compareKeys(k, 0, k, 2, 2) < 0 && compareKeys(k, 0, k, 0, 2) === 0);
 * ```
 */
export function compareKeys(
  a: Uint32Array,
  i: number,
  b: Uint32Array,
  j: number,
  w: number,
): number {
  for (let k = 0; k < w; k++) {
    if (a[i + k] !== b[j + k]) return a[i + k] < b[j + k] ? -1 : 1;
  }
  return 0;
}

/**
 * Returns `arr` if it holds at least `n` elements, else a copy grown to `n`.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { growF64 } from "./key_table.ts";
 * ok(growF64(new Float64Array(2), 8).length === 8);
 * ```
 */
export function growF64(arr: Float64Array<ArrayBuffer>, n: number): Float64Array<ArrayBuffer> {
  if (arr.length >= n) return arr;
  const out = new Float64Array(n);
  out.set(arr);
  return out;
}

/**
 * Exact sets of IPv4 destinations, one per open event, with exact counts of distinct
 * destinations and distinct /24s. Built for the two shapes darknet events have: most events
 * touch a handful of addresses (kept inline: 8 by default, 17 in event rows; no allocation),
 * many touch up to a few thousand (one hash of addresses, 4.6–9 bytes each), while a heavy
 * scanner sweeps a whole telescope. Sets beyond 4,096 addresses use roaring-bitmap style
 * containers per /16: a sorted array of the low 16 bits (2 bytes an address) while sparse, an
 * 8 KiB bitmap beyond 1,024, plus a 256-bit map of the /24s seen — so a scanner covering a /13
 * costs about 64 KiB, not megabytes. A set loaded from a state file stays a sorted array until
 * an address is added (see `DestSets`).
 *
 * Sets are addressed by slot number (the event's entry in its table); `move` follows the
 * table's swap-remove. The aggregator adds with `push`, which defers each address to a log
 * applied slot by slot (when full, or when a set is read): per packet a sequential write
 * instead of a cache miss on the event's table, and each table loaded once per batch of
 * addresses (on the 10 M-packet benchmark 5–9 % less time for the whole run).
 *
 * @module
 */

import { TableArena } from "./_table_arena.ts";
import { popcount } from "../util/popcount.ts";
import { runsOf } from "../util/runs.ts";

const INLINE = 8;
const LOG = 1 << 17; // deferred adds held before they are applied (1 MiB)
const SORTED_MAX = 4096; // a medium set beyond this becomes per-/16 containers
const ARRAY_MAX = 1024; // an array container beyond this becomes an 8 KiB bitmap
const FROZEN_MAX = 1 << 16; // a loaded or united set up to this size may stay a sorted array
/** Words of one /16 in bitmap form (`DestSets.addBitmaps`): its high 16 bits, then 2,048 words. */
export const BITMAP_WORDS = 2049;

/** One /16 of a big set: a sorted array of low 16 bits while sparse, a bitmap once dense. */
class Container {
  /** The /16 (high 16 bits) this container holds. */
  readonly high: number;
  arr: Uint16Array | null = new Uint16Array(4);
  bits: Uint32Array | null = null;
  n = 0;
  d24 = new Uint32Array(8);

  constructor(high: number) {
    this.high = high;
  }

  /** Adds `low` (0–65535); returns true if it was new. */
  add(low: number): boolean {
    const bits = this.bits;
    if (bits !== null) {
      const w = low >>> 5;
      const m = 1 << (low & 31);
      if ((bits[w] & m) !== 0) return false;
      bits[w] |= m;
      this.n++;
      return true;
    }
    let arr = this.arr!;
    const n = this.n;
    const lo = lowerBound(arr, n, low);
    if (lo < n && arr[lo] === low) return false;
    if (n === ARRAY_MAX) {
      const bm = new Uint32Array(2048);
      for (let k = 0; k < n; k++) bm[arr[k] >>> 5] |= 1 << (arr[k] & 31);
      bm[low >>> 5] |= 1 << (low & 31);
      this.bits = bm;
      this.arr = null;
      this.n++;
      return true;
    }
    if (n === arr.length) {
      const grown = new Uint16Array(Math.min(ARRAY_MAX, n * 2));
      grown.set(arr);
      this.arr = arr = grown;
    }
    if (n - lo > 16) arr.copyWithin(lo + 1, lo, n);
    else for (let k = n; k > lo; k--) arr[k] = arr[k - 1];
    arr[lo] = low;
    this.n = n + 1;
    return true;
  }

  /** Adds `lo`..`hi` (inclusive, within 0–65535); returns how many were new. */
  addRange(lo: number, hi: number): number {
    if (this.bits === null) {
      if (this.n + hi - lo < ARRAY_MAX) return this.#arrayRange(lo, hi);
      this.#toBits();
    }
    const bits = this.bits!;
    const before = this.n;
    let w = lo >>> 5;
    const last = hi >>> 5;
    for (; w <= last; w++) {
      const from = w === lo >>> 5 ? lo & 31 : 0;
      const to = w === last ? hi & 31 : 31;
      const m = (to === 31 ? -1 : (1 << (to + 1)) - 1) & ~((1 << from) - 1);
      this.n += popcount(m & ~bits[w]);
      bits[w] |= m;
    }
    this.#settle();
    return this.n - before;
  }

  /** The container becomes the bitmap `bits` (2,048 words; the caller's no more), counted. */
  setBits(bits: Uint32Array): void {
    let n = 0;
    for (let w = 0; w < 2048; w++) n += popcount(bits[w]);
    this.bits = bits;
    this.arr = null;
    this.n = n;
    const d24 = this.d24;
    d24.fill(0);
    for (let o = 0; o < 256; o++) {
      const w = o * 8;
      if (
        (bits[w] | bits[w + 1] | bits[w + 2] | bits[w + 3] | bits[w + 4] | bits[w + 5] |
          bits[w + 6] | bits[w + 7]) !== 0
      ) d24[o >>> 5] |= 1 << (o & 31);
    }
    this.#settle();
  }

  /** Adds the low 16 bits of `a[i..j)` (ascending, distinct); returns how many were new. */
  addSorted(a: Uint32Array, i: number, j: number): number {
    let added = 0;
    if (this.bits === null && this.n + (j - i) <= ARRAY_MAX) {
      for (; i < j; i++) if (this.add(a[i] & 0xffff)) added++; // ascending: appended
      return added;
    }
    if (this.bits === null) this.#toBits();
    const bits = this.bits!;
    for (; i < j; i++) {
      const w = (a[i] & 0xffff) >>> 5;
      const m = 1 << (a[i] & 31);
      if ((bits[w] & m) === 0) {
        bits[w] |= m;
        added++;
      }
    }
    this.n += added;
    this.#settle();
    return added;
  }

  /** Adds every value of `o` (a container of the same /16); returns how many were new. */
  union(o: Container): number {
    const before = this.n;
    if (o.bits === null) {
      const arr = o.arr!;
      for (let k = 0; k < o.n; k++) this.add(arr[k]);
    } else {
      if (this.bits === null) this.#toBits();
      const bits = this.bits!;
      const ob = o.bits;
      let n = 0;
      for (let w = 0; w < 2048; w++) n += popcount(bits[w] |= ob[w]);
      this.n = n;
      this.#settle();
    }
    return this.n - before;
  }

  // addRange into the sorted array, which stays one: the values below lo, lo..hi, those above.
  #arrayRange(lo: number, hi: number): number {
    const arr = this.arr!;
    const n = this.n;
    const i = lowerBound(arr, n, lo);
    const j = lowerBound(arr, n, hi + 1);
    const size = i + (hi - lo + 1) + (n - j);
    let cap = arr.length;
    while (cap < size) cap *= 2;
    let out = arr;
    if (cap === arr.length) arr.copyWithin(size - (n - j), j, n);
    else {
      out = new Uint16Array(cap);
      out.set(arr.subarray(0, i));
      out.set(arr.subarray(j, n), size - (n - j));
    }
    for (let v = lo, k = i; v <= hi; v++, k++) out[k] = v;
    this.arr = out;
    this.n = size;
    return size - n;
  }

  // A bitmap of the values (whatever the count; #settle returns a small one to an array).
  #toBits(): void {
    const bm = new Uint32Array(2048);
    const arr = this.arr!;
    for (let k = 0; k < this.n; k++) bm[arr[k] >>> 5] |= 1 << (arr[k] & 31);
    this.bits = bm;
    this.arr = null;
  }

  // The form adding one value at a time would have left: an array (capacity 4 doubled as it
  // filled) up to ARRAY_MAX values, a bitmap beyond.
  #settle(): void {
    if (this.bits === null || this.n > ARRAY_MAX) return;
    let cap = 4;
    while (cap < this.n) cap *= 2;
    const arr = new Uint16Array(cap);
    let i = 0;
    this.forEach((low) => arr[i++] = low);
    this.arr = arr;
    this.bits = null;
  }

  /** Calls `fn` for each low value in ascending order. */
  forEach(fn: (low: number) => void): void {
    if (this.bits !== null) {
      for (let w = 0; w < 2048; w++) {
        let x = this.bits[w];
        while (x !== 0) {
          const b = 31 - Math.clz32(x & -x);
          fn((w << 5) | b);
          x &= x - 1;
        }
      }
      return;
    }
    for (let k = 0; k < this.n; k++) fn(this.arr![k]);
  }

  /** Bytes held. */
  get bytes(): number {
    return 80 + (this.bits ? this.bits.byteLength : this.arr!.byteLength);
  }
}

// The first index of arr[0..n) whose value is not below v.
function lowerBound(arr: Uint16Array, n: number, v: number): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (arr[mid] < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

// A medium set: one open-addressing hash of whole addresses whose home slot depends only on
// the /24. With linear probing and no deletions, every address of a /24 lies in the probe run
// from that home slot to the next empty slot, so one scan both finds the address and tells
// whether its /24 was seen: exact counts of both from a single table (4.6–9 bytes an address:
// tables grow at 7/8 full). The table is a block of the TableArena; its header lives in the
// set's row, in the words the inline addresses used (a lookup touches the row and the table):
const M_N = 1; // addresses
const M_N24 = 2; // distinct /24s
const M_BITS = 3; // log2 of the table size | 0x100 if address 0 is in the set
const M_BLOCK = 4; // arena block

/** Adds `d` to the medium set whose row starts at `base`; returns 0, 1 or 3 as `DestSets.add`. */
function mediumAdd(arena: TableArena, rows: Uint32Array, base: number, d: number): number {
  const bw = rows[base + M_BITS];
  const bits = bw & 0xff;
  const block = rows[base + M_BLOCK];
  const h = arena.page(block);
  const hb = arena.base(block);
  const d24 = d >>> 8;
  let seen24 = d24 === 0 && (bw & 0x100) !== 0;
  const mask = (1 << bits) - 1;
  let s = Math.imul(d24, 0x9e3779b1) >>> (32 - bits);
  for (;;) {
    const x = h[hb + s];
    if (x === 0) break;
    if (x === d) return 0;
    if (x >>> 8 === d24) seen24 = true;
    s = (s + 1) & mask;
  }
  if (d === 0) {
    if ((bw & 0x100) !== 0) return 0;
    rows[base + M_BITS] = bw | 0x100;
  } else h[hb + s] = d;
  const n = ++rows[base + M_N];
  if (n * 8 > (mask + 1) * 7) mediumGrow(arena, rows, base); // at most 7/8 full
  if (seen24) return 1;
  rows[base + M_N24]++;
  return 3;
}

const SEEN = new Uint32Array(8);

/**
 * Adds `start`..`start + len - 1`, all of one /24, to the medium set whose row starts at `base`:
 * one scan of the /24's probe run finds those already there, each new one goes to the next
 * empty slot — where adding them one by one would put it, at a probe run's cost each.
 */
function mediumAddRun(
  arena: TableArena,
  rows: Uint32Array,
  base: number,
  start: number,
  len: number,
): void {
  const d24 = start >>> 8;
  let v = start;
  const end = start + len;
  if (v === 0) mediumAdd(arena, rows, base, v++); // address 0 is a flag, not a slot
  while (v < end) {
    const bw = rows[base + M_BITS];
    const bits = bw & 0xff;
    const block = rows[base + M_BLOCK];
    const h = arena.page(block);
    const hb = arena.base(block);
    const mask = (1 << bits) - 1;
    let seen24 = d24 === 0 && (bw & 0x100) !== 0;
    SEEN.fill(0);
    let s = Math.imul(d24, 0x9e3779b1) >>> (32 - bits);
    for (let x = h[hb + s]; x !== 0; x = h[hb + s]) {
      if (x >>> 8 === d24) {
        seen24 = true;
        SEEN[(x & 255) >>> 5] |= 1 << (x & 31);
      }
      s = (s + 1) & mask;
    }
    for (; v < end; v++) {
      if ((SEEN[(v & 255) >>> 5] & (1 << (v & 31))) !== 0) continue;
      h[hb + s] = v;
      if (!seen24) {
        seen24 = true;
        rows[base + M_N24]++;
      }
      if (++rows[base + M_N] * 8 > (mask + 1) * 7) { // at most 7/8 full: grow, scan again
        mediumGrow(arena, rows, base);
        v++;
        break;
      }
      do s = (s + 1) & mask; while (h[hb + s] !== 0);
    }
  }
}

/** Starts an empty medium set with room for `hint` + 1 addresses in the row at `base`. */
function mediumInit(arena: TableArena, rows: Uint32Array, base: number, hint: number): void {
  let bits = 5;
  while ((1 << bits) * 7 < (hint + 2) * 8) bits++;
  rows[base + M_N] = 0;
  rows[base + M_N24] = 0;
  rows[base + M_BITS] = bits;
  rows[base + M_BLOCK] = arena.take(bits);
}

function mediumGrow(arena: TableArena, rows: Uint32Array, base: number): void {
  const bw = rows[base + M_BITS];
  const oldBits = bw & 0xff;
  const oldBlock = rows[base + M_BLOCK];
  const old = arena.page(oldBlock);
  const oldBase = arena.base(oldBlock);
  const bits = oldBits + 1;
  const block = arena.take(bits);
  const h = arena.page(block);
  const hb = arena.base(block);
  const mask = (1 << bits) - 1;
  for (let i = oldBase, end = oldBase + (1 << oldBits); i < end; i++) {
    const v = old[i];
    if (v === 0) continue;
    let s = Math.imul(v >>> 8, 0x9e3779b1) >>> (32 - bits);
    while (h[hb + s] !== 0) s = (s + 1) & mask;
    h[hb + s] = v;
  }
  rows[base + M_BITS] = (bw & 0x100) | bits;
  rows[base + M_BLOCK] = block;
  arena.give(oldBits, oldBlock);
}

// A medium set's addresses, sorted or in table order.
function mediumValues(
  arena: TableArena,
  rows: Uint32Array,
  base: number,
  sorted: boolean,
): Uint32Array {
  const bw = rows[base + M_BITS];
  const bits = bw & 0xff;
  const block = rows[base + M_BLOCK];
  const h = arena.page(block);
  const hb = arena.base(block);
  const out = new Uint32Array(rows[base + M_N]);
  let i = 0;
  if ((bw & 0x100) !== 0) out[i++] = 0;
  for (let k = hb, end = hb + (1 << bits); k < end; k++) if (h[k] !== 0) out[i++] = h[k];
  return sorted ? out.sort() : out;
}

function mediumRelease(arena: TableArena, rows: Uint32Array, base: number): void {
  arena.give(rows[base + M_BITS] & 0xff, rows[base + M_BLOCK]);
}

// Distinct /24s of a sorted array of distinct addresses.
function count24Sorted(a: Uint32Array): number {
  let n = 0;
  let last = -1;
  for (let i = 0; i < a.length; i++) {
    const d24 = a[i] >>> 8;
    if (d24 !== last) {
      n++;
      last = d24;
    }
  }
  return n;
}

// The union of two sorted arrays of distinct addresses, sorted.
function unionSorted(a: Uint32Array, b: Uint32Array): Uint32Array {
  const out = new Uint32Array(a.length + b.length);
  let i = 0;
  let j = 0;
  let k = 0;
  while (i < a.length && j < b.length) {
    const x = a[i];
    const y = b[j];
    if (x < y) {
      out[k++] = x;
      i++;
    } else if (y < x) {
      out[k++] = y;
      j++;
    } else {
      out[k++] = x;
      i++;
      j++;
    }
  }
  while (i < a.length) out[k++] = a[i++];
  while (j < b.length) out[k++] = b[j++];
  return k === out.length ? out : out.slice(0, k);
}

/** A big set: containers keyed by the high 16 bits (a small inline hash of high → container). */
class BigSet {
  #hk = new Int32Array(16); // high + 1, 0 = empty
  #hv = new Int32Array(16); // container index
  cont: Container[] = [];
  highs: number[] = [];
  n = 0;
  n24 = 0;
  // Direct-mapped cache of containers by the low 4 bits of the /16: a telescope's /16s are
  // usually consecutive, so a scanner sweeping them in random order hits it every time.
  readonly #cache: (Container | undefined)[] = new Array(16).fill(undefined);

  #container(high: number): Container {
    const hk = this.#hk;
    const mask = hk.length - 1;
    let s = (Math.imul(high, 0x9e3779b1) >>> 20) & mask;
    for (;;) {
      const k = hk[s];
      if (k === high + 1) return this.cont[this.#hv[s]];
      if (k === 0) break;
      s = (s + 1) & mask;
    }
    const c = new Container(high);
    hk[s] = high + 1;
    this.#hv[s] = this.cont.length;
    this.cont.push(c);
    this.highs.push(high);
    if (this.cont.length * 2 > hk.length) this.#rehash();
    return c;
  }

  #rehash(): void {
    const hk = new Int32Array(this.#hk.length * 2);
    const hv = new Int32Array(hk.length);
    const mask = hk.length - 1;
    this.highs.forEach((high, idx) => {
      let s = (Math.imul(high, 0x9e3779b1) >>> 20) & mask;
      while (hk[s] !== 0) s = (s + 1) & mask;
      hk[s] = high + 1;
      hv[s] = idx;
    });
    this.#hk = hk;
    this.#hv = hv;
  }

  /** Adds the addresses `start`..`start + len - 1` (within 32 bits). */
  addRange(start: number, len: number): void {
    if (len < 64) { // short runs (a sparse sweep): one at a time, through the container cache
      for (let k = 0; k < len; k++) this.add((start + k) >>> 0);
      return;
    }
    let s = start;
    const end = start + len; // exclusive, up to 2^32
    while (s < end) {
      const high = Math.floor(s / 65536);
      const lo = s % 65536;
      const hi = Math.min(65535, lo + (end - s) - 1);
      const c = this.#container(high);
      this.n += c.addRange(lo, hi);
      this.#mark24(c, lo >>> 8, hi >>> 8);
      s += hi - lo + 1;
    }
  }

  /**
   * Into an empty set: `k` /16s as bitmaps, `words` holding for each its high 16 bits and 2,048
   * words of bits (a state file's form of a dense set; copied).
   */
  setBitmaps(words: Uint32Array, k: number): void {
    for (let i = 0; i < k; i++) {
      const at = i * BITMAP_WORDS;
      const c = this.#container(words[at]);
      c.setBits(words.slice(at + 1, at + BITMAP_WORDS));
      this.n += c.n;
      for (let w = 0; w < 8; w++) this.n24 += popcount(c.d24[w]);
    }
  }

  /** Adds the addresses of `a` (ascending, distinct), a /16 at a time. */
  addSorted(a: Uint32Array): void {
    for (let i = 0; i < a.length;) {
      const high = a[i] >>> 16;
      let j = i + 1;
      while (j < a.length && a[j] >>> 16 === high) j++;
      const c = this.#container(high);
      this.n += c.addSorted(a, i, j);
      const d24 = c.d24;
      for (; i < j; i++) {
        const o = (a[i] >>> 8) & 255;
        const m = 1 << (o & 31);
        if ((d24[o >>> 5] & m) === 0) {
          d24[o >>> 5] |= m;
          this.n24++;
        }
      }
    }
  }

  /** Adds every address of `o`. */
  union(o: BigSet): void {
    for (let e = 0; e < o.cont.length; e++) {
      const oc = o.cont[e];
      const c = this.#container(oc.high);
      this.n += c.union(oc);
      for (let w = 0; w < 8; w++) {
        const was = c.d24[w];
        const now = was | oc.d24[w];
        if (now !== was) {
          this.n24 += popcount(now & ~was);
          c.d24[w] = now;
        }
      }
    }
  }

  // The /24s o24 from..to of container c seen.
  #mark24(c: Container, from: number, to: number): void {
    for (let o = from; o <= to; o++) {
      const m = 1 << (o & 31);
      if ((c.d24[o >>> 5] & m) === 0) {
        c.d24[o >>> 5] |= m;
        this.n24++;
      }
    }
  }

  /** Returns bit 1 if `d` is new, bit 2 if its /24 is new. */
  add(d: number): number {
    const high = d >>> 16;
    let c = this.#cache[high & 15];
    if (c === undefined || c.high !== high) this.#cache[high & 15] = c = this.#container(high);
    const bits = c.bits;
    if (bits !== null) { // the bitmap case inline: the common one for heavy scanners
      const w = (d & 0xffff) >>> 5;
      const bit = 1 << (d & 31);
      if ((bits[w] & bit) !== 0) return 0;
      bits[w] |= bit;
      c.n++;
    } else if (!c.add(d & 0xffff)) return 0;
    this.n++;
    const o = (d >>> 8) & 255;
    const m = 1 << (o & 31);
    if ((c.d24[o >>> 5] & m) !== 0) return 1;
    c.d24[o >>> 5] |= m;
    this.n24++;
    return 3;
  }
}

/** Options of {@link DestSets}. */
export interface DestSetsOptions {
  /** Addresses kept inline in a set's row before it becomes a hash set (default 8; 4 to 250). */
  inline?: number;
  /** Adds {@link DestSets.push} defers before it applies them (default 131,072: 1 MiB). */
  log?: number;
}

/**
 * Per-slot IPv4 destination sets.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { DestSets } from "./dest_set.ts";
 * const s = new DestSets();
 * s.add(0, 0x0a000001); s.add(0, 0x0a000002); s.add(0, 0x0a000102); s.add(0, 0x0a000001);
 * ok(s.count(0) === 3 && s.count24(0) === 2);
 * s.push(1, 0x0a000001); s.push(1, 0x0a000001); // deferred: applied when the set is read
 * ok(s.count(1) === 1);
 * ```
 */
export class DestSets {
  // Per slot, one row of `inline + 1` words: [n | n24 << 8, d0 .. d(inline-1)]. n > inline marks
  // a bigger set: inline + 1 a medium set (its header in the row's words 1–4, its table in the
  // arena), inline + 2 a set of containers (in #big), inline + 3 a frozen set: a sorted array
  // (in #frozen; its counts in words 1–2), which a set loaded from a state file or united with
  // one stays until an address is added — the merge step only loads, unites and counts sets, a
  // sequential pass each on sorted arrays instead of a hash probe per address. The rows are
  // either this object's own or, after `_bind`, words inside a caller's rows (the event table
  // keeps them in its event rows, so one cache line serves both the event and its destinations).
  readonly #inline: number;
  #stride: number;
  #offset = 0;
  #bound = false;
  #rows: Uint32Array;
  #cap = 64;
  #big: (BigSet | undefined)[] = new Array(64).fill(undefined);
  // Frozen sets, never changed in place (so two slots may share one).
  #frozen: (Uint32Array | undefined)[] = new Array(64).fill(undefined);
  readonly #arena = new TableArena();
  // Deferred adds (see `push`): per entry [address, previous entry of the same slot or -1]
  // (allocated on the first push), and per slot its latest entry (-1: none pending).
  #log: Int32Array = new Int32Array(0);
  readonly #logCap: number;
  #pos = 0;
  #head: Int32Array = new Int32Array(64).fill(-1);

  /** Creates empty sets. */
  constructor(o: DestSetsOptions = {}) {
    this.#inline = Math.max(4, Math.min(250, o.inline ?? INLINE));
    this.#stride = this.#inline + 1;
    this.#rows = new Uint32Array(64 * this.#stride);
    this.#logCap = Math.max(1, Math.floor(o.log ?? LOG));
  }

  /**
   * Adds `d` to `slot`'s set later (the same set in the end as {@link DestSets.add}): the
   * address goes to a log, applied slot by slot when the log is full, when the set is read
   * (`count`, `count24`, `values`, `bytes`) or on {@link DestSets.flush}. A slot's table is
   * then loaded once for every address it got since, instead of once per address: per packet
   * this is a sequential write, where `add` costs a cache miss on most events' tables.
   */
  push(slot: number, d: number): void {
    if (slot >= this.#cap) this.#ensure(slot);
    let p = this.#pos;
    if (p * 2 === this.#log.length) { // full, or not allocated yet
      if (p === 0) this.#log = new Int32Array(this.#logCap * 2);
      else this.flush();
      p = 0;
    }
    const head = this.#head;
    this.#log[p * 2] = d;
    this.#log[p * 2 + 1] = head[slot];
    head[slot] = p;
    this.#pos = p + 1;
  }

  /** Applies every deferred add (see {@link DestSets.push}), slot by slot. */
  flush(): void {
    if (this.#pos === 0) return;
    const head = this.#head;
    for (let s = 0, n = head.length; s < n; s++) if (head[s] >= 0) this.#flushSlot(s);
    this.#pos = 0;
  }

  // Applies `slot`'s deferred adds (newest first: a set does not depend on the order).
  #flushSlot(slot: number): void {
    const log = this.#log;
    let p = this.#head[slot];
    this.#head[slot] = -1;
    const base = slot * this.#stride + this.#offset;
    const bigN = this.#inline + 2;
    while (p >= 0) {
      if ((this.#rows[base] & 0xff) === bigN) { // a big set: straight into its containers
        const big = this.#big[slot]!;
        for (; p >= 0; p = log[p * 2 + 1]) big.add(log[p * 2] >>> 0);
        return;
      }
      this.add(slot, log[p * 2] >>> 0);
      p = log[p * 2 + 1];
    }
  }

  #pending(slot: number): void {
    if (slot < this.#cap && this.#head[slot] >= 0) this.#flushSlot(slot);
  }

  /**
   * @internal Keeps the rows inside `rows`: slot s's row starts at word `s * stride + offset`,
   * for slots below `capacity`. Call again whenever the caller replaces `rows`; the caller
   * copies the words when it grows them.
   */
  _bind(rows: Uint32Array, stride: number, offset: number, capacity: number): void {
    this.#rows = rows;
    this.#stride = stride;
    this.#offset = offset;
    this.#bound = true;
    for (let i = this.#cap; i < capacity; i++) this.#big.push(undefined);
    for (let i = this.#cap; i < capacity; i++) this.#frozen.push(undefined);
    this.#growHead(capacity);
    this.#cap = Math.max(this.#cap, capacity);
  }

  #ensure(slot: number): void {
    if (slot < this.#cap) return;
    if (this.#bound) throw new RangeError(`destination set slot ${slot} beyond the bound rows`);
    let cap = this.#cap;
    while (cap <= slot) cap *= 2;
    const rows = new Uint32Array(cap * this.#stride);
    rows.set(this.#rows);
    this.#rows = rows;
    for (let i = this.#cap; i < cap; i++) this.#big.push(undefined);
    for (let i = this.#cap; i < cap; i++) this.#frozen.push(undefined);
    this.#growHead(cap);
    this.#cap = cap;
  }

  #growHead(cap: number): void {
    if (cap <= this.#head.length) return;
    const head = new Int32Array(cap).fill(-1);
    head.set(this.#head);
    this.#head = head;
  }

  /**
   * Adds destination `d` to the set of `slot`. Returns 0 if it was already there, 1 if the
   * address is new, 3 if its /24 is new too.
   */
  add(slot: number, d: number): number {
    if (slot >= this.#cap) this.#ensure(slot);
    const rows = this.#rows;
    const inline = this.#inline;
    const base = slot * this.#stride + this.#offset;
    const meta = rows[base];
    const n = meta & 0xff;
    if (n > inline) {
      if (n === inline + 2) return this.#big[slot]!.add(d);
      if (n === inline + 3) {
        this.#thaw(slot);
        return this.add(slot, d);
      }
      const r = mediumAdd(this.#arena, rows, base, d);
      if (r !== 0 && rows[base + M_N] > SORTED_MAX) this.#promote(slot);
      return r;
    }
    const d24 = d >>> 8;
    let seen24 = false;
    for (let k = base + 1, end = base + 1 + n; k < end; k++) {
      const x = rows[k];
      if (x === d) return 0;
      if (x >>> 8 === d24) seen24 = true;
    }
    if (n < inline) {
      rows[base + 1 + n] = d;
      if (seen24) {
        rows[base] = meta + 1;
        return 1;
      }
      rows[base] = meta + 0x101;
      return 3;
    }
    // Promote to a medium set: the inline addresses move to a table, its header takes their place.
    const held = rows.slice(base + 1, base + 1 + n);
    mediumInit(this.#arena, rows, base, n);
    rows[base] = inline + 1;
    for (let k = 0; k < n; k++) mediumAdd(this.#arena, rows, base, held[k]);
    return mediumAdd(this.#arena, rows, base, d);
  }

  /**
   * Adds the addresses of `n` runs, `runs` holding [start, length] pairs (a state file's form):
   * a big set takes each run a range at a time (a scanner's whole telescope in microseconds).
   * The set is the same as after adding each address.
   */
  addRuns(slot: number, runs: ArrayLike<number>, n: number): void {
    this.#ensure(slot);
    this.#pending(slot);
    let total = 0;
    for (let i = 0; i < n; i++) total += runs[2 * i + 1];
    const kind = this.#rows[slot * this.#stride + this.#offset] & 0xff;
    if (kind === 0 && total > this.#inline && total <= FROZEN_MAX) {
      // Into an empty set (a state file's): the runs expanded into a frozen set.
      const arr = new Uint32Array(total);
      let k = 0;
      for (let i = 0; i < n; i++) {
        for (let v = runs[2 * i], end = v + runs[2 * i + 1]; v < end; v++) arr[k++] = v;
      }
      this.#freeze(slot, arr);
      return;
    }
    if (kind === this.#inline + 3) this.#thaw(slot);
    this.#addRunsLive(slot, runs, n, total);
  }

  /**
   * Adds the addresses of `sorted` (ascending, distinct; the set takes it and must be the only
   * holder): into an empty slot it is kept as it is, a frozen set, when it is larger than the
   * inline area.
   */
  addSorted(slot: number, sorted: Uint32Array): void {
    this.#ensure(slot);
    this.#pending(slot);
    const kind = this.#rows[slot * this.#stride + this.#offset] & 0xff;
    if (kind === 0 && sorted.length > this.#inline && sorted.length <= FROZEN_MAX) {
      this.#freeze(slot, sorted);
      return;
    }
    if (kind === 0 && sorted.length <= this.#inline) { // the usual event: a few, inline
      for (let i = 0; i < sorted.length; i++) this.add(slot, sorted[i]);
      return;
    }
    if (kind === this.#inline + 3) this.#thaw(slot);
    this.#addSortedLive(slot, sorted);
  }

  // addSorted into a live set: a big one container by container, others as runs.
  #addSortedLive(slot: number, sorted: Uint32Array): void {
    const big = this.#bigOf(slot, sorted.length);
    if (big !== null) big.addSorted(sorted);
    else this.#addRunsLive(slot, ...runsOf(sorted), sorted.length);
  }

  /**
   * Adds `k` /16s given as bitmaps (`words`: per /16 its high 16 bits, then 2,048 words of bits;
   * highs ascending and distinct): into an empty slot, a big set's containers are made from them
   * directly (a whole-telescope scanner's set loaded in microseconds).
   */
  addBitmaps(slot: number, words: Uint32Array, k: number): void {
    this.#ensure(slot);
    this.#pending(slot);
    let total = 0;
    for (let i = 0; i < k; i++) {
      for (let w = 1; w < BITMAP_WORDS; w++) total += popcount(words[i * BITMAP_WORDS + w]);
    }
    if ((this.#rows[slot * this.#stride + this.#offset] & 0xff) === 0 && total > SORTED_MAX) {
      const big = this.#promote(slot);
      big.setBitmaps(words, k);
      return;
    }
    const sorted = new Uint32Array(total);
    let n = 0;
    for (let i = 0; i < k; i++) {
      const high = words[i * BITMAP_WORDS] * 65536;
      for (let w = 0; w < 2048; w++) {
        let x = words[i * BITMAP_WORDS + 1 + w];
        while (x !== 0) {
          sorted[n++] = high + (w << 5) + (31 - Math.clz32(x & -x));
          x &= x - 1;
        }
      }
    }
    this.addSorted(slot, sorted);
  }

  #addRunsLive(slot: number, runs: ArrayLike<number>, n: number, total: number): void {
    // Distinct runs: more than SORTED_MAX addresses in them make a big set.
    const big = this.#bigOf(slot, total);
    if (big !== null) {
      for (let i = 0; i < n; i++) big.addRange(runs[2 * i], runs[2 * i + 1]);
      return;
    }
    const base = slot * this.#stride + this.#offset;
    if ((this.#rows[base] & 0xff) === 0 && total > this.#inline) {
      mediumInit(this.#arena, this.#rows, base, total); // sized once, not grown step by step
      this.#rows[base] = this.#inline + 1;
    }
    for (let i = 0; i < n; i++) {
      let s = runs[2 * i];
      const end = s + runs[2 * i + 1];
      while (s < end) {
        const to = Math.min(end, (Math.floor(s / 256) + 1) * 256); // within one /24
        this.#addSegment(slot, s, to);
        s = to;
      }
    }
  }

  // Adds addresses from..to-1 of one /24: one at a time while inline, then in one scan of the
  // medium set's probe run (adding them one by one costs the run's length each).
  #addSegment(slot: number, from: number, to: number): void {
    const base = slot * this.#stride + this.#offset;
    let v = from;
    while (v < to && (this.#rows[base] & 0xff) <= this.#inline) this.add(slot, v++ >>> 0);
    if (v === to) return;
    if ((this.#rows[base] & 0xff) === this.#inline + 2) {
      this.#big[slot]!.addRange(v, to - v);
      return;
    }
    if (to - v >= 8) mediumAddRun(this.#arena, this.#rows, base, v, to - v);
    else while (v < to) mediumAdd(this.#arena, this.#rows, base, v++ >>> 0);
    if (this.#rows[base + M_N] > SORTED_MAX) this.#promote(slot);
  }

  /**
   * Adds every address of `other`'s set `from` to the set of `slot` (two big sets united
   * container by container). The set is the same as after adding each address.
   */
  addAll(slot: number, other: DestSets, from: number): void {
    other.#pending(from);
    const on = other.#meta(from) & 0xff;
    const mine = this.#meta(slot) & 0xff;
    const oFrozen = on === other.#inline + 3;
    if (oFrozen && mine === 0) { // shared: neither changes it in place
      this.#ensure(slot);
      this.#freeze(slot, other.#frozen[from]!, other.count24(from));
      return;
    }
    if (
      (oFrozen || mine === this.#inline + 3) && on !== other.#inline + 2 &&
      mine !== this.#inline + 2
    ) {
      // Neither a big set, one frozen: united as sorted arrays, in one pass.
      const a = mine === this.#inline + 3 ? this.#frozen[slot]! : this.values(slot);
      const b = oFrozen ? other.#frozen[from]! : other.values(from);
      const u = unionSorted(a, b);
      this.clear(slot);
      if (u.length <= FROZEN_MAX) this.#freeze(slot, u);
      else this.#addSortedLive(slot, u);
      return;
    }
    if (oFrozen) { // into a big set: container by container
      this.#big[slot]!.addSorted(other.#frozen[from]!);
      return;
    }
    if (mine === this.#inline + 3) this.#thaw(slot);
    const ob = on === other.#inline + 2 ? other.#big[from]! : null;
    if (on === other.#inline + 1 && this.#inline === other.#inline && this.#meta(slot) === 0) {
      this.#ensure(slot); // into an empty set: a copy of the medium set's table
      const from0 = from * other.#stride + other.#offset;
      const to0 = slot * this.#stride + this.#offset;
      const bw = other.#rows[from0 + M_BITS];
      const block = this.#arena.take(bw & 0xff);
      const ob0 = other.#arena.base(other.#rows[from0 + M_BLOCK]);
      this.#arena.page(block).set(
        other.#arena.page(other.#rows[from0 + M_BLOCK]).subarray(ob0, ob0 + (1 << (bw & 0xff))),
        this.#arena.base(block),
      );
      this.#rows[to0 + M_N] = other.#rows[from0 + M_N];
      this.#rows[to0 + M_N24] = other.#rows[from0 + M_N24];
      this.#rows[to0 + M_BITS] = bw;
      this.#rows[to0 + M_BLOCK] = block;
      this.#rows[to0] = this.#inline + 1;
      return;
    }
    if (ob === null) {
      for (const d of other.values(from, false)) this.add(slot, d);
      return;
    }
    this.#bigOf(slot, ob.n)!.union(ob);
  }

  // Slot's (empty) set becomes the frozen set `arr` (sorted, distinct, more than inline).
  #freeze(slot: number, arr: Uint32Array, n24 = count24Sorted(arr)): void {
    const base = slot * this.#stride + this.#offset;
    this.#frozen[slot] = arr;
    this.#rows[base] = this.#inline + 3;
    this.#rows[base + M_N] = arr.length;
    this.#rows[base + M_N24] = n24;
  }

  // Slot's frozen set becomes a live one (medium or big) holding its addresses.
  #thaw(slot: number): void {
    const arr = this.#frozen[slot]!;
    this.clear(slot);
    this.#addSortedLive(slot, arr);
  }

  // Slot's set as a big set if it already is one or will be with `more` distinct addresses
  // added (made one now); null if it may not outgrow a medium set.
  #bigOf(slot: number, more: number): BigSet | null {
    this.#ensure(slot);
    const n = this.#meta(slot) & 0xff;
    if (n === this.#inline + 2) return this.#big[slot]!;
    return more > SORTED_MAX ? this.#promote(slot) : null;
  }

  // Slot's set (inline or medium) becomes a big set holding its addresses.
  #promote(slot: number): BigSet {
    const big = new BigSet();
    for (const v of this.values(slot)) big.add(v);
    this.clear(slot);
    this.#big[slot] = big;
    this.#rows[slot * this.#stride + this.#offset] = this.#inline + 2;
    return big;
  }

  #meta(slot: number): number {
    this.#pending(slot);
    return slot < this.#cap ? this.#rows[slot * this.#stride + this.#offset] : 0;
  }

  /** Distinct destinations in `slot`'s set. */
  count(slot: number): number {
    const n = this.#meta(slot) & 0xff;
    if (n <= this.#inline) return n;
    if (n === this.#inline + 2) return this.#big[slot]!.n;
    return this.#rows[slot * this.#stride + this.#offset + M_N];
  }

  /** Distinct /24s in `slot`'s set. */
  count24(slot: number): number {
    const meta = this.#meta(slot);
    const n = meta & 0xff;
    if (n <= this.#inline) return meta >>> 8;
    if (n === this.#inline + 2) return this.#big[slot]!.n24;
    return this.#rows[slot * this.#stride + this.#offset + M_N24];
  }

  /** Empties `slot`'s set (its memory goes back for reuse). */
  clear(slot: number): void {
    if (slot >= this.#cap) return;
    this.#head[slot] = -1;
    const base = slot * this.#stride + this.#offset;
    if ((this.#rows[base] & 0xff) === this.#inline + 1) {
      mediumRelease(this.#arena, this.#rows, base);
    }
    this.#big[slot] = undefined;
    this.#frozen[slot] = undefined;
    this.#rows[base] = 0;
  }

  /** Moves the set of slot `from` to slot `to` (whose set is discarded). */
  move(from: number, to: number): void {
    this.#ensure(Math.max(from, to));
    this.clear(to);
    const rows = this.#rows;
    const f = from * this.#stride + this.#offset;
    const t = to * this.#stride + this.#offset;
    for (let k = 0; k <= this.#inline; k++) rows[t + k] = rows[f + k];
    this._moved(from, to);
  }

  /**
   * @internal The caller has copied the row words of slot `from` over those of slot `to`
   * (after `clear(to)`): moves what lives outside the rows and leaves `from` empty.
   */
  _moved(from: number, to: number): void {
    this.#head[to] = this.#head[from];
    this.#head[from] = -1;
    this.#big[to] = this.#big[from];
    this.#big[from] = undefined;
    this.#frozen[to] = this.#frozen[from];
    this.#frozen[from] = undefined;
    this.#rows[from * this.#stride + this.#offset] = 0;
  }

  /** All destinations of `slot`, ascending (or, not `sorted`, in no order: cheaper). */
  values(slot: number, sorted = true): Uint32Array {
    const n = this.#meta(slot) & 0xff;
    const base = slot * this.#stride + this.#offset;
    if (n <= this.#inline) {
      const v = this.#rows.slice(base + 1, base + 1 + n);
      return sorted ? v.sort() : v;
    }
    if (n === this.#inline + 1) return mediumValues(this.#arena, this.#rows, base, sorted);
    if (n === this.#inline + 3) return this.#frozen[slot]!.slice();
    const big = this.#big[slot]!;
    const out = new Uint32Array(big.n);
    const order = big.highs.map((_, e) => e).sort((a, b) => big.highs[a] - big.highs[b]);
    let i = 0;
    for (const e of order) {
      const high = big.highs[e] * 65536;
      big.cont[e].forEach((low) => out[i++] = high + low);
    }
    return out;
  }

  /** @internal Hash tables of medium sets currently in use (for leak checks). */
  get _tablesInUse(): number {
    this.flush();
    return this.#arena.inUse;
  }

  /** Approximate bytes held by `slot`'s set beyond its row. */
  bytes(slot: number): number {
    const n = this.#meta(slot) & 0xff;
    if (n <= this.#inline) return 0;
    if (n === this.#inline + 1) {
      return 4 << (this.#rows[slot * this.#stride + this.#offset + M_BITS] & 0xff);
    }
    if (n === this.#inline + 3) return this.#frozen[slot]!.byteLength;
    let b = 0;
    for (const c of this.#big[slot]!.cont) b += c.bytes;
    return b;
  }
}

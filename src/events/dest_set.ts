/**
 * Exact sets of IPv4 destinations, one per open event, with exact counts of distinct
 * destinations and distinct /24s. Built for the two shapes darknet events have: most events
 * touch a handful of addresses (kept inline, 8 slots, no allocation), many touch up to a few
 * thousand (one sorted array of addresses, 4 bytes each), while a heavy scanner sweeps a whole
 * telescope. Sets beyond 4,096 addresses use roaring-bitmap style containers per /16: a sorted
 * array of the low 16 bits (2 bytes an address) while sparse, an 8 KiB bitmap beyond 4,096,
 * plus a 256-bit map of the /24s seen — so a scanner covering a /13 costs about 64 KiB, not megabytes.
 *
 * Sets are addressed by slot number (the event's entry in its table); `move` follows the
 * table's swap-remove.
 *
 * @example
 * ```ts
 * import { DestSets } from "./dest_set.ts";
 * const s = new DestSets();
 * s.add(0, 0x0a000001); s.add(0, 0x0a000002); s.add(0, 0x0a000102); s.add(0, 0x0a000001);
 * console.assert(s.count(0) === 3 && s.count24(0) === 2);
 * ```
 * @module
 */

const INLINE = 8;
const SORTED_MAX = 4096; // a sorted set beyond this becomes per-/16 containers
const ARRAY_MAX = 4096; // an array container beyond this becomes an 8 KiB bitmap

/** One /16 of a big set: a sorted array of low 16 bits while sparse, a bitmap once dense. */
class Container {
  arr: Uint16Array | null = new Uint16Array(4);
  bits: Uint32Array | null = null;
  n = 0;
  d24 = new Uint32Array(8);

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
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (arr[mid] < low) lo = mid + 1;
      else hi = mid;
    }
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

/**
 * A medium set: whole addresses in one sorted array (4 bytes an address). Addresses of one
 * /24 are adjacent, so whether a new address opens a new /24 is read off its two neighbours.
 */
class SortedSet {
  arr = new Uint32Array(32);
  n = 0;
  n24 = 0;

  add(d: number): number {
    let arr = this.arr;
    const n = this.n;
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (arr[mid] < d) lo = mid + 1;
      else hi = mid;
    }
    if (lo < n && arr[lo] === d) return 0;
    const d24 = d >>> 8;
    const new24 = !((lo > 0 && arr[lo - 1] >>> 8 === d24) || (lo < n && arr[lo] >>> 8 === d24));
    if (n === arr.length) {
      const grown = new Uint32Array(n * 2);
      grown.set(arr);
      this.arr = arr = grown;
    }
    if (n - lo > 24) arr.copyWithin(lo + 1, lo, n);
    else for (let k = n; k > lo; k--) arr[k] = arr[k - 1];
    arr[lo] = d;
    this.n = n + 1;
    if (!new24) return 1;
    this.n24++;
    return 3;
  }
}

/** A big set: containers keyed by the high 16 bits (a small inline hash of high → container). */
class BigSet {
  #hk = new Int32Array(16); // high + 1, 0 = empty
  #hv = new Int32Array(16); // container index
  cont: Container[] = [];
  highs: number[] = [];
  n = 0;
  n24 = 0;
  #lastHigh = -1;
  #last: Container | null = null;

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
    const c = new Container();
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

  /** Returns bit 1 if `d` is new, bit 2 if its /24 is new. */
  add(d: number): number {
    const high = d >>> 16;
    let c = this.#last;
    if (high !== this.#lastHigh) {
      c = this.#container(high);
      this.#last = c;
      this.#lastHigh = high;
    }
    if (!c!.add(d & 0xffff)) return 0;
    this.n++;
    const o = (d >>> 8) & 255;
    const m = 1 << (o & 31);
    if ((c!.d24[o >>> 5] & m) !== 0) return 1;
    c!.d24[o >>> 5] |= m;
    this.n24++;
    return 3;
  }
}

/** Per-slot IPv4 destination sets. */
export class DestSets {
  #inline = new Uint32Array(64 * INLINE);
  #n = new Uint8Array(64); // inline count; INLINE + 1 marks a big set
  #n24 = new Uint8Array(64);
  #big: (SortedSet | BigSet | undefined)[] = [];

  #ensure(slot: number): void {
    if (slot < this.#n.length) return;
    let cap = this.#n.length;
    while (cap <= slot) cap *= 2;
    const inl = new Uint32Array(cap * INLINE);
    inl.set(this.#inline);
    this.#inline = inl;
    const n = new Uint8Array(cap);
    n.set(this.#n);
    this.#n = n;
    const n24 = new Uint8Array(cap);
    n24.set(this.#n24);
    this.#n24 = n24;
  }

  /**
   * Adds destination `d` to the set of `slot`. Returns 0 if it was already there, 1 if the
   * address is new, 3 if its /24 is new too.
   */
  add(slot: number, d: number): number {
    if (slot >= this.#n.length) this.#ensure(slot);
    const n = this.#n[slot];
    if (n > INLINE) {
      const set = this.#big[slot]!;
      const r = set.add(d);
      if (r !== 0 && n === INLINE + 1 && set.n > SORTED_MAX) this.#promote(slot, set as SortedSet);
      return r;
    }
    const base = slot * INLINE;
    const inl = this.#inline;
    const d24 = d >>> 8;
    let seen24 = false;
    for (let k = 0; k < n; k++) {
      const x = inl[base + k];
      if (x === d) return 0;
      if (x >>> 8 === d24) seen24 = true;
    }
    if (n < INLINE) {
      inl[base + n] = d;
      this.#n[slot] = n + 1;
      if (seen24) return 1;
      this.#n24[slot]++;
      return 3;
    }
    // Promote to a sorted set.
    const sorted = new SortedSet();
    for (let k = 0; k < n; k++) sorted.add(inl[base + k]);
    this.#big[slot] = sorted;
    this.#n[slot] = INLINE + 1;
    return sorted.add(d);
  }

  #promote(slot: number, sorted: SortedSet): void {
    const big = new BigSet();
    for (let k = 0; k < sorted.n; k++) big.add(sorted.arr[k]);
    this.#big[slot] = big;
    this.#n[slot] = INLINE + 2;
  }

  /** Distinct destinations in `slot`'s set. */
  count(slot: number): number {
    const n = this.#n[slot];
    return n > INLINE ? this.#big[slot]!.n : n;
  }

  /** Distinct /24s in `slot`'s set. */
  count24(slot: number): number {
    return this.#n[slot] > INLINE ? this.#big[slot]!.n24 : this.#n24[slot];
  }

  /** Empties `slot`'s set. */
  clear(slot: number): void {
    if (slot >= this.#n.length) return;
    this.#n[slot] = 0;
    this.#n24[slot] = 0;
    this.#big[slot] = undefined;
  }

  /** Moves the set of slot `from` to slot `to` (whose set is discarded). */
  move(from: number, to: number): void {
    this.#ensure(Math.max(from, to));
    this.#inline.copyWithin(to * INLINE, from * INLINE, from * INLINE + INLINE);
    this.#n[to] = this.#n[from];
    this.#n24[to] = this.#n24[from];
    this.#big[to] = this.#big[from];
    this.clear(from);
  }

  /** All destinations of `slot`, ascending. */
  values(slot: number): Uint32Array {
    const n = this.#n[slot];
    if (n <= INLINE) {
      return this.#inline.slice(slot * INLINE, slot * INLINE + n).sort();
    }
    const set = this.#big[slot]!;
    if (set instanceof SortedSet) return set.arr.slice(0, set.n);
    const big = set;
    const out = new Uint32Array(big.n);
    const order = big.highs.map((_, e) => e).sort((a, b) => big.highs[a] - big.highs[b]);
    let i = 0;
    for (const e of order) {
      const high = big.highs[e] * 65536;
      big.cont[e].forEach((low) => out[i++] = high + low);
    }
    return out;
  }

  /** Approximate bytes held by `slot`'s set beyond its inline slots. */
  bytes(slot: number): number {
    const big = this.#big[slot];
    if (!big) return 0;
    if (big instanceof SortedSet) return big.arr.byteLength;
    let b = 0;
    for (const c of big.cont) b += c.bytes;
    return b;
  }
}

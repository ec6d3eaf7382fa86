// Storage for sampled frames without one allocation per sample: frames live in fixed-size
// slots of slabs (64, 128 and 256 bytes) with free lists; larger frames are kept as separate
// copies. A telescope's frames arrive through one router, so their first 12 bytes (Ethernet
// destination and source) are nearly always the same: the store keeps the first such prefix
// once and frames of up to 60 bytes that begin with it (a SYN probe is 60) without it, in a
// fourth slab of 48-byte slots — a quarter less memory for most samples — and those of up to
// 76 bytes (an IPv6 SYN is 74) in a fifth of 64-byte slots. A reference is a non-zero integer:
// (slot << 3 | class) + 1, or −(index + 1) for a large frame. A slab grows by
// pages of 4,096 slots, never by copying: memory follows the samples held, with at most one
// page to spare.

const PAGE_BITS = 12;
const PAGE_MASK = (1 << PAGE_BITS) - 1;

class Slab {
  readonly size: number;
  readonly pages: Uint8Array[] = [];
  #free = new Int32Array(256);
  #top = 0;
  #next = 0;

  constructor(size: number) {
    this.size = size;
  }

  take(): number {
    if (this.#top > 0) return this.#free[--this.#top];
    const slot = this.#next++;
    if (slot >>> PAGE_BITS === this.pages.length) {
      this.pages.push(new Uint8Array(this.size << PAGE_BITS));
    }
    return slot;
  }

  give(slot: number): void {
    if (this.#top === this.#free.length) {
      const grown = new Int32Array(this.#free.length * 2);
      grown.set(this.#free);
      this.#free = grown;
    }
    this.#free[this.#top++] = slot;
  }
}

const PREFIX = 12;
const SHORT = 3; // the classes of frames stored without the shared prefix: 48 and 64 bytes
const SHORT64 = 4;

export class SampleStore {
  readonly #slabs = [new Slab(64), new Slab(128), new Slab(256), new Slab(48), new Slab(64)];
  #prefix: Uint8Array | null = null; // the shared first bytes, from the first frame long enough
  #large: (Uint8Array | undefined)[] = [];
  #largeFree: number[] = [];

  /** Copies `src[off .. off+len)` in; returns its reference. */
  put(src: Uint8Array, off: number, len: number): number {
    let cls = len <= 64 ? 0 : len <= 128 ? 1 : len <= 256 ? 2 : -1;
    if (cls === -1) {
      const i = this.#largeFree.length ? this.#largeFree.pop()! : this.#large.length;
      this.#large[i] = src.slice(off, off + len);
      return -(i + 1);
    }
    let from = off;
    if (len >= PREFIX && len <= PREFIX + 64) {
      const p = this.#prefix ??= src.slice(off, off + PREFIX);
      let k = 0;
      while (k < PREFIX && src[off + k] === p[k]) k++;
      if (k === PREFIX) {
        cls = len <= PREFIX + 48 ? SHORT : SHORT64;
        from = off + PREFIX;
      }
    }
    const slab = this.#slabs[cls];
    const slot = slab.take();
    // A plain loop: cheaper than `set(subarray(..))` for frames this small (no view object).
    const data = slab.pages[slot >>> PAGE_BITS];
    const base = (slot & PAGE_MASK) * slab.size - from;
    for (let i = from, end = off + len; i < end; i++) data[base + i] = src[i];
    return ((slot << 3) | cls) + 1;
  }

  /** Releases a reference (0 is ignored). */
  free(ref: number): void {
    if (ref > 0) this.#slabs[(ref - 1) & 7].give((ref - 1) >>> 3);
    else if (ref < 0) {
      this.#large[-ref - 1] = undefined;
      this.#largeFree.push(-ref - 1);
    }
  }

  /** A copy of the frame behind `ref` (of length `len`). */
  get(ref: number, len: number): Uint8Array {
    const out = new Uint8Array(len);
    this.copyTo(ref, len, out, 0);
    return out;
  }

  /** Copies the frame behind `ref` (of length `len`) into `dst` at `at`. */
  copyTo(ref: number, len: number, dst: Uint8Array, at: number): void {
    if (ref < 0) {
      dst.set(this.#large[-ref - 1]!, at);
      return;
    }
    const cls = (ref - 1) & 7;
    const slab = this.#slabs[cls];
    const slot = (ref - 1) >>> 3;
    const data = slab.pages[slot >>> PAGE_BITS];
    let i = at;
    if (cls >= SHORT) {
      const p = this.#prefix!;
      for (; i < at + PREFIX; i++) dst[i] = p[i - at];
    }
    const base = (slot & PAGE_MASK) * slab.size - i;
    for (const end = at + len; i < end; i++) dst[i] = data[base + i];
  }
}

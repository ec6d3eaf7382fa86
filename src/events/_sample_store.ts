// Storage for sampled frames without one allocation per sample: frames live in fixed-size
// slots of three slabs (64, 128 and 256 bytes; nearly all darknet frames fit the first) with
// free lists; larger frames are kept as separate copies. A reference is a non-zero integer:
// (slot << 2 | class) + 1, or −(index + 1) for a large frame. A slab grows by pages of 4,096
// slots, never by copying: memory follows the samples held, with at most one page to spare.

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

export class SampleStore {
  readonly #slabs = [new Slab(64), new Slab(128), new Slab(256)];
  #large: (Uint8Array | undefined)[] = [];
  #largeFree: number[] = [];

  /** Copies `src[off .. off+len)` in; returns its reference. */
  put(src: Uint8Array, off: number, len: number): number {
    const cls = len <= 64 ? 0 : len <= 128 ? 1 : len <= 256 ? 2 : 3;
    if (cls === 3) {
      const i = this.#largeFree.length ? this.#largeFree.pop()! : this.#large.length;
      this.#large[i] = src.slice(off, off + len);
      return -(i + 1);
    }
    const slab = this.#slabs[cls];
    const slot = slab.take();
    // A plain loop: cheaper than `set(subarray(..))` for frames this small (no view object).
    const data = slab.pages[slot >>> PAGE_BITS];
    const base = (slot & PAGE_MASK) * slab.size - off;
    for (let i = off, end = off + len; i < end; i++) data[base + i] = src[i];
    return ((slot << 2) | cls) + 1;
  }

  /** Releases a reference (0 is ignored). */
  free(ref: number): void {
    if (ref > 0) this.#slabs[(ref - 1) & 3].give((ref - 1) >>> 2);
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
    const slab = this.#slabs[(ref - 1) & 3];
    const slot = (ref - 1) >>> 2;
    const data = slab.pages[slot >>> PAGE_BITS];
    const base = (slot & PAGE_MASK) * slab.size - at;
    for (let i = at, end = at + len; i < end; i++) dst[i] = data[base + i];
  }
}

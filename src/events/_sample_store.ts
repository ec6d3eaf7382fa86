// Storage for sampled frames without one allocation per sample: frames live in fixed-size
// slots of three slabs (64, 128 and 256 bytes; nearly all darknet frames fit the first) with
// free lists; larger frames are kept as separate copies. A reference is a non-zero integer:
// (slot << 2 | class) + 1, or −(index + 1) for a large frame.

class Slab {
  readonly size: number;
  data: Uint8Array;
  #free = new Int32Array(256);
  #top = 0;
  #next = 0;

  constructor(size: number) {
    this.size = size;
    this.data = new Uint8Array(size * 256);
  }

  take(): number {
    if (this.#top > 0) return this.#free[--this.#top];
    const slot = this.#next++;
    if ((slot + 1) * this.size > this.data.length) {
      const grown = new Uint8Array(this.data.length * 2);
      grown.set(this.data);
      this.data = grown;
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
    slab.data.set(src.subarray(off, off + len), slot * slab.size);
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
    if (ref < 0) return this.#large[-ref - 1]!.slice();
    const slab = this.#slabs[(ref - 1) & 3];
    const base = ((ref - 1) >>> 2) * slab.size;
    return slab.data.slice(base, base + len);
  }
}

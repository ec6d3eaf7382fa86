// Storage for sampled frames without one allocation per sample: frames of up to 128 bytes (all
// but a few darknet packets) live in fixed slots of one growing slab with a free list; larger
// frames are kept as separate copies. A reference is a non-zero integer: slot + 1, or
// −(index + 1) for a large frame.

const SLOT = 128;

export class SampleStore {
  #slab = new Uint8Array(SLOT * 1024);
  #free = new Int32Array(1024);
  #freeTop = 0;
  #next = 0;
  #large: (Uint8Array | undefined)[] = [];
  #largeFree: number[] = [];

  /** Copies `src[off .. off+len)` in; returns its reference. */
  put(src: Uint8Array, off: number, len: number): number {
    if (len > SLOT) {
      const copy = src.slice(off, off + len);
      const i = this.#largeFree.length ? this.#largeFree.pop()! : this.#large.length;
      this.#large[i] = copy;
      return -(i + 1);
    }
    let slot: number;
    if (this.#freeTop > 0) slot = this.#free[--this.#freeTop];
    else {
      slot = this.#next++;
      if (slot * SLOT >= this.#slab.length) {
        const grown = new Uint8Array(this.#slab.length * 2);
        grown.set(this.#slab);
        this.#slab = grown;
      }
    }
    this.#slab.set(src.subarray(off, off + len), slot * SLOT);
    return slot + 1;
  }

  /** Releases a reference (0 is ignored). */
  free(ref: number): void {
    if (ref > 0) {
      if (this.#freeTop === this.#free.length) {
        const grown = new Int32Array(this.#free.length * 2);
        grown.set(this.#free);
        this.#free = grown;
      }
      this.#free[this.#freeTop++] = ref - 1;
    } else if (ref < 0) {
      this.#large[-ref - 1] = undefined;
      this.#largeFree.push(-ref - 1);
    }
  }

  /** A copy of the frame behind `ref` (of length `len`). */
  get(ref: number, len: number): Uint8Array {
    if (ref < 0) return this.#large[-ref - 1]!.slice();
    const base = (ref - 1) * SLOT;
    return this.#slab.slice(base, base + len);
  }
}

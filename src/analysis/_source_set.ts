// A set of event sources for the count tables: IPv4 addresses (uint32) in an open-addressing
// typed-array hash, anything else (IPv6 text) in a plain Set. Faster and far smaller than a
// Set<number | string> holding a million random addresses, and packs to the sorted arrays that
// merging between threads uses.

/** Sources as a sorted Uint32Array (IPv4) and a sorted list of other addresses. */
export interface Packed {
  u32: Uint32Array;
  str: string[];
}

export class SourceSet {
  #h = new Uint32Array(8); // 0 = empty; address 0 is kept in #zero
  #shift = 29; // 32 - log2(#h.length)
  #n = 0;
  #zero = false;
  #str: Set<string> | null = null;

  /** Adds an IPv4 address (uint32) or another address as text. */
  add(x: number | string): void {
    if (typeof x === "string") {
      (this.#str ??= new Set()).add(x);
      return;
    }
    if (x === 0) {
      if (!this.#zero) {
        this.#zero = true;
        this.#n++;
      }
      return;
    }
    const h = this.#h;
    const mask = h.length - 1;
    let s = Math.imul(x, 0x9e3779b1) >>> this.#shift;
    for (;;) {
      const y = h[s];
      if (y === x) return;
      if (y === 0) break;
      s = (s + 1) & mask;
    }
    h[s] = x;
    if (++this.#n * 2 > h.length) this.#grow();
  }

  /** Distinct sources. */
  get size(): number {
    return this.#n + (this.#str?.size ?? 0);
  }

  /** The sources as sorted arrays. */
  pack(): Packed {
    const u32 = new Uint32Array(this.#n);
    let i = 0;
    if (this.#zero) u32[i++] = 0;
    const h = this.#h;
    for (let k = 0; k < h.length; k++) if (h[k] !== 0) u32[i++] = h[k];
    return { u32: u32.sort(), str: this.#str ? [...this.#str].sort() : [] };
  }

  #grow(): void {
    const old = this.#h;
    const h = new Uint32Array(old.length * 2);
    this.#shift--;
    const mask = h.length - 1;
    for (let k = 0; k < old.length; k++) {
      const x = old[k];
      if (x === 0) continue;
      let s = Math.imul(x, 0x9e3779b1) >>> this.#shift;
      while (h[s] !== 0) s = (s + 1) & mask;
      h[s] = x;
    }
    this.#h = h;
  }
}

// Memory for the medium destination sets' hash tables: zeroed blocks of 2^bits words
// (MIN_BITS ≤ bits ≤ PAGE_BITS) carved from 64 KiB pages by a buddy allocator. A table costs
// no buffer allocation of its own (a small typed array each would cost microseconds, and medium
// sets come and go by the ten thousand); a freed block merges with its free buddy, so memory
// moves between sizes as sets grow (separate pages per size kept the peak of every size at
// once: 37 MB where 21 MB were in use), and a page whose blocks are all free is let go.
//
// A block is named by its handle: the number of its first 32-word unit (page = handle >>> 9).
// A free block holds its free-list links in its first two words (handle + 1, 0 = none), which
// are zeroed again when it is taken or merged, so taken blocks are all zeros.

const MIN_BITS = 5;
const PAGE_BITS = 14;
const ORDERS = PAGE_BITS - MIN_BITS + 1;
const UNITS = 1 << (PAGE_BITS - MIN_BITS); // units per page
const SPARE_PAGES = 4; // empty pages kept for reuse before they are let go

export class TableArena {
  readonly #pages: (Uint32Array | null)[] = [];
  readonly #freePages: number[] = []; // page numbers without a page
  readonly #head = new Int32Array(ORDERS).fill(-1); // by order: first free block's handle
  #freeOrder = new Uint8Array(0); // by unit: order + 1 if a free block starts there
  #spare = 0; // whole free pages kept
  #inUse = 0;

  /** A zeroed block of 2^bits words: returns its handle (see `page` and `base`). */
  take(bits: number): number {
    const o = bits - MIN_BITS;
    let k = o;
    while (k < ORDERS && this.#head[k] < 0) k++;
    let h: number;
    if (k === ORDERS) {
      h = this.#newPage();
      k = ORDERS - 1;
    } else {
      h = this.#head[k];
      this.#unlink(h, k);
      if (k === ORDERS - 1) this.#spare--;
    }
    while (k > o) { // split: the upper half goes on the free list one order down
      k--;
      this.#push(h + (1 << k), k);
    }
    this.#inUse++;
    return h;
  }

  /** The page holding block `h`. */
  page(h: number): Uint32Array {
    return this.#pages[h >>> (PAGE_BITS - MIN_BITS)]!;
  }

  /** Where block `h` starts in its page. */
  base(h: number): number {
    return (h & (UNITS - 1)) << MIN_BITS;
  }

  /** Blocks handed out and not given back. */
  get inUse(): number {
    return this.#inUse;
  }

  /** Bytes of the pages held. */
  get bytes(): number {
    return (this.#pages.length - this.#freePages.length) << (PAGE_BITS + 2);
  }

  /** Zeroes block `h` of 2^bits words and gives it back (merging it with free buddies). */
  give(bits: number, h: number): void {
    const base = this.base(h);
    this.page(h).fill(0, base, base + (1 << bits));
    this.#inUse--;
    let o = bits - MIN_BITS;
    while (o < ORDERS - 1) {
      const buddy = h ^ (1 << o);
      if (this.#freeOrder[buddy] !== o + 1) break;
      this.#unlink(buddy, o);
      h = Math.min(h, buddy);
      o++;
    }
    if (o === ORDERS - 1 && this.#spare >= SPARE_PAGES) {
      const p = h >>> (PAGE_BITS - MIN_BITS);
      this.#pages[p] = null;
      this.#freePages.push(p);
      return;
    }
    if (o === ORDERS - 1) this.#spare++;
    this.#push(h, o);
  }

  #newPage(): number {
    let p = this.#freePages.pop();
    if (p === undefined) {
      p = this.#pages.length;
      this.#pages.push(null);
      const grown = new Uint8Array(this.#pages.length * UNITS);
      grown.set(this.#freeOrder);
      this.#freeOrder = grown;
    }
    this.#pages[p] = new Uint32Array(1 << PAGE_BITS);
    return p * UNITS;
  }

  #push(h: number, o: number): void {
    const page = this.page(h);
    const b = this.base(h);
    const next = this.#head[o];
    page[b] = next + 1;
    page[b + 1] = 0;
    if (next >= 0) this.page(next)[this.base(next) + 1] = h + 1;
    this.#head[o] = h;
    this.#freeOrder[h] = o + 1;
  }

  #unlink(h: number, o: number): void {
    const page = this.page(h);
    const b = this.base(h);
    const next = page[b] - 1;
    const prev = page[b + 1] - 1;
    if (prev >= 0) this.page(prev)[this.base(prev)] = next + 1;
    else this.#head[o] = next;
    if (next >= 0) this.page(next)[this.base(next) + 1] = prev + 1;
    page[b] = 0;
    page[b + 1] = 0;
    this.#freeOrder[h] = 0;
  }
}

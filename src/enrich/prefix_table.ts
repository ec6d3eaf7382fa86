/**
 * CAIDA RouteViews prefix-to-AS (`pfx2as`) files, IPv4 (`rv2`) and IPv6 (`rv6`), plain or gzip,
 * as a longest-prefix-match table over typed arrays (no trie of objects). IPv4 prefixes stay
 * sorted, each with a link to the innermost prefix containing it: a lookup is one binary search
 * and a step or two up those links. IPv6 prefixes are flattened into sorted, non-overlapping
 * ranges, each owned by the most specific prefix covering it.
 *
 * Line format: `prefix<TAB>length<TAB>origin` (also `prefix/length<TAB>origin`); the origin is
 * an AS number, a MOAS list `a_b_c` (first = most seen) or an AS set `a,b` (or both), with
 * 32-bit ASNs. Blank lines and `#` comments are skipped; anything else malformed is an error
 * naming the file and line.
 *
 * @module
 */

import { DataError, ioError } from "../errors.ts";
import { formatIpv4, formatIpv6Words, parseIpv4, parseIpv6 } from "../util/ip.ts";
import type { Enricher } from "./enricher.ts";

/** A match: the routed prefix and its first origin AS. */
export interface PrefixMatch {
  /** The routed prefix, `address/length`. */
  prefix: string;
  /** Its first origin AS. */
  asn: number;
}

/** IPv4 prefixes being loaded, as parallel typed arrays (no object per prefix). */
class Pending4 {
  net = new Uint32Array(1024);
  len = new Uint8Array(1024);
  asn = new Float64Array(1024);
  length = 0;
  /** Makes room for `n` prefixes in all (a hint: `push` grows the arrays as needed). */
  reserve(n: number): void {
    if (n <= this.net.length) return;
    const grow = <T extends Uint32Array | Uint8Array | Float64Array>(a: T): T => {
      const b = new (a.constructor as new (n: number) => T)(n);
      b.set(a as never);
      return b;
    };
    this.net = grow(this.net);
    this.len = grow(this.len);
    this.asn = grow(this.asn);
  }
  push(net: number, len: number, asn: number): void {
    const i = this.length;
    if (i === this.net.length) this.reserve(i * 2);
    this.net[i] = net;
    this.len[i] = len;
    this.asn[i] = asn;
    this.length = i + 1;
  }
}

/** IPv6 prefixes being loaded: four big-endian words each, in typed arrays. */
class Pending6 {
  w = new Uint32Array(4 * 256);
  len = new Uint8Array(256);
  asn = new Float64Array(256);
  length = 0;
  push(w0: number, w1: number, w2: number, w3: number, len: number, asn: number): void {
    const i = this.length;
    if (i === this.len.length) {
      const w = new Uint32Array(this.w.length * 2);
      w.set(this.w);
      this.w = w;
      const l = new Uint8Array(i * 2);
      l.set(this.len);
      this.len = l;
      const a = new Float64Array(i * 2);
      a.set(this.asn);
      this.asn = a;
    }
    this.w[4 * i] = w0;
    this.w[4 * i + 1] = w1;
    this.w[4 * i + 2] = w2;
    this.w[4 * i + 3] = w3;
    this.len[i] = len;
    this.asn[i] = asn;
    this.length = i + 1;
  }
}

/** Addresses in an IPv4 prefix of each length 0–32 (`2 ** (32 - len)` is a slow call per use). */
const SIZE4 = Float64Array.from({ length: 33 }, (_, len) => 2 ** (32 - len));

/**
 * A longest-prefix-match table built from prefix-to-AS files.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { PrefixTable } from "./prefix_table.ts";
 * const t = PrefixTable.fromText("1.0.0.0\t8\t100\n1.2.0.0\t16\t200_300\n", "x");
 * const m = t.lookup4(0x01020304)!;
 * ok(m.prefix === "1.2.0.0/16" && m.asn === 200);
 * ```
 */
export class PrefixTable {
  /** Prefixes loaded (IPv4 + IPv6). */
  readonly size: number;
  // IPv4: prefixes sorted by (address, length) and, for each, the innermost earlier prefix that
  // contains it (-1 for none).
  readonly #parent4: Int32Array;
  readonly #net4: Uint32Array;
  readonly #len4: Uint8Array;
  readonly #asn4: Float64Array;
  // IPv6: the same with 128-bit addresses as four big-endian words (no BigInt).
  readonly #start6: Uint32Array; // four words per range
  readonly #owner6: Int32Array;
  readonly #net6: Uint32Array;
  readonly #len6: Uint8Array;
  readonly #asn6: Float64Array;

  private constructor(v4: Pending4, v6: Pending6) {
    this.size = v4.length + v6.length;
    const n4 = v4.length;
    let order: number[] | null = null; // files are sorted already; sort only when they are not
    for (let i = 1; i < n4; i++) {
      if (v4.net[i - 1] > v4.net[i] || (v4.net[i - 1] === v4.net[i] && v4.len[i - 1] > v4.len[i])) {
        order = Array.from({ length: n4 }, (_, k) => k)
          .sort((a, b) => v4.net[a] - v4.net[b] || v4.len[a] - v4.len[b]);
        break;
      }
    }
    if (order === null) {
      this.#net4 = v4.net.subarray(0, n4); // views: the arrays were reserved for this file
      this.#len4 = v4.len.subarray(0, n4);
      this.#asn4 = v4.asn.subarray(0, n4);
    } else {
      this.#net4 = new Uint32Array(n4);
      this.#len4 = new Uint8Array(n4);
      this.#asn4 = new Float64Array(n4);
      for (let i = 0; i < n4; i++) {
        const k = order[i];
        this.#net4[i] = v4.net[k];
        this.#len4[i] = v4.len[k];
        this.#asn4[i] = v4.asn[k];
      }
    }
    this.#parent4 = parents4(this.#net4, this.#len4);
    const n6 = v6.length;
    let order6: number[] | null = null;
    for (let i = 1; i < n6; i++) {
      if (compare6(v6, i - 1, i) > 0) {
        order6 = Array.from({ length: n6 }, (_, k) => k).sort((a, b) => compare6(v6, a, b));
        break;
      }
    }
    this.#net6 = new Uint32Array(4 * n6);
    this.#len6 = new Uint8Array(n6);
    this.#asn6 = new Float64Array(n6);
    for (let i = 0; i < n6; i++) {
      const k = order6 === null ? i : order6[i];
      for (let j = 0; j < 4; j++) this.#net6[4 * i + j] = v6.w[4 * k + j];
      this.#len6[i] = v6.len[k];
      this.#asn6[i] = v6.asn[k];
    }
    [this.#start6, this.#owner6] = flatten6(this.#net6, this.#len6);
  }

  /** Loads and merges prefix-to-AS files (plain or gzip, detected from the content). */
  static async load(paths: string[]): Promise<PrefixTable> {
    const v4 = new Pending4();
    const v6 = new Pending6();
    for (const path of paths) {
      let bytes: Uint8Array;
      try {
        bytes = Deno.readFileSync(path); // nothing else to do meanwhile: no thread hand-off
      } catch (e) {
        throw ioError(e, path);
      }
      if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
        const { inflateAll } = await import("../io/_inflate.ts"); // node:zlib only when needed
        try {
          bytes = inflateAll(bytes);
        } catch (e) {
          throw new DataError(`corrupt gzip data (${(e as Error).message.split("\n")[0]})`, {
            file: path,
          });
        }
      }
      v4.reserve(v4.length + Math.ceil(bytes.length / 20)); // a line takes 20–30 bytes
      parseInto(bytes, path, v4, v6);
    }
    return new PrefixTable(v4, v6);
  }

  /** Builds a table from the text of one file (for tests and small tables). */
  static fromText(text: string, name: string): PrefixTable {
    const v4 = new Pending4();
    const v6 = new Pending6();
    parseInto(new TextEncoder().encode(text), name, v4, v6);
    return new PrefixTable(v4, v6);
  }

  /** Longest-prefix match of an IPv4 address (uint32), or null. */
  lookup4(addr: number): PrefixMatch | null {
    const net = this.#net4;
    const len = this.#len4;
    let lo = 0;
    let hi = net.length - 1;
    if (hi < 0 || net[0] > addr) return null;
    while (lo < hi) { // the last prefix starting at or before addr (the longest at that start)
      const mid = (lo + hi + 1) >>> 1;
      if (net[mid] <= addr) lo = mid;
      else hi = mid - 1;
    }
    // The innermost prefix holding addr is that one or one of those containing it.
    for (let o = lo; o >= 0; o = this.#parent4[o]) {
      if (addr < net[o] + SIZE4[len[o]]) {
        return { prefix: `${formatIpv4(net[o])}/${len[o]}`, asn: this.#asn4[o] };
      }
    }
    return null;
  }

  /** Longest-prefix match of an IPv6 address (16 bytes), or null. */
  lookup6(addr: Uint8Array): PrefixMatch | null {
    const a = key6;
    for (let k = 0; k < 4; k++) {
      a[k] = ((addr[4 * k] << 24) | (addr[4 * k + 1] << 16) | (addr[4 * k + 2] << 8) |
        addr[4 * k + 3]) >>> 0;
    }
    const s = this.#start6;
    let lo = 0;
    let hi = this.#owner6.length - 1;
    if (hi < 0) return null;
    while (lo < hi) { // largest i with s[i] <= a
      const mid = (lo + hi + 1) >>> 1;
      if (cmp128(s, 4 * mid, a, 0) <= 0) lo = mid;
      else hi = mid - 1;
    }
    const o = this.#owner6[lo];
    if (o < 0) return null;
    return { prefix: `${formatIpv6Words(this.#net6, 4 * o)}/${this.#len6[o]}`, asn: this.#asn6[o] };
  }
}

// For IPv4 prefixes sorted by (address, length), where CIDR ranges are nested or disjoint: the
// innermost earlier prefix containing each one, or -1. One pass with the chain of open prefixes
// on a stack; a lookup walks this chain upwards (at most 33 steps, usually one or two). A
// prefix listed twice (two files) takes its earlier copy's place: the later one wins, and the
// chain keeps strictly growing lengths.
function parents4(net: Uint32Array, len: Uint8Array): Int32Array {
  const n = net.length;
  const parent = new Int32Array(n);
  const stack = new Int32Array(33);
  let sp = 0;
  for (let i = 0; i < n; i++) {
    const s = net[i];
    while (sp > 0 && net[stack[sp - 1]] + SIZE4[len[stack[sp - 1]]] <= s) sp--; // ended before s
    if (sp > 0 && net[stack[sp - 1]] === s && len[stack[sp - 1]] === len[i]) {
      parent[i] = parent[stack[--sp]];
    } else parent[i] = sp > 0 ? stack[sp - 1] : -1;
    stack[sp++] = i;
  }
  return parent;
}

// IPv6 prefixes flattened into sorted, non-overlapping ranges, with 128-bit addresses as four
// big-endian words: the ranges' starts (four words each) and their innermost covering prefix
// (-1 for none). Prefixes are sorted by start, outer before inner; CIDR ranges are either nested
// or disjoint.
function flatten6(net: Uint32Array, len: Uint8Array): [Uint32Array, Int32Array] {
  const n = len.length;
  const starts = new Uint32Array(4 * (2 * n + 2));
  const owners = new Int32Array(2 * n + 2);
  const ends = new Uint32Array(4 * n); // last address of each prefix
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < 4; k++) ends[4 * i + k] = (net[4 * i + k] | hostMask(len[i], k)) >>> 0;
  }
  const stack = new Int32Array(130);
  const next = new Uint32Array(4);
  let sp = 0;
  let m = emit6(starts, owners, 0, next, 0, -1); // from address 0: no prefix
  const close = (t: number, m: number): number => {
    // The range after prefix t's end (if any address is left) belongs to the one around it.
    for (let k = 3, carry = 1; k >= 0; k--) {
      const v = ends[4 * t + k] + carry;
      next[k] = v >>> 0;
      carry = v > 0xffffffff ? 1 : 0;
      if (k === 0 && carry === 1) return m; // the end of the address space
    }
    return emit6(starts, owners, m, next, 0, sp > 0 ? stack[sp - 1] : -1);
  };
  for (let i = 0; i < n; i++) {
    while (sp > 0 && cmp128(ends, 4 * stack[sp - 1], net, 4 * i) < 0) m = close(stack[--sp], m);
    m = emit6(starts, owners, m, net, 4 * i, i);
    stack[sp++] = i;
  }
  while (sp > 0) m = close(stack[--sp], m);
  return [starts.slice(0, 4 * m), owners.slice(0, m)];
}

// Appends range (the address at w[off ..], owner) to the first m ranges (a range starting where
// the last one starts replaces its owner; one with the same owner as the last merges into it);
// returns the new m.
function emit6(
  starts: Uint32Array,
  owners: Int32Array,
  m: number,
  w: Uint32Array,
  off: number,
  owner: number,
): number {
  if (m > 0 && cmp128(starts, 4 * (m - 1), w, off) === 0) {
    owners[m - 1] = owner;
    if (m > 1 && owners[m - 2] === owner) m--;
  } else if (m === 0 || owners[m - 1] !== owner) {
    for (let k = 0; k < 4; k++) starts[4 * m + k] = w[off + k];
    owners[m] = owner;
    m++;
  }
  return m;
}

// Compares the 128-bit addresses at a[i ..] and b[j ..] (four big-endian words each).
function cmp128(a: Uint32Array, i: number, b: Uint32Array, j: number): number {
  for (let k = 0; k < 4; k++) {
    if (a[i + k] !== b[j + k]) return a[i + k] < b[j + k] ? -1 : 1;
  }
  return 0;
}

// Order of pending IPv6 prefixes a and b: by address, then outer (shorter) first.
function compare6(p: Pending6, a: number, b: number): number {
  return cmp128(p.w, 4 * a, p.w, 4 * b) || p.len[a] - p.len[b];
}

// The host bits of word k (0–3) of an IPv6 prefix of length len.
function hostMask(len: number, k: number): number {
  const keep = Math.min(32, Math.max(0, len - 32 * k));
  return keep === 32 ? 0 : keep === 0 ? 0xffffffff : 0xffffffff >>> keep;
}

const key6 = new Uint32Array(4);

function parseAsn(origin: string): number {
  const first = origin.split(/[_,]/)[0];
  if (!/^\d{1,10}$/.test(first) || Number(first) > 4294967295) return -1;
  for (const part of origin.split(/[_,]/)) {
    if (!/^\d{1,10}$/.test(part) || Number(part) > 4294967295) return -1;
  }
  return Number(first);
}

// Fast path for the common IPv6 line "x:y::<TAB>len<TAB>asn" (IPv4 lines: scan4, below): false if
// the line does not have exactly that shape (the general parser then handles or rejects it, with
// the message).
const fast = { len: 0, asn: 0 };
const fast6 = new Uint32Array(4);

// "<TAB>len<TAB>asn[_asn|,asn…]" from i to end; sets fast.len and fast.asn.
function fastTail(t: Uint8Array, i: number, end: number, maxLen: number): boolean {
  if (t[i] !== 9) return false;
  i++;
  let len = 0;
  let digits = 0;
  while (i < end && t[i] >= 48 && t[i] <= 57) {
    len = len * 10 + t[i++] - 48;
    digits++;
  }
  if (digits === 0 || digits > 3 || len > maxLen || t[i] !== 9) return false;
  i++;
  let asn = 0;
  digits = 0;
  while (i < end) {
    const c = t[i];
    if (c === 95 || c === 44) break; // MOAS or AS set: the first origin is the one kept
    if (c < 48 || c > 57) return false;
    asn = asn * 10 + (c - 48);
    i++;
    digits++;
  }
  if (digits === 0 || digits > 10 || asn > 4294967295) return false;
  // The other origins of a MOAS list or AS set: each 1–10 digits, at most 2^32 − 1.
  while (i < end) {
    if (t[i] !== 95 && t[i] !== 44) return false;
    i++;
    let v = 0;
    digits = 0;
    while (i < end && t[i] >= 48 && t[i] <= 57) {
      v = v * 10 + t[i++] - 48;
      digits++;
    }
    if (digits === 0 || digits > 10 || v > 4294967295) return false;
  }
  fast.len = len;
  fast.asn = asn;
  return true;
}

// IPv6 without an embedded IPv4 part; sets fast6 (four big-endian words), fast.len, fast.asn.
function parseFast6(t: Uint8Array, i: number, end: number): boolean {
  const g = [0, 0, 0, 0, 0, 0, 0, 0];
  let n = 0; // groups read
  let gap = -1; // group index where "::" stands
  if (t[i] === 58 && t[i + 1] === 58) {
    gap = 0;
    i += 2;
  }
  while (i < end && t[i] !== 9) {
    let v = 0;
    let digits = 0;
    for (;;) {
      const c = t[i];
      const h = c >= 48 && c <= 57
        ? c - 48
        : c >= 97 && c <= 102
        ? c - 87
        : c >= 65 && c <= 70
        ? c - 55
        : -1;
      if (h < 0) break;
      v = v * 16 + h;
      i++;
      digits++;
    }
    if (digits === 0 || digits > 4 || n === 8) return false;
    g[n++] = v;
    if (t[i] === 58) {
      if (t[i + 1] === 58) {
        if (gap >= 0) return false;
        gap = n;
        i += 2;
      } else {
        i++;
        if (t[i] === 9) return false; // a trailing single colon
      }
    } else if (t[i] !== 9) return false;
  }
  if (gap < 0 ? n !== 8 : n > 7) return false;
  const words = [0, 0, 0, 0, 0, 0, 0, 0];
  if (gap < 0) { for (let k = 0; k < 8; k++) words[k] = g[k]; }
  else {
    for (let k = 0; k < gap; k++) words[k] = g[k];
    for (let k = gap; k < n; k++) words[8 - (n - k)] = g[k];
  }
  if (!fastTail(t, i, end, 128)) return false;
  for (let k = 0; k < 4; k++) fast6[k] = ((words[2 * k] << 16) | words[2 * k + 1]) >>> 0;
  // No host bits below the prefix length.
  for (let k = 0; k < 4; k++) {
    const keep = Math.min(32, Math.max(0, fast.len - 32 * k));
    const host = keep === 32 ? 0 : keep === 0 ? 0xffffffff : (0xffffffff >>> keep);
    if ((fast6[k] & host) !== 0) return false;
  }
  return true;
}

// Reads consecutive lines of the common IPv4 shape "a.b.c.d<TAB>len<TAB>asn[(_|,)asn…]" from
// `i` in one tight loop (no per-line calls: most of a CAIDA file), appending them to v4. Stops
// at the first line of another shape (or with host bits set), which parseInto then handles;
// returns where that line starts (or the end). Every line it consumes is one prefix appended.
function scan4(t: Uint8Array, i: number, v4: Pending4): number {
  const n = t.length;
  let netA = v4.net;
  let lenA = v4.len;
  let asnA = v4.asn;
  let k = v4.length;
  while (i < n) {
    const lineStart = i;
    let net = 0;
    let ok = true;
    for (let octet = 0; octet < 4; octet++) {
      let v = 0;
      let d = 0;
      while (i < n) {
        const c = t[i];
        if (c < 48 || c > 57) break;
        v = v * 10 + (c - 48);
        i++;
        d++;
      }
      if (d === 0 || d > 3 || v > 255 || (octet < 3 && t[i++] !== 46)) {
        ok = false;
        break;
      }
      net = net * 256 + v;
    }
    let len = 0;
    let asn = 0;
    if (ok && t[i] === 9) {
      i++;
      let d = 0;
      while (i < n && t[i] >= 48 && t[i] <= 57) {
        len = len * 10 + t[i++] - 48;
        d++;
      }
      ok = d > 0 && d <= 3 && len <= 32 && t[i] === 9;
      i++;
      // The origin, then the other origins of a MOAS list or AS set (the first is kept).
      for (let first = true; ok; first = false) {
        let v = 0;
        d = 0;
        while (i < n && t[i] >= 48 && t[i] <= 57) {
          v = v * 10 + t[i++] - 48;
          d++;
        }
        if (d === 0 || d > 10 || v > 4294967295) ok = false;
        if (first) asn = v;
        if (t[i] !== 95 && t[i] !== 44) break;
        i++;
      }
    } else ok = false;
    if (ok && i < n && t[i] === 13) i++;
    if (!ok || (i < n && t[i] !== 10) || net % SIZE4[len] !== 0) {
      i = lineStart;
      break;
    }
    i++; // past the newline (or the end)
    if (k === netA.length) {
      v4.length = k;
      v4.reserve(k * 2);
      netA = v4.net;
      lenA = v4.len;
      asnA = v4.asn;
    }
    netA[k] = net;
    lenA[k] = len;
    asnA[k] = asn;
    k++;
  }
  v4.length = k;
  return Math.min(i, n);
}

function parseInto(bytes: Uint8Array, file: string, v4: Pending4, v6: Pending6): void {
  const dec = new TextDecoder();
  let line = 0;
  let start = 0;
  while (start < bytes.length) {
    const before = v4.length;
    start = scan4(bytes, start, v4);
    line += v4.length - before;
    if (start >= bytes.length) break;
    let end = bytes.indexOf(10, start);
    if (end < 0) end = bytes.length;
    line++;
    const lineEnd = end > start && bytes[end - 1] === 13 ? end - 1 : end;
    if (parseFast6(bytes, start, lineEnd)) {
      v6.push(fast6[0], fast6[1], fast6[2], fast6[3], fast.len, fast.asn);
      start = end + 1;
      continue;
    }
    const raw = dec.decode(bytes.subarray(start, end)).trim();
    start = end + 1;
    if (raw === "" || raw.startsWith("#")) continue;
    const bad = (msg: string) => new DataError(msg, { file, line });
    const f = raw.split(/\s+/);
    let addr: string;
    let lenText: string;
    let origin: string;
    if (f.length === 3) [addr, lenText, origin] = f;
    else if (f.length === 2 && f[0].includes("/")) {
      [addr, lenText] = f[0].split("/");
      origin = f[1];
    } else throw bad(`expected "prefix<TAB>length<TAB>origin AS", got "${raw.slice(0, 60)}"`);
    if (!/^\d{1,3}$/.test(lenText)) throw bad(`bad prefix length "${lenText}"`);
    const len = Number(lenText);
    const asn = parseAsn(origin);
    if (asn < 0) throw bad(`bad origin AS "${origin}"`);
    const a4 = parseIpv4(addr);
    if (a4 >= 0) {
      if (len > 32) throw bad(`bad prefix length ${len} for an IPv4 prefix`);
      const size = 2 ** (32 - len);
      if (a4 % size !== 0) throw bad(`prefix ${addr}/${len} has host bits set`);
      v4.push(a4, len, asn);
      continue;
    }
    const a6 = parseIpv6(addr);
    if (a6 === null) throw bad(`bad prefix address "${addr}"`);
    if (len > 128) throw bad(`bad prefix length ${len} for an IPv6 prefix`);
    const w = [0, 0, 0, 0];
    for (let k = 0; k < 4; k++) {
      w[k] = ((a6[4 * k] << 24) | (a6[4 * k + 1] << 16) | (a6[4 * k + 2] << 8) | a6[4 * k + 3]) >>>
        0;
      if ((w[k] & hostMask(len, k)) !== 0) throw bad(`prefix ${addr}/${len} has host bits set`);
    }
    v6.push(w[0], w[1], w[2], w[3], len, asn);
  }
}

/**
 * `Prefix` from prefix-to-AS tables, and `ASN` too with `asn` (when no ASN database gives it).
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { PrefixTable, prefixEnricher } from "./prefix_table.ts";
 * import { DarknetEvent } from "../model/darknet_event.ts";
 * const x = prefixEnricher(PrefixTable.fromText("10.0.0.0\t8\t64500\n", "x"), { asn: true });
 * const e = new DarknetEvent();
 * e.src = 0x0a010203;
 * x.annotate!(e);
 * equal(e.prefix, "10.0.0.0/8");
 * equal(e.asn, 64500);
 * ```
 */
export function prefixEnricher(table: PrefixTable, o: { asn: boolean }): Enricher {
  const asn = o.asn;
  return {
    name: "pfx2as",
    fields: asn ? ["prefix", "asn"] : ["prefix"],
    annotate(e) {
      const m = e.version === 6 ? table.lookup6(e.src6) : table.lookup4(e.src);
      if (m) {
        e.prefix = m.prefix;
        if (asn) e.asn = m.asn;
      }
    },
  };
}

/**
 * Address formatting and parsing. Inside `src/` IPv4 addresses are unsigned 32-bit integers;
 * strings exist only at the edges (output, flags).
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { formatIpv4, parseIpv4 } from "./ip.ts";
 * ok(formatIpv4(parseIpv4("192.0.2.1")) === "192.0.2.1");
 * ```
 * @module
 */

/**
 * Dotted-quad form of a uint32 address.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { formatIpv4 } from "./ip.ts";
 * ok(formatIpv4(0xc0000201) === "192.0.2.1");
 * ```
 */
export function formatIpv4(a: number): string {
  return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
}

/**
 * Parses a dotted quad into a uint32, or returns -1 if it is not one.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { parseIpv4 } from "./ip.ts";
 * ok(parseIpv4("192.0.2.1") === 0xc0000201 && parseIpv4("1.2.3") === -1);
 * ```
 */
export function parseIpv4(s: string): number {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return -1;
  let a = 0;
  for (let i = 1; i <= 4; i++) {
    const o = Number(m[i]);
    if (o > 255) return -1;
    a = a * 256 + o;
  }
  return a;
}

/**
 * RFC 5952 text form of an IPv6 address given as 16 bytes at `b[off ..]`.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { formatIpv6 } from "./ip.ts";
 * const b = new Uint8Array(16); b[0] = 0x20; b[1] = 0x01; b[2] = 0x0d; b[3] = 0xb8; b[15] = 1;
 * ok(formatIpv6(b) === "2001:db8::1");
 * ```
 */
export function formatIpv6(b: Uint8Array, off = 0): string {
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push((b[off + 2 * i] << 8) | b[off + 2 * i + 1]);
  return formatGroups(g);
}

/** RFC 5952 form of an IPv6 address given as four uint32 words at `w[off ..]`. */
export function formatIpv6Words(w: Uint32Array, off = 0): string {
  const g: number[] = [];
  for (let i = 0; i < 4; i++) g.push(w[off + i] >>> 16, w[off + i] & 0xffff);
  return formatGroups(g);
}

function formatGroups(g: number[]): string {
  // Longest run (≥ 2) of zero groups becomes "::"; the first one wins a tie.
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = g.map((x) => x.toString(16));
  if (best < 0) return hex.join(":");
  return `${hex.slice(0, best).join(":")}::${hex.slice(best + bestLen).join(":")}`;
}

/**
 * Parses an IPv6 address into 16 bytes, or returns null.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { parseIpv6 } from "./ip.ts";
 * ok(parseIpv6("2001:db8::1")![15] === 1 && parseIpv6("nope") === null);
 * ```
 */
export function parseIpv6(s: string): Uint8Array | null {
  if (!/^[0-9a-fA-F:.]+$/.test(s)) return null;
  let tail4: number[] = [];
  const lastColon = s.lastIndexOf(":");
  if (s.includes(".")) {
    const v4 = parseIpv4(s.slice(lastColon + 1));
    if (v4 < 0) return null;
    tail4 = [v4 >>> 16, v4 & 0xffff];
    s = s.slice(0, lastColon + 1) + "0:0";
  }
  const halves = s.split("::");
  if (halves.length > 2) return null;
  const parse = (x: string) => (x === "" ? [] : x.split(":"));
  const head = parse(halves[0]);
  const tail = halves.length === 2 ? parse(halves[1]) : [];
  const fill = 8 - head.length - tail.length;
  if ((halves.length === 1 && fill !== 0) || (halves.length === 2 && fill < 1)) return null;
  const groups = [...head, ...Array(halves.length === 2 ? fill : 0).fill("0"), ...tail];
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(groups[i])) return null;
    const v = parseInt(groups[i], 16);
    out[2 * i] = v >> 8;
    out[2 * i + 1] = v & 255;
  }
  if (tail4.length) {
    out[12] = tail4[0] >> 8;
    out[13] = tail4[0] & 255;
    out[14] = tail4[1] >> 8;
    out[15] = tail4[1] & 255;
  }
  return out;
}

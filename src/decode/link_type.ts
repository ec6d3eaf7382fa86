/**
 * Link-layer header types (LINKTYPE_* values of pcap and pcapng): one table of number, name and
 * decoder. A decoder reads the link header of a frame and says where the network layer starts
 * and what it is; `decodeFrame` takes it from there. To support another link type, add its
 * entry here.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { LinkType, linkTypeName } from "./link_type.ts";
 * ok(linkTypeName(LinkType.LINUX_SLL) === "LINUX_SLL");
 * ```
 * @module
 */

/** EtherTypes of the network layers decoded. */
export const ETH_IPV4 = 0x0800;
/** EtherType of IPv6. */
export const ETH_IPV6 = 0x86dd;
/** A link decoder's network type for "read the IP version from the first byte" (raw IP). */
export const BY_VERSION = 0;
/** A link decoder's network type for anything but IP (not a valid EtherType for IP). */
export const NOT_IP = 1;

/**
 * Reads the link header of the frame `d[off .. off+len)`: returns where the network layer starts
 * and its type as one number, `start * 65536 + type` (type: an EtherType, {@link BY_VERSION} or
 * {@link NOT_IP}), or -1 if the header is cut short.
 */
export type LinkDecoder = (d: Uint8Array, off: number, len: number) => number;

/**
 * Skips 802.1Q-style tags starting at `p` whose outer EtherType is `etype`: the link decoders'
 * result for what follows, or -1 if the tags run past `end`. Anything but IPv4 and IPv6 is
 * {@link NOT_IP}.
 */
function skipTags(d: Uint8Array, p: number, end: number, etype: number): number {
  let n = 0;
  while ((etype === 0x8100 || etype === 0x88a8 || etype === 0x9100) && n < 8) {
    if (p + 4 > end) return -1;
    etype = (d[p + 2] << 8) | d[p + 3];
    p += 4;
    n++;
  }
  return p * 65536 + (etype === ETH_IPV4 || etype === ETH_IPV6 ? etype : NOT_IP);
}

// An address family (BSD loopback) as a network type. AF_INET6 is 10 on Linux, 24 on
// NetBSD/OpenBSD, 28 on FreeBSD, 30 on Darwin.
function afType(af: number): number {
  if (af === 2) return ETH_IPV4;
  if (af === 10 || af === 24 || af === 28 || af === 30) return ETH_IPV6;
  return NOT_IP;
}

const ethernet: LinkDecoder = (d, off, len) =>
  len < 14 ? -1 : skipTags(d, off + 14, off + len, (d[off + 12] << 8) | d[off + 13]);
const sll: LinkDecoder = (d, off, len) =>
  len < 16 ? -1 : skipTags(d, off + 16, off + len, (d[off + 14] << 8) | d[off + 15]);
const sll2: LinkDecoder = (d, off, len) =>
  len < 20 ? -1 : skipTags(d, off + 20, off + len, (d[off] << 8) | d[off + 1]);
// BSD loopback: the address family in the capturing host's byte order.
const nullLoopback: LinkDecoder = (d, off, len) => {
  if (len < 4) return -1;
  const le = (d[off] | (d[off + 1] << 8) | (d[off + 2] << 16) | (d[off + 3] << 24)) >>> 0;
  const be = ((d[off] << 24) | (d[off + 1] << 16) | (d[off + 2] << 8) | d[off + 3]) >>> 0;
  let type: number;
  if (le <= 0xffff) type = afType(le);
  else if (be <= 0xffff) type = afType(be);
  else {
    // Neither order gives an address family: some capturers put an EtherType in the second
    // half-word (Wireshark reads it the same way).
    const et = (d[off + 2] << 8) | d[off + 3];
    type = et === ETH_IPV4 || et === ETH_IPV6 ? et : NOT_IP;
  }
  return (off + 4) * 65536 + type;
};
// OpenBSD loopback: the address family in network byte order.
const loop: LinkDecoder = (d, off, len) =>
  len < 4 ? -1 : (off + 4) * 65536 +
    afType(((d[off] << 24) | (d[off + 1] << 16) | (d[off + 2] << 8) | d[off + 3]) >>> 0);
const raw: LinkDecoder = (_d, off) => off * 65536 + BY_VERSION;
const ipv4: LinkDecoder = (_d, off) => off * 65536 + ETH_IPV4;
const ipv6: LinkDecoder = (_d, off) => off * 65536 + ETH_IPV6;

/** One link type. */
export interface LinkTypeInfo {
  /** Its LINKTYPE_ number. */
  readonly code: number;
  /** Its name (in reports). */
  readonly name: string;
  /** Its decoder; none for a type that is only named. */
  readonly decode?: LinkDecoder;
}

/**
 * Every link type known: those decoded, then common ones only named (so that reports are
 * readable).
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { LINK_TYPES } from "./link_type.ts";
 * ok(LINK_TYPES.some((t) => t.code === 276 && t.decode));
 * ```
 */
export const LINK_TYPES: readonly LinkTypeInfo[] = [
  { code: 0, name: "NULL", decode: nullLoopback },
  { code: 1, name: "ETHERNET", decode: ethernet },
  { code: 12, name: "RAW", decode: raw }, // DLT_RAW as some BSDs number it in pcap files
  { code: 14, name: "RAW", decode: raw }, // DLT_RAW as OpenBSD numbers it
  { code: 101, name: "RAW", decode: raw },
  { code: 108, name: "LOOP", decode: loop },
  { code: 113, name: "LINUX_SLL", decode: sll },
  { code: 228, name: "IPV4", decode: ipv4 },
  { code: 229, name: "IPV6", decode: ipv6 },
  { code: 276, name: "LINUX_SLL2", decode: sll2 },
  { code: 6, name: "IEEE802_5" },
  { code: 9, name: "PPP" },
  { code: 50, name: "PPP_HDLC" },
  { code: 104, name: "C_HDLC" },
  { code: 105, name: "IEEE802_11" },
  { code: 127, name: "IEEE802_11_RADIOTAP" },
  { code: 192, name: "PPI" },
  { code: 195, name: "IEEE802_15_4" },
  { code: 231, name: "DBUS" },
  { code: 239, name: "NFLOG" },
];

const BY_CODE = new Map(LINK_TYPES.map((t) => [t.code, t]));
// Decoders by code in an array: a frame off the decoder's fast path looks its own up.
const DECODERS: (LinkDecoder | undefined)[] = [];
for (const t of LINK_TYPES) if (t.decode) DECODERS[t.code] = t.decode;

/**
 * Supported link types by name.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { LinkType } from "./link_type.ts";
 * ok(LinkType.ETHERNET === 1 && LinkType.LINUX_SLL2 === 276);
 * ```
 */
export const LinkType = {
  NULL: 0,
  ETHERNET: 1,
  /** DLT_RAW as some BSDs number it in pcap files. */
  RAW_BSD12: 12,
  /** DLT_RAW as OpenBSD numbers it. */
  RAW_BSD14: 14,
  RAW: 101,
  LOOP: 108,
  LINUX_SLL: 113,
  IPV4: 228,
  IPV6: 229,
  LINUX_SLL2: 276,
} as const;

/**
 * The decoder of a link type, or undefined if it is not decoded.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { linkDecoder } from "./link_type.ts";
 * ok(linkDecoder(1) !== undefined && linkDecoder(127) === undefined);
 * ```
 */
export function linkDecoder(lt: number): LinkDecoder | undefined {
  return DECODERS[lt];
}

/**
 * A link type's name (`LINKTYPE_n` for one not in the table).
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { linkTypeName } from "./link_type.ts";
 * ok(linkTypeName(1) === "ETHERNET" && linkTypeName(999) === "LINKTYPE_999");
 * ```
 */
export function linkTypeName(lt: number): string {
  return BY_CODE.get(lt)?.name ?? `LINKTYPE_${lt}`;
}

/**
 * True when `decodeFrame` understands the link type.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { isSupportedLinkType } from "./link_type.ts";
 * ok(isSupportedLinkType(113) && !isSupportedLinkType(127));
 * ```
 */
export function isSupportedLinkType(lt: number): boolean {
  return BY_CODE.get(lt)?.decode !== undefined;
}

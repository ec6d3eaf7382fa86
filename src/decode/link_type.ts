/**
 * Link-layer header types (LINKTYPE_* values of pcap and pcapng) that the decoder reads.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { LinkType, linkTypeName } from "./link_type.ts";
 * ok(linkTypeName(LinkType.LINUX_SLL) === "LINUX_SLL");
 * ```
 * @module
 */

/**
 * Supported link types.
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

const NAMES: Record<number, string> = {
  0: "NULL",
  1: "ETHERNET",
  12: "RAW",
  14: "RAW",
  101: "RAW",
  108: "LOOP",
  113: "LINUX_SLL",
  228: "IPV4",
  229: "IPV6",
  276: "LINUX_SLL2",
  // Common ones we do not decode, named so reports are readable.
  6: "IEEE802_5",
  9: "PPP",
  50: "PPP_HDLC",
  104: "C_HDLC",
  105: "IEEE802_11",
  127: "IEEE802_11_RADIOTAP",
  192: "PPI",
  195: "IEEE802_15_4",
  239: "NFLOG",
  231: "DBUS",
};

/**
 * Human-readable name of a link type (`LINKTYPE_<n>` for unknown numbers).
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { linkTypeName } from "./link_type.ts";
 * ok(linkTypeName(1) === "ETHERNET" && linkTypeName(999) === "LINKTYPE_999");
 * ```
 */
export function linkTypeName(lt: number): string {
  return NAMES[lt] ?? `LINKTYPE_${lt}`;
}

/**
 * True when {@link decodeFrame} understands the link type.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { isSupportedLinkType } from "./link_type.ts";
 * ok(isSupportedLinkType(113) && !isSupportedLinkType(127));
 * ```
 */
export function isSupportedLinkType(lt: number): boolean {
  return lt === 0 || lt === 1 || lt === 12 || lt === 14 || lt === 101 || lt === 108 ||
    lt === 113 || lt === 228 || lt === 229 || lt === 276;
}

/**
 * The event's fields, declared once: JSON key (Merit's, in Merit's order), the kind of value,
 * whether readers (`count`, `timeseries`) need it, and what it means. `DarknetEvent.toJSON`
 * writes exactly these keys in this order (its values by key, in `darknet_event.ts`), the byte
 * encoder writes what `toJSON` gives (tested), event files are checked field by field from these
 * kinds (`analysis/check_event.ts`), and the table of docs/parse.md lists them (tested).
 * Fingerprint fields come from the fingerprint registry, after `RDNS`; the attribution's after
 * Merit's keys.
 *
 * @module
 */

import { FINGERPRINTS } from "../fingerprints/registry.ts";

/** Kinds of values, each with one check for event files (`checkEvent`). */
export type FieldKind =
  | "address" // IPv4 or IPv6 source, as text
  | "port" // 0 .. 65535
  | "traffic" // a traffic code, 0 .. 255
  | "time" // RFC 3339 with nanoseconds
  | "count" // a whole number ≥ 0
  | "number" // a finite number
  | "string"
  | "asn" // a whole number 0 .. 2^32 - 1
  | "names" // an array of strings, or null (reverse DNS)
  | "boolean"
  | "frames" // an array of base64 strings
  | "label" // a traffic name or ""
  | "tools" // {tool name: [matched, tested]}
  | "tool" // a registered tool's name or ""
  | "tags"; // {tag name: packets}

/** One field. */
export interface EventField {
  /** JSON key. */
  readonly key: string;
  /** Its values. */
  readonly kind: FieldKind;
  /** Needed by the readers of event files (others are checked when present). */
  readonly required: boolean;
  /** What it is (the docs' table). */
  readonly doc: string;
}

const field = (key: string, kind: FieldKind, required: boolean, doc: string): EventField => ({
  key,
  kind,
  required,
  doc,
});

/**
 * Every field of an event, in the order of its JSON object.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { EVENT_FIELDS } from "./event_schema.ts";
 * equal(EVENT_FIELDS[0].key, "SourceIP");
 * equal(EVENT_FIELDS.at(-1)?.key, "Scanner");
 * ```
 */
export const EVENT_FIELDS: readonly EventField[] = [
  field("SourceIP", "address", true, "source address"),
  field("Port", "port", true, "destination port (source port for TCPSYNACK/TCPRST; 0 for ICMP)"),
  field("Traffic", "traffic", true, "traffic code (docs/input.md)"),
  field("First", "time", true, "first packet"),
  field("Last", "time", true, "last packet"),
  field("Packets", "count", true, "packets"),
  field("Bytes", "count", true, "captured bytes, link headers included"),
  field("UniqueDests", "count", true, "distinct destinations"),
  field("UniqueDest24s", "count", false, "distinct destination /24s (IPv6: /64s)"),
  field("Lat", "number", false, "latitude (City database)"),
  field("Long", "number", false, "longitude (City database)"),
  field("Country", "string", false, "country ISO code (City database)"),
  field("City", "string", false, "city, English name (City database)"),
  field("ASN", "asn", false, "origin AS (ASN database, or prefix-to-AS)"),
  field("Org", "string", false, "AS organisation (ASN database)"),
  field("Prefix", "string", false, "routed prefix (prefix-to-AS)"),
  field("RDNS", "names", false, "reverse DNS names; null without --dns"),
  ...FINGERPRINTS.map((f) =>
    field(f.key, "boolean", false, `every packet matched the ${f.label} fingerprint`)
  ),
  field("Samples", "frames", false, "sampled frames, base64"),
  field("TCP", "label", false, "traffic name for TCP events, else empty"),
  field("ICMP", "label", false, "traffic name for ICMP events, else empty"),
  field(
    "Tools",
    "tools",
    false,
    "per tool whose rule matched a packet: [packets matched, packets tested] (docs/attribution.md)",
  ),
  field("Tool", "tool", false, "the attribution: a tool's name, or empty (docs/attribution.md)"),
  field(
    "SynSignature",
    "string",
    false,
    "the first TCP SYN's window_options_mss_wscale, else empty",
  ),
  field("IPIDClass", "string", false, "constant, incrementing, random, mixed, or empty"),
  field(
    "Tags",
    "tags",
    false,
    "per traffic tag that tagged a packet: packets (spoofed, erratic, unroutable, large-scale-scan)",
  ),
  field("Scanner", "string", false, "the known scanner's label (--known-scanners), or empty"),
];

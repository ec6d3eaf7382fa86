/**
 * A finished (or still open) darknet event: all packets of one (source, traffic, port) with no
 * gap longer than the timeout. Its JSON form has exactly the keys, in the order, of Merit's
 * darknet-events; enrichment fields start at their zero values.
 *
 * @module
 */

import { isIcmp, isTcp, trafficName } from "../decode/traffic.ts";
import { fingerprintBit, FINGERPRINTS } from "../fingerprints/registry.ts";
import { EVENT_FIELDS } from "./event_schema.ts";
import { attribute, TOOLS } from "../attribution/tools.ts";
import { TAGS } from "../tags/traffic_tags.ts";
import { formatTime } from "../stats/packet_stats.ts";
import { formatIpv4, formatIpv6 } from "../util/ip.ts";

/** The JSON object written for an event (keys in this order). */
export interface EventJson {
  /** Source address. */
  SourceIP: string;
  /** Destination port (source port for TCPSYNACK/TCPRST; 0 for ICMP/Unknown). */
  Port: number;
  /** Traffic code (see the traffic table). */
  Traffic: number;
  /** First packet (RFC 3339, nanoseconds). */
  First: string;
  /** Last packet (RFC 3339, nanoseconds). */
  Last: string;
  /** Packets. */
  Packets: number;
  /** Captured bytes. */
  Bytes: number;
  /** Distinct destinations. */
  UniqueDests: number;
  /** Distinct destination /24s (IPv6: /64s). */
  UniqueDest24s: number;
  /** Latitude (City database). */
  Lat: number;
  /** Longitude (City database). */
  Long: number;
  /** Country ISO code (City database). */
  Country: string;
  /** City, English name (City database). */
  City: string;
  /** Origin AS (ASN database, or prefix-to-AS). */
  ASN: number;
  /** AS organisation (ASN database). */
  Org: string;
  /** Routed prefix (prefix-to-AS). */
  Prefix: string;
  /** Reverse DNS names; null without --dns. */
  RDNS: string[] | null;
  // Then one boolean per registered fingerprint (src/fingerprints/registry.ts), under its key:
  /** Every packet had IP ID 54321. */
  Zmap: boolean;
  /** Every packet matched Masscan's IP ID formula. */
  Masscan: boolean;
  /** Every packet's TCP sequence number equalled its destination. */
  Mirai: boolean;
  /** Sampled frames, base64. */
  Samples: string[];
  /** Traffic name for TCP events, else empty. */
  TCP: string;
  /** Traffic name for ICMP events, else empty. */
  ICMP: string;
  /** Per tool whose rule matched a packet: [packets matched, packets tested]. */
  Tools: Record<string, [number, number]>;
  /** The attribution: a tool's name, or "". */
  Tool: string;
  /** The first TCP SYN's signature (JA4T's form), or "". */
  SynSignature: string;
  /** IP ID behaviour: constant, incrementing, random, mixed, or "". */
  IPIDClass: string;
  /** Packets per traffic tag that tagged any (see the README's "Traffic tags"). */
  Tags: Record<string, number>;
  /** The known scanner's label (`--known-scanners`), or "". */
  Scanner: string;
}

/**
 * The estimated Internet-wide scan rate of {@link DarknetEvent.rate}, from its parts: `packets` ×
 * (2^32 / `telescopeSize`) / `duration` seconds for IPv4, packets / duration for IPv6, infinite
 * for a zero duration.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { scanRate } from "./darknet_event.ts";
 * ok(scanRate(10, 2, 4, 2 ** 31) === 10);
 * ok(scanRate(1, 0, 4, 475136) === Infinity);
 * ```
 */
export function scanRate(
  packets: number,
  duration: number,
  version: number,
  telescopeSize: number,
): number {
  const scale = version === 6 ? 1 : 4294967296 / telescopeSize;
  return duration > 0 ? (packets * scale) / duration : Infinity;
}

const NO_ADDRESS = new Uint8Array(0); // shared: an empty array cannot be changed

/**
 * One event. Fields are public and plain so stages can annotate them.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { DarknetEvent } from "./darknet_event.ts";
 * const e = new DarknetEvent();
 * e.src = 0xc6336401; e.traffic = 11; e.port = 23; e.packets = 1;
 * const j = e.toJSON();
 * ok(j.SourceIP === "198.51.100.1" && j.TCP === "TCPSYN" && j.RDNS === null);
 * ```
 */
export class DarknetEvent {
  /** 4 or 6. */
  version = 4;
  /** IPv4 source as uint32 (0 for IPv6). */
  src = 0;
  /** IPv6 source, 16 bytes (empty for IPv4). */
  src6: Uint8Array = NO_ADDRESS;
  /** Traffic code. */
  traffic = 0;
  /** Event port. */
  port = 0;
  /** First packet, seconds. */
  firstSec = 0;
  /** First packet, nanoseconds. */
  firstNsec = 0;
  /** Last packet, seconds. */
  lastSec = 0;
  /** Last packet, nanoseconds. */
  lastNsec = 0;
  /** Packets. */
  packets = 0;
  /** Captured bytes. */
  bytes = 0;
  /** Distinct destinations. */
  uniqueDests = 0;
  /** Distinct /24s (IPv4) or /64s (IPv6). */
  uniqueDest24s = 0;
  /** Packets matched per registered tool ({@link TOOLS} order; empty: none tested). */
  tools: number[] = [];
  /** Packets the tools were tested on. */
  toolPackets = 0;
  /** The first SYN's signature (JA4T's form), or "". */
  synSignature = "";
  /** How the IP IDs behave: constant, incrementing, random, mixed, or "". */
  ipIdClass = "";
  /** Packets per traffic tag ({@link TAGS} order; empty: none counted). */
  tags: number[] = [];
  /** The known scanner's label (`--known-scanners`), or "". */
  scanner = "";
  /**
   * Its destinations, when the aggregator was asked for them (`destinations`, for per-source
   * roll-ups): IPv4 addresses, or for IPv6 a 32-bit hash of each, in no particular order; null
   * otherwise. Not written.
   */
  destinations: Uint32Array | null = null;
  /** Fingerprint bits: rule k of the registry ({@link FINGERPRINTS}) is bit k. */
  fingerprints = 0;
  /**
   * Sampled captured frames (the lowest ranks, in packet order; docs/parse.md). From the aggregator they are views into a shared block
   * of memory: `slice()` one to keep just its bytes for long.
   */
  samples: Uint8Array[] = [];
  /** Latitude. */
  lat = 0;
  /** Longitude. */
  long = 0;
  /** Country ISO code. */
  country = "";
  /** City (English). */
  city = "";
  /** Origin AS number. */
  asn = 0;
  /** AS organisation. */
  org = "";
  /** Routed prefix. */
  prefix = "";
  /** Reverse DNS names; null when no lookup was asked for. */
  rdns: string[] | null = null;

  /** The source address as text. */
  get sourceIP(): string {
    return this.version === 6 ? formatIpv6(this.src6) : formatIpv4(this.src);
  }

  /** Last − First in seconds. */
  get duration(): number {
    return (this.lastSec - this.firstSec) + (this.lastNsec - this.firstNsec) / 1e9;
  }

  /**
   * Estimated Internet-wide scan rate in packets/s: Packets × (2^32 / telescopeSize) /
   * duration for IPv4; for IPv6 the observed packets/s (no share of the IPv6 space is
   * meaningful to extrapolate from). Infinite for a zero duration.
   */
  rate(telescopeSize: number): number {
    return scanRate(this.packets, this.duration, this.version, telescopeSize);
  }

  /**
   * Whether the event has the registered fingerprint `name` (lower case, e.g. "zmap").
   *
   * @example
   * ```ts
   * import { equal } from "node:assert/strict";
   * import { DarknetEvent } from "./darknet_event.ts";
   * const e = new DarknetEvent();
   * e.fingerprints = 4;
   * equal(e.fingerprint("mirai"), true);
   * equal(e.fingerprint("zmap"), false);
   * ```
   */
  fingerprint(name: string): boolean {
    return (this.fingerprints & fingerprintBit(name)) !== 0;
  }

  /** The output object: the fields of the event schema ({@link EVENT_FIELDS}), in its order. */
  toJSON(): EventJson {
    const o: Record<string, unknown> = {};
    for (let k = 0; k < EVENT_FIELDS.length; k++) o[EVENT_FIELDS[k].key] = VALUES[k](this);
    return o as unknown as EventJson;
  }
}

// Each schema field's value, by key (fingerprints by their bit).
const BY_KEY: Record<string, (e: DarknetEvent) => unknown> = {
  SourceIP: (e) => e.sourceIP,
  Port: (e) => e.port,
  Traffic: (e) => e.traffic,
  First: (e) => formatTime(e.firstSec, e.firstNsec),
  Last: (e) => formatTime(e.lastSec, e.lastNsec),
  Packets: (e) => e.packets,
  Bytes: (e) => e.bytes,
  UniqueDests: (e) => e.uniqueDests,
  UniqueDest24s: (e) => e.uniqueDest24s,
  Lat: (e) => e.lat,
  Long: (e) => e.long,
  Country: (e) => e.country,
  City: (e) => e.city,
  ASN: (e) => e.asn,
  Org: (e) => e.org,
  Prefix: (e) => e.prefix,
  RDNS: (e) => e.rdns,
  // The runtime's encoder: 3× the speed of a table in JS (the byte writer, event_buffer.ts,
  // keeps its table: encoding into its buffer directly beats toBase64 plus encodeInto).
  Samples: (e) => e.samples.map((f) => f.toBase64()),
  TCP: (e) => isTcp(e.traffic) ? trafficName(e.traffic) : "",
  ICMP: (e) => isIcmp(e.traffic) ? trafficName(e.traffic) : "",
  Tools: (e) => {
    const o: Record<string, [number, number]> = {};
    e.tools.forEach((m, k) => {
      if (m > 0) o[TOOLS[k].name] = [m, e.toolPackets];
    });
    return o;
  },
  Tool: (e) => attribute(e.tools),
  SynSignature: (e) => e.synSignature,
  IPIDClass: (e) => e.ipIdClass,
  Tags: (e) => {
    const o: Record<string, number> = {};
    e.tags.forEach((n, t) => {
      if (n > 0) o[TAGS[t]] = n;
    });
    return o;
  },
  Scanner: (e) => e.scanner,
};
FINGERPRINTS.forEach((f, k) => {
  BY_KEY[f.key] = (e) => (e.fingerprints >> k & 1) === 1;
});
const VALUES = EVENT_FIELDS.map((f) => {
  const v = BY_KEY[f.key];
  if (!v) throw new Error(`event field ${f.key} has no value in darknet_event.ts`);
  return v;
});

/**
 * Each schema field's value of an event, in {@link EVENT_FIELDS}' order (what `toJSON` puts
 * under its key): for encoders that take fields one at a time (Parquet's columns).
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { DarknetEvent, EVENT_VALUES } from "./darknet_event.ts";
 * const e = new DarknetEvent();
 * e.packets = 7;
 * equal(EVENT_VALUES[5](e), 7); // Packets
 * ```
 */
export const EVENT_VALUES: readonly ((e: DarknetEvent) => unknown)[] = VALUES;

/**
 * The order of events in every output: by last packet, then key ({@link compareEventKeys}) —
 * the order in which they became final, whatever the run's sweeps or splits (a file's events,
 * a sweep's, a split run's stitched together).
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { compareEventOrder, DarknetEvent } from "./darknet_event.ts";
 * const a = new DarknetEvent();
 * const b = new DarknetEvent();
 * a.lastSec = b.lastSec = 100;
 * a.src = 2;
 * b.src = 1;
 * equal(compareEventOrder(a, b) > 0, true); // the same last packet: by key
 * b.lastNsec = 1;
 * equal(compareEventOrder(a, b) < 0, true); // a ended first
 * ```
 */
export function compareEventOrder(a: DarknetEvent, b: DarknetEvent): number {
  return a.lastSec - b.lastSec || a.lastNsec - b.lastNsec || compareEventKeys(a, b);
}

/**
 * Orders events by key: IPv4 before IPv6, then source address, traffic, port. Used to break
 * ties between events that end at the same moment.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { compareEventKeys, DarknetEvent } from "./darknet_event.ts";
 * const a = new DarknetEvent();
 * const b = new DarknetEvent();
 * a.src = 1;
 * b.src = 2;
 * ok([b, a].sort(compareEventKeys)[0] === a);
 * ```
 */
export function compareEventKeys(a: DarknetEvent, b: DarknetEvent): number {
  if (a.version !== b.version) return a.version - b.version;
  if (a.version === 4) {
    if (a.src !== b.src) return a.src < b.src ? -1 : 1;
  } else {
    for (let i = 0; i < 16; i++) if (a.src6[i] !== b.src6[i]) return a.src6[i] - b.src6[i];
  }
  return a.traffic - b.traffic || a.port - b.port;
}

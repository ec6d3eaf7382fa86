/**
 * The enrichment stage: event chunks in, annotated event chunks out, in the same order. ASN and
 * organisation from a MaxMind ASN database, location from a City database, the routed prefix
 * (and, without an ASN database, the ASN) from prefix-to-AS files, and reverse DNS names.
 *
 * Reverse DNS never stalls packet processing: a chunk is accepted at once and its lookups run
 * in the background (bounded in flight by the resolver); chunks leave in arrival order as soon
 * as their lookups are done. Without `dns`, `RDNS` stays null.
 *
 * @module
 */

import type { DarknetEvent } from "../events/darknet_event.ts";
import type { EventChunk } from "../events/event_aggregator_stream.ts";
import type { MaxMindDb } from "./maxmind_db.ts";
import type { PrefixTable } from "./prefix_table.ts";
import type { ReverseDns } from "./reverse_dns.ts";

/** The sources of annotations; each is optional. */
export interface Enrichers {
  /** A MaxMind ASN database (`ASN`, `Org`). */
  asn?: MaxMindDb;
  /** A MaxMind City database (`Lat`, `Long`, `Country`, `City`). */
  geo?: MaxMindDb;
  /** Prefix-to-AS tables (`Prefix`; `ASN` too when there is no ASN database). */
  prefixes?: PrefixTable;
  /** Reverse DNS (`RDNS`). */
  dns?: ReverseDns;
}

/**
 * Annotates one event synchronously (everything but reverse DNS).
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { annotate } from "./enrich_stream.ts";
 * import { PrefixTable } from "./prefix_table.ts";
 * import { DarknetEvent } from "../events/darknet_event.ts";
 * const e = new DarknetEvent();
 * e.src = 0x0a010203;
 * annotate(e, { prefixes: PrefixTable.fromText("10.0.0.0\t8\t64500\n", "x") });
 * ok(e.prefix === "10.0.0.0/8" && e.asn === 64500);
 * ```
 */
export function annotate(e: DarknetEvent, x: Enrichers): void {
  const ip = x.asn || x.geo ? e.sourceIP : "";
  if (x.asn) {
    const a = x.asn.asn(ip);
    e.asn = a.asn;
    e.org = a.org;
  }
  if (x.geo) {
    const c = x.geo.city(ip);
    e.lat = c.lat;
    e.long = c.long;
    e.country = c.country;
    e.city = c.city;
  }
  if (x.prefixes) {
    const m = e.version === 6 ? x.prefixes.lookup6(e.src6) : x.prefixes.lookup4(e.src);
    if (m) {
      e.prefix = m.prefix;
      if (!x.asn) e.asn = m.asn;
    }
  }
}

/**
 * TransformStream annotating event chunks.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { EnrichStream } from "./enrich_stream.ts";
 * import { MaxMindDb } from "./maxmind_db.ts";
 * import { DarknetEvent } from "../events/darknet_event.ts";
 * const asn = await MaxMindDb.open("testdata/mmdb/GeoLite2-ASN-Test.mmdb", "asn");
 * const e = new DarknetEvent();
 * e.src = 0x01800001; // 1.128.0.1
 * const out = ReadableStream.from([{ events: [e], open: false }]).pipeThrough(new EnrichStream({ asn }));
 * for await (const c of out) ok(c.events[0].asn === 1221);
 * ```
 */
export class EnrichStream extends TransformStream<EventChunk, EventChunk> {
  /** Creates the stage with the given annotation sources. */
  constructor(x: Enrichers) {
    let tail: Promise<void> = Promise.resolve();
    const cache = new SourceCache();
    super(
      {
        transform(chunk, controller) {
          for (const e of chunk.events) cache.annotate(e, x);
          const dns = x.dns;
          if (!dns) {
            controller.enqueue(chunk);
            return;
          }
          const done = Promise.all(chunk.events.map(async (e) => {
            e.rdns = await dns.lookup(e.sourceIP);
          }));
          tail = tail.then(() => done).then(() => controller.enqueue(chunk));
        },
        flush() {
          return tail;
        },
      },
      { highWaterMark: 1 },
      { highWaterMark: 0 },
    );
  }
}

// The annotations of recently seen IPv4 sources: a source usually has several events (ports,
// traffic types, hours), and the lookups cost ~1 µs an event against ~0.1 µs for the copy.
// Bounded: emptied when it holds CACHE_SOURCES sources.
const CACHE_SOURCES = 16384;

interface Annotation {
  lat: number;
  long: number;
  country: string;
  city: string;
  asn: number;
  org: string;
  prefix: string;
}

class SourceCache {
  readonly #map = new Map<number, Annotation>();

  annotate(e: DarknetEvent, x: Enrichers): void {
    if (e.version !== 4) return annotate(e, x);
    const a = this.#map.get(e.src);
    if (a === undefined) {
      annotate(e, x);
      if (this.#map.size >= CACHE_SOURCES) this.#map.clear();
      this.#map.set(e.src, {
        lat: e.lat,
        long: e.long,
        country: e.country,
        city: e.city,
        asn: e.asn,
        org: e.org,
        prefix: e.prefix,
      });
      return;
    }
    e.lat = a.lat;
    e.long = a.long;
    e.country = a.country;
    e.city = a.city;
    e.asn = a.asn;
    e.org = a.org;
    e.prefix = a.prefix;
  }
}

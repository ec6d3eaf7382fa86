/**
 * The enrichment stage: event chunks in, annotated event chunks out, in the same order, by a
 * list of {@link Enricher}s — ASN and organisation from a MaxMind ASN database
 * (`asnEnricher`), location from a City database (`cityEnricher`), the routed prefix (and,
 * without an ASN database, the ASN) from prefix-to-AS files (`prefixEnricher`), reverse DNS
 * names (`dnsEnricher`), or any other.
 *
 * Reverse DNS never stalls packet processing: a chunk is accepted at once and its lookups run
 * in the background (bounded in flight by the resolver); chunks leave in arrival order as soon
 * as their lookups are done. Without it, `RDNS` stays null.
 *
 * @module
 */

import type { DarknetEvent } from "../model/darknet_event.ts";
import type { EventChunk } from "../aggregation/event_aggregator_stream.ts";
import type { EnrichedField, Enricher } from "./enricher.ts";

/**
 * Annotates one event with every synchronous enricher of the list, in order.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { annotate } from "./enrich_stream.ts";
 * import { PrefixTable, prefixEnricher } from "./prefix_table.ts";
 * import { DarknetEvent } from "../model/darknet_event.ts";
 * const e = new DarknetEvent();
 * e.src = 0x0a010203;
 * annotate(e, [prefixEnricher(PrefixTable.fromText("10.0.0.0\t8\t64500\n", "x"), { asn: true })]);
 * ok(e.prefix === "10.0.0.0/8" && e.asn === 64500);
 * ```
 */
export function annotate(e: DarknetEvent, enrichers: readonly Enricher[]): void {
  for (const x of enrichers) x.annotate?.(e);
}

// The enrichers' `finish` steps on each event of a chunk.
function finish(events: readonly DarknetEvent[], last: readonly Enricher[]): void {
  for (const e of events) for (const x of last) x.finish!(e);
}

/** Options of {@link EnrichStream}. */
export interface EnrichStreamOptions {
  /**
   * Events waiting for asynchronous enrichers (reverse DNS) before the stage stops taking
   * chunks until they are done: without a bound, lookups slower than events arrive would hold
   * ever more of them. @default 65536
   */
  maxPending?: number;
}

/**
 * TransformStream annotating event chunks with a list of enrichers.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { EnrichStream } from "./enrich_stream.ts";
 * import { asnEnricher, MaxMindDb } from "./maxmind_db.ts";
 * import { DarknetEvent } from "../model/darknet_event.ts";
 * const asn = asnEnricher(await MaxMindDb.open("testdata/mmdb/GeoLite2-ASN-Test.mmdb", "asn"));
 * const e = new DarknetEvent();
 * e.src = 0x01800001; // 1.128.0.1
 * const out = ReadableStream.from([{ events: [e], open: false }]).pipeThrough(new EnrichStream([asn]));
 * for await (const c of out) ok(c.events[0].asn === 1221);
 * ```
 */
export class EnrichStream extends TransformStream<EventChunk, EventChunk> {
  /** Creates the stage with the given enrichers (run in this order). */
  constructor(enrichers: readonly Enricher[], options: EnrichStreamOptions = {}) {
    const maxPending = options.maxPending ?? 65536;
    let pending = 0;
    let tail: Promise<void> = Promise.resolve();
    const sync = enrichers.filter((x) => x.annotate);
    const later = enrichers.filter((x) => x.annotateAsync);
    const last = enrichers.filter((x) => x.finish);
    const cache = new SourceCache(sync);
    super(
      {
        transform(chunk, controller) {
          if (sync.length) { for (const e of chunk.events) cache.annotate(e); }
          if (!later.length) {
            if (last.length) finish(chunk.events, last);
            controller.enqueue(chunk);
            return undefined;
          }
          const done = Promise.all(
            chunk.events.flatMap((e) => later.map((x) => x.annotateAsync!(e))),
          );
          const n = chunk.events.length;
          pending += n;
          tail = tail.then(() => done).then(() => {
            pending -= n;
            if (last.length) finish(chunk.events, last);
            controller.enqueue(chunk);
          });
          // Lookups far behind: hold the stream here (memory stays bounded) until they catch up.
          return pending > maxPending ? tail : undefined;
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

// The synchronous annotations of recently seen IPv4 sources: a source usually has several
// events (ports, traffic types, hours), and the lookups cost ~1 µs an event against ~0.1 µs for
// the copy. Bounded: emptied when it holds CACHE_SOURCES sources. It copies the fields the
// enrichers declare, nothing else.
const CACHE_SOURCES = 16384;

type Fields = Record<EnrichedField, unknown>;

class SourceCache {
  readonly #map = new Map<number, unknown[]>();
  readonly #enrichers: readonly Enricher[];
  readonly #fields: EnrichedField[];

  constructor(enrichers: readonly Enricher[]) {
    this.#enrichers = enrichers;
    this.#fields = [...new Set(enrichers.flatMap((x) => x.fields))];
  }

  annotate(e: DarknetEvent): void {
    if (e.version !== 4) return annotate(e, this.#enrichers);
    const f = this.#fields;
    const o = e as unknown as Fields;
    const a = this.#map.get(e.src);
    if (a === undefined) {
      annotate(e, this.#enrichers);
      if (this.#map.size >= CACHE_SOURCES) this.#map.clear();
      this.#map.set(e.src, f.map((k) => o[k]));
      return;
    }
    for (let i = 0; i < f.length; i++) o[f[i]] = a[i];
  }
}

/**
 * A source of event annotations. The enrichment stage (`EnrichStream`) runs a list of them in
 * order: synchronous ones through a bounded per-source cache (their annotations depend on the
 * source address alone), asynchronous ones (reverse DNS) in the background with the order of
 * events kept. Each declares the event fields it sets, which is all the cache copies.
 *
 * @module
 */

import type { DarknetEvent } from "../model/darknet_event.ts";

/** Event fields an enricher may set (their zero values are the events' defaults). */
export type EnrichedField =
  | "lat"
  | "long"
  | "country"
  | "city"
  | "asn"
  | "org"
  | "prefix"
  | "rdns"
  | "scanner";

/**
 * One source of annotations.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import type { Enricher } from "./enricher.ts";
 * import { annotate } from "./enrich_stream.ts";
 * import { DarknetEvent } from "../model/darknet_event.ts";
 * // Every source in "ZZ".
 * const zz: Enricher = { name: "zz", fields: ["country"], annotate: (e) => (e.country = "ZZ") };
 * const e = new DarknetEvent();
 * annotate(e, [zz]);
 * equal(e.country, "ZZ");
 * ```
 */
export interface Enricher {
  /** A short name, for messages. */
  readonly name: string;
  /** The fields it sets. */
  readonly fields: readonly EnrichedField[];
  /** Sets the fields of one event from its source address, at once. */
  annotate?(e: DarknetEvent): void;
  /** Sets them later (network lookups); the stage keeps the events' order. */
  annotateAsync?(e: DarknetEvent): Promise<void>;
  /**
   * Runs once every annotation of the event is done (the asynchronous ones too): for fields
   * that follow from others' results, e.g. a known scanner's label from its reverse-DNS name.
   */
  finish?(e: DarknetEvent): void;
}

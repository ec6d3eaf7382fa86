/**
 * Country and AS of a source for the signal series, from the enrichers that answer at once
 * (MaxMind City and ASN, prefix-to-AS): the same values an event from that source gets.
 *
 * @module
 */

import type { Enricher } from "../enrich/enricher.ts";
import { DarknetEvent } from "../model/darknet_event.ts";
import type { SourceLookup } from "./signal_series.ts";

/** Where the enrichment databases are (parse's `--geoin`, `--asnin`, `--pfx2asin`). */
export interface PlaceSources {
  /** MaxMind City database (country). */
  geoin?: string;
  /** MaxMind ASN database. */
  asnin?: string;
  /** CAIDA prefix-to-AS files (the AS when no ASN database is given). */
  pfx2asin?: string[];
  /** Addresses cached per database. */
  enrichCache?: number;
}

/**
 * A lookup over enrichers (those that set the country or the AS), or undefined without any.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { placeLookup } from "./place_lookup.ts";
 * const lookup = placeLookup([{ name: "nl", fields: ["country"], annotate: (e) => (e.country = "NL") }]);
 * deepEqual(lookup!(0x01020304, null, 0), { country: "NL", asn: 0, region: "" });
 * ```
 */
export function placeLookup(
  enrichers: readonly Enricher[],
  geo?: { city(ip: string): { region: string } },
): SourceLookup | undefined {
  const now = enrichers.filter((x) =>
    x.annotate && (x.fields.includes("country") || x.fields.includes("asn"))
  );
  if (now.length === 0) return undefined;
  const e = new DarknetEvent();
  return (v4, v6, off) => {
    e.country = "";
    e.asn = 0;
    if (v6) {
      e.version = 6;
      e.src6 = v6.slice(off, off + 16);
    } else {
      e.version = 4;
      e.src = v4;
    }
    for (const x of now) x.annotate!(e);
    // The region is no event field: read from the City database (its cache answers).
    return { country: e.country, asn: e.asn, region: geo?.city(e.sourceIP).region ?? "" };
  };
}

/**
 * Opens the databases named (as parse does: the AS from prefix-to-AS only without an ASN
 * database) and returns a lookup over them, or undefined when none is named.
 */
export async function openPlaceLookup(s: PlaceSources): Promise<SourceLookup | undefined> {
  const enrichers: Enricher[] = [];
  let geo: { city(ip: string): { region: string } } | undefined;
  if (s.asnin || s.geoin) {
    const { asnEnricher, cityEnricher, MaxMindDb } = await import("../enrich/maxmind_db.ts");
    if (s.asnin) enrichers.push(asnEnricher(await MaxMindDb.open(s.asnin, "asn", s.enrichCache)));
    if (s.geoin) {
      const db = await MaxMindDb.open(s.geoin, "city", s.enrichCache);
      geo = db;
      enrichers.push(cityEnricher(db));
    }
  }
  if (s.pfx2asin?.length) {
    const { prefixEnricher, PrefixTable } = await import("../enrich/prefix_table.ts");
    enrichers.push(prefixEnricher(await PrefixTable.load(s.pfx2asin), { asn: !s.asnin }));
  }
  return placeLookup(enrichers, geo);
}

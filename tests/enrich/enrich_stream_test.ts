import { deepEqual, equal, ok } from "node:assert/strict";
import { annotate, EnrichStream } from "../../src/enrich/enrich_stream.ts";
import { MaxMindDb } from "../../src/enrich/maxmind_db.ts";
import { PrefixTable } from "../../src/enrich/prefix_table.ts";
import { DarknetEvent } from "../../src/events/darknet_event.ts";
import type { EventChunk } from "../../src/events/event_aggregator_stream.ts";
import { parseIpv4 } from "../../src/util/ip.ts";

const fields = (e: DarknetEvent) => [e.lat, e.long, e.country, e.city, e.asn, e.org, e.prefix];

Deno.test("events of one source get the same annotations as a lookup each, past the cache's bound", async () => {
  const x = {
    asn: await MaxMindDb.open("testdata/mmdb/GeoLite2-ASN-Test.mmdb", "asn"),
    geo: await MaxMindDb.open("testdata/mmdb/GeoLite2-City-Test.mmdb", "city"),
    prefixes: await PrefixTable.load([
      "testdata/pfx2as/routeviews-rv2-20160202-1200-excerpt.pfx2as.gz",
    ]),
  };
  // Sources known to the test databases, each with several events, then 20,000 other sources
  // (more than the cache holds), then the first ones again.
  const known = ["1.128.0.1", "2.125.160.216", "81.2.69.142", "89.160.20.112", "216.160.83.56"];
  const srcs = [...known, ...known];
  for (let i = 0; i < 20000; i++) srcs.push(`1.${(i >> 8) & 255}.${i & 255}.1`);
  srcs.push(...known);
  const make = (ip: string, port: number) => {
    const e = new DarknetEvent();
    e.src = parseIpv4(ip);
    e.port = port;
    return e;
  };
  const chunks: EventChunk[] = [];
  for (let i = 0; i < srcs.length; i += 1000) {
    chunks.push({ events: srcs.slice(i, i + 1000).map((ip, k) => make(ip, k)), open: false });
  }
  const out: DarknetEvent[] = [];
  for await (const c of ReadableStream.from(chunks).pipeThrough(new EnrichStream(x))) {
    out.push(...c.events);
  }
  equal(out.length, srcs.length);
  let annotated = 0;
  for (const e of out) {
    const fresh = make(e.sourceIP, e.port);
    annotate(fresh, x);
    deepEqual(fields(e), fields(fresh), e.sourceIP);
    if (e.asn !== 0 || e.city !== "") annotated++;
  }
  ok(annotated >= known.length * 3, `only ${annotated} events annotated`);
});

import { deepEqual, equal, ok } from "node:assert/strict";
import { annotate, EnrichStream } from "../../src/enrich/enrich_stream.ts";
import { asnEnricher, cityEnricher, MaxMindDb } from "../../src/enrich/maxmind_db.ts";
import { prefixEnricher, PrefixTable } from "../../src/enrich/prefix_table.ts";
import { DarknetEvent } from "../../src/model/darknet_event.ts";
import type { EventChunk } from "../../src/aggregation/event_aggregator_stream.ts";
import type { Enricher } from "../../src/enrich/enricher.ts";
import { parseIpv4 } from "../../src/util/ip.ts";

const fields = (e: DarknetEvent) => [e.lat, e.long, e.country, e.city, e.asn, e.org, e.prefix];

Deno.test("events of one source get the same annotations as a lookup each, past the cache's bound", async () => {
  const x = [
    asnEnricher(await MaxMindDb.open("testdata/mmdb/GeoLite2-ASN-Test.mmdb", "asn")),
    cityEnricher(await MaxMindDb.open("testdata/mmdb/GeoLite2-City-Test.mmdb", "city")),
    prefixEnricher(
      await PrefixTable.load(["testdata/pfx2as/routeviews-rv2-20160202-1200-excerpt.pfx2as.gz"]),
      { asn: false },
    ),
  ];
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

Deno.test("a toy enricher is one object in the list: it runs in order, its declared fields are cached per source, async ones keep the order", async () => {
  const asn = asnEnricher(await MaxMindDb.open("testdata/mmdb/GeoLite2-ASN-Test.mmdb", "asn"));
  let calls = 0;
  // Overrides the organisation after the ASN database (list order), and tags the city.
  const toy: Enricher = {
    name: "toy",
    fields: ["org", "city"],
    annotate(e) {
      calls++;
      e.org = `toy:${e.asn}`;
      e.city = `c${e.src & 255}`;
    },
  };
  // Later, from the "network": a reverse name per source, answered in reverse order.
  let pending = 0;
  const slow: Enricher = {
    name: "slow",
    fields: ["rdns"],
    async annotateAsync(e) {
      const wait = 20 - 4 * pending++;
      await new Promise((r) => setTimeout(r, Math.max(0, wait)));
      e.rdns = [`h${e.src & 255}.example`];
    },
  };
  const make = (src: number, port: number) => {
    const e = new DarknetEvent();
    e.src = src;
    e.port = port;
    return e;
  };
  const chunks: EventChunk[] = [];
  for (let c = 0; c < 5; c++) {
    chunks.push({
      events: [0, 1, 2].map((k) => make(parseIpv4("1.128.0.1") + c, k)),
      open: false,
    });
  }
  const out: DarknetEvent[] = [];
  const stream = ReadableStream.from(chunks).pipeThrough(new EnrichStream([asn, toy, slow]));
  for await (const c of stream) out.push(...c.events);
  deepEqual(
    out.map((e) => `${e.src & 255}/${e.port}`),
    chunks.flatMap((c) => c.events).map((e) => `${e.src & 255}/${e.port}`),
  );
  equal(calls, 5, "one lookup per source: the rest from the cache");
  for (const e of out) {
    equal(e.org, `toy:${e.asn}`);
    equal(e.city, `c${e.src & 255}`);
    deepEqual(e.rdns, [`h${e.src & 255}.example`]);
  }
  equal(out[0].asn, 1221);
});

Deno.test("events waiting for asynchronous enrichers are bounded: past maxPending the stage waits", async () => {
  let waiting = 0;
  let most = 0;
  const slow: Enricher = {
    name: "slow",
    fields: ["rdns"],
    async annotateAsync(e) {
      most = Math.max(most, ++waiting);
      await new Promise((r) => setTimeout(r, 1));
      waiting--;
      e.rdns = [];
    },
  };
  const chunks = Array.from({ length: 200 }, (_, c): EventChunk => ({
    events: Array.from({ length: 5 }, (_, k) => {
      const e = new DarknetEvent();
      e.src = c * 5 + k;
      return e;
    }),
    open: false,
  }));
  let n = 0;
  const s = ReadableStream.from(chunks).pipeThrough(new EnrichStream([slow], { maxPending: 20 }));
  for await (const c of s) n += c.events.length;
  equal(n, 1000);
  ok(most <= 20 + 5, `${most} events waited at once`);
  ok(most >= 10);
});

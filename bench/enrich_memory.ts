// Memory of the enrichment stage over a long run (issue 15): events from `--sources N` distinct
// IPv4 sources (default 20 M, a sensor's months of one-off scanners) through EnrichStream with
// the ASN and City test databases, a prefix-to-AS excerpt and an asynchronous enricher standing
// in for reverse DNS (answering at once), as parse runs them. Prints the resident memory every
// `--every` events: with every cache bounded it levels off instead of growing with the sources.
//
//   deno run --allow-read --v8-flags=--max-semi-space-size=1 bench/enrich_memory.ts --sources 20000000

import { EnrichStream } from "../src/enrich/enrich_stream.ts";
import type { Enricher } from "../src/enrich/enricher.ts";
import { asnEnricher, cityEnricher, MaxMindDb } from "../src/enrich/maxmind_db.ts";
import { prefixEnricher, PrefixTable } from "../src/enrich/prefix_table.ts";
import { DarknetEvent } from "../src/model/darknet_event.ts";
import type { EventChunk } from "../src/aggregation/event_aggregator_stream.ts";

const arg = (name: string, def: number) => {
  const i = Deno.args.indexOf(`--${name}`);
  return i >= 0 ? Number(Deno.args[i + 1]) : def;
};
const sources = arg("sources", 20_000_000);
const every = arg("every", 2_000_000);
const root = new URL("../", import.meta.url).pathname;
const asn = await MaxMindDb.open(`${root}testdata/mmdb/GeoLite2-ASN-Test.mmdb`, "asn");
const geo = await MaxMindDb.open(`${root}testdata/mmdb/GeoLite2-City-Test.mmdb`, "city");
const pfx = await PrefixTable.load([
  `${root}testdata/pfx2as/routeviews-rv2-20160202-1200-excerpt.pfx2as.gz`,
]);
const rdns: Enricher = {
  name: "rdns",
  fields: ["rdns"],
  annotateAsync: (e) => {
    e.rdns = [`h${e.src & 255}.example`];
    return Promise.resolve();
  },
};
const enrichers = [asnEnricher(asn), cityEnricher(geo), prefixEnricher(pfx, { asn: false }), rdns];

const CHUNK = 4096;
let made = 0;
const input = new ReadableStream<EventChunk>({
  pull(c) {
    if (made >= sources) return c.close();
    const events: DarknetEvent[] = [];
    for (let k = 0; k < CHUNK && made < sources; k++, made++) {
      const e = new DarknetEvent();
      e.src = Math.imul(made + 1, 0x9e3779b1) >>> 0; // distinct sources, scattered
      e.traffic = 11;
      e.port = 23;
      events.push(e);
    }
    c.enqueue({ events, open: false });
  },
}, { highWaterMark: 0 });

const t0 = performance.now();
let seen = 0;
let next = every;
const rows: string[] = [];
await input.pipeThrough(new EnrichStream(enrichers)).pipeTo(
  new WritableStream({
    write(c) {
      seen += c.events.length;
      if (seen >= next) {
        next += every;
        const mb = Deno.memoryUsage().rss / 1e6;
        rows.push(
          `| ${seen.toLocaleString("en-US")} | ${mb.toFixed(0)} MB | ${asn.cached + geo.cached} |`,
        );
        console.error(rows.at(-1));
      }
    },
  }),
);
console.log(
  `enrichment of ${sources.toLocaleString("en-US")} distinct sources in ${
    ((performance.now() - t0) / 1000).toFixed(1)
  } s:\n| events | RSS | MaxMind addresses cached |\n|---|---|---|\n${rows.join("\n")}`,
);

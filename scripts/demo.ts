// `deno task demo`: runs `parse` on the shipped capture and prints the events it found.

import { formatTable } from "../src/cli/_cli.ts";
import { formatParseSummary, runParse } from "../src/cli/run_parse.ts";
import { trafficName } from "../src/decode/traffic.ts";
import { jsonArray } from "../src/outputs/json_array.ts";
import { countEvents, formatEventSummary } from "../src/cli/count_events.ts";

const capture = "testdata/demo/scan.pcap.gz";
const out = "out/demo-events.json";
const asnin = "testdata/mmdb/GeoLite2-ASN-Test.mmdb";
const geoin = "testdata/mmdb/GeoLite2-City-Test.mmdb";
const pfx2asin = ["testdata/pfx2as/routeviews-rv2-20160202-1200-excerpt.pfx2as.gz"];
await Deno.mkdir("out", { recursive: true });
console.log(
  `$ parse --pcap ${capture} --eventout ${out} --samples 1 --uniques 100 \\
` +
    `    --asnin ${asnin} --geoin ${geoin} --pfx2asin ${pfx2asin[0]}\n`,
);
const r = await runParse({
  asnin,
  geoin,
  pfx2asin,
  pcaps: [capture],
  eventout: out,
  format: jsonArray,
  samples: 1,
  timeout: 624,
  threshold: 0,
  uniques: 100,
  rate: 0,
  telescopeSize: 475136,
  seed: 1,
  quiet: true,
});
console.log(formatParseSummary(r) + "\n");
const events = JSON.parse(await Deno.readTextFile(out));
const fp = (e: Record<string, unknown>) =>
  ["Zmap", "Masscan", "Mirai"].filter((k) => e[k]).join(",") || "-";
console.log(formatTable(
  [
    "source",
    "traffic",
    "port",
    "packets",
    "dests",
    "/24s",
    "first",
    "last",
    "fingerprint",
    "ASN",
    "org",
    "prefix",
    "country",
    "city",
  ],
  events.map((e: Record<string, string | number>) => [
    e.SourceIP,
    trafficName(Number(e.Traffic)),
    e.Port,
    e.Packets,
    e.UniqueDests,
    e.UniqueDest24s,
    String(e.First).slice(11, 19),
    String(e.Last).slice(11, 19),
    fp(e),
    e.ASN || "-",
    String(e.Org || "-").slice(0, 24),
    e.Prefix || "-",
    e.Country || "-",
    e.City || "-",
  ]),
));
console.log("\nASN/Org and City come from MaxMind's test databases (fake data on test networks).");
console.log(`\nAll fields (JSON, Merit's keys) are in ${out}.`);
console.log(`\n$ count ${out} --outdir out/demo-counts --top 5\n`);
const c = await countEvents([out], { outdir: "out/demo-counts", top: 5 });
console.log(formatEventSummary(c.summary, "out/demo-counts"));
if (r.error) {
  console.error(r.error.message);
  Deno.exit(r.error.exitCode);
}

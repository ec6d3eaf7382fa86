import { deepEqual, equal } from "node:assert/strict";
import { EventStats } from "../../src/analysis/event_stats.ts";
import type { EventJson } from "../../src/model/darknet_event.ts";
import { eventJson } from "../../src/synth/event_json.ts";
import { tempDir } from "../_helpers.ts";

const T = (s: number) => new Date(Date.UTC(2020, 9, 21, 16) + s * 1000).toISOString();

function ev(o: Partial<EventJson>): EventJson {
  return eventJson({
    Port: 23,
    First: T(0),
    Last: T(100),
    Packets: 10,
    Bytes: 600,
    UniqueDests: 10,
    TCP: "TCPSYN",
    ...o,
  });
}

const csv = (text: string) => text.trim().split("\n").map((l) => l.split(","));

Deno.test("counts, small/large, country and ASN tables: every column, known answers", () => {
  const s = new EventStats({ telescopeSize: 1000, largeCoverage: 0.1, minEvents: 2 });
  s.add(ev({ SourceIP: "192.0.2.1", Country: "GB", ASN: 64500, Org: "Example One", Zmap: true }));
  s.add(
    ev({
      SourceIP: "192.0.2.2",
      Country: "GB",
      ASN: 64500,
      Org: "Example One",
      UniqueDests: 500,
      Packets: 500,
      Bytes: 30000,
    }),
  );
  s.add(
    ev({
      SourceIP: "192.0.2.1",
      Country: "US",
      ASN: 64501,
      Org: "Example, Two",
      Traffic: 16,
      Port: 53,
      Mirai: true,
    }),
  );
  s.add(ev({ SourceIP: "192.0.2.3", Country: "GB", ASN: 64500, Org: "Example One" }));
  const f = s.files();
  deepEqual(csv(f["counts.csv"]), [
    ["traffic", "traffic_code", "port", "events", "packets", "bytes", "unique_sources"],
    ["TCPSYN", "11", "23", "3", "520", "31200", "3"],
    ["UDP", "16", "53", "1", "10", "600", "1"],
  ]);
  deepEqual(csv(f["large_counts.csv"]).slice(1), [[
    "TCPSYN",
    "11",
    "23",
    "1",
    "500",
    "30000",
    "1",
  ]]);
  deepEqual(csv(f["small_counts.csv"]).slice(1), [
    ["TCPSYN", "11", "23", "2", "20", "1200", "2"],
    ["UDP", "16", "53", "1", "10", "600", "1"],
  ]);
  deepEqual(csv(f["country_counts.csv"]).slice(1), [["GB", "TCPSYN", "11", "23", "3", "520"]]); // US row < --min-events
  deepEqual(csv(f["country_total_counts.csv"]).slice(1), [["GB", "3", "520", "3"], [
    "US",
    "1",
    "10",
    "1",
  ]]);
  equal(f["asn_counts.csv"].split("\n")[2], '64501,"Example, Two",1,10,1');
  deepEqual(csv(f["zmap_port_counts.csv"]).slice(1), [[
    "TCPSYN",
    "11",
    "23",
    "1",
    "10",
    "600",
    "1",
  ]]);
  deepEqual(csv(f["mirai_port_counts.csv"]).slice(1), [["UDP", "16", "53", "1", "10", "600", "1"]]);
  equal(csv(f["masscan_port_counts.csv"]).length, 1);
  const sum = s.summary(1);
  deepEqual([sum.events, sum.packets, sum.largeEvents, sum.fingerprints], [4, 530, 1, {
    zmap: 1,
    masscan: 0,
    mirai: 1,
  }]);
  deepEqual(sum.topPorts, [{
    traffic: "TCPSYN",
    port: 23,
    events: 3,
    packets: 520,
    uniqueSources: 3,
  }]);
});

Deno.test("coverage and rate CDFs: buckets and cumulative fractions", () => {
  const s = new EventStats({ telescopeSize: 1000 });
  s.add(ev({ UniqueDests: 1, Packets: 1, First: T(0), Last: T(0) })); // coverage 0.001, rate inf
  s.add(ev({ UniqueDests: 10, Packets: 10, First: T(0), Last: T(10) })); // 0.01
  s.add(ev({ UniqueDests: 1000, Packets: 1000, First: T(0), Last: T(1) })); // 1.0
  const cov = csv(s.files()["coverage.csv"]);
  const at = (x: string) => cov.find((r) => r[0] === x)!;
  deepEqual(at("0.001").slice(1), ["1", "1", String(1 / 3)]);
  deepEqual(at("0.01").slice(1), ["1", "2", String(2 / 3)]);
  deepEqual(at("1").slice(1), ["1", "3", "1"]);
  const rates = csv(s.files()["rates.csv"]);
  // rate = packets * 2^32/1000 / seconds: 4.29e6 and 4.29e9 pps; the single packet is infinite.
  deepEqual(rates.find((r) => r[0] === "10000000")!.slice(1), ["1", "1", String(1 / 3)]);
  deepEqual(rates.find((r) => r[0] === "10000000000")!.slice(1), ["1", "2", String(2 / 3)]);
  deepEqual(rates.at(-1), ["inf", "1", "3", "1"]);
});

Deno.test("count over several files in two threads equals one pass over the concatenation", async () => {
  const { countEvents } = await import("../../src/cli/count_events.ts");
  const days = Array.from(
    { length: 10 },
    (_, i) => `testdata/events/day-${String(i + 1).padStart(2, "0")}.ndjson`,
  );
  const dir = tempDir();
  Deno.writeTextFileSync(`${dir}/all.ndjson`, days.map((d) => Deno.readTextFileSync(d)).join(""));
  const a = await countEvents(days, { outdir: `${dir}/split`, telescopeSize: 4096, minEvents: 2 });
  const b = await countEvents([`${dir}/all.ndjson`], {
    outdir: `${dir}/one`,
    telescopeSize: 4096,
    minEvents: 2,
  });
  deepEqual(a.summary, b.summary);
  for (const f of a.files) {
    equal(Deno.readTextFileSync(`${dir}/split/${f}`), Deno.readTextFileSync(`${dir}/one/${f}`), f);
  }
});

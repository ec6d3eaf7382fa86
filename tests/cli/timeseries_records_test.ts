// timeseries --dos and --sources: series of DoS vectors by protocol and of per-source roll-ups by
// shape, binned by First; bad records stop with file and line.

import { deepEqual, equal, match } from "node:assert/strict";
import { denoFlags, ENTRIES } from "../../src/cli/permissions.ts";
import { runCli, tempDir } from "../_helpers.ts";

const dir = tempDir("ts-records-");
const timeseries = (args: string[]) => runCli(ENTRIES.timeseries, args, denoFlags("timeseries"));

const vector = (victim: string, protocol: string, hour: number, packets: number) => ({
  Victim: victim,
  Protocol: protocol,
  First: `2026-01-01T${String(hour).padStart(2, "0")}:00:00Z`,
  Last: `2026-01-01T${String(hour).padStart(2, "0")}:05:00Z`,
  Packets: packets,
  Bytes: packets * 60,
  UniqueAttackers: 100,
  MaxWindowPackets: 50,
  ObservedRate: 1,
  EstimatedRate: 900,
});

Deno.test("timeseries --dos: a series per protocol, binned by the vectors' First", async () => {
  const recs = [
    vector("192.0.2.1", "TCP", 1, 100),
    vector("192.0.2.2", "TCP", 1, 50),
    vector("192.0.2.1", "ICMP", 2, 30),
    vector("192.0.2.3", "TCP", 3, 10),
  ];
  Deno.writeTextFileSync(`${dir}/d.ndjson`, recs.map((r) => JSON.stringify(r)).join("\n") + "\n");
  const r = await timeseries([
    "--dos",
    `${dir}/d.ndjson`,
    "--bin",
    "hour",
    "--outdir",
    `${dir}/o`,
    "--json",
  ]);
  equal(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout);
  equal(s.by, "protocol");
  deepEqual(s.series.map((x: { key: string; events: number }) => [x.key, x.events]), [["TCP", 3], [
    "ICMP",
    1,
  ]]);
  const tcp = Deno.readTextFileSync(`${dir}/o/series_TCP.csv`).trim().split("\n").slice(1)
    .map((l) => l.split(",").slice(0, 3));
  deepEqual(
    tcp.map((c) => c.slice(1)),
    [["150", "2"], ["0", "0"], ["10", "1"]], // hour 2 had ICMP only
  );
  Deno.writeTextFileSync(
    `${dir}/bad.ndjson`,
    JSON.stringify({ ...recs[0], Packets: "many" }) + "\n",
  );
  const bad = await timeseries(["--dos", `${dir}/bad.ndjson`, "--outdir", `${dir}/b`]);
  equal(bad.code, 65);
  match(bad.stderr, /bad\.ndjson: line 1: Packets/);
  equal((await timeseries(["--dos", `${dir}/d.ndjson`, "--by", "tag"])).code, 2);
});

Deno.test("timeseries --sources: a series per scan shape", async () => {
  const src = (s: string, shape: string, packets: number) => ({
    Source: s,
    First: "2026-01-01T01:00:00Z",
    Last: "2026-01-01T01:10:00Z",
    Packets: packets,
    Bytes: packets * 60,
    Events: 1,
    Ports: 1,
    UniqueDests: packets,
    Dispersion: 0.01,
    Shape: shape,
    Aggressive: false,
  });
  const recs = [
    src("192.0.2.1", "horizontal", 500),
    src("192.0.2.2", "horizontal", 200),
    src("192.0.2.3", "vertical", 40),
  ];
  Deno.writeTextFileSync(`${dir}/s.ndjson`, recs.map((r) => JSON.stringify(r)).join("\n") + "\n");
  const r = await timeseries(["--sources", `${dir}/s.ndjson`, "--outdir", `${dir}/so`, "--json"]);
  equal(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout);
  deepEqual(s.series.map((x: { key: string; events: number }) => [x.key, x.events]), [
    ["horizontal", 2],
    ["vertical", 1],
  ]);
});

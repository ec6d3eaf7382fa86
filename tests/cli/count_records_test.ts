// count --dos and count --sources on the records parse writes for real captures: the CSV files,
// the summary, bad records (file and line) and flag errors.

import { deepEqual, equal, match } from "node:assert/strict";
import { denoFlags, ENTRIES } from "../../src/cli/permissions.ts";
import { runCli, tempDir } from "../_helpers.ts";

const dir = tempDir("count-records-");
const parse = (args: string[]) => runCli(ENTRIES.parse, args, denoFlags("parse"));
const count = (args: string[]) => runCli(ENTRIES.count, args, denoFlags("count"));
const MODERN = "testdata/captures-modern";

Deno.test("count --dos: victims and protocols of parse --dosout's vectors", async () => {
  const p = await parse([
    "--pcap",
    `${MODERN}/rsdos_synack.pcap`,
    "--samples",
    "0",
    "--eventout",
    `${dir}/e.json`,
    "--dosout",
    `${dir}/d.json`,
  ]);
  equal(p.code, 0, p.stderr);
  const r = await count(["--dos", `${dir}/d.json`, "--outdir", `${dir}/dos`, "--json"]);
  equal(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout);
  deepEqual([s.vectors, s.victims, s.packets, s.topVictims[0].victim], [1, 1, 1958, "192.0.2.100"]);
  const rows = Deno.readTextFileSync(`${dir}/dos/dos_victims.csv`).trim().split("\n");
  equal(rows.length, 2);
  deepEqual(rows[1].split(",").slice(0, 5), ["192.0.2.100", "1", "1958", "113564", "844"]);
  equal(
    Deno.readTextFileSync(`${dir}/dos/dos_protocols.csv`),
    "protocol,vectors,victims,packets\nTCP,1,1,1958\n",
  );
  const table = await count(["--dos", `${dir}/d.json`, "--outdir", `${dir}/dos2`]);
  match(table.stdout, /DoS attack vectors 1 {2}victims 1 {2}packets 1,958/);
});

Deno.test("count --sources: shapes and aggressive scanners of parse --sourceout's roll-ups", async () => {
  const p = await parse([
    "--pcap",
    `${MODERN}/masscan_master_syn.pcap`,
    `${MODERN}/zmap4_syn_windows.pcap`,
    "--samples",
    "0",
    "--telescope-size",
    "2048",
    "--eventout",
    `${dir}/e2.json`,
    "--sourceout",
    `${dir}/s.json`,
  ]);
  equal(p.code, 0, p.stderr);
  const r = await count(["--sources", `${dir}/s.json`, "--outdir", `${dir}/src`, "--json"]);
  equal(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout);
  deepEqual([s.sources, s.aggressive, s.shapes], [2, 2, { horizontal: 2 }]);
  deepEqual(s.topAggressive.map((a: { source: string; why: string[] }) => [a.source, a.why]), [
    ["192.0.2.21", ["dispersion"]],
    ["192.0.2.11", ["dispersion"]],
  ]);
  equal(
    Deno.readTextFileSync(`${dir}/src/source_shapes.csv`),
    "shape,sources,packets,aggressive\nhorizontal,2,5120,2\n",
  );
});

Deno.test("bad records stop count with file and line; --skip-invalid counts them; flag errors exit 2", async () => {
  const good = Deno.readTextFileSync(`${dir}/d.json`).split("\n").find((l) => l.startsWith("{"))!
    .replace(/,$/, "");
  Deno.writeTextFileSync(`${dir}/bad.ndjson`, `${good}\n{"Victim":"192.0.2.9","Protocol":7}\n`);
  const r = await count(["--dos", `${dir}/bad.ndjson`, "--outdir", `${dir}/bad`]);
  equal(r.code, 65);
  match(r.stderr, /bad\.ndjson: line 2: Protocol: missing or not a string/);
  const skip = await count([
    "--dos",
    `${dir}/bad.ndjson`,
    "--outdir",
    `${dir}/bad2`,
    "--skip-invalid",
    "--json",
  ]);
  equal(skip.code, 0, skip.stderr);
  equal(JSON.parse(skip.stdout).vectors, 1);
  for (
    const args of [["--dos", "--sources", `${dir}/d.json`], ["--dos"], [
      "--dos",
      "--pcap",
      "x.pcap",
    ]]
  ) {
    const x = await count(args);
    equal(x.code, 2, args.join(" "));
  }
});

// `deno task bench` at toy sizes, run exactly as the task in deno.json says (its permission
// flags included): every section runs to the end. The figures themselves are not asserted.

import { equal, match, ok } from "node:assert/strict";

const root = new URL("../../", import.meta.url).pathname;

Deno.test("deno task bench runs every section with the task's own permission flags", async () => {
  const tasks = JSON.parse(Deno.readTextFileSync(`${root}deno.json`)).tasks;
  const argv = (tasks.bench as string).split(" ");
  equal(argv[0], "deno");
  const res = await new Deno.Command(Deno.execPath(), {
    args: [
      ...argv.slice(1),
      "--runs",
      "1",
      "--packets",
      "2000",
      "--parse-packets",
      "3000",
      "--events",
      "1000",
      "--flood",
      "2000",
      "--signal-days",
      "2",
    ],
    cwd: root,
    env: { RUST_BACKTRACE: "0", NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const out = new TextDecoder().decode(res.stdout);
  ok(res.success, new TextDecoder().decode(res.stderr));
  match(out, /\| read \+ decode \+ classify, \.pcap \| [\d.]+ M pkt\/s/);
  match(out, /\| parse \.pcap\.gz .*\| [\d.]+ s \|/);
  match(out, /\| count --pcap \.pcap \| [\d.]+ M pkt\/s \| [\d.]+ s \|/);
  match(out, /\| --dosout --sourceout \| [\d.]+ s \| -?\d+ % \| \d+ MB \|/);
  match(out, /\| --seriesout \(5-minute bins\) \| [\d.]+ s \| -?\d+ % \| \d+ MB \|/);
  match(out, /\| timeseries --signals \| [\d.e+]+ \| [\d.]+ s \|/);
  match(out, /\| --jobs 2 \| [\d.]+ s \| -?\d+ % \|/);
  match(out, /\| --merge of the two blocks \| [\d.]+ s \| \d+ % of --jobs 1 \|/);
  match(
    out,
    /\| its floor: start, checks, lines copied, no boundary work \| [\d.]+ s \| [\d.]+ % of/,
  );
  match(out, /enrichment/);
  match(out, /\| count EVENTFILE\.\.\. \| [\d.]+ s \|/);
  match(out, /\| timeseries EVENTFILE\.\.\. --top 5 \| [\d.]+ s \|/);
  match(out, /\| IPv4 \| [\d.]+ M pkt\/s \| [\d.]+ s \|/);
  match(out, /\| IPv6 \| [\d.]+ M pkt\/s \| [\d.]+ s \|/);
});

Deno.test("bench/enrich_memory.ts runs to the end and prints its memory table", async () => {
  const res = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "bench/enrich_memory.ts",
      "--sources",
      "20000",
      "--every",
      "10000",
    ],
    cwd: root,
    env: { RUST_BACKTRACE: "0", NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  ok(res.success, new TextDecoder().decode(res.stderr));
  match(new TextDecoder().decode(res.stdout), /\| [\d,]+ \| \d+ MB \| \d+ \|\n\| 20,000 \| \d+ MB/);
});

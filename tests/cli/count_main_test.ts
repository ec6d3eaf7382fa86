import { deepEqual, equal, match, ok } from "node:assert/strict";
import { denoFlags, ENTRIES } from "../../src/cli/permissions.ts";
import { runCli, tempDir } from "../_helpers.ts";

const count = (args: string[], stdin?: Uint8Array) =>
  runCli(ENTRIES.count, args, denoFlags("count"), stdin);
const DEMO = "testdata/demo/scan.pcap.gz";

Deno.test("count --pcap prints tables, --json is machine-readable and identical across runs", async () => {
  const t = await count(["--pcap", DEMO, "--top", "3"]);
  equal(t.code, 0, t.stderr);
  match(t.stdout, /^packets 20,000 {2}bytes 1,200,000/);
  match(t.stdout, /TCPSYN +14,963/);
  const j1 = await count(["--pcap", DEMO, "--json"]);
  const j2 = await count(["--json", "--pcap", DEMO]);
  equal(j1.stdout, j2.stdout);
  const s = JSON.parse(j1.stdout);
  equal(s.packets, 20000);
  equal(s.topSources.length, 10);
  equal(s.topSources[0].address, "214.78.120.5");
  deepEqual(s.linkTypes, [{ name: "ETHERNET (1)", packets: 20000, bytes: 1200000 }]);
});

Deno.test("count --pcap: several inputs, space-separated value, stdin", async () => {
  const f = "testdata/pcap-formats/libtrace/100_packets.pcap";
  const a = JSON.parse((await count(["--pcap", `${f} ${f}`, "--json"])).stdout);
  const b = JSON.parse((await count(["--pcap", f, f, "--json"])).stdout);
  const c = JSON.parse((await count(["--pcap", f, "--pcap", f, "--json"])).stdout);
  equal(a.packets, 200);
  deepEqual(a, b);
  deepEqual(a, c);
  const d = await count(["--pcap", "-", "--json"], Deno.readFileSync(DEMO));
  equal(JSON.parse(d.stdout).packets, 20000);
});

Deno.test("count exit codes: usage 2, data 65 (with the counts before the problem), I/O 74", async () => {
  const u = await count(["--pcap", DEMO, "--top", "x"]);
  equal(u.code, 2);
  equal(u.stderr.trim(), 'count: --top: expected a whole number ≥ 0, got "x"');
  equal((await count(["--bogus"])).code, 2);
  const missing = await count(["--pcap", "/nonexistent.pcap"]);
  equal(missing.code, 74);
  equal(missing.stderr.trim(), "count: /nonexistent.pcap: no such file");
  const dir = tempDir();
  const whole = Deno.readFileSync("testdata/pcap-formats/libtrace/100_packets.pcap");
  Deno.writeFileSync(`${dir}/cut.pcap`, whole.subarray(0, whole.length - 5));
  const bad = await count(["--pcap", `${dir}/cut.pcap`, "--json"]);
  equal(bad.code, 65);
  equal(JSON.parse(bad.stdout).packets, 99);
  match(
    bad.stderr,
    new RegExp(
      `^count: ${dir}/cut\\.pcap: byte \\d+: truncated record: \\d+ of \\d+ bytes present\\n$`,
    ),
  );
  ok(!bad.stderr.includes("Stack"));
  const help = await count(["--help"]);
  equal(help.code, 0);
  for (const flag of ["--pcap", "--top", "--json", "--help"]) ok(help.stdout.includes(flag), flag);
});

Deno.test("deno.json run tasks use the Deno flags of src/cli/permissions.ts", () => {
  const tasks = JSON.parse(Deno.readTextFileSync("deno.json")).tasks as Record<string, string>;
  for (const [name, entry] of Object.entries(ENTRIES) as [keyof typeof ENTRIES, string][]) {
    if (!tasks[name].includes(entry)) continue;
    equal(tasks[name], `deno run ${denoFlags(name).join(" ")} ${entry}`, name);
  }
});

Deno.test("count --rank-by: the top table by events, packets or unique sources, and says which", async () => {
  const { eventJson } = await import("../../src/synth/event_json.ts");
  const d = tempDir("rank-");
  const ev = [
    // port 23: most events (3, one source); port 80: most packets; port 443: most sources.
    ...[1, 2, 3].map(() => eventJson({ SourceIP: "192.0.2.1", Port: 23, Packets: 1 })),
    ...[1, 2].map(() => eventJson({ SourceIP: "192.0.2.2", Port: 80, Packets: 500 })),
    ...[1, 2].map((i) => eventJson({ SourceIP: `198.51.100.${i}`, Port: 443, Packets: 1 })),
    eventJson({ SourceIP: "198.51.100.3", Port: 443, Packets: 1 }),
  ];
  Deno.writeTextFileSync(`${d}/e.ndjson`, ev.map((e) => JSON.stringify(e)).join("\n") + "\n");
  const ports = { events: [23, 443, 80], packets: [80, 23, 443], sources: [443, 23, 80] };
  for (const [by, order] of Object.entries(ports)) {
    const r = await count([`${d}/e.ndjson`, "--outdir", `${d}/o`, "--rank-by", by, "--json"]);
    equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout);
    equal(s.rankedBy, by);
    deepEqual(s.topPorts.map((p: { port: number }) => p.port), order, by);
    const t = await count([`${d}/e.ndjson`, "--outdir", `${d}/o`, "--rank-by", by]);
    ok(t.stdout.includes(`top 3 (traffic, port) by ${by}:`), t.stdout);
  }
  const bad = await count([`${d}/e.ndjson`, "--rank-by", "bytes"]);
  equal(bad.code, 2);
  match(bad.stderr, /--rank-by: expected events, packets or sources/);
});

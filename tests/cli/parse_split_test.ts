// Split runs through the command line, with exactly the permissions `deno task compile` grants:
// parse --map per block and parse --merge, and parse --jobs N, give the event file of one
// sequential run byte for byte — filters, enrichment, NDJSON, a state file at the end — with
// blocks listed in any order; damaged, mismatched or overlapping blocks are refused with one line,
// and a map step that fails leaves no block result.

import { deepEqual, equal, match, ok } from "node:assert/strict";
import { gunzipSync } from "node:zlib";
import { denoFlags, ENTRIES } from "../../src/cli/permissions.ts";
import { generateScenario } from "../../src/synth/scenario.ts";
import { concat } from "../../src/synth/pcap_writer.ts";
import { exists, runCli, tempDir } from "../_helpers.ts";

const parse = (args: string[]) => runCli(ENTRIES.parse, args, denoFlags("parse"));
const dir = tempDir("parse-split-");

// A capture cut into `n` pcap files of consecutive records.
function cutFiles(bytes: Uint8Array, n: number, name: string): string[] {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const recs: Uint8Array[] = [];
  for (let p = 24; p + 16 <= bytes.length;) {
    const len = dv.getUint32(p + 8, true);
    recs.push(bytes.subarray(p, p + 16 + len));
    p += 16 + len;
  }
  const out: string[] = [];
  for (let k = 0; k < n; k++) {
    const path = `${dir}/${name}-${k}.pcap`;
    const part = recs.slice(
      Math.floor((k * recs.length) / n),
      Math.floor(((k + 1) * recs.length) / n),
    );
    Deno.writeFileSync(path, concat([bytes.subarray(0, 24), ...part]));
    out.push(path);
  }
  return out;
}

const demo = cutFiles(gunzipSync(Deno.readFileSync("testdata/demo/scan.pcap.gz")), 4, "demo");
const scenarioParts: Uint8Array[] = [];
generateScenario(
  { packets: 120000, seed: 8, oneOffs: 4000, duration: 3600 },
  (b) => scenarioParts.push(b.slice()),
);
const scenario = cutFiles(concat(scenarioParts), 6, "scen");

// A map step per file (`${dir}/NAME-blockK`, with `flags`): the block folders, in file order.
async function mapEach(files: string[], name: string, flags: string[]): Promise<string[]> {
  const blocks: string[] = [];
  for (const [k, p] of files.entries()) {
    const b = `${dir}/${name}-block${k}`;
    const r = await parse(["--pcap", p, "--map", b, ...flags]);
    equal(r.code, 0, r.stderr);
    blocks.push(b);
  }
  return blocks;
}

async function sequential(pcaps: string[], out: string, flags: string[]) {
  const r = await parse(["--pcap", ...pcaps, "--eventout", out, "--quiet", ...flags]);
  equal(r.code, 0, r.stderr);
  return Deno.readFileSync(out);
}

Deno.test("parse --map per block, --merge of the results (any order): one run's event file, byte for byte", async () => {
  const enrich = [
    "--geoin",
    "testdata/mmdb/GeoIP2-City-Test.mmdb",
    "--asnin",
    "testdata/mmdb/GeoLite2-ASN-Test.mmdb",
  ];
  for (
    const [name, flags] of [
      ["plain", ["--samples", "2", "--timeout", "300"]],
      ["filtered", ["--samples", "1", "--uniques", "2", "--timeout", "600"]],
      ["enriched-ndjson", ["--samples", "1", "--format", "ndjson", ...enrich]],
    ] as const
  ) {
    const want = await sequential(demo, `${dir}/${name}-one.json`, [...flags]);
    const blocks = await mapEach(demo, name, ["--quiet", ...flags]);
    const out = `${dir}/${name}-merged.json`;
    const r = await parse([
      "--merge",
      ...[...blocks].reverse(),
      "--eventout",
      out,
      "--quiet",
      ...flags,
    ]);
    equal(r.code, 0, r.stderr);
    deepEqual(Deno.readFileSync(out), want, name);
    ok(want.length > 100_000);
  }
});

Deno.test("parse --jobs 1, 2, 3 and 6 over six files: one run's event file; the summary counts as one run's", async () => {
  const flags = ["--samples", "2", "--timeout", "120"];
  const one = await parse(["--pcap", ...scenario, "--eventout", `${dir}/jobs-one.json`, ...flags]);
  equal(one.code, 0, one.stderr);
  const want = Deno.readFileSync(`${dir}/jobs-one.json`);
  const counts = (s: string) =>
    s.match(/[\d,]+ packets|[\d,]+ events written, [\d,]+ filtered out/g);
  for (const jobs of [1, 2, 3, 6]) {
    const out = `${dir}/jobs-${jobs}.json`;
    const r = await parse([
      "--pcap",
      ...scenario,
      "--jobs",
      String(jobs),
      "--eventout",
      out,
      ...flags,
    ]);
    equal(r.code, 0, r.stderr);
    deepEqual(Deno.readFileSync(out), want, `--jobs ${jobs}`);
    deepEqual(counts(r.stderr), counts(one.stderr), `--jobs ${jobs}: ${r.stderr}`);
  }
  // With a threshold (filtered events counted once each) and a state file at the end.
  const f = ["--samples", "1", "--timeout", "120", "--threshold", "2"];
  const a = await parse([
    "--pcap",
    ...scenario,
    "--eventout",
    `${dir}/t-one.json`,
    "--cacheout",
    `${dir}/t-one.state`,
    ...f,
  ]);
  const b = await parse([
    "--pcap",
    ...scenario,
    "--jobs",
    "3",
    "--eventout",
    `${dir}/t-3.json`,
    "--cacheout",
    `${dir}/t-3.state`,
    ...f,
  ]);
  equal(a.code, 0, a.stderr);
  equal(b.code, 0, b.stderr);
  deepEqual(Deno.readFileSync(`${dir}/t-3.json`), Deno.readFileSync(`${dir}/t-one.json`));
  deepEqual(counts(b.stderr), counts(a.stderr));
  match(b.stderr, /open events saved/);
  // The state files hold the same open events: the next hour continues them alike.
  const next = scenario.slice(-1);
  for (const s of ["t-one", "t-3"]) {
    const r = await parse([
      "--pcap",
      ...next,
      "--cachein",
      `${dir}/${s}.state`,
      "--eventout",
      `${dir}/${s}-next.json`,
      "--quiet",
      ...f,
    ]);
    equal(r.code, 0, r.stderr);
  }
  deepEqual(Deno.readFileSync(`${dir}/t-3-next.json`), Deno.readFileSync(`${dir}/t-one-next.json`));
});

Deno.test("Parquet: --merge --format parquet and --jobs 2 --format parquet write one run's Parquet file, byte for byte", async () => {
  const flags = ["--samples", "1", "--timeout", "300", "--quiet"];
  const want = await sequential(demo, `${dir}/pq-one.parquet`, ["--format", "parquet", ...flags]);
  const blocks = await mapEach(demo, "pq", flags);
  const m = await parse([
    "--merge",
    ...blocks,
    "--eventout",
    `${dir}/pq-merged.parquet`,
    "--format",
    "parquet",
    ...flags,
  ]);
  equal(m.code, 0, m.stderr);
  deepEqual(Deno.readFileSync(`${dir}/pq-merged.parquet`), want);
  const j = await parse([
    "--pcap",
    ...demo,
    "--jobs",
    "2",
    "--eventout",
    `${dir}/pq-jobs.parquet`,
    "--format",
    "parquet",
    ...flags,
  ]);
  equal(j.code, 0, j.stderr);
  deepEqual(Deno.readFileSync(`${dir}/pq-jobs.parquet`), want);
});

Deno.test("bad blocks are refused with one line: damaged (65), other settings (2), overlapping (65); a failed map leaves nothing", async () => {
  const flags = ["--samples", "1", "--quiet"];
  const mk = async (name: string, pcaps: string[], extra: string[] = []) => {
    const b = `${dir}/bad-${name}`;
    const r = await parse(["--pcap", ...pcaps, "--map", b, ...flags, ...extra]);
    equal(r.code, 0, r.stderr);
    return b;
  };
  const a = await mk("a", [demo[0]]);
  const b = await mk("b", [demo[1]]);
  const merge = (blocks: string[], extra: string[] = []) =>
    parse(["--merge", ...blocks, "--eventout", `${dir}/bad-out.json`, ...flags, ...extra]);
  // Damaged: one byte of its events changed.
  const damaged = await mk("d", [demo[1]]);
  const ev = Deno.readFileSync(`${damaged}/events.ndjson`);
  ev[10] ^= 1;
  Deno.writeFileSync(`${damaged}/events.ndjson`, ev);
  let r = await merge([a, damaged]);
  equal(r.code, 65);
  match(r.stderr, /^parse: .*events\.ndjson.*checksum mismatch/m);
  equal(r.stderr.trim().split("\n").length, 1);
  // Other settings than the merge's flags.
  r = await merge([a, b], ["--timeout", "60"]);
  equal(r.code, 2);
  match(r.stderr, /other settings than this merge's flags/);
  // Overlapping: the same hour twice.
  const again = await mk("again", [demo[1]]);
  r = await merge([a, b, again]);
  equal(r.code, 65);
  match(r.stderr, /blocks must not overlap in time/);
  // The merge's output over a block's own file: refused before anything is written.
  const before = Deno.readFileSync(`${a}/events.ndjson`);
  r = await parse(["--merge", a, b, "--eventout", `${a}/events.ndjson`, ...flags]);
  equal(r.code, 2, r.stderr);
  deepEqual(Deno.readFileSync(`${a}/events.ndjson`), before);
  // A block result is never overwritten, and --map takes no --eventout.
  r = await parse(["--pcap", demo[0], "--map", a, ...flags]);
  equal(r.code, 2);
  match(r.stderr, /exists already/);
  r = await parse([
    "--pcap",
    demo[0],
    "--map",
    `${dir}/x`,
    "--eventout",
    `${dir}/x.json`,
    ...flags,
  ]);
  equal(r.code, 2);
  // A map step whose input fails part-way leaves no block result (the merge would lose events).
  const cut = `${dir}/cut.pcap`;
  const whole = Deno.readFileSync(demo[2]);
  Deno.writeFileSync(cut, whole.subarray(0, whole.length - 7));
  r = await parse(["--pcap", cut, "--map", `${dir}/bad-cut`, ...flags]);
  equal(r.code, 65, r.stderr);
  ok(!exists(`${dir}/bad-cut`));
  ok(Array.from(Deno.readDirSync(dir)).every((e) => !e.name.startsWith(".bad-cut")));
});

Deno.test("parse --jobs on a terminal: one progress line over every job's input", async () => {
  const total = scenario.reduce((a, p) => a + Deno.statSync(p).size, 0);
  const line = [
    Deno.execPath(),
    "run",
    "--quiet",
    ...denoFlags("parse"),
    ENTRIES.parse,
    "--pcap",
    ...scenario,
    "--jobs",
    "3",
    "--eventout",
    `${dir}/tty.json`,
    "--samples",
    "0",
  ].map((a) => `'${a}'`).join(" ");
  // `script` (util-linux) runs the command on a pseudo-terminal.
  const r = await new Deno.Command("script", {
    args: ["-qec", line, "/dev/null"],
    env: { RUST_BACKTRACE: "0", NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  equal(r.code, 0, new TextDecoder().decode(r.stderr));
  const lines = new TextDecoder().decode(r.stdout).split(/[\r\n]+/).map((l) =>
    l.replace("\x1b[K", "")
  );
  const mb = (total / 1e6).toFixed(1);
  ok(lines.some((l) => l.startsWith("read ") && l.includes(`/${mb} MB`)), lines.join("\n"));
  match(lines.filter((l) => l).at(-1)!, /^parse: [\d,]+ packets in /);
});

Deno.test("--jobs with --seriesout: a series file per block, united by timeseries: one run's packets and bytes, its sources (HyperLogLog at cut bins)", async () => {
  const { SignalTable } = await import("../../src/series/signal_table.ts");
  const flags = ["--samples", "0", "--quiet", "--series-bin", "60"];
  const one = await parse([
    "--pcap",
    ...scenario,
    "--eventout",
    `${dir}/s-one.json`,
    "--seriesout",
    `${dir}/s-one.series`,
    ...flags,
  ]);
  equal(one.code, 0, one.stderr);
  const jobs = await parse([
    "--pcap",
    ...scenario,
    "--jobs",
    "3",
    "--eventout",
    `${dir}/s-3.json`,
    "--seriesout",
    `${dir}/s-3`,
    ...flags,
  ]);
  equal(jobs.code, 0, jobs.stderr);
  deepEqual(Deno.readFileSync(`${dir}/s-3.json`), Deno.readFileSync(`${dir}/s-one.json`));
  const files = Array.from(Deno.readDirSync(`${dir}/s-3`), (e) => `${dir}/s-3/${e.name}`).sort();
  equal(files.length, 3);
  const a = await SignalTable.load([`${dir}/s-one.series`]);
  const b = await SignalTable.load(files);
  deepEqual([b.start, b.bins, [...b.keys].sort()], [a.start, a.bins, [...a.keys].sort()]);
  const va = await a.volumes(a.keys);
  const vb = await b.volumes(a.keys);
  let cut = 0;
  for (const k of a.keys) {
    deepEqual(vb.get(k), va.get(k), k);
    const sa = a.sourcesOf(k)!;
    const sb = b.sourcesOf(k)!;
    for (let i = 0; i < a.bins; i++) {
      if (sa[i] === sb[i]) continue;
      // Only a bin a block boundary cut, with more sources than a sketch keeps exactly.
      cut++;
      ok(
        sa[i] > 1024 && Math.abs(sb[i] - sa[i]) / sa[i] < 0.05,
        `${k} bin ${i}: ${sb[i]} vs ${sa[i]}`,
      );
    }
  }
  ok(cut <= 2 * a.keys.length, `${cut} bins differ`);
});

Deno.test("a map step stopped by a signal leaves no block result (exit 74), never a part of one", async () => {
  const { runParse, commonConfig } = await import("../../src/cli/run_parse.ts");
  const { StopSignals } = await import("../../src/cli/_stop_signals.ts");
  const signals = new StopSignals(false);
  signals.stop("SIGTERM"); // before the first byte: the input stops at once
  const r = await runParse(
    {
      ...commonConfig({ samples: "0", quiet: true }),
      pcaps: scenario,
      map: `${dir}/stopped`,
    },
    signals,
  );
  equal(r.error?.exitCode, 74);
  match(r.error!.message, /stopped by SIGTERM .*no block result written/);
  ok(!exists(`${dir}/stopped`));
  ok(Array.from(Deno.readDirSync(dir)).every((e) => !e.name.startsWith(".stopped")));
});

Deno.test("--cachein with --jobs and --merge: the blocks continue an earlier run's open events, as one run would", async () => {
  const flags = ["--samples", "1", "--timeout", "300", "--quiet"];
  const first = scenario.slice(0, 3);
  const rest = scenario.slice(3);
  const a = await parse([
    "--pcap",
    ...first,
    "--eventout",
    `${dir}/c-a.json`,
    "--cacheout",
    `${dir}/c-a.state`,
    ...flags,
  ]);
  equal(a.code, 0, a.stderr);
  const want = await sequential(rest, `${dir}/c-b.json`, [
    "--cachein",
    `${dir}/c-a.state`,
    ...flags,
  ]);
  const j = await parse([
    "--pcap",
    ...rest,
    "--jobs",
    "2",
    "--cachein",
    `${dir}/c-a.state`,
    "--eventout",
    `${dir}/c-j.json`,
    ...flags,
  ]);
  equal(j.code, 0, j.stderr);
  deepEqual(Deno.readFileSync(`${dir}/c-j.json`), want);
  const blocks = await mapEach(rest, "c", flags);
  const m = await parse([
    "--merge",
    ...blocks,
    "--cachein",
    `${dir}/c-a.state`,
    "--eventout",
    `${dir}/c-m.json`,
    ...flags,
  ]);
  equal(m.code, 0, m.stderr);
  deepEqual(Deno.readFileSync(`${dir}/c-m.json`), want);
  // A map step takes no state: the merge does.
  const bad = await parse([
    "--pcap",
    rest[0],
    "--map",
    `${dir}/c-bad`,
    "--cachein",
    `${dir}/c-a.state`,
    ...flags,
  ]);
  equal(bad.code, 2);
});

Deno.test("--dosout in split runs: --jobs, --map --dos / --merge (any order), --cachein: one run's vector file, byte for byte", async () => {
  // A DoS timeout shorter than the files (ten minutes each): vectors end inside blocks, start
  // near their first packets, cross the cuts and run through a block.
  const dosFlags = ["--dos-min-packets", "2", "--dos-min-duration", "0", "--dos-min-window", "1"];
  const flags = ["--samples", "1", "--timeout", "120", "--dos-timeout", "60", ...dosFlags];
  const want = await sequential(scenario, `${dir}/dos-one.json`, [
    ...flags,
    "--dosout",
    `${dir}/dos-one-dos.json`,
  ]);
  const wantDos = Deno.readFileSync(`${dir}/dos-one-dos.json`);
  const vectors = JSON.parse(new TextDecoder().decode(wantDos));
  ok(vectors.length > 50, `${vectors.length} vectors`);
  const firsts = vectors.map((v: { First: string }) => v.First);
  deepEqual(firsts, [...firsts].sort()); // the canonical order: by First
  for (const jobs of [2, 3]) {
    const r = await parse([
      "--pcap",
      ...scenario,
      "--jobs",
      String(jobs),
      "--eventout",
      `${dir}/dos-j${jobs}.json`,
      "--dosout",
      `${dir}/dos-j${jobs}-dos.json`,
      "--quiet",
      ...flags,
    ]);
    equal(r.code, 0, r.stderr);
    deepEqual(Deno.readFileSync(`${dir}/dos-j${jobs}.json`), want, `--jobs ${jobs}`);
    deepEqual(Deno.readFileSync(`${dir}/dos-j${jobs}-dos.json`), wantDos, `--jobs ${jobs}`);
  }
  const blocks = await mapEach(scenario, "dos", ["--dos", "--quiet", ...flags]);
  const m = await parse([
    "--merge",
    ...blocks.toReversed(),
    "--eventout",
    `${dir}/dos-m.json`,
    "--dosout",
    `${dir}/dos-m-dos.json`,
    "--quiet",
    ...flags,
  ]);
  equal(m.code, 0, m.stderr);
  deepEqual(Deno.readFileSync(`${dir}/dos-m.json`), want);
  deepEqual(Deno.readFileSync(`${dir}/dos-m-dos.json`), wantDos);
  // The real SYN-ACK backscatter (one vector, default thresholds) in three files: the vector
  // runs through the middle block, joined at both of its ends.
  const rs = cutFiles(Deno.readFileSync("testdata/captures-modern/rsdos_synack.pcap"), 3, "rs");
  const rsWant = await sequential(rs, `${dir}/rs-one.json`, [
    "--samples",
    "0",
    "--dosout",
    `${dir}/rs-one-dos.json`,
  ]);
  const r3 = await parse([
    "--pcap",
    ...rs,
    "--jobs",
    "3",
    "--samples",
    "0",
    "--eventout",
    `${dir}/rs-3.json`,
    "--dosout",
    `${dir}/rs-3-dos.json`,
    "--quiet",
  ]);
  equal(r3.code, 0, r3.stderr);
  deepEqual(Deno.readFileSync(`${dir}/rs-3.json`), rsWant);
  const rsDos = Deno.readTextFileSync(`${dir}/rs-one-dos.json`);
  equal(JSON.parse(rsDos).length, 1);
  equal(Deno.readTextFileSync(`${dir}/rs-3-dos.json`), rsDos);
  // Continuing an earlier run: its open vectors (in its state) carried into the first block.
  const a = await parse([
    "--pcap",
    ...scenario.slice(0, 2),
    "--eventout",
    `${dir}/dos-a.json`,
    "--dosout",
    `${dir}/dos-a-dos.json`,
    "--cacheout",
    `${dir}/dos-a.state`,
    "--quiet",
    ...flags,
  ]);
  equal(a.code, 0, a.stderr);
  const rest = scenario.slice(2);
  const cont = ["--cachein", `${dir}/dos-a.state`, "--quiet", ...flags];
  await sequential(rest, `${dir}/dos-b.json`, [...cont, "--dosout", `${dir}/dos-b-dos.json`]);
  const j = await parse([
    "--pcap",
    ...rest,
    "--jobs",
    "2",
    "--eventout",
    `${dir}/dos-bj.json`,
    "--dosout",
    `${dir}/dos-bj-dos.json`,
    ...cont,
  ]);
  equal(j.code, 0, j.stderr);
  deepEqual(
    Deno.readFileSync(`${dir}/dos-bj-dos.json`),
    Deno.readFileSync(`${dir}/dos-b-dos.json`),
  );
  ok(JSON.parse(Deno.readTextFileSync(`${dir}/dos-b-dos.json`)).length > 0);
  // A split run that saves its open vectors (--cacheout) and a run continuing it: together, the
  // vectors of one run over all the files.
  const s1 = await parse([
    "--pcap",
    ...scenario.slice(0, 3),
    "--jobs",
    "2",
    "--eventout",
    `${dir}/dos-c1.json`,
    "--dosout",
    `${dir}/dos-c1-dos.json`,
    "--cacheout",
    `${dir}/dos-c1.state`,
    "--quiet",
    ...flags,
  ]);
  equal(s1.code, 0, s1.stderr);
  await sequential(scenario.slice(3), `${dir}/dos-c2.json`, [
    "--cachein",
    `${dir}/dos-c1.state`,
    "--dosout",
    `${dir}/dos-c2-dos.json`,
    ...flags,
  ]);
  const halves = ["c1", "c2"].flatMap((h) =>
    JSON.parse(Deno.readTextFileSync(`${dir}/dos-${h}-dos.json`))
  );
  deepEqual(
    halves.map((v: object) => JSON.stringify(v)).sort(),
    vectors.map((v: object) => JSON.stringify(v)).sort(),
  );
  // Usage: --dos is a map step's; --dosout is not; blocks without the analysis are refused.
  for (
    const [args, msg] of [
      [["--pcap", scenario[0], "--eventout", `${dir}/x.json`, "--dos"], "--dos goes to --map"],
      [
        ["--pcap", scenario[0], "--map", `${dir}/x-block`, "--dosout", `${dir}/x.json`],
        "give --dos",
      ],
      [
        ["--pcap", scenario[0], "--jobs", "2", "--eventout", `${dir}/x.json`, "--dos"],
        "--dos goes to --map",
      ],
    ] as const
  ) {
    const r = await parse([...args, "--samples", "1"]);
    equal(r.code, 2, r.stderr);
    ok(r.stderr.includes(msg), r.stderr);
  }
  const plain = `${dir}/dos-plain-block`;
  equal(
    (await parse(["--pcap", scenario[0], "--map", plain, "--quiet", ...flags.slice(0, 4)])).code,
    0,
  );
  const r = await parse([
    "--merge",
    plain,
    "--eventout",
    `${dir}/x.json`,
    "--dosout",
    `${dir}/x-dos.json`,
    ...flags,
  ]);
  equal(r.code, 2, r.stderr);
  ok(r.stderr.includes("other settings"), r.stderr);
});

Deno.test("--statsout in split runs: --jobs 3 and --map --stats / --merge --statsout write one run's statistics, byte for byte", async () => {
  const flags = ["--samples", "0", "--quiet"];
  await sequential(scenario, `${dir}/st-one.json`, [...flags, "--statsout", `${dir}/st-one.txt`]);
  const want = Deno.readFileSync(`${dir}/st-one.txt`);
  equal(JSON.parse(new TextDecoder().decode(want)).packets, 120000);
  const j = await parse([
    "--pcap",
    ...scenario,
    "--jobs",
    "3",
    "--eventout",
    `${dir}/st-j.json`,
    "--statsout",
    `${dir}/st-j.txt`,
    ...flags,
  ]);
  equal(j.code, 0, j.stderr);
  deepEqual(Deno.readFileSync(`${dir}/st-j.txt`), want);
  const blocks = await mapEach(scenario, "st", ["--stats", ...flags]);
  ok(blocks.every((b) => exists(`${b}/stats.bin`)));
  const m = await parse([
    "--merge",
    ...blocks,
    "--eventout",
    `${dir}/st-m.json`,
    "--statsout",
    `${dir}/st-m.txt`,
    ...flags,
  ]);
  equal(m.code, 0, m.stderr);
  deepEqual(Deno.readFileSync(`${dir}/st-m.txt`), want);
  for (
    const [args, msg] of [
      [["--pcap", scenario[0], "--eventout", `${dir}/x.json`, "--stats"], "--stats goes to --map"],
      [
        ["--pcap", scenario[0], "--map", `${dir}/x-b`, "--statsout", `${dir}/x.txt`],
        "give --stats",
      ],
      [["--merge", blocks[0], "--eventout", `${dir}/x.json`, "--stats"], "--stats goes to --map"],
    ] as const
  ) {
    const r = await parse([...args, "--samples", "0"]);
    equal(r.code, 2, r.stderr);
    ok(r.stderr.includes(msg), r.stderr);
  }
  // A block made without --stats: the merge refuses --statsout (other settings).
  const plain = `${dir}/st-plain-block`;
  equal((await parse(["--pcap", scenario[0], "--map", plain, ...flags])).code, 0);
  const r = await parse([
    "--merge",
    plain,
    "--eventout",
    `${dir}/x.json`,
    "--statsout",
    `${dir}/x.txt`,
    ...flags,
  ]);
  equal(r.code, 2, r.stderr);
  ok(r.stderr.includes("other settings"), r.stderr);
});

Deno.test("--sourceout in split runs: --jobs 3 and --map --sources / --merge --sourceout write one run's roll-ups, byte for byte", async () => {
  // Filters and enrichment apply before the roll-up; a source's events cross the cuts.
  const flags = [
    "--samples",
    "1",
    "--timeout",
    "300",
    "--uniques",
    "2",
    "--asnin",
    "testdata/mmdb/GeoLite2-ASN-Test.mmdb",
    "--quiet",
  ];
  const want = await sequential(scenario, `${dir}/so-one.json`, [
    ...flags,
    "--sourceout",
    `${dir}/so-one-src.json`,
  ]);
  const wantSrc = Deno.readFileSync(`${dir}/so-one-src.json`);
  const records = JSON.parse(new TextDecoder().decode(wantSrc));
  ok(records.some((r: { Events: number }) => r.Events > 1), "sources with several events");
  const j = await parse([
    "--pcap",
    ...scenario,
    "--jobs",
    "3",
    "--eventout",
    `${dir}/so-j.json`,
    "--sourceout",
    `${dir}/so-j-src.json`,
    ...flags,
  ]);
  equal(j.code, 0, j.stderr);
  deepEqual(Deno.readFileSync(`${dir}/so-j.json`), want);
  deepEqual(Deno.readFileSync(`${dir}/so-j-src.json`), wantSrc);
  const blocks = await mapEach(scenario, "so", ["--sources", ...flags]);
  const m = await parse([
    "--merge",
    ...blocks.toReversed(),
    "--eventout",
    `${dir}/so-m.json`,
    "--sourceout",
    `${dir}/so-m-src.json`,
    ...flags,
  ]);
  equal(m.code, 0, m.stderr);
  deepEqual(Deno.readFileSync(`${dir}/so-m-src.json`), wantSrc);
  const r = await parse([
    "--pcap",
    scenario[0],
    "--map",
    `${dir}/so-x`,
    "--sourceout",
    `${dir}/x.json`,
    "--samples",
    "1",
  ]);
  equal(r.code, 2, r.stderr);
  ok(r.stderr.includes("give --sources"), r.stderr);
});

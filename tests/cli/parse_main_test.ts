import { deepEqual, equal, match, ok } from "node:assert/strict";
import { gzipSync } from "node:zlib";
import { denoFlags, ENTRIES } from "../../src/cli/permissions.ts";
import { generateScenario } from "../../src/synth/scenario.ts";
import { ethernet, ipv4Packet } from "../../src/synth/frames.ts";
import { concat, pcapFile } from "../../src/synth/pcap_writer.ts";
import { exists, runCli, tempDir } from "../_helpers.ts";
import { batchBlocks } from "../../src/cli/batch_mode.ts";
import { formatParseSummary } from "../../src/cli/run_parse.ts";

const parse = (args: string[], stdin?: Uint8Array) =>
  runCli(ENTRIES.parse, args, denoFlags("parse"), stdin);
// The same command as one shell line (for tests that run it under `sh -c` or `script -c`).
const parseLine = (args: string[]) =>
  [Deno.execPath(), "run", "--quiet", ...denoFlags("parse"), ENTRIES.parse, ...args]
    .map((a) => `'${a}'`).join(" ");
const DEMO = "testdata/demo/scan.pcap.gz";
const dir = tempDir("parse-cli-");

// Two consecutive hours of synthetic traffic as separate pcap files.
function writeHours(): [string, string] {
  const parts: Uint8Array[] = [];
  generateScenario(
    { packets: 30000, seed: 11, oneOffs: 200, duration: 7200 },
    (b) => parts.push(b.slice()),
  );
  const all = concat(parts);
  const half = 24 + 15000 * 76;
  Deno.writeFileSync(`${dir}/2020-10-21.16.pcap`, all.subarray(0, half));
  Deno.writeFileSync(
    `${dir}/2020-10-21.17.pcap.gz`,
    gzipSync(concat([all.subarray(0, 24), all.subarray(half)])),
  );
  return [`${dir}/2020-10-21.16.pcap`, `${dir}/2020-10-21.17.pcap.gz`];
}
const [H16, H17] = writeHours();

Deno.test("parse writes Merit's keys in order; same input and flags give identical bytes", async () => {
  const a = await parse([
    "--pcap",
    DEMO,
    "--eventout",
    `${dir}/a.json`,
    "--samples",
    "3",
    "--uniques",
    "10",
    "--quiet",
  ]);
  equal(a.code, 0, a.stderr);
  equal(a.stderr, "");
  const b = await parse([
    "--samples",
    "3",
    "--quiet",
    "--uniques",
    "10",
    "--eventout",
    `${dir}/b.json`,
    "--pcap",
    DEMO,
  ]);
  equal(b.code, 0);
  deepEqual(Deno.readFileSync(`${dir}/a.json`), Deno.readFileSync(`${dir}/b.json`));
  const evs = JSON.parse(Deno.readTextFileSync(`${dir}/a.json`));
  ok(evs.length >= 5);
  deepEqual(Object.keys(evs[0]), [
    "SourceIP",
    "Port",
    "Traffic",
    "First",
    "Last",
    "Packets",
    "Bytes",
    "UniqueDests",
    "UniqueDest24s",
    "Lat",
    "Long",
    "Country",
    "City",
    "ASN",
    "Org",
    "Prefix",
    "RDNS",
    "Zmap",
    "Masscan",
    "Mirai",
    "Samples",
    "TCP",
    "ICMP",
    "Tools",
    "Tool",
    "SynSignature",
    "IPIDClass",
    "Tags",
    "Scanner",
  ]);
  const zmap = evs.find((e: { Zmap: boolean }) => e.Zmap);
  deepEqual([
    zmap.SourceIP,
    zmap.Port,
    zmap.Traffic,
    zmap.TCP,
    zmap.ICMP,
    zmap.RDNS,
    zmap.Samples.length,
  ], [
    "214.78.120.5",
    23,
    11,
    "TCPSYN",
    "",
    null,
    3,
  ]);
  match(zmap.First, /^2020-10-21T16:00:\d\d\.\d{9}Z$/);
  const c = await parse([
    "--pcap",
    DEMO,
    "--eventout",
    `${dir}/c.json`,
    "--samples",
    "3",
    "--uniques",
    "10",
    "--seed",
    "2",
    "--quiet",
  ]);
  equal(c.code, 0);
  ok(Deno.readTextFileSync(`${dir}/c.json`) !== Deno.readTextFileSync(`${dir}/a.json`));
});

Deno.test("--newdl writes one object per line with a final newline; summary on stderr", async () => {
  const r = await parse([
    "--pcap",
    DEMO,
    "--eventout",
    `${dir}/n.json`,
    "--samples",
    "0",
    "--uniques",
    "100",
    "--newdl",
  ]);
  equal(r.code, 0);
  match(
    r.stderr,
    // (", after N s of loading" when opening took 50 ms or more: a busy machine)
    /^parse: 20,000 packets in [\d.]+ s \([\d.]+ M pkt\/s\)(, after [\d.]+ s of loading)?; 5 events written, [\d,]+ filtered out\n$/,
  );
  const text = Deno.readTextFileSync(`${dir}/n.json`);
  ok(text.endsWith("}\n"));
  equal(text.trim().split("\n").map((l) => JSON.parse(l)).length, 5);
});

Deno.test("--format ndjson writes what --newdl writes; --format json what no flag writes", async () => {
  const run = async (name: string, flags: string[]) => {
    const r = await parse([
      "--pcap",
      DEMO,
      "--eventout",
      `${dir}/${name}`,
      "--samples",
      "1",
      ...flags,
    ]);
    equal(r.code, 0, r.stderr);
    return Deno.readFileSync(`${dir}/${name}`);
  };
  const newdl = await run("f1.json", ["--newdl"]);
  deepEqual(await run("f2.json", ["--format", "ndjson"]), newdl);
  deepEqual(await run("f3.json", ["--format", "ndjson", "--newdl"]), newdl);
  const plain = await run("f4.json", []);
  deepEqual(await run("f5.json", ["--format", "json"]), plain);
  ok(plain.length > newdl.length && plain[0] === 0x5b);
});

Deno.test("--statsout writes count --pcap --json's report from the same pass; the events are those of a run without it", async () => {
  const common = ["--pcap", DEMO, "--samples", "1", "--quiet"];
  const r = await parse([...common, "--eventout", `${dir}/s1.json`, "--statsout", `${dir}/s.json`]);
  equal(r.code, 0, r.stderr);
  equal((await parse([...common, "--eventout", `${dir}/s2.json`])).code, 0);
  deepEqual(Deno.readFileSync(`${dir}/s1.json`), Deno.readFileSync(`${dir}/s2.json`));
  const c = await runCli(ENTRIES.count, ["--pcap", DEMO, "--json"], denoFlags("count"));
  equal(c.code, 0, c.stderr);
  equal(Deno.readTextFileSync(`${dir}/s.json`), c.stdout);
  const same = await parse([
    ...common,
    "--eventout",
    `${dir}/s3.json`,
    "--statsout",
    `${dir}/s3.json`,
  ]);
  equal(same.code, 2);
  match(same.stderr, /--statsout/);
});

Deno.test("flag errors exit 2 with one line before any file is touched", async () => {
  const out = `${dir}/never.json`;
  const cases: [string[], RegExp][] = [
    [["--pcap", DEMO, "--eventout", out], /^parse: --samples is required/],
    [
      ["--pcap", DEMO, "--eventout", out, "--samples", "x"],
      /^parse: --samples: expected a whole number/,
    ],
    [
      ["--pcap", DEMO, "--eventout", out, "--samples", "1", "--uniques=-1"],
      /^parse: --uniques: expected a whole number/,
    ],
    [
      ["--pcap", DEMO, "--eventout", out, "--samples", "1", "--uniques", "-1"],
      /^parse: --uniques: expected a whole number ≥ 0, got "-1"$/m,
    ],
    [
      ["--pcap", DEMO, "--eventout", out, "--samples", "100000000"],
      /^parse: --samples: expected a whole number from 0 to 255, got "100000000"$/m,
    ],
    [
      ["--pcap", DEMO, "--eventout", out, "--samples", "1", "--samples", "2"],
      /^parse: --samples is given twice/,
    ],
    [
      ["-pcap", DEMO, "-eventout", out, "-samples", "1", "-timeuot", "5"],
      /^parse: unknown flag -timeuot \(did you mean --timeout\?\)/,
    ],
    [
      ["--pcap", DEMO, "--eventout", out, "--samples", "1", "--rate", "fast"],
      /^parse: --rate: expected a number/,
    ],
    [
      ["--pcap", DEMO, "--eventout", out, "--samples", "1", "--timeout", "0"],
      /^parse: --timeout: must be greater than 0/,
    ],
    [
      ["--pcap", DEMO, "--eventout", out, "--samples", "1", "--telescope", "10.0.0.1/8"],
      /host bits set/,
    ],
    [
      ["--pcap", DEMO, "--eventout", out, "--samples", "1", "--enrich-cache", "0"],
      /^parse: --enrich-cache: expected a whole number from 1 to 67108864, got "0"$/m,
    ],
    [
      ["--pcap", DEMO, "--eventout", out, "--samples", "1", "--format", "xml"],
      /^parse: --format: expected json, ndjson or parquet, got "xml"$/m,
    ],
    [
      ["--pcap", DEMO, "--eventout", out, "--samples", "1", "--format", "json", "--newdl"],
      /^parse: --newdl means --format ndjson, not json$/m,
    ],
    [["--pcap", DEMO, "--samples", "1"], /^parse: --eventout is required/],
    [["--eventout", out, "--samples", "1"], /^parse: --pcap is required/],
    [["--pcap", DEMO, "--eventout", out, "--samples", "1", "--wat"], /^parse: unknown flag --wat/],
    [
      ["--pcap", DEMO, "--eventout", out, "--samples", "1", "--dns", "not-an-ip"],
      /^parse: --dns: "not-an-ip" is not an IP address/,
    ],
    [
      ["--pcap", DEMO, "--eventout", out, "--samples", "1", "--dns-timeout", "soon"],
      /^parse: --dns-timeout: expected a number/,
    ],
  ];
  for (const [args, re] of cases) {
    const r = await parse(args);
    equal(r.code, 2, args.join(" "));
    match(r.stderr, re);
    equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    ok(!exists(out), "output created despite a usage error");
  }
  const missing = await parse([
    "--pcap",
    `${DEMO} /nope.pcap`,
    "--eventout",
    out,
    "--samples",
    "1",
  ]);
  equal(missing.code, 74);
  equal(missing.stderr.trim(), "parse: /nope.pcap: no such file");
  ok(!exists(out), "output created although an input is missing");
  const v = await parse(["--version"]);
  equal(v.code, 0);
  match(v.stdout, /^parse \(darknet-events\) \d+\.\d+\.\d+\n$/);
  equal(
    JSON.parse(Deno.readTextFileSync("deno.json")).version,
    v.stdout.trim().split(" ").pop(),
    "--version and deno.json agree",
  );
});

Deno.test("Merit's single-dash flags work; --eventout - writes the events to standard output", async () => {
  const r = await parse(["-pcap", DEMO, "-eventout", "-", "-samples", "0", "-newdl", "--quiet"]);
  equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split("\n");
  ok(lines.length > 1000);
  equal(JSON.parse(lines[0]).SourceIP.split(".").length, 4);
  ok(!exists("-"), "no file named -");
  const arr = await parse([
    "--pcap",
    DEMO,
    "--eventout",
    "/dev/stdout",
    "--samples",
    "0",
    "--quiet",
  ]);
  equal(arr.code, 0, arr.stderr);
  equal(JSON.parse(arr.stdout).length, lines.length);
});

Deno.test("a truncated input keeps finished events in a valid JSON array and exits 65", async () => {
  const whole = Deno.readFileSync(H16);
  Deno.writeFileSync(`${dir}/cut.pcap`, whole.subarray(0, whole.length - 30));
  const r = await parse([
    "--pcap",
    `${dir}/cut.pcap`,
    "--eventout",
    `${dir}/cut.json`,
    "--samples",
    "1",
    "--uniques",
    "5",
    "--quiet",
  ]);
  equal(r.code, 65);
  match(r.stderr, /^parse: .*cut\.pcap: byte \d+: truncated record: \d+ of 76 bytes present\n$/);
  const evs = JSON.parse(Deno.readTextFileSync(`${dir}/cut.json`));
  ok(evs.length > 0);
  const full = await parse([
    "--pcap",
    H16,
    "--eventout",
    `${dir}/full.json`,
    "--samples",
    "1",
    "--uniques",
    "5",
    "--quiet",
  ]);
  equal(full.code, 0);
  equal(JSON.parse(Deno.readTextFileSync(`${dir}/full.json`)).length, evs.length);
});

Deno.test("--cacheout keeps open events out of --eventout; --ongoingout gets them; --cachein continues", async () => {
  const base = ["--samples", "2", "--uniques", "3", "--timeout", "300", "--quiet"];
  const one = await parse([
    "--pcap",
    H16,
    H17,
    "--eventout",
    `${dir}/one.json`,
    "--cacheout",
    `${dir}/one.state`,
    ...base,
  ]);
  equal(one.code, 0, one.stderr);
  const h1 = await parse([
    "--pcap",
    H16,
    "--eventout",
    `${dir}/h1.json`,
    "--ongoingout",
    `${dir}/h1-ongoing.json`,
    "--cacheout",
    `${dir}/h1.state`,
    ...base,
  ]);
  equal(h1.code, 0, h1.stderr);
  const h2 = await parse([
    "--pcap",
    H17,
    "--eventout",
    `${dir}/h2.json`,
    "--cachein",
    `${dir}/h1.state`,
    "--cacheout",
    `${dir}/h2.state`,
    ...base,
  ]);
  equal(h2.code, 0, h2.stderr);
  const read = (p: string) => JSON.parse(Deno.readTextFileSync(p));
  // The same events (an event already idle beyond the timeout when hour 1 ends is written with
  // hour 1, where one run writes it at its next sweep: compared as sorted lists).
  const sorted = (evs: unknown[]) => evs.map((e) => JSON.stringify(e)).sort();
  deepEqual(
    sorted([...read(`${dir}/h1.json`), ...read(`${dir}/h2.json`)]),
    sorted(read(`${dir}/one.json`)),
  );
  deepEqual(Deno.readFileSync(`${dir}/h2.state`), Deno.readFileSync(`${dir}/one.state`));
  ok(read(`${dir}/h1-ongoing.json`).length > 0);
  // Without --cacheout the open events are written as finished.
  const fin = await parse(["--pcap", H16, H17, "--eventout", `${dir}/fin.json`, ...base]);
  equal(fin.code, 0);
  ok(read(`${dir}/fin.json`).length > read(`${dir}/one.json`).length);
  // A state written with other settings is refused before any packet is read.
  const bad = await parse([
    "--pcap",
    H17,
    "--eventout",
    `${dir}/x.json`,
    "--cachein",
    `${dir}/h1.state`,
    "--samples",
    "3",
    "--quiet",
  ]);
  equal(bad.code, 65);
  match(bad.stderr, /h1\.state: state was written with --timeout 300, this run uses 624/);
});

Deno.test("end of input: events idle beyond the timeout are finished, not ongoing or saved", async () => {
  // A at 0 s, B at 400 s (a sweep: A idle only 400 s), C at 700 s (no sweep): A is idle 700 s at
  // the end. Then a second file continues C.
  const pcap = (pk: [number, number][]) =>
    pcapFile(
      pk.map(([t, src]) => ({
        sec: 1603296000 + t,
        nsec: 0,
        data: ethernet(ipv4Packet({ src: 0xc0000200 + src, dst: 0x0a000001, proto: 6, flags: 2 })),
      })),
      { linkType: 1 },
    );
  Deno.writeFileSync(`${dir}/idle1.pcap`, pcap([[0, 1], [400, 2], [700, 3]]));
  Deno.writeFileSync(`${dir}/idle2.pcap`, pcap([[800, 3]]));
  const srcs = (p: string) =>
    JSON.parse(Deno.readTextFileSync(p)).map((e: { SourceIP: string; Packets: number }) =>
      `${e.SourceIP}/${e.Packets}`
    );
  const common = ["--samples", "0", "--quiet"];
  const plain = await parse([
    "--pcap",
    `${dir}/idle1.pcap`,
    "--eventout",
    `${dir}/idle.json`,
    "--ongoingout",
    `${dir}/idle-ongoing.json`,
    ...common,
  ]);
  equal(plain.code, 0, plain.stderr);
  deepEqual(srcs(`${dir}/idle.json`), ["192.0.2.1/1", "192.0.2.2/1", "192.0.2.3/1"]);
  deepEqual(srcs(`${dir}/idle-ongoing.json`), ["192.0.2.2/1", "192.0.2.3/1"]);
  const h1 = await parse([
    "--pcap",
    `${dir}/idle1.pcap`,
    "--eventout",
    `${dir}/idle-h1.json`,
    "--cacheout",
    `${dir}/idle.state`,
    ...common,
  ]);
  equal(h1.code, 0, h1.stderr);
  deepEqual(srcs(`${dir}/idle-h1.json`), ["192.0.2.1/1"]);
  const h2 = await parse([
    "--pcap",
    `${dir}/idle2.pcap`,
    "--eventout",
    `${dir}/idle-h2.json`,
    "--cachein",
    `${dir}/idle.state`,
    ...common,
  ]);
  equal(h2.code, 0, h2.stderr);
  deepEqual(srcs(`${dir}/idle-h2.json`), ["192.0.2.2/1", "192.0.2.3/2"]);
});

Deno.test("batch mode walks the hours, names files like run_parse.py and reports a missing hour", async () => {
  const out = `${dir}/batch`;
  const r = await parse([
    "--from",
    "2020-10-21:16",
    "--to",
    "2020-10-21:19",
    "--input",
    `${dir}/2020-10-21.{hour}.pcap*`.replace("*", ""),
    "--outdir",
    out,
    "--samples",
    "2",
    "--uniques",
    "3",
    "--timeout",
    "300",
    "--quiet",
  ]);
  // Hour 17 is .pcap.gz, so with a ".pcap" pattern it is "missing"; hour 18 is missing too.
  equal(r.code, 0, r.stderr);
  match(r.stderr, /2020-10-21T17: no capture at .*2020-10-21\.17\.pcap, skipped/);
  match(r.stderr, /2020-10-21T18: no capture/);
  deepEqual(Array.from(Deno.readDirSync(out), (e) => e.name).sort(), [
    "cache_2020-10-21T16_2020-10-21T17.state",
    "cache_2020-10-21T17_2020-10-21T18.state",
    "cache_2020-10-21T18_2020-10-21T19.state",
    "ongoing_2020-10-21T16_2020-10-21T17.json",
    "ongoing_2020-10-21T17_2020-10-21T18.json",
    "ongoing_2020-10-21T18_2020-10-21T19.json",
    "results_2020-10-21T16_2020-10-21T17.json",
    "results_2020-10-21T17_2020-10-21T18.json",
    "results_2020-10-21T18_2020-10-21T19.json",
  ]);
  deepEqual(
    Deno.readFileSync(`${out}/results_2020-10-21T16_2020-10-21T17.json`),
    Deno.readFileSync(`${dir}/h1.json`),
  );
  const bad = await parse([
    "--from",
    "2020-10-21:16",
    "--to",
    "2020-10-21:10",
    "--input",
    "x{hour}",
    "--outdir",
    out,
    "--samples",
    "1",
  ]);
  equal(bad.code, 2);
  match(bad.stderr, /--to must be later than --from/);
  for (
    const [from, re] of [["0050-01-01:00", /before 1970/], ["2020-13-01T00", /expected YYYY/]] as [
      string,
      RegExp,
    ][]
  ) {
    const y = await parse([
      "--from",
      from,
      "--to",
      "2020-10-21T10",
      "--input",
      "x{hour}",
      "--outdir",
      out,
      "--samples",
      "1",
    ]);
    equal(y.code, 2, y.stderr);
    match(y.stderr, re);
  }
  // A range of 8,000 years is walked lazily: the first block comes at once.
  const t0 = performance.now();
  const first = batchBlocks("1970-01-01:00", "9999-12-31T23", 1, "x/{date}.{hour}").next().value!;
  ok(performance.now() - t0 < 30_000); // made all at once, 70 M blocks would take minutes
  equal(first.window, "1970-01-01T00_1970-01-01T01");
});

Deno.test("--cpu writes a CPU profile, --mem a heap snapshot; --help lists every flag", async () => {
  const r = await parse([
    "--pcap",
    DEMO,
    "--eventout",
    `${dir}/p.json`,
    "--samples",
    "1",
    "--cpu",
    `${dir}/run.cpuprofile`,
    "--mem",
    `${dir}/run.heapsnapshot`,
    "--quiet",
  ]);
  equal(r.code, 0, r.stderr);
  const prof = JSON.parse(Deno.readTextFileSync(`${dir}/run.cpuprofile`));
  ok(Array.isArray(prof.nodes) && prof.samples.length > 0);
  ok(Deno.statSync(`${dir}/run.heapsnapshot`).size > 100000);
  const help = await parse(["--help"]);
  equal(help.code, 0);
  for (
    const f of [
      "--pcap",
      "--eventout",
      "--newdl",
      "--ongoingout",
      "--cachein",
      "--cacheout",
      "--samples",
      "--timeout",
      "--threshold",
      "--uniques",
      "--rate",
      "--telescope",
      "--telescope-size",
      "--seed",
      "--from",
      "--to",
      "--input",
      "--outdir",
      "--block",
      "--cpu",
      "--mem",
      "--quiet",
    ]
  ) ok(help.stdout.includes(`  ${f} `), f);
});

Deno.test("a write failing part-way (file size limit, as a full disk) leaves a valid file of the events before it", async () => {
  // A full run for comparison, then the same under a 128 KiB file size limit (`ulimit -f 256`:
  // 512-byte blocks; SIGXFSZ ignored, so writes past it fail with EFBIG, as they would with
  // ENOSPC on a full disk — the same path in EventWriter).
  const flags = ["--pcap", DEMO, "--samples", "3"];
  const full = await parse([...flags, "--eventout", `${dir}/whole.json`, "--quiet"]);
  equal(full.code, 0, full.stderr);
  const whole = JSON.parse(Deno.readTextFileSync(`${dir}/whole.json`));
  for (const ndjson of [false, true]) {
    const out = `${dir}/limited.json`;
    const args = [...flags, "--eventout", out, ...(ndjson ? ["--newdl"] : [])];
    const sh = `trap '' XFSZ; ulimit -f 256; exec ${parseLine(args)}`;
    const r = await new Deno.Command("sh", {
      args: ["-c", sh],
      env: { RUST_BACKTRACE: "0", NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(r.stderr);
    equal(r.code, 74, stderr);
    const lines = stderr.trim().split("\n");
    match(lines[1], /^parse: .*limited\.json: File too large/);
    equal(lines.length, 2, stderr);
    const text = Deno.readTextFileSync(out);
    const kept = ndjson
      ? text.split("\n").filter((l) => l).map((l) => JSON.parse(l))
      : JSON.parse(text);
    ok(kept.length > 50 && kept.length < whole.length, `${kept.length} events kept`);
    deepEqual(kept, whole.slice(0, kept.length));
    // The summary counts the events the file holds.
    match(lines[0], new RegExp(` ${kept.length} events written`));
  }
});

Deno.test("on a terminal a progress line (bytes, packets/s, open events, ETA); --quiet silences it", async () => {
  // `script` (util-linux) runs the command on a pseudo-terminal and passes its output through.
  const cmd = (extra: string[]) =>
    parseLine(["--pcap", H16, "--eventout", `${dir}/tty.json`, "--samples", "0", ...extra]);
  const onTty = async (extra: string[]) => {
    let r: Deno.CommandOutput;
    try {
      r = await new Deno.Command("script", {
        args: ["-qec", cmd(extra), "/dev/null"],
        env: { RUST_BACKTRACE: "0", NO_COLOR: "1" },
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).output();
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
      throw new Error("script is not installed (apt-get install bsdutils)");
    }
    equal(r.code, 0, new TextDecoder().decode(r.stderr));
    return new TextDecoder().decode(r.stdout).split(/[\r\n]+/).map((l) => l.replace("\x1b[K", ""))
      .filter((l) => l);
  };
  const size = (Deno.statSync(H16).size / 1e6).toFixed(1);
  const lines = await onTty([]);
  ok(
    lines.some((l) =>
      new RegExp(`^read [\\d.]+/${size} MB  [\\d.]+ M pkt/s  [\\d,]+ open events  ETA \\d+ s$`)
        .test(l)
    ),
    lines.join("\n"),
  );
  match(lines[lines.length - 1], /^parse: 15,000 packets in /);
  deepEqual(await onTty(["--quiet"]), []);
});

Deno.test("the summary's packet rate leaves out loading time, which it states apart", () => {
  const s = formatParseSummary({
    packets: 20000,
    eventsWritten: 5,
    eventsFiltered: 0,
    openSaved: 0,
    outOfOrder: 0,
    implausibleTime: 0,
    excludedByTags: 0,
    notAfter: 0,
    openAtFailure: 0,
    seconds: 0.01,
    loadSeconds: 3,
  });
  match(
    s,
    /^parse: 20,000 packets in 0\.01 s \(2\.00 M pkt\/s\), after 3\.00 s of loading; 5 events/,
  );
});

Deno.test("batch mode with --dosout, --sourceout and --seriesout: files per block; united, one run's", async () => {
  // Two hours: the demo capture, and the same shifted by an hour.
  const { gunzipSync } = await import("node:zlib");
  const raw = new Uint8Array(gunzipSync(Deno.readFileSync(DEMO)));
  const shifted = raw.slice();
  const v = new DataView(shifted.buffer);
  for (let o = 24; o + 16 <= shifted.length; o += 16 + v.getUint32(o + 8, true)) {
    v.setUint32(o, v.getUint32(o, true) + 3600, true);
  }
  const d = tempDir("batch-analyses-");
  Deno.writeFileSync(`${d}/2020-10-21.16.pcap`, raw);
  Deno.writeFileSync(`${d}/2020-10-21.17.pcap`, shifted);
  const dos = ["--dos-min-packets", "1", "--dos-min-duration", "0", "--dos-min-window", "1"];
  const b = await parse([
    "--from",
    "2020-10-21T16",
    "--to",
    "2020-10-21T18",
    "--input",
    `${d}/2020-10-21.{hour}.pcap`,
    "--outdir",
    `${d}/out`,
    "--samples",
    "0",
    "--quiet",
    "--newdl",
    ...dos,
    "--dosout",
    `${d}/dos`,
    "--sourceout",
    `${d}/src`,
    "--seriesout",
    `${d}/series`,
  ]);
  equal(b.code, 0, b.stderr);
  const names = (sub: string) => Array.from(Deno.readDirSync(`${d}/${sub}`), (e) => e.name).sort();
  deepEqual(names("dos"), [
    "dos_2020-10-21T16_2020-10-21T17.json",
    "dos_2020-10-21T17_2020-10-21T18.json",
  ]);
  deepEqual(names("src"), [
    "sources_2020-10-21T16_2020-10-21T17.json",
    "sources_2020-10-21T17_2020-10-21T18.json",
  ]);
  deepEqual(names("series"), [
    "series_2020-10-21T16_2020-10-21T17.series",
    "series_2020-10-21T17_2020-10-21T18.series",
  ]);
  // One run over both hours: the same DoS vectors (open ones carried from block to block in the
  // state) and the same series once the blocks' files are united.
  const one = await parse([
    "--pcap",
    `${d}/2020-10-21.16.pcap`,
    `${d}/2020-10-21.17.pcap`,
    "--eventout",
    `${d}/one.json`,
    "--samples",
    "0",
    "--quiet",
    "--newdl",
    ...dos,
    "--dosout",
    `${d}/one-dos.json`,
    "--seriesout",
    `${d}/one.series`,
    "--cacheout", // as the last block: vectors still open stay in the state
    `${d}/one.state`,
  ]);
  equal(one.code, 0, one.stderr);
  const lines = (p: string) => Deno.readTextFileSync(p).split("\n").filter((l) => l);
  const batchDos = names("dos").flatMap((n) => lines(`${d}/dos/${n}`)).sort();
  ok(batchDos.length > 0);
  deepEqual(batchDos, lines(`${d}/one-dos.json`).sort());
  const { SignalTable } = await import("../../src/series/signal_table.ts");
  const a = await SignalTable.load(names("series").map((n) => `${d}/series/${n}`));
  const w = await SignalTable.load([`${d}/one.series`]);
  for (const k of w.keys) deepEqual(a.sourcesOf(k), w.sourcesOf(k), k);
  ok(lines(`${d}/src/${names("src")[0]}`).length > 0);
});

Deno.test("batch mode refuses the files of one run and split runs' flags, each with one line (exit 2)", async () => {
  const batch = [
    "--from",
    "2020-10-21T16",
    "--to",
    "2020-10-21T17",
    "--input",
    "x/{date}.{hour}.pcap",
  ];
  for (
    const [extra, msg] of [
      [["--eventout", "e.json"], "--eventout cannot be used in batch mode"],
      [["--jobs", "2"], "--jobs cannot be used in batch mode"],
      [["--map", "b"], "--map cannot be used in batch mode"],
      [["--dos"], "--dos cannot be used in batch mode"],
      [["--sources"], "--sources cannot be used in batch mode"],
    ] as const
  ) {
    const r = await parse([
      ...batch,
      "--outdir",
      `${dir}/batch-flags`,
      "--samples",
      "0",
      ...extra,
    ]);
    equal(r.code, 2, r.stderr);
    ok(r.stderr.includes(msg), r.stderr);
    equal(r.stderr.trim().split("\n").length, 1, r.stderr);
  }
});

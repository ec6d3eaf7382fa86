// `deno task bench`: throughput of the capture pipeline (`--packets`, default 5 M), parse end to
// end (`--parse-packets`, default 10 M), enrichment overhead, count/timeseries on generated
// events (`--events`, default 1 M), floods of distinct one-packet sources (`--flood`, default
// 10 M; 0 skips them), and timeseries --signals on a generated month (`--signal-days`, default
// 30; 0 skips it). The CLIs run as subprocesses with their binaries' permission
// flags. Each figure is the best of `--runs` runs (default 3). Prints Markdown tables.
// `--only pipeline,parse,analyses,split,count,floods,enrichment,events,signals` runs those
// sections alone (e.g. `deno task bench --only analyses --runs 5`).

import { BatchPool } from "../src/capture/batch_pool.ts";
import { captureBatches } from "../src/capture/open_capture.ts";
import { FileSource } from "../src/io/file_source.ts";
import { GunzipStream } from "../src/io/gunzip_stream.ts";
import { eventJson } from "../src/synth/event_json.ts";
import { benchCapture, dayCaptures, floodCapture } from "./_capture_file.ts";
import { isFile, timedRun } from "./_run.ts";
import { pcapHeader } from "../src/synth/pcap_writer.ts";

const args = Deno.args;
const opt = (name: string, def: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const packets = opt("packets", 5_000_000);
const runs = opt("runs", 3);
const only = args.includes("--only") ? String(args[args.indexOf("--only") + 1]).split(",") : null;
const want = (section: string) => only === null || only.includes(section);

async function best(fn: () => Promise<number>): Promise<{ sec: number; count: number }> {
  let sec = Infinity;
  let count = 0;
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    count = await fn();
    sec = Math.min(sec, (performance.now() - t0) / 1000);
  }
  return { sec, count };
}

async function decodeAll(path: string): Promise<number> {
  let n = 0;
  // As count --pcap reads: batches released after use, so buffers and arrays are reused.
  for await (const b of await captureBatches([path], { pool: new BatchPool() })) {
    n += b.length;
    b.release?.();
  }
  return n;
}

async function gunzipOnly(path: string): Promise<number> {
  const src = await FileSource.open(path);
  let n = 0;
  for await (const c of src.readable.pipeThrough(new GunzipStream())) n += c.length;
  return n;
}

async function nativeGunzip(path: string): Promise<number> {
  const src = await FileSource.open(path);
  let n = 0;
  for await (
    const c of src.readable.pipeThrough(
      new DecompressionStream("gzip") as unknown as TransformStream<Uint8Array, Uint8Array>,
    )
  ) n += c.length;
  return n;
}

if (want("pipeline")) {
  const { pcap, gz } = await benchCapture(packets);
  const plainBytes = Deno.statSync(pcap).size;
  const rows: string[] = [];
  const row = (what: string, r: { sec: number }, pk: number, bytes: number) =>
    rows.push(
      `| ${what} | ${(pk / r.sec / 1e6).toFixed(2)} M pkt/s | ${
        (bytes / r.sec / 1e6).toFixed(0)
      } MB/s | ${r.sec.toFixed(3)} s |`,
    );
  const a = await best(() => decodeAll(pcap));
  row("read + decode + classify, .pcap", a, a.count, plainBytes);
  const b = await best(() => decodeAll(gz));
  row("read + decode + classify, .pcap.gz", b, b.count, plainBytes);
  const c = await best(() => gunzipOnly(gz));
  row("gunzip alone (node:zlib), .pcap.gz", c, packets, c.count);
  if (args.includes("--native")) {
    const d = await best(() => nativeGunzip(gz));
    row("gunzip alone (DecompressionStream), .pcap.gz", d, packets, d.count);
  }
  console.log(
    `capture: ${packets.toLocaleString("en-US")} packets, ${
      (plainBytes / 1e6).toFixed(0)
    } MB plain`,
  );
  console.log("| stage | packets/s | bytes/s (uncompressed) | time |\n|---|---|---|---|");
  console.log(rows.join("\n"));
  console.log(`gz pipeline / gunzip alone: ${(b.sec / c.sec).toFixed(2)}×`);
}

/** The parse flags of issue 3's figure. */
const parseFlags = (pcap: string, out: string) => [
  "--pcap",
  pcap,
  "--eventout",
  out,
  "--samples",
  "3",
  "--uniques",
  "10",
  "--rate",
  "10",
  "--quiet",
];

// parse end to end (issue 3's figure): the CLI on a 10 M-packet capture, peak RSS from GNU time.
const big = await benchCapture(opt("parse-packets", 10_000_000));
const parseRows: string[] = [];
for (
  const [label, path] of want("parse") ? [[".pcap", big.pcap], [".pcap.gz", big.gz]] as const : []
) {
  let best = Infinity;
  let rss = "n/a";
  for (let r = 0; r < runs; r++) {
    const out = await Deno.makeTempFile({ suffix: ".json" });
    const res = await timedRun("parse", parseFlags(path, out));
    if (res.sec < best) {
      best = res.sec;
      rss = res.rssMb === undefined ? "n/a" : `${res.rssMb.toFixed(0)} MB`;
    }
    await Deno.remove(out);
  }
  const n = opt("parse-packets", 10_000_000);
  parseRows.push(
    `| parse ${label} (--uniques 10 --rate 10 --samples 3) | ${
      (n / best / 1e6).toFixed(2)
    } M pkt/s | ${best.toFixed(2)} s | ${rss} |`,
  );
}
if (want("parse")) {
  console.log(
    `\nparse, ${
      opt("parse-packets", 10_000_000).toLocaleString("en-US")
    } packets, wall time of the whole process:`,
  );
  console.log("| run | packets/s | time | peak RSS |\n|---|---|---|---|");
  console.log(parseRows.join("\n"));
}

// The telescope analyses (issue 17): parse with --dosout and --sourceout beside plain parse,
// runs alternating (the traffic tags are computed in both: they ride with the tool tags).
// The signal series (issue 19): --seriesout, the same way.
if (want("analyses")) {
  const kinds = ["plain", "series", "dos", "all"] as const;
  const best = { plain: Infinity, series: Infinity, dos: Infinity, all: Infinity };
  const rss = { plain: 0, series: 0, dos: 0, all: 0 };
  for (let r = 0; r < runs; r++) {
    for (const kind of kinds) {
      const out = await Deno.makeTempFile({ suffix: ".json" });
      const dos = await Deno.makeTempFile({ suffix: ".json" });
      const src = await Deno.makeTempFile({ suffix: ".json" });
      const extra = kind === "plain"
        ? []
        : kind === "series"
        ? ["--seriesout", src]
        : kind === "dos"
        ? ["--dosout", dos]
        : ["--dosout", dos, "--sourceout", src];
      const res = await timedRun("parse", [...parseFlags(big.pcap, out), ...extra]);
      if (res.sec < best[kind]) {
        best[kind] = res.sec;
        rss[kind] = res.rssMb ?? 0;
      }
      for (const f of [out, dos, src]) await Deno.remove(f);
    }
  }
  console.log("\nparse .pcap with the telescope analyses (best of alternating runs):");
  console.log("| run | time | over plain | peak RSS |\n|---|---|---|---|");
  for (const kind of kinds) {
    const label = {
      plain: "plain (tags included)",
      series: "--seriesout (5-minute bins)",
      dos: "--dosout",
      all: "--dosout --sourceout",
    }[kind];
    console.log(
      `| ${label} | ${best[kind].toFixed(2)} s | ${
        ((best[kind] / best.plain - 1) * 100).toFixed(0)
      } % | ${rss[kind].toFixed(0)} MB |`,
    );
  }
}

// Split runs (issue 18): a day of the scenario as 24 hourly files. parse --jobs 1 and --jobs 2,
// alternating (byte-identical outputs checked), then the map step of each half and the merge
// step alone over the two block results.
if (want("split")) {
  const n = opt("parse-packets", 10_000_000);
  const files = dayCaptures(n);
  const best = { one: Infinity, two: Infinity, merge: Infinity, map: Infinity, floor: Infinity };
  const tmp = await Deno.makeTempDir();
  for (let r = 0; r < runs; r++) {
    for (const jobs of [1, 2]) {
      const out = `${tmp}/jobs${jobs}.json`;
      const res = await timedRun("parse", [
        ...parseFlags(files[0], out),
        ...files.slice(1).flatMap((f) => ["--pcap", f]),
        "--jobs",
        String(jobs),
      ]);
      if (jobs === 1) best.one = Math.min(best.one, res.sec);
      else best.two = Math.min(best.two, res.sec);
    }
    const a = Deno.readFileSync(`${tmp}/jobs1.json`);
    const b = Deno.readFileSync(`${tmp}/jobs2.json`);
    if (a.length !== b.length || a.some((x, i) => x !== b[i])) {
      throw new Error("--jobs 2 wrote other bytes than --jobs 1");
    }
    const blocks = [`${tmp}/b0-${r}`, `${tmp}/b1-${r}`];
    let maps = 0;
    for (const [k, half] of [files.slice(0, 12), files.slice(12)].entries()) {
      const flags = parseFlags(half[0], "").filter((x) => x !== "--eventout" && x !== "");
      maps += (await timedRun("parse", [
        ...flags,
        ...half.slice(1).flatMap((f) => ["--pcap", f]),
        "--map",
        blocks[k],
      ])).sec;
    }
    best.map = Math.min(best.map, maps);
    const flags = parseFlags(files[0], `${tmp}/merged.json`).filter((x) => x !== files[0]);
    flags.splice(flags.indexOf("--pcap"), 1);
    best.merge = Math.min(
      best.merge,
      (await timedRun("parse", ["--merge", ...blocks, ...flags])).sec,
    );
    // The floor under any merge process: start, checks, the lines copied (bench/_merge_floor.ts).
    const t0 = performance.now();
    const floor = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-read",
        "--allow-write",
        new URL("./_merge_floor.ts", import.meta.url).pathname,
        `${tmp}/floor.json`,
        ...blocks,
      ],
      stdout: "null",
    }).output();
    if (!floor.success) throw new Error("bench/_merge_floor.ts failed");
    best.floor = Math.min(best.floor, (performance.now() - t0) / 1000);
  }
  await Deno.remove(tmp, { recursive: true });
  console.log(`\nsplit runs: ${n} packets, a day in 24 hourly files (best of ${runs}):`);
  console.log("| run | time | over --jobs 1 |\n|---|---|---|");
  const pct = (x: number) => `${((x / best.one - 1) * 100).toFixed(0)} %`;
  console.log(`| --jobs 1 | ${best.one.toFixed(2)} s | 0 % |`);
  console.log(`| --jobs 2 | ${best.two.toFixed(2)} s | ${pct(best.two)} |`);
  console.log(
    `| --map of each half, one after the other | ${best.map.toFixed(2)} s | ${pct(best.map)} |`,
  );
  console.log(
    `| --merge of the two blocks | ${best.merge.toFixed(2)} s | ${
      (best.merge / best.one * 100).toFixed(0)
    } % of --jobs 1 |`,
  );
  console.log(
    `| its floor: start, checks, lines copied, no boundary work | ${best.floor.toFixed(2)} s | ${
      (best.floor / best.one * 100).toFixed(1)
    } % of --jobs 1 |`,
  );
}

// count --pcap (issue 15): packet statistics of the same capture, as the CLI runs them.
const countRows: string[] = [];
for (
  const [label, path] of want("count") ? [[".pcap", big.pcap], [".pcap.gz", big.gz]] as const : []
) {
  let best = Infinity;
  let rss = "n/a";
  for (let r = 0; r < runs; r++) {
    const res = await timedRun("count", ["--pcap", path]);
    if (res.sec < best) {
      best = res.sec;
      rss = res.rssMb === undefined ? "n/a" : `${res.rssMb.toFixed(0)} MB`;
    }
  }
  const n = opt("parse-packets", 10_000_000);
  countRows.push(
    `| count --pcap ${label} | ${(n / best / 1e6).toFixed(2)} M pkt/s | ${
      best.toFixed(2)
    } s | ${rss} |`,
  );
}
if (want("count")) {
  console.log("| run | packets/s | time | peak RSS |\n|---|---|---|---|");
  console.log(countRows.join("\n"));
}

// Floods (issue 14): every packet from a new source within one timeout, as a botnet or a
// spoofed-source flood reaches a telescope; with --samples 1 --cacheout, then the state loaded
// back. One run each (they take tens of seconds).
const flood = opt("flood", 10_000_000);
if (flood > 0 && want("floods")) {
  const floodRows: string[] = [];
  for (const v6 of [false, true]) {
    const path = await floodCapture(flood, v6);
    const state = await Deno.makeTempFile({ suffix: ".state" });
    const out = await Deno.makeTempFile({ suffix: ".json" });
    const common = ["--eventout", out, "--samples", "1", "--timeout", "3600", "--quiet"];
    const run = await timedRun("parse", ["--pcap", path, "--cacheout", state, ...common]);
    const empty = await Deno.makeTempFile({ suffix: ".pcap" });
    await Deno.writeFile(empty, pcapHeader({ linkType: 1 }));
    const state2 = `${state}.2`;
    const load = await timedRun("parse", [
      "--pcap",
      empty,
      "--cachein",
      state,
      "--cacheout",
      state2,
      ...common.filter((a) => a !== "--quiet"),
    ]);
    const loading = /after ([\d.]+) s of loading/.exec(load.stderr)?.[1] ?? "?";
    const mb = (x?: number) => x === undefined ? "n/a" : `${x.toFixed(0)} MB`;
    floodRows.push(
      `| IPv${v6 ? 6 : 4} | ${(flood / run.sec / 1e6).toFixed(2)} M pkt/s | ${
        run.sec.toFixed(2)
      } s | ${mb(run.rssMb)} | ${
        (Deno.statSync(state).size / 1e6).toFixed(0)
      } MB | ${loading} s (load and save again ${load.sec.toFixed(2)} s, ${mb(load.rssMb)}) |`,
    );
    for (const f of [state, state2, out, empty]) await Deno.remove(f);
  }
  console.log(
    `\nflood: ${
      flood.toLocaleString("en-US")
    } distinct one-packet sources, 100 µs apart, --samples 1 --cacheout:`,
  );
  console.log(
    "| sources | packets/s | time | peak RSS | state file | reload |\n|---|---|---|---|---|---|",
  );
  console.log(floodRows.join("\n"));
}

// Enrichment overhead (issue 4): the same .pcap parse with all databases, DNS excluded. Uses
// the full GeoLite2-ASN (2019) and CAIDA rv2/rv6 files of the shared reference data when they
// are there (they are not part of a clone), and the City test database from testdata/.
const shared = new URL("../../shared/data/", import.meta.url).pathname;
const fullAsn = `${shared}mmdb/geolite2-2019/GeoLite2-ASN.mmdb`;
const rv2 = `${shared}pfx2as/routeviews-rv2-20160202-1200.pfx2as.gz`;
const rv6 = `${shared}pfx2as/routeviews-rv6-20160202-1200.pfx2as.gz`;
const have = [fullAsn, rv2, rv6].every(isFile);
if (have && want("enrichment")) {
  // Plain and enriched runs alternate, so that drift of this shared machine hits both alike.
  const once = async (extra: string[]) => {
    const out = await Deno.makeTempFile({ suffix: ".json" });
    const sec = (await timedRun("parse", [...parseFlags(big.pcap, out), ...extra])).sec;
    await Deno.remove(out);
    return sec;
  };
  const dbs = [
    "--asnin",
    fullAsn,
    "--geoin",
    new URL("../testdata/mmdb/GeoLite2-City-Test.mmdb", import.meta.url).pathname,
    "--pfx2asin",
    rv2,
    rv6,
  ];
  let plain = Infinity;
  let enriched = Infinity;
  for (let r = 0; r < runs; r++) {
    plain = Math.min(plain, await once([]));
    enriched = Math.min(enriched, await once(dbs));
  }
  console.log(`\nenrichment (full GeoLite2-ASN, City test DB, CAIDA rv2+rv6; no DNS), .pcap:`);
  console.log(
    `| parse | ${plain.toFixed(2)} s |\n| parse + enrichment | ${enriched.toFixed(2)} s |`,
  );
  console.log(`overhead: ${((enriched / plain - 1) * 100).toFixed(1)} %`);
} else console.log("\n(enrichment benchmark skipped: ../shared/data is not there)");

// count and timeseries on 1 M events (issue 5; `--events N` for another size): NDJSON generated
// once into bench/.cache, ten daily files; wall time and peak RSS of each command as a subprocess.
if (want("events")) {
  const events = opt("events", 1_000_000);
  const evDir = new URL(`./.cache/events-${events}/`, import.meta.url).pathname;
  await Deno.mkdir(evDir, { recursive: true });
  const evFiles = Array.from(
    { length: 10 },
    (_, d) => `${evDir}day-${String(d + 1).padStart(2, "0")}.ndjson`,
  );
  if (
    !evFiles.every((f) => {
      try {
        return Deno.statSync(f).size > 0;
      } catch {
        return false;
      }
    })
  ) {
    console.error(`generating ${events} events …`);
    let x = 7;
    const rnd = () => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 4294967296);
    const countries = ["US", "CN", "BR", "RU", "IN", "DE", "GB", "NL"];
    for (let d = 0; d < 10; d++) {
      const lines: string[] = [];
      for (let i = 0; i < events / 10; i++) {
        const t = Date.UTC(2020, 9, 11 + d) + Math.floor(rnd() * 86_000_000);
        const first = new Date(t).toISOString();
        const last = new Date(t + Math.floor(rnd() * 600_000)).toISOString();
        const packets = 1 + Math.floor(rnd() * 500);
        const traffic = [11, 11, 11, 12, 14, 16, 0, 2][Math.floor(rnd() * 8)];
        lines.push(JSON.stringify(eventJson({
          SourceIP: `${1 + Math.floor(rnd() * 223)}.${Math.floor(rnd() * 256)}.${
            Math.floor(rnd() * 256)
          }.${Math.floor(rnd() * 256)}`,
          Port: traffic >= 11 ? [23, 22, 80, 443, 445, 3389, 8080, 53][Math.floor(rnd() * 8)] : 0,
          Traffic: traffic,
          First: first,
          Last: last,
          Packets: packets,
          Bytes: packets * 60,
          UniqueDests: packets,
          UniqueDest24s: Math.ceil(packets / 4),
          Country: countries[Math.floor(rnd() * 8)],
          ASN: 64500 + Math.floor(rnd() * 100),
          Zmap: rnd() < 0.1,
          Masscan: rnd() < 0.05,
          Mirai: rnd() < 0.2,
        })));
      }
      await Deno.writeTextFile(evFiles[d], lines.join("\n") + "\n");
    }
  }
  const timed = async (label: string, command: "count" | "timeseries", args: string[]) => {
    const r = await timedRun(command, args);
    return `| ${label} | ${r.sec.toFixed(2)} s | ${
      r.rssMb === undefined ? "n/a" : `${r.rssMb.toFixed(0)} MB`
    } |`;
  };
  const evOut = await Deno.makeTempDir();
  const evBytes = evFiles.reduce((n, f) => n + Deno.statSync(f).size, 0);
  console.log(
    `\ncount and timeseries, ${events.toLocaleString("en-US")} events in 10 NDJSON files (${
      (evBytes / 1e6).toFixed(0)
    } MB):`,
  );
  console.log("| run | time | peak RSS |\n|---|---|---|");
  console.log(
    await timed("count EVENTFILE...", "count", [
      ...evFiles,
      "--outdir",
      `${evOut}/c`,
    ]),
  );
  console.log(
    await timed("timeseries EVENTFILE... --top 5", "timeseries", [
      ...evFiles,
      "--outdir",
      `${evOut}/t`,
    ]),
  );
}

// timeseries --signals on a month of hourly series files (issue 19): 30 days of 5-minute bins
// for 250 countries and 10,000 ASes (8,640 bins × 10,251 series ≈ 8.9 × 10⁷ points), generated
// once into bench/.cache. `--signal-days` (default 30; 0 skips).
const signalDays = opt("signal-days", 30);
if (signalDays > 0 && want("signals")) {
  const { signalMonth } = await import("../src/synth/signal_month.ts");
  const asns = signalDays >= 30 ? 10_000 : 100;
  const monthDir = new URL(`./.cache/signals-${signalDays}d-${asns}/`, import.meta.url).pathname;
  const done = `${monthDir}done`;
  if (!isFile(done)) {
    await Deno.mkdir(monthDir, { recursive: true });
    const start = Date.UTC(2026, 9, 1) / 1000;
    const gen = signalMonth({ start, days: signalDays, fileSeconds: 3600, countries: 250, asns });
    for (const f of gen) await Deno.writeFile(`${monthDir}${f.name}`, f.bytes);
    await Deno.writeTextFile(done, "");
  }
  const files = [...Deno.readDirSync(monthDir)].map((e) => e.name).filter((n) =>
    n.endsWith(".series")
  ).sort().map((n) => monthDir + n);
  const points = signalDays * 288 * (1 + 250 + asns);
  const out = await Deno.makeTempDir();
  let best = Infinity;
  let rss = "n/a";
  for (let r = 0; r < runs; r++) {
    const res = await timedRun("timeseries", ["--signals", ...files, "--outdir", out]);
    if (res.sec < best) {
      best = res.sec;
      rss = res.rssMb === undefined ? "n/a" : `${res.rssMb.toFixed(0)} MB`;
    }
  }
  console.log(
    `\ntimeseries --signals, ${files.length} hourly series files: ${signalDays} days of 5-minute ` +
      `bins, 250 countries and ${asns.toLocaleString("en-US")} ASes:`,
  );
  console.log("| run | points | time | peak RSS |\n|---|---|---|---|");
  console.log(
    `| timeseries --signals | ${points.toExponential(2)} | ${best.toFixed(2)} s | ${rss} |`,
  );
}

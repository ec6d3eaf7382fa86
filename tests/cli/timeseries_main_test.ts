import { deepEqual, equal, match, ok } from "node:assert/strict";
import { denoFlags, ENTRIES } from "../../src/cli/permissions.ts";
import { decodePng } from "../_png.ts";
import { runCli, tempDir } from "../_helpers.ts";
import { screenshot, testWith } from "../_programs.ts";

const timeseries = (args: string[]) => runCli(ENTRIES.timeseries, args, denoFlags("timeseries"));
const count = (args: string[]) => runCli(ENTRIES.count, args, denoFlags("count"));
const DAYS = Array.from(
  { length: 10 },
  (_, i) => `testdata/events/day-${String(i + 1).padStart(2, "0")}.ndjson`,
);
const dir = tempDir("ts-cli-");

Deno.test("timeseries on the shipped event days: the day-8 Mirai surge raises growth and z-score alerts", async () => {
  const r = await timeseries([
    ...DAYS,
    "--outdir",
    `${dir}/o`,
    "--top",
    "4",
    "--alert-min-events",
    "100",
    "--json",
  ]);
  equal(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout);
  equal(s.bins.length, 10);
  deepEqual(s.series.map((x: { key: string }) => x.key), [
    "TCPSYN/23",
    "TCPSYN/445",
    "UDP/53",
    "ICMPEchoRequest/0",
  ]);
  const mirai = s.alerts.filter((a: { series: string }) => a.series === "TCPSYN/23");
  deepEqual(mirai.map((a: { bin: string; kind: string }) => `${a.bin} ${a.kind}`), [
    "day-08.ndjson growth",
    "day-08.ndjson zscore",
    "day-08.ndjson zscore",
  ]);
  const files = Array.from(Deno.readDirSync(`${dir}/o`), (e) => e.name).sort();
  for (
    const f of [
      "alerts.csv",
      "report.html",
      "summary.json",
      "timeseries_total_volume.csv",
      "total_volume.svg",
      "series_TCPSYN_23.csv",
    ]
  ) {
    ok(files.includes(f), f);
  }
  match(
    Deno.readTextFileSync(`${dir}/o/series_TCPSYN_23.csv`),
    /^Day,Packets,Events,Moving Average Packets,Moving Average Events,Daily Packet Deviation,Daily Event Deviation,/,
  );
  // Named series instead of the top ones.
  const n = await timeseries([
    ...DAYS,
    "--outdir",
    `${dir}/n`,
    "--series",
    "traffic=UDP,port=53",
    "--series",
    "traffic=0,port=0",
    "--json",
  ]);
  deepEqual(JSON.parse(n.stdout).series.map((x: { key: string }) => x.key), [
    "UDP/53",
    "ICMPEchoRequest/0",
  ]);
  const bad = await timeseries([...DAYS, "--series", "traffic=nope,port=1"]);
  equal(bad.code, 2);
  match(bad.stderr, /--series: "traffic=nope,port=1" does not name a traffic,port series/);
});

testWith(
  ["chromium"],
  "report.html renders in headless Chromium without console errors, with charts drawn",
  async () => {
    const r = await timeseries([
      ...DAYS,
      "--outdir",
      `${dir}/h`,
      "--top",
      "2",
      "--alert-min-events",
      "100",
    ]);
    equal(r.code, 0, r.stderr);
    const html = Deno.readTextFileSync(`${dir}/h/report.html`);
    ok(
      !/https?:\/\//.test(html.replace(/xmlns="http:\/\/www\.w3\.org\/2000\/svg"/g, "")),
      "the report loads something from the network",
    );
    const shot = `${dir}/h/shot.png`;
    const out = await screenshot(`${dir}/h/report.html`, shot, [820, 900], `${dir}/chrome`);
    equal(out.code, 0);
    const log = out.log;
    ok(!/CONSOLE\(\d+\).*(error|Uncaught)/i.test(log) && !/Uncaught/.test(log), log.slice(0, 500));
    const png = decodePng(Deno.readFileSync(shot));
    deepEqual([png.width, png.height], [820, 900]);
    let ink = 0;
    let blue = 0;
    let red = 0;
    for (let i = 0; i < png.pixels.length; i += png.channels) {
      const [r0, g, b] = [png.pixels[i], png.pixels[i + 1], png.pixels[i + 2]];
      if (r0 < 240 || g < 240 || b < 240) ink++;
      if (Math.abs(r0 - 0x1f) < 40 && Math.abs(g - 0x6f) < 40 && Math.abs(b - 0xb4) < 40) blue++;
      if (r0 > 180 && g < 60 && b < 60) red++;
    }
    const total = png.width * png.height;
    ok(ink / total > 0.02, `page nearly blank: ${ink} of ${total} pixels`);
    ok(blue > 300, `no packet line drawn (${blue} blue pixels)`);
    ok(red > 20, `no alert marker drawn (${red} red pixels)`);
  },
);

Deno.test("count EVENTFILE...: CSV files, summary table and JSON, error with file and line", async () => {
  const r = await count([...DAYS, "--outdir", `${dir}/c`, "--top", "2", "--json"]);
  equal(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout);
  equal(s.events, 1566);
  deepEqual(s.topPorts.map((p: { traffic: string; port: number }) => `${p.traffic}/${p.port}`), [
    "TCPSYN/23",
    "TCPSYN/445",
  ]);
  equal(s.fingerprints.mirai, 755);
  const files = Array.from(Deno.readDirSync(`${dir}/c`), (e) => e.name);
  equal(files.length, 24);
  ok(files.includes("tool_counts.csv") && files.includes("syn_signatures.csv"));
  // Files without the attribution's keys: every event unattributed.
  const tools = Deno.readTextFileSync(`${dir}/c/tool_counts.csv`).trim().split("\n");
  deepEqual([tools.length, tools[1].split(",").slice(0, 2)], [2, ["(none)", "1566"]]);
  deepEqual(s.tools, { zmap: 0, masscan: 0, nmap: 0, unicornscan: 0, mirai: 0 });
  const good = Deno.readTextFileSync(DAYS[0]).split("\n")[0];
  Deno.writeTextFileSync(`${dir}/bad.ndjson`, `${good}\n{"SourceIP": oops}\n`);
  const bad = await count([DAYS[0], `${dir}/bad.ndjson`, "--outdir", `${dir}/c2`]);
  equal(bad.code, 65);
  match(bad.stderr, /bad\.ndjson: line 2: malformed event/);
  const t = await count([DAYS[0], "--outdir", `${dir}/c3`]);
  match(t.stdout, /^events 1\d\d {2}packets [\d,]+/);
});

Deno.test("--outstate then --instate equals one run over all bins (file bins and day bins)", async () => {
  for (const bin of ["file", "day"]) {
    const common = ["--bin", bin, "--top", "3", "--alert-min-events", "100"];
    const one = await timeseries([...DAYS, "--outdir", `${dir}/one-${bin}`, ...common]);
    equal(one.code, 0, one.stderr);
    const a = await timeseries([
      ...DAYS.slice(0, 4),
      "--outdir",
      `${dir}/a-${bin}`,
      "--outstate",
      `${dir}/s-${bin}.state`,
      ...common,
    ]);
    equal(a.code, 0, a.stderr);
    const b = await timeseries([
      ...DAYS.slice(4),
      "--outdir",
      `${dir}/b-${bin}`,
      "--instate",
      `${dir}/s-${bin}.state`,
      ...common,
    ]);
    equal(b.code, 0, b.stderr);
    const names = Array.from(Deno.readDirSync(`${dir}/one-${bin}`), (e) => e.name).sort();
    deepEqual(Array.from(Deno.readDirSync(`${dir}/b-${bin}`), (e) => e.name).sort(), names);
    for (const n of names) {
      equal(
        Deno.readTextFileSync(`${dir}/b-${bin}/${n}`),
        Deno.readTextFileSync(`${dir}/one-${bin}/${n}`),
        `${bin} ${n}`,
      );
    }
  }
  const mismatch = await timeseries([
    DAYS[9],
    "--outdir",
    `${dir}/m`,
    "--instate",
    `${dir}/s-file.state`,
    "--bin",
    "day",
  ]);
  equal(mismatch.code, 65);
  match(mismatch.stderr, /s-file\.state: state was written with --bin file, this run uses 86400/);
  Deno.writeFileSync(`${dir}/junk.state`, new TextEncoder().encode("junk junk junk junk junk"));
  const junk = await timeseries([
    DAYS[9],
    "--outdir",
    `${dir}/m`,
    "--instate",
    `${dir}/junk.state`,
  ]);
  equal(junk.code, 65);
  match(junk.stderr, /junk\.state: byte 0: not a darknet-events state file of this kind/);
});

Deno.test("timeseries --pcap: packets and unique sources per traffic type per bin", async () => {
  const { pkt, capture } = await import("../aggregation/_events_helpers.ts");
  const S = 0xc6336401;
  const bytes = capture([
    pkt(0, { src: S, dst: 1 }),
    pkt(10, { src: S, dst: 2 }),
    pkt(20, { src: S + 1, dst: 3 }),
    pkt(30, { src: S + 2, dst: 4, proto: 17, dport: 53 }),
    pkt(70, { src: S, dst: 5 }),
  ]);
  Deno.writeFileSync(`${dir}/p.pcap`, bytes);
  const r = await timeseries(["--pcap", `${dir}/p.pcap`, "--bin", "60", "--outdir", `${dir}/p`]);
  equal(r.code, 0, r.stderr);
  deepEqual(Deno.readTextFileSync(`${dir}/p/pcap_timeseries.csv`).trim().split("\n"), [
    "bin_start,traffic,traffic_code,packets,unique_sources",
    "2020-10-21T16:00:00Z,TCPSYN,11,3,2",
    "2020-10-21T16:00:00Z,UDP,16,1,1",
    "2020-10-21T16:01:00Z,TCPSYN,11,1,1",
  ]);
  ok(Deno.readTextFileSync(`${dir}/p/pcap_packets.svg`).includes("<polyline"));
});

Deno.test("timeseries --pcap over two hours carrying state equals one run over both; a bad state is one line, exit 65", async () => {
  const { pkt, capture } = await import("../aggregation/_events_helpers.ts");
  const { ipv6Packet, ethernet } = await import("../../src/synth/frames.ts");
  const S = 0xc6336401;
  const v6 = (sec: number, last: number) => {
    const src = new Uint8Array(16).fill(0x20);
    src[15] = last;
    return {
      ...pkt(sec, { src: S, dst: 1 }),
      data: ethernet(ipv6Packet({ src, dst: src, proto: 6, flags: 2, dport: 22 })),
    };
  };
  // A source seen in both parts, in a bin that spans the cut (bins of 7 minutes from the
  // epoch: [T0 + 3180, T0 + 3600) holds 3590 and 3595).
  const h1 = [pkt(0, { src: S, dst: 1 }), pkt(3590, { src: S, dst: 2 }), v6(100, 1), v6(3592, 2)];
  const h2 = [
    pkt(3595, { src: S, dst: 3 }),
    pkt(3597, { src: S + 1, dst: 4 }),
    v6(3598, 2),
    v6(7000, 1),
  ];
  Deno.writeFileSync(`${dir}/h1.pcap`, capture(h1));
  Deno.writeFileSync(`${dir}/h2.pcap`, capture(h2));
  Deno.writeFileSync(`${dir}/both.pcap`, capture([...h1, ...h2]));
  const run = (input: string, out: string, more: string[] = []) =>
    timeseries(["--pcap", input, "--bin", "420", "--outdir", `${dir}/${out}`, ...more]);
  equal((await run(`${dir}/both.pcap`, "one")).code, 0);
  const a = await run(`${dir}/h1.pcap`, "a", ["--outstate", `${dir}/pts.state`]);
  equal(a.code, 0, a.stderr);
  const b = await run(`${dir}/h2.pcap`, "b", ["--instate", `${dir}/pts.state`]);
  equal(b.code, 0, b.stderr);
  const csv = (d: string) => Deno.readTextFileSync(`${dir}/${d}/pcap_timeseries.csv`);
  equal(csv("b"), csv("one"));
  ok(csv("one").split("\n").length > 4);
  // Mismatched bins, and a corrupt state.
  const other = await timeseries([
    "--pcap",
    `${dir}/h2.pcap`,
    "--bin",
    "60",
    "--outdir",
    `${dir}/c`,
    "--instate",
    `${dir}/pts.state`,
  ]);
  equal(other.code, 65);
  match(other.stderr, /^timeseries: .*pts\.state.*written with --bin 420, this run uses 60\n$/);
  const bytes = Deno.readFileSync(`${dir}/pts.state`);
  bytes[bytes.length - 5] ^= 0xff;
  Deno.writeFileSync(`${dir}/bad.state`, bytes);
  const corrupt = await run(`${dir}/h2.pcap`, "d", ["--instate", `${dir}/bad.state`]);
  equal(corrupt.code, 65);
  equal(corrupt.stderr.trim().split("\n").length, 1);
});

Deno.test("--help of count and timeseries lists every flag", async () => {
  const t = await timeseries(["--help"]);
  equal(t.code, 0);
  for (
    const f of [
      "--outdir",
      "--bin",
      "--by",
      "--top",
      "--series",
      "--window",
      "--alert-growth",
      "--alert-min-events",
      "--alert-z",
      "--instate",
      "--outstate",
      "--json",
      "--pcap",
      "--help",
    ]
  ) ok(new RegExp(`(  |, )${f}\\b`).test(t.stdout), f);
  const c = await count(["--help"]);
  equal(c.code, 0);
  for (
    const f of [
      "--outdir",
      "--telescope-size",
      "--large-coverage",
      "--min-events",
      "--pcap",
      "--top",
      "--json",
      "--help",
    ]
  ) {
    ok(new RegExp(`(  |, )${f}\\b`).test(c.stdout), f);
  }
});

Deno.test("country names with '|', '/', ':' and 300 characters: CSV columns intact, one series file each", async () => {
  const countries = ["A|B", "a/b", "a:b", "x".repeat(300), "x".repeat(300) + "y"];
  const lines = countries.flatMap((c, i) =>
    Array.from({ length: 3 }, (_, k) =>
      JSON.stringify({
        SourceIP: `192.0.2.${i * 3 + k + 1}`,
        Traffic: 11,
        Port: 23,
        Packets: 1,
        Bytes: 60,
        UniqueDests: 1,
        First: `2020-10-2${k + 1}T16:00:00Z`,
        Last: `2020-10-2${k + 1}T16:00:00Z`,
        Country: c,
      }))
  );
  Deno.writeTextFileSync(`${dir}/countries.ndjson`, lines.join("\n") + "\n");
  const c = await count([`${dir}/countries.ndjson`, "--outdir", `${dir}/cc`]);
  equal(c.code, 0, c.stderr);
  const rows = Deno.readTextFileSync(`${dir}/cc/country_counts.csv`).trim().split("\n").slice(1);
  ok(rows.includes("A|B,TCPSYN,11,23,3,3"), rows.join("\n"));
  const t = await timeseries([
    `${dir}/countries.ndjson`,
    "--by",
    "country",
    "--bin",
    "day",
    "--top",
    "5",
    "--outdir",
    `${dir}/tc`,
    "--json",
  ]);
  equal(t.code, 0, t.stderr);
  const files = JSON.parse(t.stdout).series.map((s: { file: string }) => s.file);
  equal(files.length, 5);
  equal(new Set(files).size, 5, files.join(" "));
  for (const f of files) ok(Deno.statSync(`${dir}/tc/${f}`).isFile, f);
});

import { deepEqual, equal, match, ok } from "node:assert/strict";
import { denoFlags, ENTRIES } from "../../src/cli/permissions.ts";
import { runCli, tempDir } from "../_helpers.ts";
import { screenshot, testWith } from "../_programs.ts";
import { decodePng } from "../_png.ts";
import { countryKey, signalMonth } from "../../src/synth/signal_month.ts";
import { SignalTable } from "../../src/series/signal_table.ts";

const parse = (args: string[], stdin?: Uint8Array) =>
  runCli(ENTRIES.parse, args, denoFlags("parse"), stdin);
const timeseries = (args: string[]) => runCli(ENTRIES.timeseries, args, denoFlags("timeseries"));
const dir = tempDir("signals-cli-");
const CAP = "testdata/real-scanners/scanners.pcap";
const DBS = [
  "--geoin",
  "testdata/mmdb/GeoIP2-City-Test.mmdb",
  "--pfx2asin",
  "testdata/pfx2as/routeviews-rv2-20160202-1200-excerpt.pfx2as.gz",
];

Deno.test("parse --seriesout: the capture worker and this thread (stdin) write the same bytes; timeseries --signals reads them", async () => {
  const common = ["--samples", "0", "--quiet", "--series-bin", "60", ...DBS];
  const a = await parse([
    "--pcap",
    CAP,
    "--eventout",
    `${dir}/a.json`,
    "--seriesout",
    `${dir}/a.series`,
    ...common,
  ]);
  equal(a.code, 0, a.stderr);
  const b = await parse(
    ["--pcap", "-", "--eventout", `${dir}/b.json`, "--seriesout", `${dir}/b.series`, ...common],
    Deno.readFileSync(CAP),
  );
  equal(b.code, 0, b.stderr);
  deepEqual(Deno.readFileSync(`${dir}/a.series`), Deno.readFileSync(`${dir}/b.series`));
  // The events are those of a run without it.
  const c = await parse([
    "--pcap",
    CAP,
    "--eventout",
    `${dir}/c.json`,
    "--samples",
    "0",
    "--quiet",
    ...DBS,
  ]);
  equal(c.code, 0, c.stderr);
  deepEqual(Deno.readFileSync(`${dir}/a.json`), Deno.readFileSync(`${dir}/c.json`));
  const t = await SignalTable.load([`${dir}/a.series`]);
  ok(t.keys.includes("total") && t.keys.some((k) => k.startsWith("asn=")));
  ok(t.keys.some((k) => k.startsWith("country=")) && t.keys.includes("tag=clean"));
  // Every source has one country and one AS: their series add up to the total's sources.
  const sum = (p: string) =>
    t.keys.filter((k) => k.startsWith(p)).reduce(
      (n, k) => n + t.sourcesOf(k)!.reduce((x, y) => x + y, 0),
      0,
    );
  const total = t.sourcesOf("total")!.reduce((x, y) => x + y, 0);
  equal(sum("country="), total);
  equal(sum("asn="), total);
  const r = await timeseries(["--signals", `${dir}/a.series`, "--outdir", `${dir}/o`, "--json"]);
  equal(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout);
  equal(s.binSeconds, 60);
  equal(s.bins, t.bins);
  for (
    const f of [
      "signal_series.csv",
      "signal_alerts.csv",
      "signal_alerts.ndjson",
      "signal_episodes.csv",
      "signal_episodes.ndjson",
      "data_gaps.csv",
      "signals.json",
      "signals_report.html",
    ]
  ) {
    ok(Deno.statSync(`${dir}/o/${f}`).isFile, f);
  }
});

Deno.test("--seriesout flags: usage errors (2); damaged series files (65) and missing ones (74) in one line", async () => {
  const u = async (args: string[], re: RegExp, run = parse) => {
    const r = await run(args);
    equal(r.code, 2, r.stderr);
    match(r.stderr, re);
  };
  await u(
    ["--pcap", CAP, "--eventout", `${dir}/u.json`, "--samples", "0", "--series-bin", "60"],
    /--series-bin needs --seriesout/,
  );
  await u([
    "--pcap",
    CAP,
    "--eventout",
    `${dir}/u.json`,
    "--samples",
    "0",
    "--seriesout",
    `${dir}/u.series`,
    "--series-by",
    "city",
  ], /--series-by: "city" is not one of/);
  await u(["--signals"], /--signals needs series files/, timeseries);
  await u(
    ["--signals", `${dir}/a.series`, "--baseline-window", "7 weeks"],
    /--baseline-window: expected a duration/,
    timeseries,
  );
  // The input is never a --seriesout target.
  const same = await parse([
    "--pcap",
    CAP,
    "--eventout",
    `${dir}/s.json`,
    "--samples",
    "0",
    "--seriesout",
    CAP,
  ]);
  equal(same.code, 2, same.stderr);
  Deno.writeFileSync(`${dir}/bad.series`, Deno.readFileSync(CAP).subarray(0, 100));
  const bad = await timeseries(["--signals", `${dir}/bad.series`, "--outdir", `${dir}/ob`]);
  equal(bad.code, 65, bad.stderr);
  match(bad.stderr, /bad\.series/);
  equal(bad.stderr.trim().split("\n").length, 1, bad.stderr);
  const gone = await timeseries(["--signals", `${dir}/none.series`, "--outdir", `${dir}/ob`]);
  equal(gone.code, 74, gone.stderr);
  equal(gone.stderr.trim().split("\n").length, 1, gone.stderr);
});

testWith(
  ["chromium"],
  "signals_report.html of a generated month renders in headless Chromium: series, baseline, gap and markers drawn, no console errors",
  async () => {
    const start = Date.UTC(2026, 10, 1) / 1000;
    const day = 86400;
    const outage = {
      series: countryKey(3),
      from: start + 9 * day,
      to: start + 9 * day + 6 * 3600,
      factor: 0.05,
    };
    const paths: string[] = [];
    for (
      const f of signalMonth({
        start,
        days: 14,
        countries: 8,
        changes: [outage],
        gaps: [{ from: start + 11 * day, to: start + 11.5 * day }],
      })
    ) {
      paths.push(`${dir}/${f.name}`);
      Deno.writeFileSync(paths.at(-1)!, f.bytes);
    }
    const r = await timeseries(["--signals", ...paths, "--outdir", `${dir}/h`]);
    equal(r.code, 0, r.stderr);
    match(r.stdout, /country=C003 +outage +critical/);
    const html = Deno.readTextFileSync(`${dir}/h/signals_report.html`);
    ok(
      !/https?:\/\//.test(html.replace(/xmlns="http:\/\/www\.w3\.org\/2000\/svg"/g, "")),
      "network",
    );
    match(html, /<section id="countries">[\s\S]*data-series="country=C003"/);
    // Only the country panel: a page of its own, so the screenshot shows it whole.
    const panel =
      html.match(/<figure class="panel" data-series="country=C003">[\s\S]*?<\/figure>/)![0];
    Deno.writeTextFileSync(
      `${dir}/h/panel.html`,
      `<!doctype html><html><body style="margin:0">${panel}</body></html>`,
    );
    for (const page of ["signals_report.html", "panel.html"]) {
      const shot = `${dir}/h/${page}.png`;
      const out = await screenshot(`${dir}/h/${page}`, shot, [1000, 700], `${dir}/chrome`);
      equal(out.code, 0);
      const log = out.log;
      ok(
        !/CONSOLE\(\d+\).*(error|Uncaught)/i.test(log) && !/Uncaught/.test(log),
        log.slice(0, 500),
      );
      if (page !== "panel.html") continue;
      const png = decodePng(Deno.readFileSync(shot));
      let blue = 0, red = 0, grey = 0;
      for (let i = 0; i < png.pixels.length; i += png.channels) {
        const [r0, g, b] = [png.pixels[i], png.pixels[i + 1], png.pixels[i + 2]];
        if (Math.abs(r0 - 0x1f) < 40 && Math.abs(g - 0x6f) < 40 && Math.abs(b - 0xb4) < 40) blue++;
        if (r0 > 180 && g < 60 && b < 60) red++;
        if (r0 === 0xe4 && g === 0xe4 && b === 0xe4) grey++;
      }
      ok(blue > 500, `no series drawn (${blue} blue pixels)`);
      ok(red > 20, `no outage marker drawn (${red} red pixels)`);
      ok(grey > 2000, `no data gap shaded (${grey} grey pixels)`);
    }
  },
);

Deno.test("timeseries --pcap: the signals of the same bins, the series file parse --seriesout writes", async () => {
  const r = await timeseries([
    "--pcap",
    CAP,
    "--bin",
    "60",
    "--outdir",
    `${dir}/tp`,
    "--seriesout",
    `${dir}/tp.series`,
    ...DBS,
  ]);
  equal(r.code, 0, r.stderr);
  const p = await parse([
    "--pcap",
    CAP,
    "--eventout",
    `${dir}/tp.json`,
    "--samples",
    "0",
    "--quiet",
    "--seriesout",
    `${dir}/tpp.series`,
    "--series-bin",
    "60",
    ...DBS,
  ]);
  equal(p.code, 0, p.stderr);
  deepEqual(Deno.readFileSync(`${dir}/tp.series`), Deno.readFileSync(`${dir}/tpp.series`));
  // pcap_timeseries.csv's rows are the signal's traffic series.
  const pcap = Deno.readTextFileSync(`${dir}/tp/pcap_timeseries.csv`).trim().split("\n").slice(1)
    .map((l) => l.split(",")).map(([bin, traffic, , packets, sources]) =>
      `${bin} ${traffic} ${packets} ${sources}`
    );
  const sig = Deno.readTextFileSync(`${dir}/tp/signal_series.csv`).trim().split("\n").slice(1)
    .map((l) => l.split(",")).filter((c) => c[0].startsWith("traffic=") && c[2] !== "0")
    .map(([k, bin, packets, , sources]) => `${bin} ${k.slice(8)} ${packets} ${sources}`);
  ok(sig.length > 0);
  for (const row of sig) ok(pcap.includes(row), row);
  const same = await timeseries(["--pcap", CAP, "--outdir", `${dir}/tp2`, "--seriesout", CAP]);
  equal(same.code, 2, same.stderr);
});

Deno.test("parse --rotate --seriesout: a series file per window; united they equal one run's", async () => {
  const demo = "testdata/demo/scan.pcap.gz";
  const r = await parse([
    "--pcap",
    demo,
    "--outdir",
    `${dir}/rot`,
    "--rotate",
    "900",
    "--samples",
    "0",
    "--quiet",
    "--seriesout",
    `${dir}/rot/series`,
  ]);
  equal(r.code, 0, r.stderr);
  const files = [...Deno.readDirSync(`${dir}/rot/series`)].map((e) => e.name).sort();
  deepEqual(files, [
    "series_2020-10-21T16-00_2020-10-21T16-15.series",
    "series_2020-10-21T16-15_2020-10-21T16-30.series",
    "series_2020-10-21T16-30_2020-10-21T16-45.series",
    "series_2020-10-21T16-45_2020-10-21T17-00.series",
  ]);
  const one = await parse([
    "--pcap",
    demo,
    "--eventout",
    `${dir}/one.json`,
    "--samples",
    "0",
    "--quiet",
    "--seriesout",
    `${dir}/one.series`,
  ]);
  equal(one.code, 0, one.stderr);
  const a = await SignalTable.load(files.map((f) => `${dir}/rot/series/${f}`));
  const b = await SignalTable.load([`${dir}/one.series`]);
  deepEqual(a.keys.toSorted(), b.keys.toSorted());
  for (const k of b.keys) deepEqual(a.sourcesOf(k), b.sourcesOf(k), k);
  deepEqual((await a.volumes(["total"])).get("total"), (await b.volumes(["total"])).get("total"));
  const bad = await parse([
    "--pcap",
    demo,
    "--outdir",
    `${dir}/rot2`,
    "--rotate",
    "700",
    "--samples",
    "0",
    "--seriesout",
    `${dir}/rot2/series`,
  ]);
  equal(bad.code, 2);
  match(bad.stderr, /--rotate 700 is not a multiple of the series bin \(300 s\)/);
});

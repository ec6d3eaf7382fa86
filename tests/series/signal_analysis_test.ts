import { deepEqual, equal, ok } from "node:assert/strict";
import { analyzeSignals, signalFiles } from "../../src/series/signal_analysis.ts";
import { SignalTable } from "../../src/series/signal_table.ts";
import { countryKey, signalMonth } from "../../src/synth/signal_month.ts";
import { tempDir } from "../_helpers.ts";

const DAY = 86400;
const START = Date.UTC(2026, 10, 1) / 1000; // 2026-11-01T00:00Z
const iso = (s: number) => new Date(s * 1000).toISOString().replace(".000Z", "Z");
// A month of 5-minute bins for 20 countries, daily files, with diurnal variation and noise:
// country 7 drops to 5 % for 6 hours on day 12, country 4 surges sixfold for 2 hours on day 18,
// and the capture has nothing for 10 hours on day 22 (the sensor was down).
const OUTAGE = {
  series: countryKey(7),
  from: START + 12 * DAY + 9 * 3600,
  to: START + 12 * DAY + 15 * 3600,
  factor: 0.05,
};
const SURGE = {
  series: countryKey(4),
  from: START + 18 * DAY + 20 * 3600,
  to: START + 18 * DAY + 22 * 3600,
  factor: 6,
};
const GAP = { from: START + 22 * DAY + 3600, to: START + 22 * DAY + 11 * 3600 };
const dir = tempDir("signals-");
const paths: string[] = [];
for (
  const f of signalMonth({
    start: START,
    days: 30,
    countries: 20,
    changes: [OUTAGE, SURGE],
    gaps: [GAP],
  })
) {
  Deno.writeFileSync(`${dir}/${f.name}`, f.bytes);
  paths.push(`${dir}/${f.name}`);
}

Deno.test("a generated month: exactly the injected outage and surge are found, none in the capture gap", async () => {
  // The files in reverse order: the table orders bins by time, not by file.
  const t = await SignalTable.load([...paths].reverse());
  equal(t.bins, 30 * 288);
  equal(t.start, START);
  const r = analyzeSignals(t);
  deepEqual(
    r.episodes.map((e) => [e.series, e.kind, e.level, e.start, e.end, e.bins]),
    [
      [OUTAGE.series, "outage", "critical", iso(OUTAGE.from), iso(OUTAGE.to), 72],
      [SURGE.series, "surge", "critical", iso(SURGE.from), iso(SURGE.to), 24],
    ],
  );
  ok(r.episodes[0].extremeRatio < 0.1 && r.episodes[1].extremeRatio >= 5);
  ok(r.episodes.every((e) => !e.active));
  deepEqual(r.gaps, [{ start: iso(GAP.from), end: iso(GAP.to), bins: 120 }]);
  // No alert in or next to the gap, and every alert inside an injected change.
  for (const a of r.alerts) {
    const s = Date.parse(a.binStart) / 1000;
    const c = a.series === OUTAGE.series ? OUTAGE : SURGE;
    ok(a.series === c.series && s >= c.from && s < c.to, `${a.series} ${a.binStart}`);
  }
  // Inpainting: the baseline the bin after the outage is the one before it (within one bin).
  const d = r.shown.find((s) => s.key === OUTAGE.series)!.detection;
  const i0 = (OUTAGE.from - START) / 300;
  const i1 = (OUTAGE.to - START) / 300;
  const before = d.baseline[i0];
  ok(Math.abs(d.baseline[i1] - before) / before < 0.05, `${d.baseline[i1]} vs ${before}`);
  ok(Math.abs(d.baseline[i1 - 1] - before) / before < 0.05);
  // Gap bins have no baseline.
  equal(d.baseline[(GAP.from - START) / 300], NaN);
});

Deno.test("without inpainting a long outage drags its baseline down; with it, it does not", async () => {
  const long = { ...OUTAGE, to: OUTAGE.from + 2 * DAY };
  const files = [
    ...signalMonth({
      start: START,
      days: 16,
      countries: 3,
      changes: [{ ...long, series: countryKey(2) }],
    }),
  ];
  const p = files.map((f, i) => {
    const path = `${dir}/long-${i}.series`;
    Deno.writeFileSync(path, f.bytes);
    return path;
  });
  const t = await SignalTable.load(p);
  const end = (long.to - START) / 300;
  const key = countryKey(2);
  const opts = { window: 576, minHistory: 288 }; // a 2-day window: the outage would fill it
  const a = analyzeSignals(t, { detect: opts, top: 0 }).shown.find((s) => s.key === key)!;
  const pre = a.detection.baseline[(long.from - START) / 300];
  ok(Math.abs(a.detection.baseline[end - 1] - pre) / pre < 0.1, "inpainted baseline held");
  const plain = analyzeSignals(t, {
    detect: { ...opts, inpaintLow: 0, inpaintHigh: Infinity, floor: 0 },
    top: 5,
  })
    .shown.find((s) => s.key === key)!;
  ok(plain.detection.baseline[end - 1] < pre * 0.2, "the plain median followed the outage down");
});

Deno.test("signal files: columns name the bin width, gap rows are blank, CSV and NDJSON agree", async () => {
  const t = await SignalTable.load(paths);
  const r = analyzeSignals(t, { top: 2 });
  const out = await signalFiles(t, r);
  const lines = out["signal_series.csv"].trimEnd().split("\n");
  equal(
    lines[0],
    "series,bin_start,packets_per_300s,bytes_per_300s,unique_sources_per_300s,baseline,alert,data_gap",
  );
  const gapRow = lines.find((l) => l.startsWith(`total,${iso(GAP.from)},`))!;
  equal(gapRow, `total,${iso(GAP.from)},,,,,,1`);
  const nd = out["signal_episodes.ndjson"].trimEnd().split("\n").map((l) => JSON.parse(l));
  deepEqual(nd, r.episodes);
  equal(out["signal_alerts.csv"].trimEnd().split("\n").length, r.alerts.length + 1);
  const first = lines.find((l) => l.startsWith(`${OUTAGE.series},${iso(OUTAGE.from)},`))!.split(
    ",",
  );
  equal(first[6], "outage critical");
  equal(Number(first[2]), Number(first[4]) * 7); // the generator's 7 packets a source
  const summary = JSON.parse(out["signals.json"]);
  equal(summary.bins, 8640);
  ok(summary.shown.includes(OUTAGE.series) && summary.shown.includes("total"));
});

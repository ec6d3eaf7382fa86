import { deepEqual, equal, ok } from "node:assert/strict";
import { detect, DETECT_DEFAULTS, episodes } from "../../src/series/outage_detector.ts";

Deno.test("the median of the history before each bin; none before the minimum history", () => {
  const v = [10, 30, 20, 40, 50, 60];
  const d = detect(v, new Uint8Array(6), {
    window: 3,
    minHistory: 2,
    floor: 0,
    inpaintHigh: Infinity,
    inpaintLow: 0,
  });
  // bins 0-1 build the history; bin 2: median(10,30) = 20; bin 3: median(10,30,20) = 20;
  // bin 4: median(30,20,40) = 30; bin 5: median(20,40,50) = 40.
  deepEqual([...d.baseline], [NaN, NaN, 20, 20, 30, 40]);
});

Deno.test("levels: the ratio rules, only above the floor; the floor counts the baseline, not the value", () => {
  const base = Array(20).fill(100);
  const at = (x: number, floor = 15) => {
    const d = detect([...base, x], new Uint8Array(21), { window: 20, minHistory: 20, floor });
    return d.level[20];
  };
  deepEqual([at(9), at(10), at(19), at(20), at(100), at(299), at(300), at(499), at(500)], [
    -2,
    -1,
    -1,
    0,
    0,
    0,
    1,
    1,
    2,
  ]);
  equal(at(0, 100), 0); // the baseline (100) is not above the floor
  equal(at(0, 99), -2);
});

Deno.test("inpainting lasts at most a window; then the new level is the baseline", () => {
  const v = [...Array(10).fill(100), ...Array(30).fill(5)];
  const d = detect(v, new Uint8Array(40), { window: 10, minHistory: 10 });
  equal(d.baseline[10], 100);
  equal(d.baseline[19], 100); // 10 bins of the outage inpainted
  ok(d.baseline[39] < 10, `${d.baseline[39]}`); // accepted after a window of it
  equal(episodes(d, v, new Uint8Array(40)).length, 1);
});

Deno.test("a data gap is skipped: no baseline, no level, and the episode runs across it", () => {
  const v = [...Array(10).fill(100), 5, 0, 5, 100];
  const gap = Uint8Array.from(v, (_, i) => (i === 11 ? 1 : 0));
  const d = detect(v, gap, { window: 10, minHistory: 10 });
  equal(d.level[11], 0);
  equal(d.baseline[11], NaN);
  const e = episodes(d, v, gap);
  deepEqual(e.map((x) => [x.kind, x.first, x.last, x.bins]), [["outage", 10, 12, 2]]);
});

Deno.test("README's rule table states the defaults of the code", () => {
  const readme = Deno.readTextFileSync(new URL("../../README.md", import.meta.url));
  const section = readme.slice(
    readme.indexOf("## Outage and surge signals"),
    readme.indexOf("## Exit status"),
  );
  const flag = (name: string) =>
    Number(new RegExp("`--" + name + "` \\(([\\d.]+)\\)").exec(section)?.[1]);
  equal(flag("inpaint-low"), DETECT_DEFAULTS.inpaintLow);
  equal(flag("inpaint-high"), DETECT_DEFAULTS.inpaintHigh);
  equal(flag("floor"), DETECT_DEFAULTS.floor);
  equal(flag("critical"), DETECT_DEFAULTS.critical);
  equal(flag("warning"), DETECT_DEFAULTS.warning);
  equal(flag("surge-warning"), DETECT_DEFAULTS.surgeWarning);
  equal(flag("surge-critical"), DETECT_DEFAULTS.surgeCritical);
  ok(
    section.includes("`--baseline-window` of bins with data (7 days)") &&
      DETECT_DEFAULTS.window === 7 * 288,
  );
  ok(section.includes("`--min-history` (1 day)") && DETECT_DEFAULTS.minHistory === 288);
});

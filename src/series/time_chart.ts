/**
 * Self-contained SVG charts on a true time axis: a bin's x is its time, so a data gap is a gap
 * (shaded, the lines broken), not a joint between its neighbours. The chart takes the page's
 * width (`width="100%"` with a view box). Long series are drawn as means of buckets of bins
 * (at most 1,500 points a line); alert markers stay on their bins.
 *
 * @module
 */

/** One line of a {@link TimeChart}. */
export interface TimeLine {
  /** Legend text. */
  name: string;
  /** One value per bin (NaN: not drawn). */
  values: ArrayLike<number>;
  /** CSS colour. */
  color: string;
  /** Draw dashed. */
  dashed?: boolean;
}

/** A chart of bins on a time axis. */
export interface TimeChart {
  /** Chart title. */
  title: string;
  /** Start of the first bin, seconds. */
  start: number;
  /** Bin width, seconds. */
  binSeconds: number;
  /** Unit of the y axis. */
  unit: string;
  /** The lines drawn. */
  lines: TimeLine[];
  /** 1 for a bin without data (shaded, lines broken). */
  gap?: Uint8Array;
  /** Alert bins, on the first line: tooltip text and colour. */
  markers?: { index: number; text: string; color: string }[];
}

const STEPS = [
  60,
  300,
  900,
  1800,
  3600,
  3 * 3600,
  6 * 3600,
  12 * 3600,
  86400,
  2 * 86400,
  7 * 86400,
  14 * 86400,
  28 * 86400,
];

import { esc, valueAxis } from "../analysis/svg_chart.ts";

/**
 * Renders a chart as an SVG element.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { timeChart } from "./time_chart.ts";
 * const svg = timeChart({
 *   title: "t", start: 0, binSeconds: 300, unit: "sources",
 *   lines: [{ name: "x", values: [1, 3, 0, 2], color: "#06c" }],
 *   gap: Uint8Array.of(0, 0, 1, 0),
 * });
 * ok(svg.includes('class="gap"') && (svg.match(/<polyline/g) ?? []).length === 2);
 * ```
 */
export function timeChart(c: TimeChart): string {
  const W = 1000;
  const H = 300;
  const L = 64;
  const R = 16;
  const T = 46;
  const B = 44;
  const n = c.lines[0]?.values.length ?? 0;
  const k = Math.max(1, Math.ceil(n / 1500)); // bins per drawn point
  const m = Math.ceil(n / k);
  const gapAt = (j: number) => {
    if (!c.gap) return false;
    for (let i = j * k; i < Math.min(n, (j + 1) * k); i++) if (!c.gap[i]) return false;
    return true;
  };
  const pointsOf = (v: ArrayLike<number>) => {
    const out = new Float64Array(m);
    for (let j = 0; j < m; j++) {
      let s = 0;
      let c2 = 0;
      for (let i = j * k; i < Math.min(n, (j + 1) * k); i++) {
        if (c.gap?.[i] || !Number.isFinite(v[i])) continue;
        s += v[i];
        c2++;
      }
      out[j] = c2 ? s / c2 : NaN;
    }
    return out;
  };
  const lines = c.lines.map((l) => pointsOf(l.values));
  let max = 1;
  for (const p of lines) for (const v of p) if (v > max) max = v;
  const axis = valueAxis({ W, H, L, R, T, B }, max, c.unit);
  const y = axis.y;
  const t0 = c.start;
  const t1 = c.start + Math.max(1, n) * c.binSeconds;
  const x = (t: number) => L + ((t - t0) / (t1 - t0)) * (W - L - R);
  const xj = (j: number) => x(t0 + (j * k + k / 2) * c.binSeconds);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="100%" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11" role="img">`,
    `<title>${esc(c.title)}</title>`,
    `<rect x="0" y="0" width="${W}" height="${H}" fill="#fff"/>`,
    `<text x="${W / 2}" y="18" text-anchor="middle" font-size="14" font-weight="bold">${
      esc(c.title)
    }</text>`,
  ];
  // Data gaps first, under everything.
  for (let j = 0; j < m;) {
    if (!gapAt(j)) {
      j++;
      continue;
    }
    let e = j;
    while (e < m && gapAt(e)) e++;
    const a = x(t0 + j * k * c.binSeconds);
    const b = x(t0 + Math.min(n, e * k) * c.binSeconds);
    out.push(
      `<rect class="gap" x="${a.toFixed(1)}" y="${T}" width="${
        Math.max(1, b - a).toFixed(1)
      }" height="${H - T - B}" fill="#e4e4e4"><title>data gap: ${
        iso(t0 + j * k * c.binSeconds)
      } to ${iso(t0 + Math.min(n, e * k) * c.binSeconds)}</title></rect>`,
    );
    j = e;
  }
  out.push(...axis.svg);
  const span = t1 - t0;
  const tick = STEPS.find((s) => span / s <= 10) ?? Math.ceil(span / 10 / 86400) * 86400;
  for (let t = Math.ceil(t0 / tick) * tick; t <= t1; t += tick) {
    const label = tick >= 86400 ? iso(t).slice(0, 10) : iso(t).slice(5, 16).replace("T", " ") + "Z";
    out.push(
      `<line x1="${x(t).toFixed(1)}" y1="${H - B}" x2="${x(t).toFixed(1)}" y2="${
        H - B + 4
      }" stroke="#333"/>`,
      // A label at the right edge ends there instead of running off the chart.
      `<text x="${x(t).toFixed(1)}" y="${H - B + 16}" text-anchor="${
        x(t) > W - R - 40 ? "end" : "middle"
      }">${label}</text>`,
    );
  }
  out.push(
    `<text x="${W - R}" y="${H - 6}" text-anchor="end" fill="#555">UTC; bins of ${c.binSeconds} s${
      k > 1 ? `, each point the mean of ${k} bins` : ""
    }</text>`,
  );
  c.lines.forEach((l, li) => {
    const p = lines[li];
    let seg: string[] = [];
    const flush = () => {
      if (seg.length) {
        out.push(
          `<polyline class="series" fill="none" stroke="${l.color}" stroke-width="1.5"${
            l.dashed ? ' stroke-dasharray="5,4"' : ""
          } points="${seg.join(" ")}"/>`,
        );
      }
      seg = [];
    };
    for (let j = 0; j < m; j++) {
      if (!Number.isFinite(p[j])) flush();
      else seg.push(`${xj(j).toFixed(1)},${y(p[j]).toFixed(1)}`);
    }
    flush();
    out.push(
      `<rect x="${L + 10 + li * 190}" y="29" width="12" height="3" fill="${l.color}"/>`,
      `<text x="${L + 27 + li * 190}" y="34">${esc(l.name)}</text>`,
    );
  });
  const first = lines[0];
  for (const mk of c.markers ?? []) {
    const j = Math.floor(mk.index / k);
    const v = Number.isFinite(first?.[j]) ? first[j] : 0;
    out.push(
      `<circle class="alert" cx="${xj(j).toFixed(1)}" cy="${
        y(v).toFixed(1)
      }" r="5" fill="none" stroke="${mk.color}" stroke-width="2"><title>${
        esc(mk.text)
      }</title></circle>`,
    );
  }
  out.push("</svg>");
  return out.join("\n") + "\n";
}

function iso(sec: number): string {
  return new Date(sec * 1000).toISOString().replace(".000Z", "Z");
}

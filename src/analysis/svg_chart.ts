/**
 * Self-contained SVG line charts (no scripts, no external resources): labelled axes with
 * "nice" value ticks and bin labels, one polyline per line, and red markers on alert bins.
 *
 * @module
 */

/** One line of a chart. */
export interface ChartLine {
  /** Legend text. */
  name: string;
  /** One value per bin. */
  values: number[];
  /** CSS colour. */
  color: string;
  /** Draw dashed. */
  dashed?: boolean;
}

/** A chart. */
export interface Chart {
  /** Chart title. */
  title: string;
  /** Bin labels (x axis). */
  labels: string[];
  /** The lines drawn. */
  lines: ChartLine[];
  /** Unit of the y axis, e.g. "packets". */
  unit: string;
  /** Bins to mark as alerts, with a tooltip each. */
  markers?: { index: number; text: string }[];
}

/** Text for SVG and HTML: `&`, `<`, `>` and `"` escaped. */
export const esc = (s: string): string =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

function niceStep(max: number): number {
  const raw = max / 5;
  const p = 10 ** Math.floor(Math.log10(raw || 1));
  return [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw) ?? p * 10;
}

function fmt(v: number): string {
  if (v >= 1e9) return `${+(v / 1e9).toPrecision(3)}G`;
  if (v >= 1e6) return `${+(v / 1e6).toPrecision(3)}M`;
  if (v >= 1e3) return `${+(v / 1e3).toPrecision(3)}k`;
  return `${+v.toPrecision(3)}`;
}

/** A chart's plot area in its view box: width, height and the left, right, top, bottom margins. */
export interface PlotBox {
  /** View box width. */
  W: number;
  /** View box height. */
  H: number;
  /** Left margin. */
  L: number;
  /** Right margin. */
  R: number;
  /** Top margin. */
  T: number;
  /** Bottom margin. */
  B: number;
}

/**
 * The value axis of a chart whose largest value is `max`: its SVG (grid lines with "nice"
 * values, the axes, the unit) and the scale (`top`, the axis's end, and `y`, a value's height).
 *
 * @example
 * ```ts
 * import { equal, ok } from "node:assert/strict";
 * import { valueAxis } from "./svg_chart.ts";
 * const a = valueAxis({ W: 100, H: 100, L: 10, R: 10, T: 10, B: 10 }, 37, "packets");
 * equal(a.top, 40);
 * equal(a.y(0), 90);
 * ok(a.svg.join("").includes(">packets</text>"));
 * ```
 */
export function valueAxis(
  b: PlotBox,
  max: number,
  unit: string,
): { svg: string[]; top: number; y: (v: number) => number } {
  const { W, H, L, R, T, B } = b;
  const step = niceStep(Math.max(1, max));
  const top = Math.ceil(Math.max(1, max) / step) * step;
  const y = (v: number) => T + (H - T - B) * (1 - v / top);
  const svg: string[] = [];
  for (let v = 0; v <= top + 1e-9; v += step) {
    svg.push(
      `<line x1="${L}" y1="${y(v).toFixed(1)}" x2="${W - R}" y2="${
        y(v).toFixed(1)
      }" stroke="#ddd"/>`,
      `<text x="${L - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${fmt(v)}</text>`,
    );
  }
  const mid = (T + H - B) / 2;
  svg.push(
    `<line x1="${L}" y1="${T}" x2="${L}" y2="${H - B}" stroke="#333"/>`,
    `<line x1="${L}" y1="${H - B}" x2="${W - R}" y2="${H - B}" stroke="#333"/>`,
    `<text x="16" y="${mid}" text-anchor="middle" transform="rotate(-90 16 ${mid})">${
      esc(unit)
    }</text>`,
  );
  return { svg, top, y };
}

/**
 * Renders a chart as an SVG document.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { lineChart } from "./svg_chart.ts";
 * const svg = lineChart({ title: "t", labels: ["a", "b"], unit: "packets", lines: [{ name: "x", values: [1, 3], color: "#06c" }] });
 * ok(svg.startsWith("<svg") && svg.includes("<polyline"));
 * ```
 */
export function lineChart(c: Chart): string {
  const W = 760;
  const H = 320;
  const L = 70;
  const R = 20;
  const T = 52;
  const B = 70;
  const n = c.labels.length;
  const max = Math.max(1, ...c.lines.flatMap((l) => l.values.filter(Number.isFinite)));
  const axis = valueAxis({ W, H, L, R, T, B }, max, c.unit);
  const y = axis.y;
  const x = (i: number) => L + (n <= 1 ? (W - L - R) / 2 : (i * (W - L - R)) / (n - 1));
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="100%" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`,
    `<title>${esc(c.title)}</title>`,
    `<rect x="0" y="0" width="${W}" height="${H}" fill="#fff"/>`,
    `<text x="${W / 2}" y="20" text-anchor="middle" font-size="14" font-weight="bold">${
      esc(c.title)
    }</text>`,
  );
  out.push(...axis.svg);
  const every = Math.max(1, Math.ceil(n / 12));
  for (let i = 0; i < n; i += every) {
    out.push(
      `<text x="${x(i).toFixed(1)}" y="${H - B + 14}" text-anchor="end" transform="rotate(-35 ${
        x(i).toFixed(1)
      } ${H - B + 14})">${esc(c.labels[i])}</text>`,
    );
  }
  c.lines.forEach((l, k) => {
    const pts = l.values.map((v, i) =>
      `${x(i).toFixed(1)},${y(Number.isFinite(v) ? v : 0).toFixed(1)}`
    ).join(" ");
    out.push(
      `<polyline fill="none" stroke="${l.color}" stroke-width="2"${
        l.dashed ? ' stroke-dasharray="5,4"' : ""
      } points="${pts}"/>`,
      `<rect x="${L + 10 + k * 170}" y="33" width="12" height="3" fill="${l.color}"/>`,
      `<text x="${L + 27 + k * 170}" y="38">${esc(l.name)}</text>`,
    );
  });
  const first = c.lines[0]?.values ?? [];
  for (const m of c.markers ?? []) {
    const v = first[m.index] ?? 0;
    out.push(
      `<circle cx="${x(m.index).toFixed(1)}" cy="${
        y(v).toFixed(1)
      }" r="6" fill="none" stroke="#d00" stroke-width="2"><title>${esc(m.text)}</title></circle>`,
    );
  }
  out.push("</svg>");
  return out.join("\n") + "\n";
}

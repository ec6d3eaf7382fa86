/**
 * Outage and surge detection on one series, as IODA's telescope alerts work: a moving median
 * baseline with inpainting, and rules with a floor.
 *
 * - The baseline of a bin is the median of the history before it: the last `window` bins'
 *   values (data-gap bins are skipped: they neither enter the history nor raise alerts).
 * - Inpainting: while a value is extreme (ratio to the baseline below `inpaintLow` or above
 *   `inpaintHigh`), the history is fed the baseline itself instead, for at most `window`
 *   consecutive bins — so an outage does not drag its own baseline down (after a window of it,
 *   the new level is accepted).
 * - Rules, only where the baseline is above `floor` and the history holds `minHistory` bins:
 *   critical outage below `critical` × baseline, warning below `warning` ×; surge warning at
 *   `surgeWarning` × and critical at `surgeCritical` ×.
 * - Consecutive alert bins of one direction (gaps skipped) make one episode.
 *
 * @module
 */

/** Settings of {@link detect}. */
export interface DetectOptions {
  /**
   * Bins of history the median is taken over.
   * @default {2016} (7 days of 5-minute bins)
   */
  window?: number;
  /**
   * Bins of history needed before any alert.
   * @default {288}
   */
  minHistory?: number;
  /**
   * A value below this times the baseline is extreme (inpainted).
   * @default {0.8}
   */
  inpaintLow?: number;
  /**
   * A value above this times the baseline is extreme (inpainted).
   * @default {2}
   */
  inpaintHigh?: number;
  /**
   * No alert unless the baseline is above this.
   * @default {15}
   */
  floor?: number;
  /**
   * Critical outage below this times the baseline.
   * @default {0.1}
   */
  critical?: number;
  /**
   * Outage warning below this times the baseline.
   * @default {0.2}
   */
  warning?: number;
  /**
   * Surge warning at this times the baseline.
   * @default {3}
   */
  surgeWarning?: number;
  /**
   * Critical surge at this times the baseline.
   * @default {5}
   */
  surgeCritical?: number;
}

/** Alert level of a bin: outage −2 critical, −1 warning; surge 1 warning, 2 critical. */
export type Level = -2 | -1 | 0 | 1 | 2;

/** Per bin: the baseline (NaN where none) and the level. */
export interface Detection {
  /** The baseline of each bin (NaN in gaps and before the minimum history). */
  baseline: Float64Array;
  /** The {@link Level} of each bin. */
  level: Int8Array;
}

/** The defaults of {@link DetectOptions}. */
export const DETECT_DEFAULTS: Required<DetectOptions> = {
  window: 2016,
  minHistory: 288,
  inpaintLow: 0.8,
  inpaintHigh: 2,
  floor: 15,
  critical: 0.1,
  warning: 0.2,
  surgeWarning: 3,
  surgeCritical: 5,
};

/**
 * Baseline and alert level per bin of `values`, skipping bins where `gap` is 1.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { detect } from "./outage_detector.ts";
 * const v = Array.from({ length: 40 }, (_, i) => (i >= 30 && i < 33 ? 5 : 100));
 * const d = detect(v, new Uint8Array(40), { window: 20, minHistory: 10 });
 * equal(d.level[30], -2); // 5 % of a baseline of 100
 * equal(d.level[29], 0);
 * equal(d.baseline[33], 100); // inpainted: the outage did not lower it
 * ```
 */
export function detect(
  values: ArrayLike<number>,
  gap: Uint8Array,
  options: DetectOptions = {},
): Detection {
  const o = { ...DETECT_DEFAULTS, ...options };
  const n = values.length;
  const W = Math.max(1, o.window);
  const baseline = new Float64Array(n).fill(NaN);
  const level = new Int8Array(n);
  // The history: a ring of the last W values fed, and the same values sorted.
  const ring = new Float64Array(W);
  const sorted = new Float64Array(W);
  let size = 0;
  let head = 0;
  let extremeRun = 0;
  const find = (x: number) => {
    let lo = 0;
    let hi = size;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (sorted[mid] < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const feed = (x: number) => {
    if (size === W) {
      const old = ring[head];
      const at = find(old);
      sorted.copyWithin(at, at + 1, size);
      size--;
    }
    ring[head] = x;
    head = (head + 1) % W;
    const at = find(x);
    sorted.copyWithin(at + 1, at, size);
    sorted[at] = x;
    size++;
  };
  for (let i = 0; i < n; i++) {
    if (gap[i]) continue;
    const v = values[i];
    if (size < Math.max(1, o.minHistory)) {
      feed(v);
      continue;
    }
    const m = size & 1 ? sorted[size >> 1] : (sorted[size / 2 - 1] + sorted[size / 2]) / 2;
    baseline[i] = m;
    const ratio = m > 0 ? v / m : NaN;
    if (m > o.floor) {
      if (ratio < o.critical) level[i] = -2;
      else if (ratio < o.warning) level[i] = -1;
      else if (ratio >= o.surgeCritical) level[i] = 2;
      else if (ratio >= o.surgeWarning) level[i] = 1;
    }
    const extreme = ratio < o.inpaintLow || ratio > o.inpaintHigh;
    if (extreme && extremeRun < W) {
      extremeRun++;
      feed(m);
    } else {
      extremeRun = extreme ? extremeRun : 0;
      feed(v);
    }
  }
  return { baseline, level };
}

/** A run of alert bins of one direction. */
export interface Episode {
  /** Its direction. */
  kind: "outage" | "surge";
  /** The worst level reached. */
  level: "warning" | "critical";
  /** First alert bin (index). */
  first: number;
  /** Last alert bin (index). */
  last: number;
  /** Alert bins in it. */
  bins: number;
  /** The lowest (outage) or highest (surge) ratio to the baseline. */
  extremeRatio: number;
}

/**
 * The episodes of a detection: consecutive alert bins of one direction, data gaps skipped.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { episodes } from "./outage_detector.ts";
 * const level = Int8Array.of(0, -1, -2, 0, 0, 1);
 * const baseline = Float64Array.of(100, 100, 100, 100, 100, 100);
 * const e = episodes({ level, baseline }, [100, 15, 5, 100, 0, 400], Uint8Array.of(0, 0, 0, 0, 1, 0));
 * deepEqual(e.map((x) => [x.kind, x.level, x.first, x.last, x.extremeRatio]), [
 *   ["outage", "critical", 1, 2, 0.05],
 *   ["surge", "warning", 5, 5, 4],
 * ]);
 * ```
 */
export function episodes(d: Detection, values: ArrayLike<number>, gap: Uint8Array): Episode[] {
  const out: Episode[] = [];
  let cur: Episode | null = null;
  for (let i = 0; i < d.level.length; i++) {
    if (gap[i]) continue;
    const l = d.level[i];
    const kind = l < 0 ? "outage" : l > 0 ? "surge" : null;
    if (cur && kind !== cur.kind) {
      out.push(cur);
      cur = null;
    }
    if (!kind) continue;
    const ratio = values[i] / d.baseline[i];
    if (!cur) {
      cur = { kind, level: "warning", first: i, last: i, bins: 0, extremeRatio: ratio };
    }
    cur.last = i;
    cur.bins++;
    if (Math.abs(l) === 2) cur.level = "critical";
    cur.extremeRatio = kind === "outage"
      ? Math.min(cur.extremeRatio, ratio)
      : Math.max(cur.extremeRatio, ratio);
  }
  if (cur) out.push(cur);
  return out;
}

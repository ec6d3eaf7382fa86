// Shared CLI plumbing: flag parsing with one-line usage errors, and the single place where
// errors become exit codes.

import { DarknetError, UsageError } from "../errors.ts";
import { VERSION } from "../version.ts";
import { SERIES_DIMS, type SeriesDim } from "../series/signal_series.ts";

/** Exit code for a bug (EX_SOFTWARE): an error that is not a DarknetError. */
export const EXIT_SOFTWARE = 70;

/** Runs a command's main function and exits with its code; maps errors to one stderr line. */
export async function runCli(
  tool: string,
  main: (args: string[]) => Promise<number>,
  args: string[],
) {
  let code: number;
  const end = args.indexOf("--");
  if ((end < 0 ? args : args.slice(0, end)).some((a) => a === "--version" || a === "-version")) {
    console.log(`${tool} (darknet-events) ${VERSION}`);
    Deno.exit(0);
  }
  try {
    code = await main(args);
  } catch (e) {
    code = reportError(tool, e);
  }
  Deno.exit(code);
}

/** Prints an error as one line on stderr and returns its exit code. */
export function reportError(tool: string, e: unknown): number {
  if (e instanceof DarknetError) {
    console.error(`${tool}: ${e.message}`);
    return e.exitCode;
  }
  const msg = e instanceof Error ? e.message : String(e);
  console.error(`${tool}: internal error: ${msg.split("\n")[0]}`);
  // The stack only on request, and only where the binary may read the environment.
  const env = Deno.permissions.querySync({ name: "env", variable: "DARKNET_DEBUG" }).state;
  if (env === "granted" && Deno.env.get("DARKNET_DEBUG")) console.error(e);
  return EXIT_SOFTWARE;
}

/** Parsed flags: values, positionals, and which multi-value flag each positional follows. */
export interface ParsedFlags {
  values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  positionals: string[];
  /** Positionals grouped by the `multiple: true` flag they follow (`""` for none). */
  after: Record<string, string[]>;
}

/** A flag: string (takes a value) or boolean; `multiple` collects repeats; `short` is `-x`. */
export interface FlagSpec {
  type: "string" | "boolean";
  multiple?: boolean;
  short?: string;
}

/**
 * Parses flags the way node:util parseArgs does in strict mode with positionals (`--name value`,
 * `--name=value`, booleans without a value, `-x` for a `short` name, `--` ending the flags), with
 * every mistake a one-line {@link UsageError}. Our own ~50 lines instead of node:util's: loading
 * any `node:` module starts Deno's Node layer, ~6 MB and ~10 ms on every run. Positionals are
 * also grouped by the multi-value flag before them, so `--pcap a b --pfx2asin c d` gives
 * `{pcap: [a, b], pfx2asin: [c, d]}`.
 *
 * Merit's single-dash spellings (`-pcap`, `-eventout=x`) are the same flags, since its users'
 * scripts use them. A flag that takes one value may be given once (a second value is an error,
 * not silently the winner); an unknown flag is answered with the nearest known one; a value that
 * looks like a negative number (`--samples -1`) is taken as the value, so the flag's own check
 * names its range.
 */
export function parseFlags(args: string[], options: Record<string, FlagSpec>): ParsedFlags {
  const values: ParsedFlags["values"] = {};
  const positionals: string[] = [];
  const after: Record<string, string[]> = {};
  let current = "";
  let flags = true;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (!flags || a === "-" || !a.startsWith("-")) {
      positionals.push(a);
      (after[current] ??= []).push(a);
      continue;
    }
    if (a === "--") {
      flags = false;
      continue;
    }
    // "-pcap" as "--pcap" (Merit's Go flags), but "-h" stays a short flag.
    const long = a.startsWith("--") ? a : a.length > 2 && !/^-\d/.test(a) ? `-${a}` : "";
    const eq = long ? long.indexOf("=") : -1;
    let name = long ? long.slice(2, eq < 0 ? undefined : eq) : "";
    if (!long) {
      name = Object.keys(options).find((k) => options[k].short && a === `-${options[k].short}`) ??
        "";
    }
    const spec = Object.hasOwn(options, name) ? options[name] : undefined;
    const flag = `--${name}`;
    if (spec === undefined) {
      const given = eq < 0 ? a : a.slice(0, a.indexOf("="));
      const near = nearest(name || a.replace(/^-+/, ""), Object.keys(options));
      throw new UsageError(
        `unknown flag ${given}${near ? ` (did you mean --${near}?)` : ""} (see --help)`,
      );
    }
    let value: string | boolean = true;
    if (spec.type === "boolean") {
      if (eq >= 0) throw new UsageError(`${flag} does not take a value`);
    } else if (eq >= 0) value = long.slice(eq + 1);
    else {
      const next = args[i + 1];
      if (next === undefined) throw new UsageError(`${flag} needs a value`);
      if (next.length > 1 && next.startsWith("-") && !/^-[\d.]/.test(next)) {
        throw new UsageError(
          `${flag} needs a value (to give one that starts with '-', write ${flag}=VALUE)`,
        );
      }
      value = next;
      i++;
    }
    if (spec.multiple) ((values[name] ??= []) as (string | boolean)[]).push(value);
    else {
      if (spec.type === "string" && values[name] !== undefined) {
        throw new UsageError(
          `${flag} is given twice ("${values[name]}", "${value}"): give it once`,
        );
      }
      values[name] = value;
    }
    current = spec.multiple ? name : "";
  }
  return { values, positionals, after };
}

// The known flag closest to `name` (edit distance at most 2, or a prefix of it), if any.
function nearest(name: string, known: string[]): string | undefined {
  let best: string | undefined;
  let bestD = 3;
  for (const k of known) {
    const d = k.startsWith(name) && name.length >= 2 ? 1 : editDistance(name, k);
    if (d < bestD) [best, bestD] = [k, d];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length];
}

/** Parses a whole-number flag value in [min, max], or throws a UsageError naming the range. */
export function intFlag(
  name: string,
  v: unknown,
  def: number,
  min = 0,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (v === undefined) return def;
  const s = String(v);
  if (!/^\d+$/.test(s) || Number(s) < min || Number(s) > max) {
    const range = max === Number.MAX_SAFE_INTEGER
      ? `a whole number ≥ ${min}`
      : `a whole number from ${min} to ${max}`;
    throw new UsageError(`--${name}: expected ${range}, got "${s}"`);
  }
  return Number(s);
}

/** Parses a non-negative number flag value, or throws a UsageError naming the flag. */
export function numFlag(name: string, v: unknown, def: number): number {
  if (v === undefined) return def;
  const s = String(v);
  const n = Number(s);
  if (s.trim() === "" || !Number.isFinite(n) || n < 0) {
    throw new UsageError(`--${name}: expected a number ≥ 0, got "${s}"`);
  }
  return n;
}

/**
 * Input paths from repeated `--pcap` values and positionals. A value that is not an existing
 * file is split on spaces, as Merit's tool took `--pcap "a.pcap b.pcap"`.
 */
export function pathList(values: unknown, positionals: string[]): string[] {
  const out: string[] = [];
  const list = values === undefined ? [] : Array.isArray(values) ? values : [values];
  for (const v of list as string[]) {
    let exists = false;
    try {
      exists = v === "-" || Deno.statSync(v) !== null;
    } catch { /* not a file: maybe a space-separated list */ }
    if (exists || !/\s/.test(v)) out.push(v);
    else out.push(...v.split(/\s+/).filter((x) => x !== ""));
  }
  out.push(...positionals);
  return out;
}

/** Renders rows as an aligned text table; columns after the first are right-aligned. */
export function formatTable(header: string[], rows: (string | number)[][]): string {
  const all = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, c) => Math.max(...all.map((r) => String(r[c]).length)));
  return all.map((r) =>
    r.map((cell, c) => c === 0 ? String(cell).padEnd(widths[c]) : String(cell).padStart(widths[c]))
      .join("  ").trimEnd()
  ).join("\n");
}

/**
 * The splits of `--series-by` (parse, timeseries --pcap): a comma-separated list of
 * {@link SERIES_DIMS} names, or undefined when not given.
 *
 * @example
 * ```ts
 * import { deepEqual, throws } from "node:assert/strict";
 * import { seriesByFlag } from "./_cli.ts";
 * deepEqual(seriesByFlag("traffic, country"), ["traffic", "country"]);
 * throws(() => seriesByFlag("city"), /--series-by: "city" is not one of/);
 * ```
 */
export function seriesByFlag(v: unknown): SeriesDim[] | undefined {
  if (v === undefined) return undefined;
  const dims = String(v).split(",").map((x) => x.trim()).filter((x) => x);
  for (const d of dims) {
    if (!(SERIES_DIMS as readonly string[]).includes(d)) {
      throw new UsageError(`--series-by: "${d}" is not one of ${SERIES_DIMS.join(", ")}`);
    }
  }
  return dims as SeriesDim[];
}

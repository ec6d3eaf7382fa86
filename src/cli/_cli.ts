// Shared CLI plumbing: flag parsing with one-line usage errors, and the single place where
// errors become exit codes.

import { parseArgs, type ParseArgsConfig } from "node:util";
import { DarknetError, UsageError } from "../errors.ts";

/** Exit code for a bug (EX_SOFTWARE): an error that is not a DarknetError. */
export const EXIT_SOFTWARE = 70;

/** Runs a command's main function and exits with its code; maps errors to one stderr line. */
export async function runCli(
  tool: string,
  main: (args: string[]) => Promise<number>,
  args: string[],
) {
  let code: number;
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
  values: Record<string, string | boolean | string[] | boolean[] | undefined>;
  positionals: string[];
  /** Positionals grouped by the `multiple: true` flag they follow (`""` for none). */
  after: Record<string, string[]>;
}

/**
 * node:util parseArgs, with its errors turned into one-line {@link UsageError}s. Positionals
 * are also grouped by the multi-value flag before them, so `--pcap a b --pfx2asin c d` gives
 * `{pcap: [a, b], pfx2asin: [c, d]}`.
 */
export function parseFlags<T extends ParseArgsConfig["options"]>(
  args: string[],
  options: T,
): ParsedFlags {
  try {
    const r = parseArgs({ args, options, allowPositionals: true, strict: true, tokens: true });
    const after: Record<string, string[]> = {};
    let current = "";
    for (const t of r.tokens ?? []) {
      if (t.kind === "option") {
        current = (options as Record<string, { multiple?: boolean }>)[t.name]?.multiple
          ? t.name
          : "";
      } else if (t.kind === "positional") (after[current] ??= []).push(t.value);
    }
    return {
      values: r.values as Record<string, string | boolean | string[] | undefined>,
      positionals: r.positionals,
      after,
    };
  } catch (e) {
    const msg = (e as Error).message.split("\n")[0]
      .replace(/^Unknown option '(.*)'.*$/, "unknown flag $1 (see --help)")
      .replace(/^Option '(.*?)' argument missing$/, "$1 needs a value")
      .replace(
        /^Option '(.*?)' argument is ambiguous.*$/,
        "$1 needs a value (to give one that starts with '-', write $1=VALUE)",
      );
    throw new UsageError(msg);
  }
}

/** Parses a non-negative integer flag value, or throws a UsageError naming the flag. */
export function intFlag(name: string, v: unknown, def: number, min = 0): number {
  if (v === undefined) return def;
  const s = String(v);
  if (!/^\d+$/.test(s) || Number(s) < min || !Number.isSafeInteger(Number(s))) {
    throw new UsageError(`--${name}: expected a whole number ≥ ${min}, got "${s}"`);
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

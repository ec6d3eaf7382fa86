/**
 * The one place that defines each binary's Deno flags: permissions and V8 settings.
 * `deno task compile` builds with exactly these, the `deno.json` run tasks use them (a test
 * checks), and the CLI tests and the benchmark run every entry point with them, so a compiled
 * binary cannot hit a permission error, or behave differently, in a way the tests did not.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { PERMISSIONS } from "./permissions.ts";
 * ok(PERMISSIONS.count.includes("--allow-read"));
 * ```
 * @module
 */

/** Entry file and permission flags of each command. */
export const ENTRIES = {
  parse: "src/cli/parse_main.ts",
  count: "src/cli/count_main.ts",
  timeseries: "src/cli/timeseries_main.ts",
} as const;

/** Permission flags per command. */
export const PERMISSIONS: Record<keyof typeof ENTRIES, readonly string[]> = {
  // Reads captures and databases; writes event, state and profile files; net for DNS only;
  // sys for --cpu profiles (node:inspector; Deno has no narrower grant for it); run for the
  // tcpdump of --interface only, through setpriv (which ends it if parse is killed); PATH to
  // find tcpdump.
  parse: [
    "--allow-read",
    "--allow-write",
    "--allow-net",
    "--allow-sys",
    "--allow-run=tcpdump,setpriv",
    "--allow-env=PATH",
  ],
  // Reads captures or event files; writes CSVs into --outdir.
  count: ["--allow-read", "--allow-write"],
  // Reads event files or captures; writes CSVs, SVGs, report.html and state.
  timeseries: ["--allow-read", "--allow-write"],
};

/**
 * V8 settings per command. `parse` caps the young generation's semi-spaces at 1 MiB: its garbage
 * is short-lived batches and events, and the default (up to 16 MiB per semi-space, in every
 * isolate) cost ~55 MB of peak RSS on the 10 M-packet benchmark with no measurable speed-up.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { V8_FLAGS } from "./permissions.ts";
 * ok(V8_FLAGS.parse.every((f) => f.startsWith("--v8-flags=")));
 * ```
 */
export const V8_FLAGS: Record<keyof typeof ENTRIES, readonly string[]> = {
  parse: ["--v8-flags=--max-semi-space-size=1"],
  count: [],
  timeseries: [],
};

/**
 * All Deno flags of a command: its permissions, then its V8 settings.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { denoFlags } from "./permissions.ts";
 * ok(denoFlags("count").join(" ") === "--allow-read --allow-write");
 * ```
 */
export function denoFlags(command: keyof typeof ENTRIES): string[] {
  return [...PERMISSIONS[command], ...V8_FLAGS[command]];
}

/** Modules an entry loads dynamically, which `deno compile` must be told to embed. */
export const INCLUDES: Record<keyof typeof ENTRIES, readonly string[]> = {
  parse: [
    "src/capture/_capture_worker.ts",
    "src/io/_gunzip_worker.ts",
    "src/state/_gzip_worker.ts",
    "src/cli/_map_worker.ts",
  ],
  count: ["src/analysis/_count_worker.ts", "src/io/_gunzip_worker.ts"],
  timeseries: ["src/analysis/_timeseries_worker.ts", "src/io/_gunzip_worker.ts"],
};

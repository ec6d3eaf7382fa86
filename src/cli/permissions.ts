/**
 * The one place that defines each binary's Deno permission flags. `deno task compile` builds
 * with exactly these, the `deno.json` run tasks use them (a test checks), and the CLI tests run
 * every entry point with them, so a compiled binary cannot hit a permission error that the
 * tests did not.
 *
 * @example
 * ```ts
 * import { PERMISSIONS } from "./permissions.ts";
 * console.assert(PERMISSIONS.count.includes("--allow-read"));
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
  // tcpdump of --interface only.
  parse: ["--allow-read", "--allow-write", "--allow-net", "--allow-sys", "--allow-run=tcpdump"],
  // Reads captures or event files; writes CSVs into --outdir.
  count: ["--allow-read", "--allow-write"],
  // Reads event files or captures; writes CSVs, SVGs, report.html and state.
  timeseries: ["--allow-read", "--allow-write"],
};

/** Modules an entry loads dynamically, which `deno compile` must be told to embed. */
export const INCLUDES: Record<keyof typeof ENTRIES, readonly string[]> = {
  parse: ["src/capture/_capture_worker.ts", "src/io/_gunzip_worker.ts"],
  count: ["src/analysis/_count_worker.ts", "src/io/_gunzip_worker.ts"],
  timeseries: ["src/analysis/_timeseries_worker.ts", "src/io/_gunzip_worker.ts"],
};

/**
 * The release version, as in `deno.json` (a test checks that they agree).
 *
 * @example
 * ```ts
 * import { VERSION } from "./version.ts";
 * import { match } from "node:assert/strict";
 * match(VERSION, /^\d+\.\d+\.\d+/);
 * ```
 * @module
 */

/** The version printed by `--version`. */
export const VERSION = "0.1.0";

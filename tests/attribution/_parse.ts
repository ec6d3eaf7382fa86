// Runs parse (the CLI, with its own permission flags) on captures; returns the events written.

import { equal } from "node:assert/strict";
import { denoFlags, ENTRIES } from "../../src/cli/permissions.ts";
import { runCli, tempDir } from "../_helpers.ts";

/** The events `parse --samples 0` writes for `pcaps`. */
export async function parseEvents(...pcaps: string[]): Promise<Record<string, unknown>[]> {
  const out = `${tempDir("attribution-")}/ev.json`;
  const r = await runCli(ENTRIES.parse, [
    "--pcap",
    ...pcaps,
    "--eventout",
    out,
    "--samples",
    "0",
    "--quiet",
  ], denoFlags("parse"));
  equal(r.code, 0, r.stderr);
  return JSON.parse(Deno.readTextFileSync(out));
}

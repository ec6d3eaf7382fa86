// A copy of the project's source in a temporary folder, for tests that show an extension point
// by changing it the documented way (a new file plus its registration) and running the tools.

import { equal } from "node:assert/strict";
import { denoFlags, ENTRIES } from "../src/cli/permissions.ts";
import { runCli, tempDir } from "./_helpers.ts";

const root = new URL("../", import.meta.url).pathname;

/** A fresh copy of `src/`, `deno.json` and `deno.lock`; returns its folder. */
export async function copySource(prefix: string): Promise<string> {
  const dir = tempDir(prefix);
  for (const f of ["deno.json", "deno.lock"]) await Deno.copyFile(`${root}${f}`, `${dir}/${f}`);
  const cp = await new Deno.Command("cp", { args: ["-r", `${root}src`, `${dir}/src`] }).output();
  equal(cp.code, 0);
  return dir;
}

/**
 * Inserts `lines` after the line `after` of `file` in the copy (which must hold it once) and
 * returns how many lines the file grew by.
 */
export async function insertAfter(dir: string, file: string, after: string, lines: string[]) {
  const path = `${dir}/${file}`;
  const text = await Deno.readTextFile(path);
  equal(text.split(after).length, 2, `${file} holds "${after}" once`);
  const patched = text.replace(after, [after, ...lines].join("\n"));
  await Deno.writeTextFile(path, patched);
  return patched.split("\n").length - text.split("\n").length;
}

/** Runs one of the tools of the copy (or of the project, `dir` = its root). */
export function runTool(dir: string, cmd: keyof typeof ENTRIES, args: string[]) {
  return runCli(`${dir}/${ENTRIES[cmd]}`, args, denoFlags(cmd));
}

/** The project's root folder. */
export const ROOT: string = root;

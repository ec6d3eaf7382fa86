// Helpers for the benchmarks: run a deno script as a subprocess, timing it and reading its peak
// RSS from GNU time when that is installed.

import { denoFlags, ENTRIES } from "../src/cli/permissions.ts";

/** True if `path` is an existing file. */
export function isFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

const GNU_TIME = "/usr/bin/time";

/**
 * Runs a command's entry point with exactly the permission flags its binary gets; returns wall
 * seconds and peak RSS in MB (if measurable).
 */
export async function timedRun(
  command: keyof typeof ENTRIES,
  args: string[],
): Promise<{ sec: number; rssMb?: number; stderr: string }> {
  const script = new URL(`../${ENTRIES[command]}`, import.meta.url).pathname;
  const full = ["run", ...denoFlags(command), script, ...args];
  const withTime = isFile(GNU_TIME);
  const cmd = withTime
    ? new Deno.Command(GNU_TIME, {
      args: ["-f", "%M", Deno.execPath(), ...full],
      stdout: "null",
      stderr: "piped",
    })
    : new Deno.Command(Deno.execPath(), { args: full, stdout: "null", stderr: "piped" });
  const t0 = performance.now();
  const res = await cmd.output();
  const sec = (performance.now() - t0) / 1000;
  const err = new TextDecoder().decode(res.stderr);
  if (!res.success) throw new Error(err);
  const kb = withTime ? Number(err.trim().split("\n").pop()) : NaN;
  return { sec, rssMb: Number.isFinite(kb) ? kb / 1024 : undefined, stderr: err };
}

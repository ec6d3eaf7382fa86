// Guards a run's outputs before anything is opened for writing: no output may be the same file
// as an input or as another output (compared by device and inode, so symlinks, hard links and
// `./x` vs `x` are caught), no path may be empty, and a file written only at the end (the state
// file) must be creatable where it goes — checked now, not after an hour of processing.

import { IoError, UsageError } from "../errors.ts";
import { isStdout } from "../outputs/event_writer.ts";

// POSIX path helpers (node:path would start Deno's Node layer, ~6 MB, on every run).
function resolve(base: string, p?: string): string {
  const full = p === undefined
    ? (base.startsWith("/") ? base : `${Deno.cwd()}/${base}`)
    : (p.startsWith("/") ? p : `${resolve(base)}/${p}`);
  const parts: string[] = [];
  for (const seg of full.split("/")) {
    if (seg === "" || seg === ".") continue;
    if (seg === "..") parts.pop();
    else parts.push(seg);
  }
  return `/${parts.join("/")}`;
}

function dirname(p: string): string {
  const r = resolve(p);
  return r.slice(0, r.lastIndexOf("/")) || "/";
}

/** A path given on the command line, with the flag that gave it. */
export interface FlagPath {
  /** The flag, e.g. `--eventout`. */
  flag: string;
  /** The path as given. */
  path: string;
}

let devices = 0;

// The identity of the file a path names now, or of the one writing to it would create. A device
// (`/dev/null`) is no one's data: each naming of it is its own.
async function identity(path: string, depth = 0): Promise<string> {
  if (isStdout(path)) return "stdout";
  try {
    const st = await Deno.stat(path); // follows symlinks
    if (!st.isFile && !st.isDirectory) return `device:${devices++}`;
    if (st.ino !== null) return `inode:${st.dev}:${st.ino}`;
  } catch { /* not there (yet), or a dangling link: where would writing create it? */ }
  try {
    const l = await Deno.lstat(path);
    if (l.isSymlink && depth < 40) {
      return await identity(resolve(dirname(path), await Deno.readLink(path)), depth + 1);
    }
  } catch { /* nothing at all */ }
  let dir = dirname(path);
  try {
    dir = await Deno.realPath(dir);
  } catch { /* a missing folder: reported when the file is created */ }
  return `path:${resolve(dir, resolve(path).split("/").pop()!)}`;
}

/**
 * Refuses, with one usage error naming both flags, an output that is the same file as an input
 * or as another output, and any empty path. `allowed` lists input/output flag pairs that may
 * name the same file (`--cachein` and `--cacheout`: the state is read whole before it is
 * replaced atomically).
 */
export async function checkPaths(
  inputs: FlagPath[],
  outputs: FlagPath[],
  allowed: [string, string][] = [],
): Promise<void> {
  for (const p of [...inputs, ...outputs]) {
    if (p.path === "") throw new UsageError(`${p.flag}: empty path`);
  }
  const seen = new Map<string, FlagPath>();
  for (const p of inputs) {
    if (p.path === "-") continue; // standard input
    const id = await identity(p.path);
    if (!seen.has(id)) seen.set(id, p);
  }
  const outs = new Map<string, FlagPath>();
  for (const o of outputs) {
    const id = await identity(o.path);
    const other = outs.get(id);
    if (other) {
      throw new UsageError(
        other.flag === o.flag
          ? `${o.flag} is given the same file twice (${o.path})`
          : `${other.flag} and ${o.flag} name the same file (${o.path}): give each output its own`,
      );
    }
    outs.set(id, o);
    const input = seen.get(id);
    if (input && !allowed.some(([i, w]) => i === input.flag && w === o.flag)) {
      throw new UsageError(
        `${o.flag} ${o.path} is the same file as ${input.flag} ${input.path}: ` +
          `refusing to overwrite an input`,
      );
    }
  }
}

/**
 * Checks that a file can be created at `path` (its folder exists and is writable, and `path`
 * is not a folder) by creating and removing a probe file beside it, exclusively, so no existing
 * file or planted link is touched.
 */
export async function checkCreatable(flag: string, path: string): Promise<void> {
  try {
    if ((await Deno.stat(path)).isDirectory) {
      throw new IoError(`${flag}: is a directory (give a file path)`, { file: path });
    }
  } catch (e) {
    if (e instanceof IoError) throw e;
  }
  const dir = dirname(path);
  const probe = `${dir}/.darknet-events-probe-${crypto.randomUUID()}`;
  try {
    (await Deno.open(probe, { write: true, createNew: true })).close();
  } catch (e) {
    const why = e instanceof Deno.errors.NotFound
      ? "its folder does not exist"
      : e instanceof Deno.errors.PermissionDenied || e instanceof Deno.errors.NotCapable
      ? "its folder is not writable"
      : (e as Error).message.split("\n")[0];
    throw new IoError(`${flag}: cannot create the file: ${why}`, { file: path });
  }
  await Deno.remove(probe).catch(() => {});
}

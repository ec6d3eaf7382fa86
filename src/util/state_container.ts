/**
 * The container of this tool's state files: an 8-byte magic naming the kind of state, a u32
 * format version, the CRC-32 and length of the payload, and the gzip-compressed payload.
 * Writing goes through a temporary file and a rename, so a crash never leaves a half-written
 * file under the final name; reading checks magic, version, length and checksum and fails with
 * one line naming the file and byte offset.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { packState, unpackState } from "./state_container.ts";
 * const bytes = packState("TESTSTAT", 1, new TextEncoder().encode("hello"));
 * ok(new TextDecoder().decode(unpackState(bytes, "TESTSTAT", 1, "x")) === "hello");
 * ```
 * @module
 */

import { crc32, gunzipSync, gzipSync } from "node:zlib";
import { DataError, ioError } from "../errors.ts";

const HEADER = 20;

/**
 * Wraps a payload (magic must be 8 ASCII characters).
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { packState } from "./state_container.ts";
 * ok(packState("TESTSTAT", 1, new Uint8Array(0)).length > 20);
 * ```
 */
export function packState(magic: string, version: number, payload: Uint8Array): Uint8Array {
  const body = new Uint8Array(gzipSync(payload, { level: 1 }));
  const out = new Uint8Array(HEADER + body.length);
  out.set(new TextEncoder().encode(magic));
  const dv = new DataView(out.buffer);
  dv.setUint32(8, version, true);
  dv.setUint32(12, crc32(body) >>> 0, true);
  dv.setUint32(16, body.length, true);
  out.set(body, HEADER);
  return out;
}

/**
 * Checks and unwraps a state file's bytes. Throws a `DataError` naming `file`.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { packState, unpackState } from "./state_container.ts";
 * let msg = "";
 * try {
 *   unpackState(packState("TESTSTAT", 2, new Uint8Array(1)), "TESTSTAT", 1, "s");
 * } catch (e) {
 *   msg = (e as Error).message;
 * }
 * ok(msg === "s: byte 8: state format version 2 is not supported (this build reads 1)");
 * ```
 */
export function unpackState(
  bytes: Uint8Array,
  magic: string,
  version: number,
  file: string,
): Uint8Array {
  const fail = (msg: string, offset?: number) => new DataError(msg, { file, offset });
  if (bytes.length < HEADER) {
    throw fail(`not a darknet-events state file (only ${bytes.length} bytes)`, 0);
  }
  if (new TextDecoder().decode(bytes.subarray(0, 8)) !== magic) {
    throw fail("not a darknet-events state file of this kind (bad magic)", 0);
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const v = dv.getUint32(8, true);
  if (v !== version) {
    throw fail(`state format version ${v} is not supported (this build reads ${version})`, 8);
  }
  const len = dv.getUint32(16, true);
  if (HEADER + len !== bytes.length) {
    throw fail(
      `state file is truncated or has trailing data (${
        bytes.length - HEADER
      } of ${len} payload bytes)`,
      16,
    );
  }
  const body = bytes.subarray(HEADER);
  if ((crc32(body) >>> 0) !== dv.getUint32(12, true)) {
    throw fail("state file checksum mismatch (corrupt)", 12);
  }
  try {
    return new Uint8Array(gunzipSync(body));
  } catch {
    throw fail("state payload does not decompress (corrupt)", HEADER);
  }
}

/**
 * Writes bytes to `path` atomically: to a new temporary file beside it (created exclusively
 * under a random name, so no existing file or planted symlink is followed), fsync, rename.
 * The temporary file is removed if anything fails.
 *
 * @example
 * ```ts
 * import { writeAtomic } from "./state_container.ts";
 * import { equal } from "node:assert/strict";
 * const p = `${Deno.makeTempDirSync()}/f`;
 * await writeAtomic(Uint8Array.of(1, 2), p);
 * equal(Deno.statSync(p).size, 2);
 * ```
 */
export async function writeAtomic(bytes: Uint8Array, path: string): Promise<void> {
  const slash = path.lastIndexOf("/");
  const tmp = `${path.slice(0, slash + 1)}.${path.slice(slash + 1)}.${crypto.randomUUID()}.tmp`;
  let created = false;
  try {
    const f = await Deno.open(tmp, { write: true, createNew: true, mode: 0o644 });
    created = true;
    try {
      let off = 0;
      while (off < bytes.length) off += f.writeSync(bytes.subarray(off));
      f.syncSync();
    } finally {
      f.close();
    }
    await Deno.rename(tmp, path);
    created = false;
  } catch (e) {
    throw ioError(e, path);
  } finally {
    if (created) await Deno.remove(tmp).catch(() => {});
  }
}

/**
 * Reads a whole state file. Throws an `IoError` naming it.
 *
 * @example
 * ```ts
 * import { rejects } from "node:assert/strict";
 * import { readStateFile } from "./state_container.ts";
 * await rejects(readStateFile("/nonexistent.state"), /^IoError: \/nonexistent.state: no such file$/);
 * ```
 */
export async function readStateFile(path: string): Promise<Uint8Array> {
  try {
    return await Deno.readFile(path);
  } catch (e) {
    throw ioError(e, path);
  }
}

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

import { zlib } from "../util/_zlib.ts";
import { gzipMember } from "./_gzip_member.ts";
import { DataError, IoError, ioError } from "../errors.ts";
import { Inflate } from "../io/_inflate.ts";

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
  const body = gzipMember(payload);
  const out = new Uint8Array(HEADER + body.length);
  out.set(new TextEncoder().encode(magic));
  const dv = new DataView(out.buffer);
  dv.setUint32(8, version, true);
  dv.setUint32(12, zlib().crc32(body) >>> 0, true);
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
  if ((zlib().crc32(body) >>> 0) !== dv.getUint32(12, true)) {
    throw fail("state file checksum mismatch (corrupt)", 12);
  }
  try {
    return new Uint8Array(zlib().gunzipSync(body));
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

/**
 * The container's bytes for a payload given in pieces, each its own gzip member: the same bytes
 * {@link StateFileWriter} writes for those pieces.
 *
 * @example
 * ```ts
 * import { packMembers, unpackState } from "./state_container.ts";
 * import { equal } from "node:assert/strict";
 * const enc = new TextEncoder();
 * const bytes = packMembers("TESTSTAT", 3, [enc.encode("hel"), enc.encode("lo")]);
 * equal(new TextDecoder().decode(unpackState(bytes, "TESTSTAT", 3, "x")), "hello");
 * ```
 */
export function packMembers(
  magic: string,
  version: number,
  pieces: Uint8Array[],
  level = 1,
): Uint8Array {
  const bodies = pieces.filter((p) => p.length > 0).map((p) => gzipMember(p, level));
  const len = bodies.reduce((a, b) => a + b.length, 0);
  const out = new Uint8Array(HEADER + len);
  out.set(new TextEncoder().encode(magic));
  let crc = 0;
  let o = HEADER;
  for (const b of bodies) {
    out.set(b, o);
    o += b.length;
    crc = zlib().crc32(b, crc) >>> 0;
  }
  const dv = new DataView(out.buffer);
  dv.setUint32(8, version, true);
  dv.setUint32(12, crc, true);
  dv.setUint32(16, len, true);
  return out;
}

/**
 * Writes a state file piece by piece, in bounded memory: each piece of the payload becomes one
 * gzip member (a multi-member gzip stream is one stream to any reader), written to a new
 * temporary file beside `path`; {@link StateFileWriter.close} fills in the checksum and length,
 * syncs and renames it into place. {@link StateFileWriter.abort} removes the temporary file.
 *
 * @example
 * ```ts
 * import { readStatePayload, StateFileWriter } from "./state_container.ts";
 * import { equal } from "node:assert/strict";
 * const p = `${Deno.makeTempDirSync()}/s`;
 * const w = StateFileWriter.create(p, "TESTSTAT", 3);
 * w.write(new TextEncoder().encode("hel"));
 * w.write(new TextEncoder().encode("lo"));
 * w.close();
 * const { version, chunks } = readStatePayload(p, "TESTSTAT", [3]);
 * equal(version, 3);
 * equal([...chunks].map((c) => new TextDecoder().decode(c)).join(""), "hello");
 * ```
 */
export class StateFileWriter {
  readonly #path: string;
  readonly #tmp: string;
  readonly #file: Deno.FsFile;
  readonly #version: number;
  #crc = 0;
  #length = 0;
  #done = false;

  private constructor(path: string, tmp: string, file: Deno.FsFile, version: number) {
    this.#path = path;
    this.#tmp = tmp;
    this.#file = file;
    this.#version = version;
  }

  /** Creates the temporary file (exclusively) and writes the header. Throws an `IoError`. */
  static create(path: string, magic: string, version: number): StateFileWriter {
    const slash = path.lastIndexOf("/");
    const tmp = `${path.slice(0, slash + 1)}.${path.slice(slash + 1)}.${crypto.randomUUID()}.tmp`;
    let f: Deno.FsFile;
    try {
      f = Deno.openSync(tmp, { write: true, createNew: true, mode: 0o644 });
    } catch (e) {
      throw ioError(e, path);
    }
    const w = new StateFileWriter(path, tmp, f, version);
    const head = new Uint8Array(HEADER);
    head.set(new TextEncoder().encode(magic));
    w.#put(head);
    return w;
  }

  #put(bytes: Uint8Array): void {
    try {
      let o = 0;
      while (o < bytes.length) o += this.#file.writeSync(bytes.subarray(o));
    } catch (e) {
      this.abort();
      throw ioError(e, this.#path);
    }
  }

  /** Compresses and writes one piece of the payload. */
  write(payload: Uint8Array): void {
    if (payload.length === 0) return;
    this.writeMember(gzipMember(payload));
  }

  /** Writes one piece of the payload compressed already (one gzip member, see GzipPieces). */
  writeMember(body: Uint8Array): void {
    this.#crc = zlib().crc32(body, this.#crc) >>> 0;
    this.#length += body.length;
    if (this.#length > 0xffffffff) {
      this.abort();
      throw new IoError("state file over 4 GiB compressed: not supported", { file: this.#path });
    }
    this.#put(body);
  }

  /** Fills in the header, syncs, closes and renames the file into place. */
  close(): void {
    const head = new Uint8Array(12);
    const dv = new DataView(head.buffer);
    dv.setUint32(0, this.#version, true);
    dv.setUint32(4, this.#crc, true);
    dv.setUint32(8, this.#length, true);
    try {
      this.#file.seekSync(8, Deno.SeekMode.Start);
      this.#put(head);
      this.#file.syncSync();
      this.#file.close();
      this.#done = true;
      Deno.renameSync(this.#tmp, this.#path);
    } catch (e) {
      this.abort();
      throw ioError(e, this.#path);
    }
  }

  /** Gives up: closes and removes the temporary file. */
  abort(): void {
    if (!this.#done) {
      this.#done = true;
      try {
        this.#file.close();
      } catch { /* closed */ }
    }
    try {
      Deno.removeSync(this.#tmp);
    } catch { /* gone */ }
  }
}

const READ = 1 << 20;

/**
 * Opens a state file for reading in bounded memory: checks magic, version (one of `versions`),
 * length and checksum (a first pass over the compressed bytes), then returns the payload as a
 * sequence of inflated chunks (1 MiB each, the last shorter). Throws a `DataError` or
 * `IoError` naming the file.
 */
export function readStatePayload(
  path: string,
  magic: string,
  versions: number[],
): { version: number; chunks: Generator<Uint8Array> } {
  const fail = (msg: string, offset?: number) => new DataError(msg, { file: path, offset });
  let f: Deno.FsFile;
  let size: number;
  try {
    f = Deno.openSync(path, { read: true });
    const st = f.statSync();
    if (st.isDirectory) throw new Deno.errors.IsADirectory();
    size = st.size;
  } catch (e) {
    throw ioError(e, path);
  }
  const readAt = (pos: number, buf: Uint8Array): number => {
    try {
      f.seekSync(pos, Deno.SeekMode.Start);
      let n = 0;
      while (n < buf.length) {
        const k = f.readSync(buf.subarray(n));
        if (k === null || k === 0) break;
        n += k;
      }
      return n;
    } catch (e) {
      f.close();
      throw ioError(e, path);
    }
  };
  const head = new Uint8Array(HEADER);
  const got = readAt(0, head);
  const bad = (e: DataError) => {
    f.close();
    return e;
  };
  if (got < HEADER) throw bad(fail(`not a darknet-events state file (only ${got} bytes)`, 0));
  if (new TextDecoder().decode(head.subarray(0, 8)) !== magic) {
    throw bad(fail("not a darknet-events state file of this kind (bad magic)", 0));
  }
  const dv = new DataView(head.buffer);
  const version = dv.getUint32(8, true);
  if (!versions.includes(version)) {
    throw bad(fail(
      `state format version ${version} is not supported (this build reads ${versions.join(", ")})`,
      8,
    ));
  }
  const len = dv.getUint32(16, true);
  if (HEADER + len !== size) {
    throw bad(fail(
      `state file is truncated or has trailing data (${size - HEADER} of ${len} payload bytes)`,
      16,
    ));
  }
  const buf = new Uint8Array(READ);
  let crc = 0;
  for (let pos = HEADER; pos < size;) {
    const n = readAt(pos, buf.subarray(0, Math.min(READ, size - pos)));
    if (n === 0) throw bad(fail("state file shrank while being read", pos));
    crc = zlib().crc32(buf.subarray(0, n), crc) >>> 0;
    pos += n;
  }
  if (crc !== dv.getUint32(12, true)) throw bad(fail("state file checksum mismatch (corrupt)", 12));
  f.close();
  // The second pass opens the file again when it starts: a sequence never taken holds nothing.
  function* chunks(): Generator<Uint8Array> {
    try {
      f = Deno.openSync(path, { read: true });
    } catch (e) {
      throw ioError(e, path);
    }
    const inflate = new Inflate();
    const out: Uint8Array[] = [];
    const take = () => new Uint8Array(READ);
    const emit = (b: Uint8Array, n: number) => {
      if (n > 0) out.push(b.subarray(0, n));
    };
    try {
      for (let pos = HEADER; pos < size;) {
        const n = readAt(pos, buf.subarray(0, Math.min(READ, size - pos)));
        pos += n;
        if (!inflate.write(buf.subarray(0, n), take, emit)) break;
        while (out.length) yield out.shift()!;
      }
      if (inflate.failure === undefined) inflate.finish(take, emit);
      while (out.length) yield out.shift()!;
      if (inflate.failure !== undefined) {
        throw fail("state payload does not decompress (corrupt)", HEADER);
      }
    } finally {
      inflate.close();
      f.close();
    }
  }
  return { version, chunks: chunks() };
}

/**
 * Compresses payload pieces into gzip members on the other core (a Worker), so that a large
 * state is encoded and compressed at the same time: for ten million open events, compression
 * is about two seconds of the save. Results come back in order.
 */
export class GzipPieces {
  readonly #worker = new Worker(new URL("./_gzip_worker.ts", import.meta.url), {
    type: "module",
  });
  readonly #waiting = new Map<number, (body: Uint8Array) => void>();
  readonly #done = new Int32Array(new SharedArrayBuffer(4)); // pieces the worker has finished
  #next = 0;
  #failure: Error | undefined;

  constructor() {
    this.#worker.postMessage({ counter: this.#done });
    this.#worker.onmessage = (ev: MessageEvent) => {
      const { id, body } = ev.data as { id: number; body: Uint8Array };
      this.#waiting.get(id)?.(body);
      this.#waiting.delete(id);
    };
    this.#worker.onerror = (ev: ErrorEvent) => {
      ev.preventDefault();
      this.#failure = new Error(`gzip worker: ${ev.message}`);
      for (const done of this.#waiting.values()) done(new Uint8Array(0));
    };
  }

  /** The piece as one gzip member (the piece is transferred: do not use it afterwards). */
  compress(piece: Uint8Array): Promise<Uint8Array> {
    const id = this.#next++;
    const p = new Promise<Uint8Array>((resolve, reject) => {
      this.#waiting.set(id, (body) => this.#failure ? reject(this.#failure) : resolve(body));
    });
    this.#worker.postMessage({ id, piece }, [piece.buffer as ArrayBuffer]);
    return p;
  }

  /**
   * Pieces sent and not yet compressed, read from a word the worker counts in: current even
   * while this thread has not taken the worker's messages (it is busy encoding).
   */
  get backlog(): number {
    return this.#next - Atomics.load(this.#done, 0);
  }

  /** Ends the worker. */
  close(): void {
    this.#worker.terminate();
  }
}

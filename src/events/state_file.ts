/**
 * The state file of `--cachein` / `--cacheout`: everything needed to continue a run exactly —
 * the clock (latest packet time, last sweep), every open event with its full destination set,
 * samples and sampling PRNG state, and the settings that must match (timeout, telescope size,
 * samples per event).
 *
 * Layout: 8-byte magic `DNEVSTAT`, u32 format version, u32 CRC-32 of the payload, u32 payload
 * length, then the gzip-compressed payload (a JSON header, then per event, in key order, its
 * key, scalar columns, destinations as sorted runs of consecutive addresses, and samples).
 * Written to a temporary file and renamed into place, so a crash never leaves a half-written
 * state under the final name. Loading checks magic, version, checksum, every length against the bytes present
 * and the settings, and fails with one clear line before any packet is read.
 *
 * @module
 */

import { DataError } from "../errors.ts";
import { packState, readStateFile, unpackState, writeAtomic } from "../util/state_container.ts";
import { compareKeys, KeyTable } from "../util/key_table.ts";
import type { AggregatorClock, EventAggregator } from "./event_aggregator.ts";
import {
  BYTES,
  type EventTable,
  FIRST_NSEC,
  FIRST_SEC,
  FP,
  LAST_NSEC,
  LAST_SEC,
  NEXT,
  PACKETS,
  RNG,
  ROW_F64,
  ROW_U32,
} from "./_event_table.ts";

const MAGIC = "DNEVSTAT";
/**
 * Current state format version.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { encodeState, STATE_VERSION } from "./state_file.ts";
 * import { EventAggregator } from "./event_aggregator.ts";
 * const bytes = encodeState(new EventAggregator());
 * ok(new DataView(bytes.buffer).getUint32(8, true) === STATE_VERSION);
 * ```
 */
export const STATE_VERSION = 2;

class Out {
  #buf = new Uint8Array(1 << 16);
  #dv = new DataView(this.#buf.buffer);
  n = 0;
  #room(k: number): void {
    if (this.n + k <= this.#buf.length) return;
    let cap = this.#buf.length * 2;
    while (cap < this.n + k) cap *= 2;
    const b = new Uint8Array(cap);
    b.set(this.#buf.subarray(0, this.n));
    this.#buf = b;
    this.#dv = new DataView(b.buffer);
  }
  u8(v: number): void {
    this.#room(1);
    this.#buf[this.n++] = v;
  }
  u32(v: number): void {
    this.#room(4);
    this.#dv.setUint32(this.n, v, true);
    this.n += 4;
  }
  f64(v: number): void {
    this.#room(8);
    this.#dv.setFloat64(this.n, v, true);
    this.n += 8;
  }
  bytes(b: Uint8Array): void {
    this.#room(b.length);
    this.#buf.set(b, this.n);
    this.n += b.length;
  }
  get result(): Uint8Array {
    return this.#buf.subarray(0, this.n);
  }
}

class In {
  readonly #b: Uint8Array;
  readonly #dv: DataView;
  readonly #file: string;
  p = 0;
  constructor(b: Uint8Array, file: string) {
    this.#b = b;
    this.#dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    this.#file = file;
  }
  #need(k: number): void {
    if (this.p + k > this.#b.length) {
      throw new DataError(`state payload truncated at payload byte ${this.p} (needs ${k} more)`, {
        file: this.#file,
      });
    }
  }
  u8(): number {
    this.#need(1);
    return this.#b[this.p++];
  }
  u32(): number {
    this.#need(4);
    const v = this.#dv.getUint32(this.p, true);
    this.p += 4;
    return v;
  }
  f64(): number {
    this.#need(8);
    const v = this.#dv.getFloat64(this.p, true);
    this.p += 8;
    return v;
  }
  bytes(k: number): Uint8Array {
    this.#need(k);
    const v = this.#b.slice(this.p, this.p + k);
    this.p += k;
    return v;
  }
  get left(): number {
    return this.#b.length - this.p;
  }
}

interface StateHeader {
  tool: string;
  settings: { timeout: number; telescopeSize: number; samples: number; seed: number };
  clock: AggregatorClock | null;
  v4: number;
  v6: number;
}

// Entries in key order (words compared as unsigned numbers): a state file is then the same bytes
// whatever order its events entered the table in, so one run over two hours and two runs
// carrying state between them write identical files.
function keyOrder(t: EventTable): Uint32Array {
  const w = t.keys.width;
  const kw = t.keys.keys;
  const order = new Uint32Array(t.size);
  for (let e = 0; e < t.size; e++) order[e] = e;
  return order.sort((a, b) => compareKeys(kw, a * w, kw, b * w, w));
}

function writeTable(o: Out, t: EventTable, samples: number): void {
  const w = t.keys.width;
  for (const e of keyOrder(t)) {
    for (let k = 0; k < w; k++) o.u32(t.keys.keys[e * w + k]);
    const f = e * ROW_F64;
    const u = e * ROW_U32;
    o.f64(t.rowF[f + FIRST_SEC]);
    o.u32(t.rowU[u + FIRST_NSEC]);
    o.f64(t.rowF[f + LAST_SEC]);
    o.u32(t.rowU[u + LAST_NSEC]);
    o.f64(t.rowF[f + PACKETS]);
    o.f64(t.rowF[f + BYTES]);
    o.u8(t.rowU[u + FP]);
    o.u32(t.rowU[u + RNG]);
    o.f64(t.rowF[f + NEXT]);
    if (t.v6) {
      const d = t.dests6[e];
      o.u32(d?.size ?? 0);
      if (d) { for (let k = 0; k < d.size * 4; k++) o.u32(d.keys[k]); }
    } else {
      // Destinations as sorted runs [start, length].
      const v = t.dests4.values(e);
      const runs: number[] = [];
      for (let i = 0; i < v.length;) {
        let j = i + 1;
        while (j < v.length && v[j] === v[j - 1] + 1) j++;
        runs.push(v[i], j - i);
        i = j;
      }
      o.u32(runs.length / 2);
      for (const x of runs) o.u32(x);
    }
    let stored = 0;
    for (let j = 0; j < samples; j++) if (t.sampleRef[e * samples + j] !== 0) stored++;
    o.u8(stored);
    for (let j = 0; j < samples; j++) {
      const s = t.sample(e, j);
      if (!s) continue;
      o.u8(j);
      o.u32(s.length);
      o.bytes(s);
    }
  }
}

function readTable(r: In, t: EventTable, count: number, samples: number, file: string): void {
  const w = t.keys.width;
  const key = new Uint32Array(w);
  const bad = (what: string) => new DataError(`corrupt state: ${what}`, { file });
  for (let n = 0; n < count; n++) {
    for (let k = 0; k < w; k++) key[k] = r.u32();
    const e = w === 2 ? t.keys.add2(key[0], key[1]) : t.keys.add(key);
    if (!t.keys.added) throw bad("an event key appears twice");
    t.ensure();
    t.start(e, 0, 0, 0, 1);
    const f = e * ROW_F64;
    const u = e * ROW_U32;
    t.rowF[f + FIRST_SEC] = r.f64();
    t.rowU[u + FIRST_NSEC] = r.u32();
    t.rowF[f + LAST_SEC] = r.f64();
    t.rowU[u + LAST_NSEC] = r.u32();
    t.rowF[f + PACKETS] = r.f64();
    t.rowF[f + BYTES] = r.f64();
    t.rowU[u + FP] = r.u8();
    t.rowU[u + RNG] = r.u32();
    t.rowF[f + NEXT] = r.f64();
    const nd = r.u32();
    if (t.v6) {
      if (nd * 16 > r.left) throw bad("destination count beyond the data");
      const d = new KeyTable(4, Math.max(4, nd));
      const nets = new KeyTable(2, 4);
      const a = new Uint32Array(4);
      for (let i = 0; i < nd; i++) {
        for (let k = 0; k < 4; k++) a[k] = r.u32();
        d.add(a);
        nets.add2(a[0], a[1]);
      }
      if (nd > 0) {
        t.dests6[e] = d;
        t.nets6[e] = nets;
      }
    } else {
      if (nd * 8 > r.left) throw bad("destination run count beyond the data");
      for (let i = 0; i < nd; i++) {
        const start = r.u32();
        const len = r.u32();
        if (len === 0 || start + len > 4294967296) throw bad("destination run out of range");
        for (let k = 0; k < len; k++) t.dests4.add(e, (start + k) >>> 0);
      }
    }
    const ns = r.u8();
    for (let i = 0; i < ns; i++) {
      const j = r.u8();
      const len = r.u32();
      if (j >= samples) throw bad("sample slot out of range");
      if (len > r.left) throw bad("sample length beyond the data");
      t.putSample(e, j, r.bytes(len), 0, len);
    }
  }
}

/**
 * Writes the aggregator's open events and clock to `path` (atomically: a new temporary file beside it, renamed into place).
 * Throws an `IoError` naming the file on failure.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { loadState, saveState } from "./state_file.ts";
 * import { EventAggregator } from "./event_aggregator.ts";
 * const path = Deno.makeTempFileSync();
 * await saveState(new EventAggregator({ timeout: 60 }), path);
 * const agg = new EventAggregator({ timeout: 60 });
 * await loadState(agg, path);
 * ok(agg.openCount === 0);
 * ```
 */
export async function saveState(agg: EventAggregator, path: string): Promise<void> {
  await writeState(encodeState(agg), path);
}

/**
 * The state file's bytes for the aggregator as it is now (a snapshot).
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { encodeState } from "./state_file.ts";
 * import { EventAggregator } from "./event_aggregator.ts";
 * ok(new TextDecoder().decode(encodeState(new EventAggregator()).subarray(0, 8)) === "DNEVSTAT");
 * ```
 */
export function encodeState(agg: EventAggregator): Uint8Array {
  const { v4, v6, clock } = agg._internals;
  const header: StateHeader = {
    tool: "darknet-events",
    settings: {
      timeout: agg.timeout,
      telescopeSize: agg.telescopeSize,
      samples: agg.samples,
      seed: agg.seed,
    },
    clock,
    v4: v4.size,
    v6: v6.size,
  };
  const o = new Out();
  const json = new TextEncoder().encode(JSON.stringify(header));
  o.u32(json.length);
  o.bytes(json);
  writeTable(o, v4, agg.samples);
  writeTable(o, v6, agg.samples);
  return packState(MAGIC, STATE_VERSION, o.result);
}

/**
 * Writes encoded state to `path` atomically (a new temporary file beside it, fsync, rename).
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { encodeState, writeState } from "./state_file.ts";
 * import { EventAggregator } from "./event_aggregator.ts";
 * const path = `${Deno.makeTempDirSync()}/x.state`;
 * await writeState(encodeState(new EventAggregator()), path);
 * ok(Deno.statSync(path).size > 20);
 * ```
 */
export async function writeState(bytes: Uint8Array, path: string): Promise<void> {
  await writeAtomic(bytes, path);
}

/**
 * Loads a state file into a fresh aggregator (before any packet). Throws a `DataError` for a
 * truncated, corrupt, foreign or mismatched file and an `IoError` if it cannot be read.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { loadState, saveState } from "./state_file.ts";
 * import { EventAggregator } from "./event_aggregator.ts";
 * const path = Deno.makeTempFileSync();
 * await saveState(new EventAggregator({ samples: 2 }), path);
 * const agg = new EventAggregator({ samples: 2 });
 * await loadState(agg, path);
 * ok(agg.openCount === 0);
 * ```
 */
export async function loadState(agg: EventAggregator, path: string): Promise<void> {
  const raw = unpackState(await readStateFile(path), MAGIC, STATE_VERSION, path);
  const fail = (msg: string, offset?: number) => new DataError(msg, { file: path, offset });
  const r = new In(raw, path);
  const jl = r.u32();
  if (jl > r.left) throw fail("corrupt state: header length beyond the data");
  let h: StateHeader;
  try {
    h = JSON.parse(new TextDecoder().decode(r.bytes(jl)));
  } catch {
    throw fail("corrupt state: unreadable header");
  }
  if (h.tool !== "darknet-events" || !h.settings || h.clock === undefined) {
    throw fail("corrupt state: incomplete header");
  }
  const want = { timeout: agg.timeout, telescopeSize: agg.telescopeSize, samples: agg.samples };
  const flag = {
    timeout: "--timeout",
    telescopeSize: "--telescope-size",
    samples: "--samples",
  } as const;
  for (const k of ["timeout", "telescopeSize", "samples"] as const) {
    if (h.settings[k] !== want[k]) {
      throw fail(`state was written with ${flag[k]} ${h.settings[k]}, this run uses ${want[k]}`);
    }
  }
  if (agg.openCount !== 0) throw new Error("loadState needs a fresh aggregator");
  const { v4, v6 } = agg._internals;
  readTable(r, v4, h.v4, agg.samples, path);
  readTable(r, v6, h.v6, agg.samples, path);
  if (r.left !== 0) throw fail(`corrupt state: ${r.left} unexpected bytes after the events`);
  agg._setClock(h.clock);
}

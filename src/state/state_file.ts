/**
 * The state file of `--cachein` / `--cacheout`: everything needed to continue a run exactly —
 * the clock (latest packet time, last sweep), every open event with its full destination set,
 * samples and sampling PRNG state, and the settings that must match (timeout, telescope size,
 * samples per event, seed).
 *
 * Container (`state_container.ts`): 8-byte magic `DNEVSTAT`, u32 format version, u32 CRC-32 and
 * u32 length of the body, then the body: the payload gzip-compressed in members of about 1 MiB.
 * Format 7's payload is a sequence of records, each a u32 length and its bytes (little-endian
 * fields): a JSON header (settings, clock, counts), the SYN signatures one-packet events refer
 * to, then in table order the single-packet IPv4 events (key, time, destination, length,
 * fingerprint bits, frame, attribution words), the single-packet IPv6 events, the other IPv4
 * events and the other IPv6 events (key, scalar columns, destinations, samples with their
 * ranks, the tool-attribution and traffic-tag words of `aggregation/_attribution.ts`), and with
 * `--dosout` the open DoS vectors. An IPv4 event's destinations start with a u32 whose top two
 * bits give their form — 00: that many [start, length] runs of consecutive addresses; 10: that
 * many addresses, ascending; 01: that many /16s, each its high 16 bits and a bitmap of 2,048
 * words — whichever is shortest. Earlier formats, still read: 6 had runs only; 5 kept reservoir
 * samples without ranks; 4 no tag counts (its events count tags from the next packet on); 3 no
 * attribution words. Records make both directions stream: saving and loading hold one record
 * and one member at a time, never the whole state, and loading allocates only as bytes arrive,
 * so a length field cannot size an allocation.
 *
 * Loading checks magic, version, length and checksum, then every field: settings as this run's,
 * times within the clock, counts whole and in range, traffic codes known, fingerprint bits only
 * on IPv4 TCP SYN events, destinations sorted and no more than the event's packets (and at most
 * {@link MAX_STATE_DESTINATIONS} in all), sample slots and lengths in range, every key once, no
 * byte left over — and fails with one line before any packet is read. Format 2 files (earlier
 * builds, one uncompressed-size payload) are read too, with the same checks.
 *
 * @module
 */

import { DataError, UsageError } from "../errors.ts";
import type { DosVictims } from "../dos/dos_victims.ts";
import { gzipMember } from "./_gzip_member.ts";
import {
  GzipPieces,
  packMembers,
  readStatePayload,
  StateFileWriter,
  writeAtomic,
} from "./state_container.ts";
import { KeyTable } from "../util/key_table.ts";
import { popcount } from "../util/popcount.ts";
import { ByteReader } from "../util/byte_reader.ts";
import { ByteWriter } from "../util/byte_writer.ts";
import { runsOf } from "../util/runs.ts";
import { BITMAP_WORDS } from "../aggregation/dest_set.ts";
import { Traffic, TRAFFIC_NAMES } from "../decode/traffic.ts";
import { ALL_FINGERPRINTS, armedFingerprints, FINGERPRINTS } from "../fingerprints/registry.ts";
import type { AggregatorClock, EventAggregator } from "../aggregation/event_aggregator.ts";
import {
  BYTES,
  type EventTable,
  FIRST_ID,
  FIRST_NSEC,
  FIRST_SEC,
  FP,
  IPID_EQUAL,
  IPID_STEP,
  LAST_NSEC,
  LAST_SEC,
  NEXT,
  PACKETS,
  RNG,
  ROW_F64,
  ROW_U32,
  TAGS_MIXED,
} from "../aggregation/_event_table.ts";
import { S6_DST, S_DST, S_LENFP, S_NSEC, S_REF } from "../aggregation/_single_table.ts";
import type { SampleStore } from "../aggregation/_sample_store.ts";
import type { SingleTable } from "../aggregation/_single_table.ts";
import {
  ATTR,
  ATTR_V4,
  attrLoadedWithout,
  attrLoadSequences,
  attrProblem,
  attrSaved,
  attrSingleFileWords,
  attrSingleFromFile,
  attrSingleHasSignature,
  attrSingleProblem,
  attrSingleSignature,
  attrSingleToFile,
  SEQ_STATE,
  SINGLE_ATTR,
} from "../aggregation/_attribution.ts";
import { armedTools } from "../attribution/tools.ts";
import { eventSeed4, eventSeed6 } from "../aggregation/_sampler.ts";

const MAGIC = "DNEVSTAT";
/**
 * Current state format version (this build also reads formats 2 and 3, which predate the tool
 * attribution: their events' attribution starts with the next packet; and 4, which predates the
 * traffic tags: its events count tags from the next packet).
 *
 * @example
 * ```ts
 * import { encodeState, STATE_VERSION } from "./state_file.ts";
 * import { EventAggregator } from "../aggregation/event_aggregator.ts";
 * import { equal } from "node:assert/strict";
 * const bytes = encodeState(new EventAggregator());
 * equal(new DataView(bytes.buffer).getUint32(8, true), STATE_VERSION);
 * ```
 */
export const STATE_VERSION = 7;

/**
 * The most destination addresses a state file may expand to in all (IPv4 runs make a few bytes
 * stand for millions): 2^26, 256 MiB of addresses — four times a /8 telescope seen whole.
 */
export const MAX_STATE_DESTINATIONS = 1 << 26;

/** The longest frame a sample may hold (libpcap's largest snapshot length). */
const MAX_FRAME = 262144;
// Format 7: bits 31-30 of an IPv4 event's destination count say what follows: 00 runs
// [start, length], 10 (ADDRESSES) the addresses, 01 (BITMAPS) per /16 its high bits and a bitmap.
const ADDRESSES = 0x80000000;
const BITMAPS = 0x40000000;
const FORMS = ADDRESSES | BITMAPS;
const PIECE = 1 << 20;

// Payload bytes (a ByteWriter) are cut into pieces of about 1 MiB of whole records by the caller;
// records are read with one ByteReader reset onto each.
const reader = (b: Uint8Array, file: string) =>
  new ByteReader(
    b,
    (what) => new DataError(`corrupt state: ${what}`, { file }),
    "a record is shorter than its fields",
  );

// A stored frame, copied straight in.
function frame(o: ByteWriter, store: SampleStore, ref: number, len: number): void {
  const at = o.reserve(len);
  store.copyTo(ref, len, o.buffer, at);
}

// Records out of a sequence of inflated chunks. A record's bytes are gathered as they come, so a
// lying length reaches the end of the data before it can size an allocation.
class Records {
  readonly #chunks: Iterator<Uint8Array>;
  readonly #file: string;
  #cur: Uint8Array = new Uint8Array(0);
  #dv: DataView = new DataView(new ArrayBuffer(0));
  #pos = 0;
  readonly #in: ByteReader;
  constructor(chunks: Iterator<Uint8Array>, file: string) {
    this.#chunks = chunks;
    this.#file = file;
    this.#in = reader(this.#cur, file);
  }
  // Moves to the next chunk; false at the end of the data.
  #advance(): boolean {
    const r = this.#chunks.next();
    if (r.done) return false;
    this.#cur = r.value;
    this.#dv = new DataView(r.value.buffer, r.value.byteOffset, r.value.byteLength);
    this.#pos = 0;
    return true;
  }
  // Up to n bytes (fewer only at the end of the data), gathered across chunks.
  #take(n: number): Uint8Array {
    const parts: Uint8Array[] = [];
    let got = 0;
    while (got < n) {
      if (this.#pos === this.#cur.length) {
        if (!this.#advance()) break;
        continue;
      }
      const k = Math.min(n - got, this.#cur.length - this.#pos);
      parts.push(this.#cur.subarray(this.#pos, this.#pos + k));
      this.#pos += k;
      got += k;
    }
    if (parts.length === 1) return parts[0];
    const out = new Uint8Array(got);
    let o = 0;
    for (const p of parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }
  /** The next record (the same reader object each time, valid until the next call). */
  next(what: string): ByteReader {
    let len: number;
    if (this.#pos + 4 <= this.#cur.length) {
      len = this.#dv.getUint32(this.#pos, true);
      this.#pos += 4;
    } else {
      const head = this.#take(4);
      if (head.length < 4) {
        throw new DataError(`corrupt state: the data ends before ${what}`, { file: this.#file });
      }
      len = new DataView(head.buffer, head.byteOffset, 4).getUint32(0, true);
    }
    if (this.#pos + len <= this.#cur.length) { // the usual case: inside the current chunk
      this.#in.reset(this.#cur, this.#dv, this.#pos, this.#pos + len);
      this.#pos += len;
      return this.#in;
    }
    const body = this.#take(len);
    if (body.length < len) {
      throw new DataError(`corrupt state: the data ends inside ${what}`, { file: this.#file });
    }
    this.#in.reset(body, new DataView(body.buffer, body.byteOffset, body.byteLength), 0, len);
    return this.#in;
  }
  /** Whether any byte is left. */
  more(): boolean {
    return this.#take(1).length > 0;
  }
}

interface StateHeader {
  tool: string;
  settings: { timeout: number; telescopeSize: number; samples: number; seed: number };
  clock: AggregatorClock | null;
  singles?: number;
  singles6?: number;
  v4: number;
  v6: number;
  /** Open DoS attack vectors (`--dosout`), one record each after the events, and their clock. */
  dos?: { vectors: number; latest: number | null };
}

/** Analyzers whose state a state file carries beside the events. */
export interface StateExtras {
  /** The DoS victims of `--dosout` (`dos/dos_victims.ts`). */
  dos?: DosVictims;
  /**
   * Loads only the events whose key (2 words for IPv4, 5 for IPv6) this accepts; the others'
   * records are skipped unread (the merge of a split run loads only the first events that can
   * join an event it carries).
   */
  keep?: (key: Uint32Array) => boolean;
}

// Records leave in the order of the tables' entries, not sorted by key: entry numbers follow
// from the packets alone (a new key takes the next number, a removed entry's place goes to the
// last one) and loading gives records the numbers of their places in the file, so one run over
// two hours and two runs carrying state between them write the same bytes (tested). Key order
// would read the tables in a random order: with tens of millions of events, each record three
// cache misses of about half a microsecond here (10 M IPv6 events: ~6 s against ~0.8 s).

// The payload, a piece at a time.
function* payload(agg: EventAggregator, extras: StateExtras = {}): Generator<Uint8Array> {
  // Ended events are not state: whoever saves takes them first (sweepIdle, as a run's end does).
  if (agg.endedWaiting > 0) throw new Error("events ended by gaps are waiting: sweepIdle() first");
  const o = new ByteWriter(PIECE + 4096);
  const { singles, singles6, v4, v6, clock, signatures } = agg._internals;
  const dos = extras.dos?.saveState();
  const header: StateHeader = {
    tool: "darknet-events",
    settings: {
      timeout: agg.timeout,
      telescopeSize: agg.telescopeSize,
      samples: agg.samples,
      seed: agg.seed,
    },
    clock,
    singles: singles.size,
    singles6: singles6.size,
    v4: v4.size,
    v6: v6.size,
  };
  if (dos) {
    header.dos = {
      vectors: dos.vectors.length,
      latest: Number.isFinite(dos.latest) ? dos.latest : null,
    };
  }
  o.begin();
  o.bytes(new TextEncoder().encode(JSON.stringify(header)));
  o.end();
  // The SYN signatures one-packet events refer to, once each, numbered in the order of their
  // first use (so that the file depends on the open events alone, not on what came before).
  const dict = new Uint32Array(signatures.size + 1);
  const words: number[] = [];
  let n = 0;
  for (const t of [singles, singles6]) {
    for (let s = 0; s < t.size; s++) {
      const at = s * t.u32PerRow + t.attrAt;
      const id = attrSingleSignature(t.rowU, at);
      if (id === 0 || dict[id] !== 0) continue;
      dict[id] = ++n;
      signatures.words(id, SIG3, 0);
      words.push(SIG3[0], SIG3[1], SIG3[2]);
    }
  }
  o.begin();
  o.u32(n);
  for (const x of words) o.u32(x);
  o.end();
  yield* writeSingles(o, singles, v4.store, dict);
  yield* writeSingles(o, singles6, v6.store, dict);
  yield* writeTable(o, v4, agg.samples);
  yield* writeTable(o, v6, agg.samples);
  const te = new TextEncoder();
  for (const v of dos?.vectors ?? []) {
    o.begin();
    o.bytes(te.encode(JSON.stringify(v)));
    o.end();
    if (o.length >= PIECE) yield o.cut();
  }
  if (o.length > 0) yield o.cut();
}

// Single-packet events, in entry order: key, time, destination (one word or four), length, for
// IPv4 the fingerprint bits, and the frame if sampled.
function* writeSingles(
  o: ByteWriter,
  t: SingleTable,
  store: SampleStore,
  dict: Uint32Array,
): Generator<Uint8Array> {
  const w = t.keys.width;
  const kw = t.keys.keys;
  const ru = t.u32PerRow;
  for (let s = 0; s < t.size; s++) {
    const u = s * ru;
    o.begin();
    for (let k = 0; k < w; k++) o.u32(kw[s * w + k]);
    o.f64(t.rowF[s * t.f64PerRow]);
    o.u32(t.rowU[u + S_NSEC]);
    o.u32(t.rowU[u + S_DST]);
    if (t.v6) { for (let k = 0; k < 3; k++) o.u32(t.rowU[u + S6_DST + k]); }
    const len = t.rowU[u + S_LENFP] & 0xffffff;
    o.u32(len);
    if (!t.v6) o.u8(t.rowU[u + S_LENFP] >>> 24);
    const ref = t.rowI[u + S_REF];
    o.u8(ref !== 0 ? 1 : 0);
    if (ref !== 0) frame(o, store, ref, len);
    SINGLE_OUT.length = 0;
    attrSingleToFile(t.rowU, u + t.attrAt, t.values, s, dict, SINGLE_OUT);
    for (const x of SINGLE_OUT) o.u32(x);
    o.end();
    if (o.length >= PIECE) yield o.cut();
  }
}

const SAVED = new Uint32Array(ATTR + SEQ_STATE);
const SEQ_WORDS_READ = new Uint32Array(SEQ_STATE);
const SINGLE_OUT: number[] = [];
const SIG3 = new Uint32Array(3);

function* writeTable(o: ByteWriter, t: EventTable, samples: number): Generator<Uint8Array> {
  const w = t.keys.width;
  for (let e = 0; e < t.size; e++) {
    o.begin();
    for (let k = 0; k < w; k++) o.u32(t.keys.keys[e * w + k]);
    const f = e * ROW_F64;
    const u = e * ROW_U32;
    o.f64(t.rowF[f + FIRST_SEC]);
    o.u32(t.rowU[u + FIRST_NSEC]);
    o.f64(t.rowF[f + LAST_SEC]);
    o.u32(t.rowU[u + LAST_NSEC]);
    o.f64(t.rowF[f + PACKETS]);
    o.f64(t.rowF[f + BYTES]);
    o.u32(t.rowU[u + FP]); // format 3: a byte (the fingerprint bits)
    o.u32(t.rowU[u + RNG]); // the sampling seed (format 5: a PRNG's state)
    o.f64(t.rowF[f + NEXT]); // the sampling threshold (format 5: the next sampled packet)
    if (t.v6) {
      const d = t.dests6[e];
      o.u32(d?.size ?? 0);
      if (d) { for (let k = 0; k < d.size * 4; k++) o.u32(d.keys[k]); }
    } else {
      // Destinations, sorted: as runs [start, length] (a sweep of consecutive addresses), or
      // (format 7) as addresses, whichever is shorter (scattered ones: half the bytes, and a
      // load that is one copy).
      const v = t.dests4.values(e);
      let runs = v.length > 0 ? 1 : 0;
      let highs = runs;
      for (let i = 1; i < v.length; i++) {
        if (v[i] !== v[i - 1] + 1) runs++;
        if (v[i] >>> 16 !== v[i - 1] >>> 16) highs++;
      }
      const bitmapBytes = 4 * BITMAP_WORDS * highs;
      if (bitmapBytes < 8 * runs && bitmapBytes < 4 * v.length) { // a dense sweep: 8 KiB a /16
        o.u32((BITMAPS | highs) >>> 0);
        const words = new Uint32Array(BITMAP_WORDS * highs);
        for (let i = 0, k = -1, high = -1; i < v.length; i++) {
          if (v[i] >>> 16 !== high) {
            high = v[i] >>> 16;
            words[++k * BITMAP_WORDS] = high;
          }
          words[k * BITMAP_WORDS + 1 + ((v[i] & 0xffff) >>> 5)] |= 1 << (v[i] & 31);
        }
        o.u32s(words);
      } else if (runs * 2 > v.length) {
        o.u32((ADDRESSES | v.length) >>> 0);
        o.u32s(v);
      } else {
        const [pairs, n] = runsOf(v);
        o.u32(n);
        o.u32s(pairs, 2 * n);
      }
    }
    let stored = 0;
    for (let j = 0; j < samples; j++) if (t.sampleRef[e * samples + j] !== 0) stored++;
    o.u8(stored);
    for (let j = 0; j < samples; j++) {
      const k = e * samples + j;
      if (t.sampleRef[k] === 0) continue;
      o.u8(j);
      o.u32(t.sampleRank[k]); // format 6 on
      o.u32(t.sampleLen[k]);
      frame(o, t.store, t.sampleRef[k], t.sampleLen[k]);
    }
    attrSaved(t.rowU, u, t.attr, e * ATTR, t.seq, e, SAVED);
    for (let k = 0; k < SAVED.length; k++) o.u32(SAVED[k]);
    o.u32(t.rowU[u + IPID_EQUAL]);
    o.u32(t.rowU[u + IPID_STEP]);
    o.end();
    if (o.length >= PIECE) yield o.cut();
  }
}

/**
 * Writes the aggregator's open events and clock to `path`, a piece at a time (atomically: a new
 * temporary file beside it, renamed into place). Throws an `IoError` naming the file.
 *
 * @example
 * ```ts
 * import { loadState, saveState } from "./state_file.ts";
 * import { EventAggregator } from "../aggregation/event_aggregator.ts";
 * import { equal } from "node:assert/strict";
 * const path = Deno.makeTempFileSync();
 * await saveState(new EventAggregator({ timeout: 60 }), path);
 * const agg = new EventAggregator({ timeout: 60 });
 * await loadState(agg, path);
 * equal(agg.openCount, 0);
 * ```
 */
export async function saveState(
  agg: EventAggregator,
  path: string,
  extras: StateExtras = {},
): Promise<void> {
  const w = StateFileWriter.create(path, MAGIC, STATE_VERSION);
  try {
    if (agg.openCount < PARALLEL_FROM) {
      for (const piece of payload(agg, extras)) w.write(piece);
    } else {
      // Encoding here while the other core compresses; when it falls behind (two pieces
      // waiting), this core compresses the next piece itself. At most eight pieces ahead of
      // the file.
      const z = new GzipPieces();
      try {
        const pending: (Uint8Array | Promise<Uint8Array>)[] = [];
        for (const piece of payload(agg, extras)) {
          pending.push(z.backlog >= 2 ? gzipMember(piece) : z.compress(piece));
          if (pending.length >= 8) w.writeMember(await pending.shift()!);
        }
        for (const p of pending) w.writeMember(await p);
      } finally {
        z.close();
      }
    }
  } catch (e) {
    w.abort();
    throw e;
  }
  w.close();
}

// Open events from which a state is compressed on the other core (a worker costs ~50 ms).
const PARALLEL_FROM = 100_000;

/**
 * The state file's bytes for the aggregator as it is now (a snapshot, in memory: `--rotate`
 * takes one at every window's end and writes it with {@link writeState}). `level` is the gzip
 * level: 1 (default), or 0 (stored) for files read back soon, such as a split run's block results.
 *
 * @example
 * ```ts
 * import { encodeState } from "./state_file.ts";
 * import { EventAggregator } from "../aggregation/event_aggregator.ts";
 * import { equal } from "node:assert/strict";
 * equal(new TextDecoder().decode(encodeState(new EventAggregator()).subarray(0, 8)), "DNEVSTAT");
 * ```
 */
export function encodeState(agg: EventAggregator, level = 1): Uint8Array {
  return packMembers(MAGIC, STATE_VERSION, [...payload(agg)], level);
}

/**
 * Writes encoded state to `path` atomically (a new temporary file beside it, fsync, rename).
 *
 * @example
 * ```ts
 * import { encodeState, writeState } from "./state_file.ts";
 * import { EventAggregator } from "../aggregation/event_aggregator.ts";
 * import { ok } from "node:assert/strict";
 * const path = `${Deno.makeTempDirSync()}/x.state`;
 * await writeState(encodeState(new EventAggregator()), path);
 * ok(Deno.statSync(path).size > 20);
 * ```
 */
export async function writeState(bytes: Uint8Array, path: string): Promise<void> {
  await writeAtomic(bytes, path);
}

// Checks of a state's fields against the run loading it.
class Check {
  readonly file: string;
  readonly clock: AggregatorClock | null;
  readonly samples: number;
  /** The run's sampling seed. */
  readonly seed: number;
  /** Whether destinations may be lists of addresses (format 7 on; before, runs only). */
  readonly addresses: boolean;
  /** Whether samples have their ranks (format 6 on; before, reservoir samples). */
  readonly ranked: boolean;
  /** Whether records end with the attribution's words (format 4 on). */
  readonly attribution: boolean;
  /** Whether the attribution's words include the tag counts (format 5 on). */
  readonly tags: boolean;
  /** Words of a full event's attribution in the file. */
  readonly attrWords: number;
  /** The state's SYN signatures (format 4 on): three words each, numbered from 1. */
  signatures: Uint32Array = new Uint32Array(0);
  destinations = 0;
  constructor(file: string, clock: AggregatorClock | null, agg: EventAggregator, version: number) {
    this.file = file;
    this.clock = clock;
    this.samples = agg.samples;
    this.seed = agg.seed;
    this.ranked = version >= 6;
    this.addresses = version >= 7;
    this.attribution = version >= 4;
    this.tags = version >= 5;
    this.attrWords = this.tags ? ATTR : ATTR_V4;
  }
  problem(p: string): void {
    if (p !== "") throw this.bad(p);
  }
  bad(what: string): DataError {
    return new DataError(`corrupt state: ${what}`, { file: this.file });
  }
  traffic(k1: number): number {
    const t = k1 >>> 16;
    if (t >= TRAFFIC_NAMES.length) throw this.bad(`traffic code ${t} is not one this build knows`);
    return t;
  }
  // A packet time: whole seconds, nanoseconds below 10^9, not after the clock.
  time(sec: number, nsec: number, what: string): void {
    if (!Number.isInteger(sec) || sec < 0 || nsec >= 1e9) {
      throw this.bad(`${what} is not a time (${sec} s, ${nsec} ns)`);
    }
    const c = this.clock;
    if (c === null) throw this.bad("events without a clock");
    if (sec > c.latestSec || (sec === c.latestSec && nsec > c.latestNsec)) {
      throw this.bad(`${what} is after the state's clock`);
    }
  }
  count(v: number, what: string, min: number): void {
    if (!Number.isInteger(v) || v < min || v > Number.MAX_SAFE_INTEGER) {
      throw this.bad(`${what} is ${v}, not a whole number ≥ ${min}`);
    }
  }
  fingerprint(fp: number, traffic: number, v6: boolean): void {
    if (fp & ~ALL_FINGERPRINTS) {
      throw this.bad(
        `fingerprint bits ${fp} are not of ${FINGERPRINTS.map((f) => f.label).join(", ")}`,
      );
    }
    if (fp & ~armedFingerprints(traffic, v6)) {
      throw this.bad(
        `fingerprint bits ${fp} on an event of traffic ${traffic}${v6 ? " (IPv6)" : ""}`,
      );
    }
  }
  dests(n: number, packets: number): void {
    if (n < 1 || n > packets) {
      throw this.bad(`${n} distinct destinations in an event of ${packets} packets`);
    }
    this.destinations += n;
    if (this.destinations > MAX_STATE_DESTINATIONS) {
      throw this.bad(`more than ${MAX_STATE_DESTINATIONS} destination addresses in all`);
    }
  }
  frame(len: number): void {
    if (len < 1 || len > MAX_FRAME) throw this.bad(`a sampled frame of ${len} bytes`);
  }
}

function readFullEvent(r: ByteReader, t: EventTable, c: Check, key: Uint32Array): void {
  const w = t.keys.width;
  for (let k = 0; k < w; k++) key[k] = r.u32();
  const traffic = c.traffic(key[w - 1]);
  const e = w === 2 ? t.keys.add2(key[0], key[1]) : t.keys.add(key);
  if (!t.keys.added) throw c.bad("an event key appears twice");
  t.ensure();
  t.start(e, 0, 0, 0, 1);
  const firstSec = r.f64();
  const firstNsec = r.u32();
  const lastSec = r.f64();
  const lastNsec = r.u32();
  const packets = r.f64();
  const bytes = r.f64();
  const fpw = c.attribution ? r.u32() : r.u8();
  const fp = fpw & 0xff;
  const rng = r.u32();
  const next = r.f64();
  c.time(firstSec, firstNsec, "an event's first packet");
  c.time(lastSec, lastNsec, "an event's last packet");
  if (firstSec > lastSec || (firstSec === lastSec && firstNsec > lastNsec)) {
    throw c.bad("an event ends before it starts");
  }
  c.count(packets, "an event's packet count", 1);
  c.count(bytes, "an event's byte count", 0);
  c.fingerprint(fp, traffic, t.v6);
  const seed = w === 2
    ? eventSeed4(c.seed, key[0], key[1])
    : eventSeed6(c.seed, key[0], key[1], key[2], key[3], key[4]);
  // Format 6 keeps the event's sampling seed (checked); before, a PRNG's state (replaced).
  if (c.ranked && rng !== seed) throw c.bad("an event's sampling seed is not its key's");
  const f = e * ROW_F64;
  const u = e * ROW_U32;
  t.rowF[f + FIRST_SEC] = firstSec;
  t.rowU[u + FIRST_NSEC] = firstNsec;
  t.rowF[f + LAST_SEC] = lastSec;
  t.rowU[u + LAST_NSEC] = lastNsec;
  t.rowF[f + PACKETS] = packets;
  t.rowF[f + BYTES] = bytes;
  // Bits 9-13 (the tags, checked with the attribution) only from format 5 on.
  if ((fpw & (c.tags ? 0xc000 : 0xfe00)) !== 0) throw c.bad(`fingerprint word ${fpw}`);
  t.rowU[u + FP] = c.attribution ? fpw : fp | FIRST_ID;
  t.rowU[u + RNG] = seed;
  const nd = r.u32();
  if (t.v6) {
    if (nd * 16 > r.left) throw c.bad("destination count beyond the data");
    c.dests(nd, packets);
    const d = new KeyTable(4, Math.max(4, nd));
    const nets = new KeyTable(2, 4);
    const a = new Uint32Array(4);
    for (let i = 0; i < nd; i++) {
      for (let k = 0; k < 4; k++) a[k] = r.u32();
      d.add(a);
      if (!d.added) throw c.bad("a destination appears twice");
      nets.add2(a[0], a[1]);
    }
    t.dests6[e] = d;
    t.nets6[e] = nets;
  } else if (c.addresses && nd >>> 30 === 3) {
    throw c.bad("destination form 3 is not one this build knows");
  } else if (c.addresses && nd >>> 30 === BITMAPS >>> 30) {
    const k = nd & ~FORMS;
    if (k * BITMAP_WORDS * 4 > r.left) throw c.bad("destination bitmaps beyond the data");
    const words = new Uint32Array(k * BITMAP_WORDS);
    r.u32s(words);
    let total = 0;
    for (let i = 0; i < k; i++) {
      const at = i * BITMAP_WORDS;
      if (words[at] > 0xffff || (i > 0 && words[at] <= words[at - BITMAP_WORDS])) {
        throw c.bad("destination bitmaps out of order or out of range");
      }
      let n = 0;
      for (let w = at + 1; w < at + BITMAP_WORDS; w++) n += popcount(words[w]);
      if (n === 0) throw c.bad("an empty destination bitmap");
      total += n;
    }
    c.dests(total, packets);
    t.dests4.addBitmaps(e, words, k);
  } else if (c.addresses && nd >>> 30 === ADDRESSES >>> 30) {
    const n = nd & ~FORMS;
    if (n * 4 > r.left) throw c.bad("destination count beyond the data");
    c.dests(n, packets);
    const a = new Uint32Array(n);
    r.u32s(a);
    for (let i = 1; i < n; i++) {
      if (a[i] <= a[i - 1]) throw c.bad("destinations out of order");
    }
    t.dests4.addSorted(e, a);
  } else {
    if (nd * 8 > r.left) throw c.bad("destination run count beyond the data");
    let total = 0;
    let prevEnd = -1;
    const runs = new Float64Array(nd * 2);
    r.u32s(runs, 2 * nd);
    for (let i = 0; i < nd; i++) {
      const start = runs[2 * i];
      const len = runs[2 * i + 1];
      if (len === 0 || start + len > 4294967296 || start <= prevEnd) {
        throw c.bad("destination runs out of order or out of range");
      }
      prevEnd = start + len - 1;
      total += len;
    }
    c.dests(total, packets); // before the runs are expanded: bounds the memory they take
    t.dests4.addRuns(e, runs, nd);
  }
  const ns = r.u8();
  if (ns > Math.min(c.samples, packets)) throw c.bad(`${ns} samples in an event of ${packets}`);
  let used = 0;
  for (let i = 0; i < ns; i++) {
    const j = r.u8();
    // Samples of format 5 (reservoir, no ranks) keep their places: ranks 0, 1, …
    const rank = c.ranked ? r.u32() : j;
    const len = r.u32();
    if (j >= c.samples || (used & (1 << j)) !== 0 && j < 31) {
      throw c.bad("sample slot out of range");
    }
    if (j < 31) used |= 1 << j;
    c.frame(len);
    if (len > r.left) throw c.bad("sample length beyond the data");
    t.putSample(e, j, r.view(len), 0, len, rank);
  }
  // Slots fill from the first (kept samples are in packet order).
  if (ns < 31 && used !== (1 << ns) - 1) throw c.bad("sample slots not filled from the first");
  t.settle(e);
  if (c.ranked && next !== t.rowF[f + NEXT]) {
    throw c.bad(`an event's sampling threshold is ${next}, not its samples' ${t.rowF[f + NEXT]}`);
  }
  const armed = armedTools(traffic, t.v6);
  const o = e * ATTR;
  if (c.attribution) {
    const words = c.attrWords;
    if ((words + SEQ_STATE + 2) * 4 > r.left) throw c.bad("an event's attribution beyond the data");
    for (let k = 0; k < words; k++) t.attr[o + k] = r.u32();
    for (let k = words; k < ATTR; k++) t.attr[o + k] = 0;
    // Format 4 knows no tags: a started event counts them from its next packet (mixed, at 0).
    if (!c.tags && (t.rowU[u + FP] & FIRST_ID) === 0) t.rowU[u + FP] |= TAGS_MIXED;
    for (let k = 0; k < SEQ_STATE; k++) SEQ_WORDS_READ[k] = r.u32();
    attrLoadSequences(t.attr, o, SEQ_WORDS_READ, t.seq, e);
    t.rowU[u + IPID_EQUAL] = r.u32();
    t.rowU[u + IPID_STEP] = r.u32();
    c.problem(attrProblem(t.rowU, u, t.attr, o, armed, packets, traffic === Traffic.TCPSYN));
  } else attrLoadedWithout(t.attr, o, armed, packets);
}

const ATTR_WORDS = new Uint32Array(SINGLE_ATTR);

// A single-packet event's attribution (null before format 4), checked, expanded.
function readSingleAttr(r: ByteReader, c: Check, traffic: number, v6: boolean): Uint32Array | null {
  if (!c.attribution) return null;
  if (r.left < 4) throw c.bad("an event's attribution beyond the data");
  const w = r.u32();
  const more = attrSingleFileWords(w);
  if (more * 4 > r.left) throw c.bad("an event's attribution beyond the data");
  let sig: Uint32Array | null = null;
  const hasSig = attrSingleHasSignature(w); // its number comes first, then a sequence value
  if (hasSig) {
    const k = r.u32();
    if (k < 1 || k > c.signatures.length / 3) throw c.bad(`signature ${k} is not in the state`);
    sig = c.signatures.subarray((k - 1) * 3, k * 3);
  }
  const value = more - (hasSig ? 1 : 0) > 0 ? r.u32() : 0;
  c.problem(attrSingleFromFile(w, sig, value, ATTR_WORDS));
  c.problem(
    attrSingleProblem(ATTR_WORDS, 0, armedTools(traffic, v6), traffic === Traffic.TCPSYN),
  );
  return ATTR_WORDS;
}

function readSingle(r: ByteReader, agg: EventAggregator, c: Check): void {
  const src = r.u32();
  const k1 = r.u32();
  const traffic = c.traffic(k1);
  const sec = r.f64();
  const nsec = r.u32();
  const dst = r.u32();
  const len = r.u32();
  const fp = r.u8();
  const has = r.u8();
  c.time(sec, nsec, "a single-packet event's packet");
  c.frame(len);
  c.fingerprint(fp, traffic, false);
  if (has !== (c.samples > 0 ? 1 : 0)) throw c.bad("a single-packet event's sample is missing");
  const frame = has ? r.view(len) : null;
  const attr = readSingleAttr(r, c, traffic, false);
  if (!agg._loadSingle(src, k1, sec, nsec, dst, len, fp, frame, attr)) {
    throw c.bad("an event key appears twice");
  }
}

const DST6 = new Uint32Array(4);

function readSingle6(r: ByteReader, agg: EventAggregator, c: Check, key: Uint32Array): void {
  for (let k = 0; k < 5; k++) key[k] = r.u32();
  const traffic = c.traffic(key[4]);
  const sec = r.f64();
  const nsec = r.u32();
  const dst = DST6;
  for (let k = 0; k < 4; k++) dst[k] = r.u32();
  const len = r.u32();
  const has = r.u8();
  c.time(sec, nsec, "a single-packet event's packet");
  c.frame(len);
  if (has !== (c.samples > 0 ? 1 : 0)) throw c.bad("a single-packet event's sample is missing");
  const frame = has ? r.view(len) : null;
  const attr = readSingleAttr(r, c, traffic, true);
  if (!agg._loadSingle6(key, sec, nsec, dst, len, frame, attr)) {
    throw c.bad("an event key appears twice");
  }
}

function checkHeader(h: unknown, agg: EventAggregator, file: string): StateHeader {
  const fail = (msg: string) => new DataError(msg, { file });
  const x = h as StateHeader;
  const whole = (v: unknown) => typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
  if (
    typeof h !== "object" || h === null || x.tool !== "darknet-events" ||
    typeof x.settings !== "object" || x.settings === null || x.clock === undefined ||
    !whole(x.v4) || !whole(x.v6) || (x.singles !== undefined && !whole(x.singles)) ||
    (x.singles6 !== undefined && !whole(x.singles6)) ||
    (x.dos !== undefined && (typeof x.dos !== "object" || x.dos === null || !whole(x.dos.vectors) ||
      (x.dos.latest !== null && typeof x.dos.latest !== "number")))
  ) {
    throw fail("corrupt state: incomplete header");
  }
  const want = {
    timeout: agg.timeout,
    telescopeSize: agg.telescopeSize,
    samples: agg.samples,
    seed: agg.seed,
  };
  const flag = {
    timeout: "--timeout",
    telescopeSize: "--telescope-size",
    samples: "--samples",
    seed: "--seed",
  } as const;
  for (const k of ["timeout", "telescopeSize", "samples", "seed"] as const) {
    if (x.settings[k] !== want[k]) {
      throw fail(`state was written with ${flag[k]} ${x.settings[k]}, this run uses ${want[k]}`);
    }
  }
  const c = x.clock;
  if (c !== null) {
    const ok = typeof c === "object" &&
      [c.latestSec, c.sweepSec].every((v) => whole(v)) &&
      [c.latestNsec, c.sweepNsec].every((v) => whole(v) && v < 1e9) &&
      (c.sweepSec < c.latestSec || (c.sweepSec === c.latestSec && c.sweepNsec <= c.latestNsec));
    if (!ok) throw fail("corrupt state: the clock is not a pair of times");
    if (c.latestSec > agg.notAfter) {
      throw fail(
        `the state's clock (${new Date(c.latestSec * 1000).toISOString()}) is in the future: ` +
          "written from a packet with a corrupt timestamp?",
      );
    }
  } else if (x.v4 + x.v6 + (x.singles ?? 0) + (x.singles6 ?? 0) > 0) {
    throw fail("corrupt state: events without a clock");
  }
  return x;
}

function parseHeader(bytes: Uint8Array, file: string): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new DataError("corrupt state: unreadable header", { file });
  }
}

/**
 * Loads a state file into a fresh aggregator (before any packet). Throws a `DataError` for a
 * truncated, corrupt, foreign, mismatched or impossible file and an `IoError` if it cannot be
 * read.
 *
 * @example
 * ```ts
 * import { loadState, saveState } from "./state_file.ts";
 * import { EventAggregator } from "../aggregation/event_aggregator.ts";
 * import { equal } from "node:assert/strict";
 * const path = Deno.makeTempFileSync();
 * await saveState(new EventAggregator({ samples: 2 }), path);
 * const agg = new EventAggregator({ samples: 2 });
 * await loadState(agg, path);
 * equal(agg.openCount, 0);
 * ```
 */
export function loadState(
  agg: EventAggregator,
  path: string,
  extras: StateExtras = {},
): Promise<void> {
  try {
    loadStateSync(agg, path, extras);
    return Promise.resolve();
  } catch (e) {
    return Promise.reject(e);
  }
}

function loadStateSync(agg: EventAggregator, path: string, extras: StateExtras): void {
  if (agg.openCount !== 0) throw new Error("loadState needs a fresh aggregator");
  const { version, chunks } = readStatePayload(path, MAGIC, [2, 3, 4, 5, 6, STATE_VERSION]);
  const { v4, v6 } = agg._internals;
  let h: StateHeader;
  let c: Check;
  const key = new Uint32Array(5);
  try {
    if (version === 2) {
      // One payload: a u32 header length, the header, then the events back to back.
      const parts = [...chunks];
      const all = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
      let o = 0;
      for (const p of parts) {
        all.set(p, o);
        o += p.length;
      }
      const r = reader(all, path);
      const jl = r.u32();
      if (jl > r.left) {
        throw new DataError("corrupt state: header length beyond the data", { file: path });
      }
      h = checkHeader(parseHeader(r.bytes(jl), path), agg, path);
      c = new Check(path, h.clock, agg, version);
      for (let n = 0; n < h.v4; n++) readFullEvent(r, v4, c, key);
      for (let n = 0; n < h.v6; n++) readFullEvent(r, v6, c, key);
      if (r.left !== 0) {
        throw new DataError(`corrupt state: ${r.left} unexpected bytes after the events`, {
          file: path,
        });
      }
    } else {
      const recs = new Records(chunks, path);
      const hr = recs.next("the header");
      h = checkHeader(parseHeader(hr.bytes(hr.left), path), agg, path);
      c = new Check(path, h.clock, agg, version);
      const whole = (r: ByteReader, what: string) => {
        if (r.left !== 0) throw c.bad(`${r.left} unexpected bytes in ${what}`);
      };
      if (c.attribution) {
        const r = recs.next("the SYN signatures");
        const n = r.u32();
        if (n * 12 > r.left) throw c.bad("signature count beyond the data");
        c.signatures = new Uint32Array(n * 3);
        for (let k = 0; k < n * 3; k++) c.signatures[k] = r.u32();
        whole(r, "the SYN signatures");
      }
      const keep = extras.keep;
      const k2 = new Uint32Array(2);
      const k5 = new Uint32Array(5);
      for (let n = 0; n < (h.singles ?? 0); n++) {
        const r = recs.next("a single-packet event");
        if (keep && !keep(r.peek(2, k2))) continue;
        readSingle(r, agg, c);
        whole(r, "a single-packet event");
      }
      for (let n = 0; n < (h.singles6 ?? 0); n++) {
        const r = recs.next("a single-packet event");
        if (keep && !keep(r.peek(5, k5))) continue;
        readSingle6(r, agg, c, key);
        whole(r, "a single-packet event");
      }
      for (const [t, count] of [[v4, h.v4], [v6, h.v6]] as const) {
        for (let n = 0; n < count; n++) {
          const r = recs.next("an event");
          if (keep && !keep(t.v6 ? r.peek(5, k5) : r.peek(2, k2))) continue;
          readFullEvent(r, t, c, key);
          if (t.v6 ? agg._isSingle6(key) : agg._isSingle(key[0], key[1])) {
            throw c.bad("an event key appears twice");
          }
          whole(r, "an event");
        }
      }
      if (h.dos !== undefined) {
        if (!extras.dos) {
          throw new UsageError(
            `${path}: the state holds ${h.dos.vectors} open DoS attack vectors: give --dosout to ` +
              "continue them",
          );
        }
        const vectors: unknown[] = [];
        for (let n = 0; n < h.dos.vectors; n++) {
          const r = recs.next("a DoS attack vector");
          try {
            vectors.push(
              JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(r.bytes(r.left))),
            );
          } catch {
            throw c.bad("a DoS attack vector that is not JSON");
          }
        }
        try {
          extras.dos.loadState({ latest: h.dos.latest, vectors });
        } catch (e) {
          throw c.bad((e as Error).message);
        }
      }
      if (recs.more()) throw c.bad("unexpected bytes after the events");
    }
  } finally {
    chunks.return(undefined);
  }
  agg._setClock(h.clock);
}

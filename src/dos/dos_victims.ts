/**
 * Denial-of-service victims from backscatter (CAIDA's RSDoS analysis, written from its published
 * description): the packets a flooded host sends back to the spoofed sources that landed in the
 * telescope ({@link backscatterOf}) are gathered into one attack vector per (victim, protocol).
 * A vector keeps its first and last packet times, packets, bytes, the distinct attackers (the
 * telescope addresses the victim answered, i.e. the forged sources) and their /16s, the distinct
 * attacked ports, the most packets in any 60-second window sliding by 10 seconds, the quoted
 * headers whose source was not the address the error came to, and its first packet. It ends
 * after `timeout` seconds of packet time without a packet, and is reported if it reached the
 * thresholds (corsaro's defaults: 25 packets, 60 seconds, 30 packets in a window).
 *
 * An analyzer beside the event aggregator, on the same decoded batches (`analysis/analyzer.ts`);
 * memory grows with open vectors, never with packets (the distinct counts are bounded:
 * `distinct_counter.ts`).
 *
 * @module
 */

import type { RecordColumn } from "../outputs/record_format.ts";
import type { Analyzer } from "../analysis/analyzer.ts";
import type { PacketBatch } from "../decode/packet_batch.ts";
import { formatTime } from "../stats/packet_stats.ts";
import { formatIpv4, formatIpv6 } from "../util/ip.ts";
import { Backscatter, backscatterOf } from "./backscatter.ts";
import { DistinctCounter } from "./distinct_counter.ts";
import { SampleStore } from "../aggregation/_sample_store.ts";
import { DestSets } from "../aggregation/dest_set.ts";
import { ICMP_ANSWERS, Traffic } from "../decode/traffic.ts";

/** Settings of {@link DosVictims}. */
export interface DosOptions {
  /**
   * Seconds of packet time without a packet that end a vector.
   * @default {300}
   */
  timeout?: number;
  /**
   * Packets a vector needs to be reported.
   * @default {25}
   */
  minPackets?: number;
  /**
   * Seconds from its first to its last packet a vector needs to be reported.
   * @default {60}
   */
  minDuration?: number;
  /**
   * Packets in its busiest 60-second window a vector needs to be reported (0.5 packets/s).
   * @default {30}
   */
  minWindow?: number;
  /**
   * Telescope size in addresses, for the attack rate at the victim.
   * @default {475136}
   */
  telescopeSize?: number;
  /**
   * The map step of a split run (`parse --map`): vectors that start within the timeout (and a
   * second) of the first packet may continue one of the block before, so when they end they are
   * kept whole ({@link DosVictims.saveState}'s `heads`) for the merge
   * ({@link DosVictims.joinBlock}) instead of reported.
   * @default {false}
   */
  splitHeads?: boolean;
}

/** The open vectors and clock of {@link DosVictims.saveState}, and a map step's heads. */
export interface DosState {
  /** Latest packet time (whole seconds), or null before any. */
  latest: number | null;
  /** The open vectors. */
  vectors: unknown[];
  /** With `splitHeads`: the vectors that started near the first packet and ended. */
  heads?: unknown[];
  /** With `splitHeads`: the first packet, [sec, nsec], or null before any. */
  first?: [number, number] | null;
}

/**
 * The canonical order of `--dosout` records in a run over files (one run and a split run write
 * it alike): by First, then Victim and Protocol as text. Two vectors of a victim and protocol
 * never start at the same instant, so the order is total.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { compareDosReports, type DosReport } from "./dos_victims.ts";
 * const r = (First: string, Victim: string) => ({ First, Victim, Protocol: "TCP" }) as DosReport;
 * const sorted = [r("2026-01-01T00:00:05.000000000Z", "192.0.2.1"), r("2026-01-01T00:00:01.000000000Z", "192.0.2.9")]
 *   .sort(compareDosReports);
 * deepEqual(sorted.map((x) => x.Victim), ["192.0.2.9", "192.0.2.1"]);
 * ```
 */
export function compareDosReports(a: DosReport, b: DosReport): number {
  if (a.First !== b.First) return a.First < b.First ? -1 : 1;
  if (a.Victim !== b.Victim) return a.Victim < b.Victim ? -1 : 1;
  return a.Protocol < b.Protocol ? -1 : a.Protocol > b.Protocol ? 1 : 0;
}

/** A reported attack vector: the `--dosout` record. */
export interface DosReport {
  /** The victim's address. */
  Victim: string;
  /** The attack's protocol: TCP, UDP, ICMP, ICMPv6 or a protocol number. */
  Protocol: string;
  /** First backscatter packet (RFC 3339, nanoseconds). */
  First: string;
  /** Last backscatter packet. */
  Last: string;
  /** Backscatter packets. */
  Packets: number;
  /** Their captured bytes. */
  Bytes: number;
  /** Distinct attackers (the spoofed sources the victim answered: telescope addresses). */
  UniqueAttackers: number;
  /** Their distinct /16s (IPv6: /48s). */
  UniqueAttacker16s: number;
  /** Distinct attacked ports of the victim (0 counts once for messages without ports). */
  UniquePorts: number;
  /** Whether the three counts are exact (else HyperLogLog estimates, ±3.3 %). */
  UniqueCountsExact: boolean;
  /** The most packets in a 60-second window, windows starting every 10 seconds. */
  MaxWindowPackets: number;
  /** Packets per second seen (0 for a single instant). */
  ObservedRate: number;
  /**
   * Packets per second the victim sent to all the spoofed sources: ObservedRate × 2^32 /
   * telescope size (sources forged uniformly over IPv4); null for IPv6.
   */
  EstimatedRate: number | null;
  /** ICMP errors whose quoted source was not the address they came to. */
  QuotedMismatches: number;
  /** The first packet's captured frame, base64. */
  FirstPacket: string;
}

/**
 * The columns of `--dosout` records in a Parquet file, in the records' order ({@link DosReport};
 * with enrichment, {@link DOS_ANNOTATION_COLUMNS} come before `FirstPacket`).
 */
export const DOS_COLUMNS: readonly RecordColumn[] = [
  { key: "Victim", kind: "text" },
  { key: "Protocol", kind: "text" },
  { key: "First", kind: "time" },
  { key: "Last", kind: "time" },
  { key: "Packets", kind: "int" },
  { key: "Bytes", kind: "int" },
  { key: "UniqueAttackers", kind: "int" },
  { key: "UniqueAttacker16s", kind: "int" },
  { key: "UniquePorts", kind: "int" },
  { key: "UniqueCountsExact", kind: "boolean" },
  { key: "MaxWindowPackets", kind: "int" },
  { key: "ObservedRate", kind: "double" },
  { key: "EstimatedRate", kind: "double", nullable: true },
  { key: "QuotedMismatches", kind: "int" },
  { key: "FirstPacket", kind: "text" },
];

/** The victim's annotations a DoS record carries with enrichment (an event's fields). */
export const DOS_ANNOTATION_COLUMNS: readonly RecordColumn[] = [
  { key: "ASN", kind: "int" },
  { key: "Org", kind: "text" },
  { key: "Prefix", kind: "text" },
  { key: "Country", kind: "text" },
  { key: "City", kind: "text" },
  { key: "Lat", kind: "double" },
  { key: "Long", kind: "double" },
];

const PROTOCOLS: Record<number, string> = { 1: "ICMP", 6: "TCP", 17: "UDP", 58: "ICMPv6" };
const SLOT = 10; // seconds a window slides by
const SLOTS = 6; // slots in a window (60 s)
const SWEEP = 60; // seconds of packet time between sweeps for idle vectors
// IPv4 attackers kept exactly (in DestSets) up to this many, checked every CHECK_EVERY packets.
const ATTACKERS_EXACT = 1024;
const CHECK_EVERY = 256;
// The IPv4 vector lookup cache (direct-mapped by victim and protocol): 2^bits slots, at least 4
// per open vector (4,000 vectors in 4,096 slots missed on 20 % of packets; in 16,384, none but
// the first), up to 2^18.
const CACHE_MIN_BITS = 10;
const CACHE_MAX_BITS = 18;
// Traffic codes that can be backscatter (echo replies and ICMP errors, SYN-ACK, RST, other TCP
// flag combinations such as RST-ACK); the rest is never looked at.
const MAYBE = new Uint8Array(256);
for (
  const t of [
    ...ICMP_ANSWERS,
    Traffic.ICMPOther,
    Traffic.TCPSYNACK,
    Traffic.TCPRST,
    Traffic.TCPOther,
  ]
) {
  MAYBE[t] = 1;
}

// A vector's numbers, one row of a Float64Array each (Rows): a packet reads and writes the few
// cache lines of its row, not an object and the number boxes and arrays it points to (on the
// capture worker, beside the decoding, those cache misses were most of the analysis's time).
const R_VICTIM = 0; // IPv4 victim (-1 for IPv6: the lookup cache is IPv4's)
const R_PROTO = 1; // -1: the row is free
const R_LAST_SEC = 2;
const R_LAST_NSEC = 3;
const R_PACKETS = 4;
const R_BYTES = 5;
const R_PORT0 = 6; // the first packet's port (in `ports`): most packets skip the counter
const R_SLOT = 7; // the newest 10-second slot
const R_WIN = 8; // the ring's sum: the newest window's packets
const R_MAX_WIN = 9;
const R_ATT = 10; // the attackers' DestSets slot (-1: a sketch)
const R_SINCE = 11; // packets since the attackers were last counted
const R_FIRST_SEC = 12;
const R_FIRST_NSEC = 13;
const R_HEAD_SLOT = 14; // -Infinity: not known (a state of an earlier build)
const R_MISMATCH = 15;
const R_RING = 16; // packets per slot of the newest six (slot s at R_RING + s % 6)
// Packets per slot of the first six (slot s at R_HEAD + s - head slot): with the ring of the
// vector before it, a merge sees the windows across the cut.
const R_HEAD = 22;
const ROW = 32;

/** The rows of an analyzer's vectors, and the vector of each row. */
class Rows {
  f = new Float64Array(ROW * 64);
  vec: (Vector | undefined)[] = [];
  #free: number[] = [];
  #n = 0;

  alloc(v: Vector): number {
    const r = this.#free.pop() ?? this.#n++;
    if ((r + 1) * ROW > this.f.length) {
      const grown = new Float64Array(this.f.length * 2);
      grown.set(this.f);
      this.f = grown;
    }
    this.f.fill(0, r * ROW, (r + 1) * ROW);
    this.vec[r] = v;
    return r;
  }

  release(r: number): void {
    this.f[r * ROW + R_PROTO] = -1;
    this.vec[r] = undefined;
    this.#free.push(r);
  }
}

/** One open attack vector: its numbers in a row of `rows`, the rest here. */
class Vector {
  readonly v: number;
  readonly victim: number;
  readonly victim6: Uint8Array;
  readonly proto: number;
  rows: Rows;
  row: number;
  // IPv4 attackers are counted in the analyzer's DestSets (attSlot ≥ 0: exact, cheap per packet)
  // until they pass ATTACKERS_EXACT, then here (a sketch); IPv6 attackers always here.
  attackers: DistinctCounter | null = null;
  // The attackers' /16s: counted from the attackers themselves while they are in DestSets
  // (attSlot ≥ 0), here once they are not.
  nets = new DistinctCounter();
  ports = new DistinctCounter();
  // The first packet's frame in the analyzer's SampleStore.
  frameRef: number;
  readonly frameLen: number;

  constructor(
    rows: Rows,
    x: Backscatter,
    sec: number,
    nsec: number,
    frameRef: number,
    frameLen: number,
  ) {
    this.v = x.v;
    this.victim = x.v === 4 ? x.victim : 0;
    this.victim6 = x.v === 6 ? x.victim6.slice() : new Uint8Array(0);
    this.proto = x.proto;
    this.rows = rows;
    this.row = rows.alloc(this);
    const f = rows.f;
    const at = this.row * ROW;
    f[at + R_VICTIM] = x.v === 4 ? x.victim : -1;
    f[at + R_PROTO] = x.proto;
    f[at + R_FIRST_SEC] = f[at + R_LAST_SEC] = sec;
    f[at + R_FIRST_NSEC] = f[at + R_LAST_NSEC] = nsec;
    f[at + R_PORT0] = -1;
    f[at + R_ATT] = -1;
    f[at + R_SLOT] = -Infinity;
    f[at + R_HEAD_SLOT] = -Infinity;
    this.frameRef = frameRef;
    this.frameLen = frameLen;
  }

  #get(k: number): number {
    return this.rows.f[this.row * ROW + k];
  }

  #set(k: number, x: number): void {
    this.rows.f[this.row * ROW + k] = x;
  }

  get firstSec(): number {
    return this.#get(R_FIRST_SEC);
  }
  get firstNsec(): number {
    return this.#get(R_FIRST_NSEC);
  }
  get lastSec(): number {
    return this.#get(R_LAST_SEC);
  }
  set lastSec(x: number) {
    this.#set(R_LAST_SEC, x);
  }
  get lastNsec(): number {
    return this.#get(R_LAST_NSEC);
  }
  set lastNsec(x: number) {
    this.#set(R_LAST_NSEC, x);
  }
  get packets(): number {
    return this.#get(R_PACKETS);
  }
  set packets(x: number) {
    this.#set(R_PACKETS, x);
  }
  get bytes(): number {
    return this.#get(R_BYTES);
  }
  set bytes(x: number) {
    this.#set(R_BYTES, x);
  }
  get slot(): number {
    return this.#get(R_SLOT);
  }
  set slot(x: number) {
    this.#set(R_SLOT, x);
  }
  get headSlot(): number {
    return this.#get(R_HEAD_SLOT);
  }
  set headSlot(x: number) {
    this.#set(R_HEAD_SLOT, x);
  }
  get maxWindow(): number {
    return this.#get(R_MAX_WIN);
  }
  set maxWindow(x: number) {
    this.#set(R_MAX_WIN, x);
  }
  get mismatches(): number {
    return this.#get(R_MISMATCH);
  }
  set mismatches(x: number) {
    this.#set(R_MISMATCH, x);
  }
  get attSlot(): number {
    return this.#get(R_ATT);
  }
  set attSlot(x: number) {
    this.#set(R_ATT, x);
  }
  set sinceCheck(x: number) {
    this.#set(R_SINCE, x);
  }

  /** Its newest six slots (a copy; slot s at [s % 6]). */
  get ring(): Float64Array {
    const at = this.row * ROW + R_RING;
    return this.rows.f.slice(at, at + SLOTS);
  }

  /** Takes `r` as the ring (its sum kept beside it). */
  set ring(r: Float64Array) {
    const at = this.row * ROW;
    let w = 0;
    for (let k = 0; k < SLOTS; k++) w += this.rows.f[at + R_RING + k] = r[k];
    this.rows.f[at + R_WIN] = w;
  }

  /** Its first six slots (a copy). */
  get head(): Float64Array {
    const at = this.row * ROW + R_HEAD;
    return this.rows.f.slice(at, at + SLOTS);
  }

  set head(r: Float64Array) {
    this.rows.f.set(r, this.row * ROW + R_HEAD);
  }

  /** Moves its row into `rows` (another analyzer's). */
  rehome(rows: Rows): void {
    if (rows === this.rows) return;
    const from = this.rows;
    const r = rows.alloc(this);
    rows.f.set(from.f.subarray(this.row * ROW, (this.row + 1) * ROW), r * ROW);
    from.release(this.row);
    this.rows = rows;
    this.row = r;
  }

  get duration(): number {
    return this.lastSec - this.firstSec + (this.lastNsec - this.firstNsec) / 1e9;
  }

  report(
    telescopeSize: number,
    store: SampleStore,
    attackers: { count: number; exact: boolean },
    nets: { count: number; exact: boolean },
  ): DosReport {
    const d = this.duration;
    const rate = d > 0 ? this.packets / d : 0;
    return {
      Victim: this.v === 4 ? formatIpv4(this.victim) : formatIpv6(this.victim6),
      Protocol: PROTOCOLS[this.proto] ?? String(this.proto),
      First: formatTime(this.firstSec, this.firstNsec),
      Last: formatTime(this.lastSec, this.lastNsec),
      Packets: this.packets,
      Bytes: this.bytes,
      UniqueAttackers: attackers.count,
      UniqueAttacker16s: nets.count,
      UniquePorts: this.ports.count,
      UniqueCountsExact: attackers.exact && nets.exact && this.ports.exact,
      MaxWindowPackets: this.maxWindow,
      ObservedRate: rate,
      EstimatedRate: this.v === 4 ? rate * 2 ** 32 / telescopeSize : null,
      QuotedMismatches: this.mismatches,
      FirstPacket: store.get(this.frameRef, this.frameLen).toBase64(),
    };
  }

  saved(store: SampleStore, attackers: DistinctCounter, nets: DistinctCounter): unknown {
    return {
      v: this.v,
      victim: this.v === 4 ? this.victim : [...this.victim6],
      proto: this.proto,
      first: [this.firstSec, this.firstNsec],
      last: [this.lastSec, this.lastNsec],
      packets: this.packets,
      bytes: this.bytes,
      attackers: attackers.toJSON(),
      nets: nets.toJSON(),
      ports: this.ports.toJSON(),
      slot: this.slot,
      ring: [...this.ring],
      headSlot: Number.isFinite(this.headSlot) ? this.headSlot : null,
      head: [...this.head],
      maxWindow: this.maxWindow,
      mismatches: this.mismatches,
      firstPacket: store.get(this.frameRef, this.frameLen).toBase64(),
    };
  }
}

const key4 = (victim: number, proto: number) => victim * 256 + proto;
const key6 = (victim6: Uint8Array, proto: number) =>
  `${Array.from(victim6, (x) => x.toString(16).padStart(2, "0")).join("")}/${proto}`;

/**
 * The attack vectors of the backscatter in decoded batches.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { DosVictims } from "./dos_victims.ts";
 * import { captureBatches } from "../capture/open_capture.ts";
 * const dos = new DosVictims();
 * for await (const b of await captureBatches(["testdata/captures-modern/rsdos_synack.pcap"])) {
 *   dos.add(b, 0, b.length);
 * }
 * const [v] = dos.finish();
 * equal(v.Victim, "192.0.2.100");
 * equal(v.Packets, 1958);
 * ```
 */
export class DosVictims implements Analyzer<DosReport[]> {
  /** The analyzer's name. */
  readonly name = "dos-victims";
  /** Seconds without a packet that end a vector (see {@link DosOptions}). */
  readonly timeout: number;
  /** Packets a reported vector has at least. */
  readonly minPackets: number;
  /** Seconds a reported vector lasts at least. */
  readonly minDuration: number;
  /** Packets in the busiest window of a reported vector, at least. */
  readonly minWindow: number;
  /** Telescope size in addresses. */
  readonly telescopeSize: number;
  /** Backscatter packets seen. */
  backscatter = 0;
  /** Vectors ended that reached the thresholds. */
  reported = 0;
  /** Vectors ended that did not. */
  belowThresholds = 0;
  #v4 = new Map<number, Vector>();
  #v6 = new Map<string, Vector>();
  #x = new Backscatter();
  #latest = -Infinity;
  #swept = -Infinity;
  // Ended vectors that reached the thresholds, not yet taken (`take`).
  #ended: DosReport[] = [];
  // First packets of the open vectors (no allocation per vector).
  #store = new SampleStore();
  // IPv4 vectors' attackers while few (see Vector.attSlot); free slots for reuse.
  #attackers = new DestSets();
  // IPv4 vectors' rows + 1 by a hash of (victim, protocol), possibly freed or reused (checked).
  readonly #splitHeads: boolean;
  // With splitHeads: the first packet, and the ended vectors that started near it (saved form).
  #first: [number, number] | null = null;
  #heads: unknown[] = [];
  #headKeys = new Set<number | string>();
  #cacheBits = CACHE_MIN_BITS;
  #cache = new Int32Array(1 << CACHE_MIN_BITS);
  // The open vectors' numbers.
  #rows = new Rows();
  #freeSlots: number[] = [];
  #slots = 0;

  /** An analyzer with the given settings. */
  constructor(o: DosOptions = {}) {
    this.#splitHeads = o.splitHeads ?? false;
    this.timeout = o.timeout ?? 300;
    this.minPackets = o.minPackets ?? 25;
    this.minDuration = o.minDuration ?? 60;
    this.minWindow = o.minWindow ?? 30;
    this.telescopeSize = o.telescopeSize ?? 475136;
  }

  /** Open vectors. */
  get open(): number {
    return this.#v4.size + this.#v6.size;
  }

  /** Adds rows `from .. to-1`; vectors idle past the timeout (packet time) end. */
  add(b: PacketBatch, from = 0, to: number = b.length): void {
    const x = this.#x;
    const tsSec = b.tsSec;
    const traffic = b.traffic;
    if (this.#splitHeads && this.#first === null && from < to) {
      this.#first = [tsSec[from], b.tsNsec[from]];
    }
    for (let i = from; i < to; i++) {
      const sec = tsSec[i];
      // The clock is every packet's; idle vectors end at each new minute of it (a schedule of
      // packet time alone, so a run split in two ends them at the same places).
      if (sec > this.#latest) {
        this.#latest = sec;
        const minute = Math.floor(sec / SWEEP);
        if (minute > this.#swept) {
          this.#swept = minute;
          // Only vectors that any later packet would find past the timeout (the clock is in
          // whole seconds: one to spare); a packet ends one exactly (#vector).
          this.#sweep(sec - this.timeout - 1);
        }
      }
      if (MAYBE[traffic[i]] === 0 || !backscatterOf(b, i, x)) continue;
      this.backscatter++;
      const nsec = b.tsNsec[i];
      const r = x.v === 4
        ? this.#row4(b, i)
        : this.#vector(this.#v6, key6(x.victim6, x.proto), b, i).row;
      const rows = this.#rows;
      const f = rows.f;
      const at = r * ROW;
      this.#addTo(f, at, x, sec, nsec, b.capLen[i]);
      const att = f[at + R_ATT];
      if (att >= 0) {
        this.#attackers.push(att, x.attacker);
        if (++f[at + R_SINCE] >= CHECK_EVERY) this.#check(rows.vec[r]!);
      } else {
        const v = rows.vec[r]!;
        (v.attackers ??= new DistinctCounter()).add(x.attacker);
        v.nets.add(x.attackerNet);
      }
    }
  }

  // A packet of the vector whose row starts at `at`.
  #addTo(f: Float64Array, at: number, x: Backscatter, sec: number, nsec: number, len: number) {
    const packets = ++f[at + R_PACKETS];
    f[at + R_BYTES] += len;
    if (x.port !== f[at + R_PORT0]) {
      if (packets === 1) f[at + R_PORT0] = x.port;
      this.#rows.vec[at / ROW]!.ports.add(x.port);
    }
    if (x.mismatch) f[at + R_MISMATCH]++;
    const ls = f[at + R_LAST_SEC];
    const fs = f[at + R_FIRST_SEC];
    if (sec > ls || (sec === ls && nsec > f[at + R_LAST_NSEC])) {
      f[at + R_LAST_SEC] = sec;
      f[at + R_LAST_NSEC] = nsec;
    } else if (sec < fs || (sec === fs && nsec < f[at + R_FIRST_NSEC])) {
      f[at + R_FIRST_SEC] = sec;
      f[at + R_FIRST_NSEC] = nsec;
    }
    const s = Math.floor(sec / SLOT);
    if (packets === 1) {
      f[at + R_SLOT] = f[at + R_HEAD_SLOT] = s;
      f[at + R_MAX_WIN] = f[at + R_WIN] = 1;
      f[at + R_RING + s % SLOTS] = 1;
      f[at + R_HEAD] = 1;
      return;
    }
    const h = s - f[at + R_HEAD_SLOT];
    if (h >= 0 && h < SLOTS) f[at + R_HEAD + h]++;
    let slot = f[at + R_SLOT];
    if (s > slot) {
      for (let k = Math.max(slot + 1, s - SLOTS + 1); k <= s; k++) {
        f[at + R_WIN] -= f[at + R_RING + k % SLOTS];
        f[at + R_RING + k % SLOTS] = 0;
      }
      f[at + R_SLOT] = slot = s;
    }
    if (s > slot - SLOTS) { // within the newest window (older packets count elsewhere)
      f[at + R_RING + s % SLOTS]++;
      const w = ++f[at + R_WIN];
      if (w > f[at + R_MAX_WIN]) f[at + R_MAX_WIN] = w;
    }
  }

  // The row of the open IPv4 vector of backscatter row i, through the cache: a flood's packets
  // find their vector without a Map lookup (its keys, victim × 256 + protocol, are not small
  // integers: a lookup cost more than the rest of a packet's work) and without its object.
  #row4(b: PacketBatch, i: number): number {
    const x = this.#x;
    const c = Math.imul(x.victim ^ (x.proto << 24), 0x9e3779b1) >>> (32 - this.#cacheBits);
    const r = this.#cache[c] - 1;
    if (r >= 0) {
      const f = this.#rows.f;
      const at = r * ROW;
      if (f[at + R_VICTIM] === x.victim && f[at + R_PROTO] === x.proto) {
        const gap = (b.tsSec[i] - f[at + R_LAST_SEC]) + (b.tsNsec[i] - f[at + R_LAST_NSEC]) / 1e9;
        if (gap <= this.timeout) return r;
      }
    }
    const v = this.#vector(this.#v4, key4(x.victim, x.proto), b, i);
    this.#cache[c] = v.row + 1;
    return v.row;
  }

  // The open vector of key k for backscatter row i: a new one if there is none, or if the gap
  // since its last packet is longer than the timeout (that one ends first).
  #vector<K>(m: Map<K, Vector>, k: K, b: PacketBatch, i: number): Vector {
    const sec = b.tsSec[i];
    const nsec = b.tsNsec[i];
    let v = m.get(k);
    if (v !== undefined && (sec - v.lastSec) + (nsec - v.lastNsec) / 1e9 > this.timeout) {
      m.delete(k);
      this.#end(v);
      v = undefined;
    }
    if (v === undefined) {
      const ref = this.#store.put(b.buffers[b.buf[i]], b.offset[i], b.capLen[i]);
      m.set(k, v = new Vector(this.#rows, this.#x, sec, nsec, ref, b.capLen[i]));
      if (v.v === 4) {
        v.attSlot = this.#freeSlots.pop() ?? this.#slots++;
        if (this.#v4.size * 4 > this.#cache.length && this.#cacheBits < CACHE_MAX_BITS) {
          this.#cacheBits++;
          this.#cache = new Int32Array(1 << this.#cacheBits);
        }
      }
    }
    return v;
  }

  // A vector in DestSets mode with many attackers moves them into a sketch (memory stays at
  // kilobytes a victim however large the flood).
  #check(v: Vector): void {
    v.sinceCheck = 0;
    if (this.#attackers.count(v.attSlot) > ATTACKERS_EXACT) v.attackers = this.#release(v);
  }

  // Vector v's attackers as a counter (its DestSets slot emptied and freed, if it had one).
  #release(v: Vector): DistinctCounter {
    if (v.attSlot < 0) return v.attackers ?? new DistinctCounter();
    const c = new DistinctCounter();
    for (const a of this.#attackers.values(v.attSlot)) {
      c.add(a);
      v.nets.add(a >>> 16);
    }
    this.#attackers.clear(v.attSlot);
    this.#freeSlots.push(v.attSlot);
    v.attSlot = -1;
    return c;
  }

  // Vector v's attackers and their /16s as counters, its slot kept.
  #counter(v: Vector): DistinctCounter {
    if (v.attSlot < 0) return v.attackers ?? new DistinctCounter();
    const c = new DistinctCounter();
    for (const a of this.#attackers.values(v.attSlot)) c.add(a);
    return c;
  }

  #netCounter(v: Vector): DistinctCounter {
    if (v.attSlot < 0) return v.nets;
    const c = new DistinctCounter();
    for (const a of this.#attackers.values(v.attSlot)) c.add(a >>> 16);
    return c;
  }

  // Whether v is a head: its key's first vector in the block, started within the timeout (and a
  // second to spare) of the first packet. A later vector of the key (after a longer gap) cannot
  // continue one of the block before, even if it starts that early.
  #isHead(v: Vector): boolean {
    if (this.#first === null || gap(this.#first, v.firstSec, v.firstNsec) > this.timeout + 1) {
      return false;
    }
    const k = v.v === 4 ? key4(v.victim, v.proto) : key6(v.victim6, v.proto);
    if (this.#headKeys.has(k)) return false;
    this.#headKeys.add(k);
    return true;
  }

  // Ends the vectors whose last packet is before `before` (seconds), in key order.
  #sweep(before: number): void {
    const ended: [number | string, Vector][] = [];
    for (const [k, v] of this.#v4) if (v.lastSec < before) ended.push([k, v]);
    for (const [k, v] of this.#v6) if (v.lastSec < before) ended.push([k, v]);
    ended.sort((a, b) => compareKeys(a[0], b[0]));
    for (const [k, v] of ended) {
      if (typeof k === "number") this.#v4.delete(k);
      else this.#v6.delete(k);
      this.#end(v);
    }
  }

  #end(v: Vector): void {
    if (this.#splitHeads && this.#isHead(v)) {
      // A head: kept whole; the merge joins it to the block before's vector of its key, or
      // reports it.
      this.#heads.push(v.saved(this.#store, this.#counter(v), this.#netCounter(v)));
    } else if (
      v.packets >= this.minPackets && v.duration >= this.minDuration &&
      v.maxWindow >= this.minWindow
    ) {
      this.reported++;
      const attackers = v.attSlot >= 0
        ? { count: this.#attackers.count(v.attSlot), exact: true }
        : v.attackers ?? new DistinctCounter();
      const nets = v.attSlot >= 0 ? nets16(this.#attackers.values(v.attSlot)) : v.nets;
      this.#ended.push(v.report(this.telescopeSize, this.#store, attackers, nets));
    } else this.belowThresholds++;
    this.#store.free(v.frameRef);
    if (v.attSlot >= 0) { // the slot for the next vector (no counter made)
      this.#attackers.clear(v.attSlot);
      this.#freeSlots.push(v.attSlot);
      v.attSlot = -1;
    }
    v.rows.release(v.row); // the vector is never read again
  }

  /** The reports of vectors ended since the last call (in order of ending, then key). */
  take(): DosReport[] {
    const out = this.#ended;
    this.#ended = [];
    return out;
  }

  /** Ends every open vector (the end of input): the reports not taken yet, these included. */
  finish(): DosReport[] {
    this.#sweep(Infinity);
    return this.take();
  }

  /** Adds another analyzer's open vectors and counts (of later packets) into this one. */
  merge(o: this): void {
    this.backscatter += o.backscatter;
    this.reported += o.reported;
    this.belowThresholds += o.belowThresholds;
    for (const r of o.take()) this.#ended.push(r);
    for (const [k, v] of o.#v4) this.#mergeVector(this.#v4, k, v, o);
    for (const [k, v] of o.#v6) this.#mergeVector(this.#v6, k, v, o);
    if (o.#latest > this.#latest) this.#latest = o.#latest;
  }

  #mergeVector<K>(m: Map<K, Vector>, k: K, v: Vector, o: DosVictims): void {
    const a = m.get(k);
    // The other analyzer's first packet, moved into this one's store.
    const frame = o.#store.get(v.frameRef, v.frameLen);
    o.#store.free(v.frameRef);
    const theirs = o.#release(v);
    v.attackers = theirs;
    v.rehome(this.#rows);
    if (a === undefined || gap([a.lastSec, a.lastNsec], v.firstSec, v.firstNsec) > this.timeout) {
      if (a !== undefined) this.#end(a);
      v.frameRef = this.#store.put(frame, 0, frame.length);
      m.set(k, v);
      return;
    }
    a.packets += v.packets;
    a.bytes += v.bytes;
    const ours = this.#release(a);
    ours.merge(theirs);
    a.attackers = ours;
    a.nets.merge(v.nets);
    a.ports.merge(v.ports);
    a.mismatches += v.mismatches;
    joinWindows(a, v);
    a.lastSec = v.lastSec;
    a.lastNsec = v.lastNsec;
    v.rows.release(v.row);
  }

  /** The reports not taken yet. */
  result(): DosReport[] {
    return [...this.#ended];
  }

  /** The open vectors and the clock, for a state file (JSON-able). */
  saveState(): DosState {
    const keys = [...this.#v4.keys(), ...this.#v6.keys()].sort(compareKeys);
    return {
      latest: Number.isFinite(this.#latest) ? this.#latest : null,
      vectors: keys.map((k) => {
        const v = (typeof k === "number" ? this.#v4.get(k) : this.#v6.get(k))!;
        return v.saved(this.#store, this.#counter(v), this.#netCounter(v));
      }),
      ...(this.#splitHeads ? { heads: this.#heads, first: this.#first } : {}),
    };
  }

  /**
   * The merge step of a split run: takes the next block's DoS state (a map step's `saveState`
   * with `splitHeads`) after this analyzer's open vectors, which are the blocks' before. A
   * block's first vectors (its heads, ended, and its open vectors that started near its first
   * packet) join the open vector of their key when the gap is at most the timeout — a vector
   * is a run of its key's packets without a longer gap, so joining by the gap alone is exact —
   * else that one ends; a joined or lone head ends; open vectors idle beyond the timeout at the
   * block's latest packet end; the block's open vectors are carried on. Reports go to
   * {@link DosVictims.take}. The block's own counts (backscatter, reported, below thresholds)
   * are added by the caller ({@link DosVictims.addCounts}).
   */
  joinBlock(state: DosState, latest: [number, number]): void {
    const first = state.first;
    if (!first) return; // a block without packets
    const heads = new DosVictims(this.#options());
    heads.loadState({ latest: state.latest, vectors: state.heads ?? [] });
    const tails = new DosVictims(this.#options());
    tails.loadState({ latest: state.latest, vectors: state.vectors });
    const pairs = [[this.#v4, heads.#v4, tails.#v4], [this.#v6, heads.#v6, tails.#v6]] as const;
    for (const [mine, hs, ts] of pairs) {
      const m = mine as Map<number | string, Vector>;
      for (const [k, h] of hs as Map<number | string, Vector>) {
        this.#mergeVector(m, k, h, heads); // joined to ours, or ours ended and it in its place
        const v = m.get(k)!;
        m.delete(k);
        this.#end(v); // a head ended in its block
      }
      // Before the idle check below: ours continued by an open vector that runs through the
      // block looks idle at its end, but is not over.
      for (const [k, t] of ts as Map<number | string, Vector>) {
        if (gap(first, t.firstSec, t.firstNsec) > this.timeout + 1) continue;
        this.#mergeVector(m, k, t, tails);
        (ts as Map<number | string, Vector>).delete(k);
      }
      // Ours with no first vector in the block: no later packet can continue them once the
      // block's latest is beyond the timeout.
      const over: [number | string, Vector][] = [];
      for (const [k, v] of m) {
        if (gap([v.lastSec, v.lastNsec], ...latest) > this.timeout) over.push([k, v]);
      }
      over.sort((a, b) => compareKeys(a[0], b[0]));
      for (const [k, v] of over) {
        m.delete(k);
        this.#end(v);
      }
      // The block's other open vectors go on (no key is in both: ours of that key ended above).
      for (const [k, t] of ts as Map<number | string, Vector>) this.#mergeVector(m, k, t, tails);
    }
    if (state.latest !== null && state.latest > this.#latest) this.#latest = state.latest;
    this.#swept = Math.floor(this.#latest / SWEEP);
  }

  /** Adds counts of packets and vectors a block's analyzer had (see {@link joinBlock}). */
  addCounts(c: { backscatter: number; reported: number; belowThresholds: number }): void {
    this.backscatter += c.backscatter;
    this.reported += c.reported;
    this.belowThresholds += c.belowThresholds;
  }

  #options(): DosOptions {
    return {
      timeout: this.timeout,
      minPackets: this.minPackets,
      minDuration: this.minDuration,
      minWindow: this.minWindow,
      telescopeSize: this.telescopeSize,
    };
  }

  /** Restores {@link saveState}'s output; throws a description of what is wrong. */
  loadState(s: unknown): void {
    const o = s as { latest?: unknown; vectors?: unknown };
    if (typeof o !== "object" || o === null || !Array.isArray(o.vectors)) {
      throw new Error("DoS state: not an object with vectors");
    }
    if (typeof o.latest !== "number" && o.latest !== null) throw new Error("DoS state: clock");
    this.#latest = typeof o.latest === "number" ? o.latest : -Infinity;
    this.#swept = Math.floor(this.#latest / SWEEP);
    for (const j of o.vectors) {
      const v = vectorFromJSON(j, this.#store, this.#rows);
      if (v.v === 4) {
        const k = key4(v.victim, v.proto);
        if (this.#v4.has(k)) throw new Error("DoS state: a vector appears twice");
        this.#v4.set(k, v);
        // Exact attackers back into the DestSets, as a run that never stopped keeps them.
        const j = v.attackers!.toJSON();
        if ("values" in j && j.values.length <= ATTACKERS_EXACT) {
          v.attSlot = this.#freeSlots.pop() ?? this.#slots++;
          for (const a of j.values) this.#attackers.push(v.attSlot, a);
          v.attackers = null;
        }
      } else {
        const k = key6(v.victim6, v.proto);
        if (this.#v6.has(k)) throw new Error("DoS state: a vector appears twice");
        this.#v6.set(k, v);
      }
    }
  }
}

// The windows of A's packets then B's (the same vector, B's packets later): the busiest window,
// those across the boundary included (A's last six slots and B's first six), and the slots the
// joined vector goes on with (its newest six, its first six). A vector from a state file of an
// earlier build has no first slots: the windows across are then not seen.
function joinWindows(a: Vector, b: Vector): void {
  const aRing = a.ring;
  const bRing = b.ring;
  const bHead = b.head;
  const aEnd = a.slot;
  const at = (k: number) => (k <= aEnd && k > aEnd - SLOTS ? aRing[k % SLOTS] : 0);
  const known = Number.isFinite(b.headSlot);
  const bAt = (k: number) =>
    known && k >= b.headSlot && k < b.headSlot + SLOTS && k <= b.slot ? bHead[k - b.headSlot] : 0;
  let max = Math.max(a.maxWindow, b.maxWindow);
  if (known) {
    // Windows ending in B's first slots that still reach A's (a window ending at a slot without
    // packets is never busier than the one ending at the packet before).
    for (let end = b.headSlot; end < b.headSlot + SLOTS && end - SLOTS < aEnd; end++) {
      let w = 0;
      for (let k = end - SLOTS + 1; k <= end; k++) w += at(k) + bAt(k);
      if (w > max) max = w;
    }
  }
  a.maxWindow = max;
  const newest = Math.max(a.slot, b.slot);
  const ring = new Float64Array(SLOTS);
  for (let k = newest - SLOTS + 1; k <= newest; k++) {
    ring[((k % SLOTS) + SLOTS) % SLOTS] = at(k) +
      (k <= b.slot && k > b.slot - SLOTS ? bRing[k % SLOTS] : 0);
  }
  a.ring = ring;
  a.slot = newest;
  // A's first slots take B's packets that fall in them (a short A).
  if (Number.isFinite(a.headSlot) && known) {
    const head = a.head;
    for (let k = a.headSlot; k < a.headSlot + SLOTS; k++) head[k - a.headSlot] += bAt(k);
    a.head = head;
  }
}

// Seconds from `from` ([sec, nsec]) to sec.nsec, as a packet's gap is measured (#vector).
function gap(from: readonly number[], sec: number, nsec: number): number {
  return (sec - from[0]) + (nsec - from[1]) / 1e9;
}

function compareKeys(a: number | string, b: number | string): number {
  if (typeof a === "number") return typeof b === "number" ? a - b : -1;
  return typeof b === "number" ? 1 : a < b ? -1 : a > b ? 1 : 0;
}

const whole = (x: unknown, max = Number.MAX_SAFE_INTEGER): x is number =>
  typeof x === "number" && Number.isSafeInteger(x) && x >= 0 && x <= max;

function vectorFromJSON(j: unknown, store: SampleStore, rows: Rows): Vector {
  const o = j as Record<string, unknown>;
  const bad = (what: string) => new Error(`DoS state: a vector's ${what}`);
  if (typeof o !== "object" || o === null) throw bad("record");
  const x = new Backscatter();
  if (o.v === 4 && whole(o.victim, 0xffffffff)) {
    x.v = 4;
    x.victim = o.victim;
  } else if (
    o.v === 6 && Array.isArray(o.victim) && o.victim.length === 16 &&
    o.victim.every((b) => whole(b, 255))
  ) {
    x.v = 6;
    x.victim6.set(o.victim as number[]);
  } else throw bad("victim");
  if (!whole(o.proto, 255)) throw bad("protocol");
  x.proto = o.proto;
  const t = (k: string) => {
    const a = o[k];
    if (!Array.isArray(a) || a.length !== 2 || !whole(a[0]) || !whole(a[1], 999_999_999)) {
      throw bad(k);
    }
    return a as [number, number];
  };
  const [fs, fn] = t("first");
  const [ls, ln] = t("last");
  if (fs > ls || (fs === ls && fn > ln)) throw bad("times");
  let frame: Uint8Array;
  try {
    frame = Uint8Array.fromBase64(String(o.firstPacket));
  } catch {
    throw bad("first packet");
  }
  if (frame.length === 0 || frame.length > 262144) throw bad("first packet");
  const v = new Vector(rows, x, fs, fn, store.put(frame, 0, frame.length), frame.length);
  v.lastSec = ls;
  v.lastNsec = ln;
  if (!whole(o.packets) || o.packets < 1 || !whole(o.bytes)) throw bad("counts");
  v.packets = o.packets;
  v.bytes = o.bytes;
  try {
    v.attackers = DistinctCounter.fromJSON(o.attackers);
    v.nets = DistinctCounter.fromJSON(o.nets);
    v.ports = DistinctCounter.fromJSON(o.ports);
  } catch (e) {
    throw bad(`distinct counts (${(e as Error).message})`);
  }
  if (!whole(o.slot) || !Array.isArray(o.ring) || o.ring.length !== SLOTS) throw bad("window");
  if (!o.ring.every((n) => whole(n, v.packets))) throw bad("window");
  v.slot = o.slot;
  v.ring = Float64Array.from(o.ring as number[]);
  // Its first slots (states of earlier builds have none: a merge then misses the windows across).
  if (o.headSlot !== undefined && o.headSlot !== null) {
    if (
      !whole(o.headSlot) || o.headSlot > o.slot || !Array.isArray(o.head) ||
      o.head.length !== SLOTS || !o.head.every((n) => whole(n, v.packets))
    ) throw bad("first slots");
    v.headSlot = o.headSlot;
    v.head = Float64Array.from(o.head as number[]);
  }
  if (!whole(o.maxWindow, v.packets) || !whole(o.mismatches, v.packets)) throw bad("counts");
  v.maxWindow = o.maxWindow;
  v.mismatches = o.mismatches;
  return v;
}

// The distinct /16s of IPv4 attackers (exact).
function nets16(attackers: Uint32Array): { count: number; exact: boolean } {
  const seen = new Set<number>();
  for (const a of attackers) seen.add(a >>> 16);
  return { count: seen.size, exact: true };
}

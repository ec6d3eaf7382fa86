// Per-event state of the tool attribution (src/attribution/). The words every packet updates —
// the last IP ID and the IP ID pairs equal or a small step apart — are in the event's row (FP,
// IPID_EQUAL, IPID_STEP: `_event_table.ts`); these words beside the row (`EventTable.attr`, ATTR
// an entry) are touched once per event and by the packets a tool matched (the batch's `tools`,
// tagged where the packets were decoded): per tool the packets matched; per sequence tool the
// last value and destination word; the packets before the attribution started (an event loaded
// from an older state file); the first IP ID; the first SYN's window, MSS and option layout;
// flags. Single-packet events (`SingleTable.attr`, SINGLE_ATTR words) keep the packet's matches,
// window scale, IP ID, signature words and sequence values: what a promotion needs to continue
// exactly as if the event had been full from its first packet.
//
// The traffic tags (`tags/traffic_tags.ts`) are counted here too, from the same first packet:
// while every packet of an event has the same tags (nearly all events: the port and traffic are
// the key's), the row's FP word holds them (TAGS_SHIFT) and a packet only compares; the first
// packet that differs makes the event "mixed" (TAGS_MIXED), its counts per tag then in its words.

import type { PacketBatch } from "../decode/packet_batch.ts";
import { Traffic } from "../decode/traffic.ts";
import { IPID_SMALL_STEP, ipIdClass } from "../attribution/ipid_class.ts";
import { synSignature } from "../attribution/syn_signature.ts";
import { SEQUENCE_BITS, SEQUENCE_TOOLS, TOOLS } from "../attribution/tools.ts";
import { FIRST_ID, FP, IPID_EQUAL, IPID_STEP, TAGS_MIXED, TAGS_SHIFT } from "./_event_row.ts";
import { TAG_BITS, TAGS } from "../tags/traffic_tags.ts";
import type { SignatureTable } from "./_signature_table.ts";

const T = TOOLS.length;
const S = SEQUENCE_TOOLS.length;
/** Per tool: its place among the sequence tools, or -1. */
const SEQ_SLOT = TOOLS.map((_, k) => SEQUENCE_TOOLS.indexOf(k));
const VALUE = TOOLS.map((t) => t.value ?? (() => 0));

// Words beside a full event: matched[T], then these. A sequence tool's state — its last value
// and destination and its first (a merge of two halves compares the first half's last with the
// second's first) — is kept apart, by entry (`EventTable.seq`): few events have a packet of a
// sequence tool's shape, and every event's words are touched when it starts.
const SEQ_WORDS = 4;
/** Words of the sequence tools' state of an event (`EventTable.seq`). */
export const SEQ_STATE = SEQ_WORDS * S;
const BASE = T; // packets before the attribution started
const IPID_FIRST = BASE + 1;
const SIG_WM = BASE + 2; // window << 16 | MSS
const SIG_OPTS = BASE + 3;
// Window scale (bits 0-7), signature present (8), sequence tool s has a last value (16 + s),
// the armed tools (24-31).
const FLAGS = BASE + 4;
/** Words of the attribution in state format 4 (before the tag counts). */
export const ATTR_V4 = BASE + 5;
const TAG_COUNTS = BASE + 5; // packets per tag, while the event is mixed
/** Words beside each full event. */
export const ATTR = TAG_COUNTS + TAGS.length;
const HAS_SIG = 1 << 8;
// The tag bits of a row's FP word (shared tags, mixed).
const TAG_WORD = (TAG_BITS << TAGS_SHIFT) | TAGS_MIXED;

// A single-packet event's attribution, expanded (state files, promotions, output): matches (bits
// 0-7), window scale (8-15), attribution valid (16), signature present (17), tags (18-21); the
// IP ID; window <<
// 16 | MSS; option layout; a value per sequence tool. In its row it is compact (SINGLE_ROW_ATTR
// words): matches | valid << 8 | signature << 9 | tags << 10 | IP ID << 16; the signature's number in the
// aggregator's SignatureTable. The value of its sequence tool (a packet of two sequence tools'
// shapes keeps the first's) is in the table's `values`, by entry: few packets have such a shape.
const S_IPID = 1;
const S_WM = 2;
const S_OPTS = 3;
const S_VALUES = 4;
/** Words per single-packet event. */
export const SINGLE_ATTR = S_VALUES + S;
const S_VALID = 1 << 16;
const S_SIG = 1 << 17;
/** Words of a single-packet event's attribution in its row. */
export const SINGLE_ROW_ATTR = 2;
const C_VALID = 1 << 8;
const C_SIG = 1 << 9;
const C_TAGS = 10;
const S_TAGS = 18;

/** A fresh full event tested by the `armed` tools (its row's words: `EventTable.start`). */
export function attrStart(a: Uint32Array, o: number, armed: number): void {
  // Only what is read unconditionally: the counters, the base and the flags (the flags' bits
  // guard the sequence words, the signature; attrFirst or attrPromote set the first IP ID).
  for (let k = 0; k < T; k++) a[o + k] = 0;
  a[o + BASE] = 0;
  a[o + FLAGS] = armed << 24;
}

/**
 * The first packet the attribution sees of the full event (row words at `rowU[u ..]`, the others
 * at `a[o ..]`): its IP ID and, for a SYN, its signature.
 */
export function attrFirst(
  rowU: Uint32Array,
  u: number,
  a: Uint32Array,
  o: number,
  b: PacketBatch,
  i: number,
): void {
  const id = b.ipId[i] & 0xffff;
  rowU[u + FP] = ((rowU[u + FP] & 0xff) | ((b.tags[i] & TAG_BITS) << TAGS_SHIFT) | (id << 16)) >>>
    0;
  a[o + IPID_FIRST] = id;
  if (b.traffic[i] !== Traffic.TCPSYN) return;
  const n = b.tcpOptLen[i];
  a[o + SIG_WM] = (b.tcpWindow[i] << 16 | (n > 0 ? b.tcpMss[i] : 0)) >>> 0;
  a[o + SIG_OPTS] = n > 0 ? b.tcpOpts[i] : 0;
  a[o + FLAGS] = (a[o + FLAGS] & ~0x1ff) | HAS_SIG | (n > 0 ? b.tcpWscale[i] : 255);
}

/**
 * The `k`th packet of the full event has tags `tg` (TAG_BITS), not those every packet before it
 * had, or the event is mixed already: its counts per tag, made from the shared tags first.
 */
export function attrTags(
  rowU: Uint32Array,
  u: number,
  a: Uint32Array,
  o: number,
  tg: number,
  k: number,
): void {
  const w = rowU[u + FP];
  if ((w & TAGS_MIXED) === 0) {
    const before = k - 1 - a[o + BASE];
    const had = w >>> TAGS_SHIFT;
    for (let t = 0; t < TAGS.length; t++) a[o + TAG_COUNTS + t] = (had >>> t) & 1 ? before : 0;
    rowU[u + FP] = ((w & ~(TAG_BITS << TAGS_SHIFT)) | TAGS_MIXED) >>> 0; // the same word however split
  }
  for (let t = 0; t < TAGS.length; t++) a[o + TAG_COUNTS + t] += (tg >>> t) & 1;
}

// The packets per tag of a full event with `tested` packets seen (FP word `w`).
function tagCounts(w: number, a: Uint32Array, o: number, tested: number): number[] {
  const out = new Array<number>(TAGS.length);
  const had = w >>> TAGS_SHIFT;
  const mixed = (w & TAGS_MIXED) !== 0;
  for (let t = 0; t < TAGS.length; t++) {
    out[t] = mixed ? a[o + TAG_COUNTS + t] : (had >>> t) & 1 ? tested : 0;
  }
  return out;
}

/**
 * Packet i matched the tools of bits `m` (the batch's tag, masked by the event's traffic): count
 * it, a sequence tool only if its value repeats the last one to another destination (`dst`: the
 * destination's last 32 bits).
 */
export function attrMatched(
  a: Uint32Array,
  o: number,
  m: number,
  b: PacketBatch,
  i: number,
  dst: number,
  seq: Map<number, Uint32Array>,
  entry: number,
): void {
  for (let k = 0; k < T; k++) {
    if (((m >>> k) & 1) === 0) continue;
    const s = SEQ_SLOT[k];
    if (s < 0) {
      a[o + k]++;
      continue;
    }
    const v = VALUE[k](b, i) >>> 0;
    const has = 1 << (16 + s);
    const w = seqState(seq, entry);
    const at = SEQ_WORDS * s;
    if ((a[o + FLAGS] & has) === 0) {
      w[at + 2] = v;
      w[at + 3] = dst;
      a[o + FLAGS] |= has;
    } else if (w[at] === v && w[at + 1] !== dst) a[o + k]++;
    w[at] = v;
    w[at + 1] = dst;
  }
}

// The sequence state of `entry` (made on first use).
function seqState(seq: Map<number, Uint32Array>, entry: number): Uint32Array {
  let w = seq.get(entry);
  if (w === undefined) seq.set(entry, w = new Uint32Array(SEQ_STATE));
  return w;
}

/**
 * Packet i alone, as the single-packet event `entry` whose compact words are at `s[o ..]` (`m`:
 * its tools' tag; `sigs`: where SYN signatures are interned; `values`: the sequence values of
 * the table's events, by entry — rare, so kept out of the rows). Millions of one-off sources an
 * hour make this one of the hottest paths: it writes one or two words.
 */
export function attrSingle(
  s: Uint32Array,
  o: number,
  b: PacketBatch,
  i: number,
  m: number,
  sigs: SignatureTable,
  values: Map<number, number>,
  entry: number,
): void {
  let w = ((b.ipId[i] & 0xffff) << 16) | C_VALID | ((b.tags[i] & TAG_BITS) << C_TAGS);
  if (b.traffic[i] === Traffic.TCPSYN) {
    const n = b.tcpOptLen[i];
    const id = n > 0
      ? sigs.intern((b.tcpWindow[i] << 16 | b.tcpMss[i]) >>> 0, b.tcpOpts[i], b.tcpWscale[i])
      : sigs.intern(b.tcpWindow[i] << 16 >>> 0, 0, 255);
    s[o + 1] = id;
    if (id !== 0) w |= C_SIG;
  }
  if ((m & SEQUENCE_BITS) !== 0) {
    for (let x = 0; x < S; x++) {
      const k = SEQUENCE_TOOLS[x];
      if (((m >>> k) & 1) === 0) continue;
      values.set(entry, VALUE[k](b, i) >>> 0);
      m &= ~SEQUENCE_BITS | (1 << k); // the first sequence tool only
      break;
    }
  } else if (values.size > 0) values.delete(entry);
  s[o] = (w | m) >>> 0;
}

/** The compact words at `s[o ..]` of `entry` expanded into `out` (SINGLE_ATTR words). */
export function attrSingleExpand(
  s: Uint32Array,
  o: number,
  sigs: SignatureTable,
  out: Uint32Array,
  values: Map<number, number>,
  entry: number,
): void {
  const w = s[o];
  out.fill(0);
  if ((w & C_VALID) === 0) return;
  const m = w & 0xff;
  out[S_IPID] = w >>> 16;
  let flags = m | S_VALID | (((w >>> C_TAGS) & TAG_BITS) << S_TAGS);
  if ((w & C_SIG) !== 0) {
    sigs.words(s[o + 1], out, S_WM); // window << 16 | MSS, layout, window scale at S_VALUES
    flags |= S_SIG | (out[S_VALUES] << 8);
    out[S_VALUES] = 0;
  }
  out[0] = flags >>> 0;
  if ((m & SEQUENCE_BITS) === 0) return;
  const v = values.get(entry) ?? 0;
  for (let x = 0; x < S; x++) if ((m >>> SEQUENCE_TOOLS[x]) & 1) out[S_VALUES + x] = v;
}

/** Expanded words (checked) into the compact ones at `s[o ..]` of `entry`. */
export function attrSingleCompact(
  e: Uint32Array,
  s: Uint32Array,
  o: number,
  sigs: SignatureTable,
  values: Map<number, number>,
  entry: number,
): void {
  const f = e[0];
  if ((f & S_VALID) === 0) return attrSingleUnknown(s, o);
  let m = f & 0xff;
  let w = (e[S_IPID] << 16) | C_VALID | (((f >>> S_TAGS) & TAG_BITS) << C_TAGS);
  if ((f & S_SIG) !== 0) {
    const id = sigs.intern(e[S_WM], e[S_OPTS], (f >>> 8) & 0xff);
    s[o + 1] = id;
    if (id !== 0) w |= C_SIG;
  }
  for (let x = 0; x < S; x++) {
    const k = SEQUENCE_TOOLS[x];
    if (((m >>> k) & 1) === 0) continue;
    values.set(entry, e[S_VALUES + x]);
    m &= ~SEQUENCE_BITS | (1 << k);
    break;
  }
  if ((m & SEQUENCE_BITS) === 0 && values.size > 0) values.delete(entry);
  s[o] = (w | m) >>> 0;
}

/** A single-packet event (compact words at `s[so ..]`) from a state file without attribution. */
export function attrSingleUnknown(s: Uint32Array, so: number): void {
  s.fill(0, so, so + SINGLE_ROW_ATTR);
}

/**
 * The full event (row words at `rowU[u ..]`, the others at `a[o ..]`; started) continues the
 * single-packet event at `s[so ..]` whose destination's last word is `dst`: the state its one
 * packet would have left.
 */
export function attrPromote(
  s: Uint32Array,
  so: number,
  rowU: Uint32Array,
  u: number,
  a: Uint32Array,
  o: number,
  dst: number,
  seq: Map<number, Uint32Array>,
  entry: number,
): void {
  const f = s[so];
  if ((f & S_VALID) === 0) return; // from an older state file: starts with the next packet
  const m = f & 0xff;
  let flags = a[o + FLAGS];
  for (let k = 0; k < T; k++) {
    if (((m >>> k) & 1) === 0) continue;
    const x = SEQ_SLOT[k];
    if (x < 0) a[o + k] = 1;
    else {
      const w = seqState(seq, entry);
      const at = SEQ_WORDS * x;
      w[at] = w[at + 2] = s[so + S_VALUES + x];
      w[at + 1] = w[at + 3] = dst;
      flags |= 1 << (16 + x);
    }
  }
  const id = s[so + S_IPID];
  // FIRST_ID cleared; the packet's tags, shared so far
  rowU[u + FP] =
    ((rowU[u + FP] & 0xff) | (((f >>> S_TAGS) & TAG_BITS) << TAGS_SHIFT) | (id << 16)) >>>
    0;
  a[o + IPID_FIRST] = id;
  if (f & S_SIG) {
    a[o + SIG_WM] = s[so + S_WM];
    a[o + SIG_OPTS] = s[so + S_OPTS];
    flags = (flags & ~0x1ff) | HAS_SIG | ((f >>> 8) & 0xff);
  }
  a[o + FLAGS] = flags;
}

/**
 * The sequence state (`words`, SEQ_STATE of them, as {@link attrSaved} wrote them after the
 * event's words) of a full event loaded from a state file, into `seq` if its flags keep any.
 */
export function attrLoadSequences(
  a: Uint32Array,
  o: number,
  words: Uint32Array,
  seq: Map<number, Uint32Array>,
  entry: number,
): void {
  seq.delete(entry);
  if (((a[o + FLAGS] >>> 16) & 0xff) !== 0) seq.set(entry, words.slice());
}

/**
 * The full event loaded from a state file older than the attribution: it starts with the next
 * packet (`packets` came before).
 */
export function attrLoadedWithout(a: Uint32Array, o: number, armed: number, packets: number) {
  attrStart(a, o, armed);
  a[o + BASE] = packets;
}

/**
 * Merges two halves of one event: the full event A (row at `ar[au ..]`, words at `aa[ao ..]`,
 * `pa` packets) and B, the same key's next packets (`pb`), into A — the state one pass over all
 * of them leaves: counts added, the pair across the boundary counted (IP IDs; a sequence tool's
 * value), A's first and B's last kept. Merit's fingerprint bits are ANDed. (A single-packet
 * half is promoted first.)
 */
export function attrMerge(
  ar: Uint32Array,
  au: number,
  aa: Uint32Array,
  ao: number,
  pa: number,
  aSeq: Map<number, Uint32Array>,
  ae: number,
  br: Uint32Array,
  bu: number,
  ba: Uint32Array,
  bo: number,
  pb: number,
  bSeq: Map<number, Uint32Array>,
  be: number,
): void {
  const aTested = pa - aa[ao + BASE];
  const bTested = pb - ba[bo + BASE];
  const aFlags = aa[ao + FLAGS];
  const bFlags = ba[bo + FLAGS];
  // B's first packet follows A's last directly only if B's attribution saw it.
  const joined = aTested > 0 && bTested > 0 && ba[bo + BASE] === 0;
  let flags = aFlags;
  for (let k = 0; k < T; k++) {
    aa[ao + k] += ba[bo + k];
    const x = SEQ_SLOT[k];
    if (x < 0) continue;
    const has = 1 << (16 + x);
    if ((bFlags & has) === 0) continue;
    const w = seqState(aSeq, ae);
    const v = bSeq.get(be)!;
    const at = SEQ_WORDS * x;
    if ((aFlags & has) === 0) {
      w[at + 2] = v[at + 2];
      w[at + 3] = v[at + 3];
    } else if (w[at] === v[at + 2] && w[at + 1] !== v[at + 3]) aa[ao + k]++;
    w[at] = v[at];
    w[at + 1] = v[at + 1];
    flags |= has;
  }
  aa[ao + BASE] += ba[bo + BASE];
  const aw = ar[au + FP];
  const bw = br[bu + FP];
  let eq = ar[au + IPID_EQUAL] + br[bu + IPID_EQUAL];
  let step = ar[au + IPID_STEP] + br[bu + IPID_STEP];
  let last = aw >>> 16;
  if (joined) {
    const d = (ba[bo + IPID_FIRST] - last) & 0xffff;
    if (d === 0) eq++;
    else if (d - 1 < IPID_SMALL_STEP) step++;
  }
  if (bTested > 0) last = bw >>> 16;
  if (aTested === 0) aa[ao + IPID_FIRST] = ba[bo + IPID_FIRST];
  ar[au + IPID_EQUAL] = eq;
  ar[au + IPID_STEP] = step;
  const started = (aw & FIRST_ID) === 0 || (bw & FIRST_ID) === 0;
  // Tags: one half's if the other saw none; shared if both halves had the same throughout.
  let tags: number;
  if (bTested === 0) tags = aw & TAG_WORD;
  else if (aTested === 0) {
    tags = bw & TAG_WORD;
    for (let t = 0; t < TAGS.length; t++) aa[ao + TAG_COUNTS + t] = ba[bo + TAG_COUNTS + t];
  } else if (((aw | bw) & TAGS_MIXED) === 0 && (aw & TAG_WORD) === (bw & TAG_WORD)) {
    tags = aw & TAG_WORD;
  } else {
    const ca = tagCounts(aw, aa, ao, aTested);
    const cb = tagCounts(bw, ba, bo, bTested);
    for (let t = 0; t < TAGS.length; t++) aa[ao + TAG_COUNTS + t] = ca[t] + cb[t];
    tags = TAGS_MIXED;
  }
  ar[au + FP] = ((aw & bw & 0xff) | (started ? 0 : FIRST_ID) | tags | (last << 16)) >>> 0;
  if ((aFlags & HAS_SIG) === 0 && (bFlags & HAS_SIG) !== 0) {
    aa[ao + SIG_WM] = ba[bo + SIG_WM];
    aa[ao + SIG_OPTS] = ba[bo + SIG_OPTS];
    flags = (flags & ~0x1ff) | (bFlags & 0x1ff);
  }
  aa[ao + FLAGS] = flags;
}

/**
 * The full event's words as a state file keeps them (into `out`, ATTR + SEQ_STATE words: its
 * words, then its sequence tools' state): words no flag vouches for (a sequence tool's before its
 * first packet, the signature's of a non-SYN event, the first IP ID before the first packet) are
 * left over from an entry's earlier event, so they are written as 0 — a state file holds nothing
 * but this event.
 */
export function attrSaved(
  rowU: Uint32Array,
  u: number,
  a: Uint32Array,
  o: number,
  seq: Map<number, Uint32Array>,
  entry: number,
  out: Uint32Array,
) {
  out.fill(0);
  out.set(a.subarray(o, o + ATTR));
  const flags = a[o + FLAGS];
  const w = seq.get(entry);
  for (let x = 0; x < S; x++) {
    if (((flags >>> (16 + x)) & 1) !== 0 && w) {
      out.set(w.subarray(SEQ_WORDS * x, SEQ_WORDS * (x + 1)), ATTR + SEQ_WORDS * x);
    }
  }
  if ((flags & HAS_SIG) === 0) {
    out[SIG_WM] = 0;
    out[SIG_OPTS] = 0;
    out[FLAGS] &= ~0xff;
  }
  if ((rowU[u + FP] & FIRST_ID) !== 0) out[IPID_FIRST] = 0;
  if ((rowU[u + FP] & TAGS_MIXED) === 0) out.fill(0, TAG_COUNTS, TAG_COUNTS + TAGS.length);
}

// The text of the last signatures made (events of one scanner repeat theirs), by their words.
const TEXT_CACHE = new Map<number, Map<number, string>>();

function signatureText(wm: number, opts: number, ws: number): string {
  const key = wm * 256 + ws; // < 2^40: exact
  let m = TEXT_CACHE.get(key);
  let t = m?.get(opts);
  if (t !== undefined) return t;
  if (TEXT_CACHE.size >= 4096) TEXT_CACHE.clear();
  if (!m) TEXT_CACHE.set(key, m = new Map());
  t = synSignature(wm >>> 16, opts, wm & 0xffff, ws);
  m.set(opts, t);
  return t;
}

/** What an event shows of its attribution. */
export interface Attribution {
  /** Packets matched per tool (registry order). */
  matched: number[];
  /** Packets tested. */
  tested: number;
  /** JA4T-style signature of the first SYN, or "". */
  synSignature: string;
  /** IP ID behaviour, or "". */
  ipIdClass: string;
  /** Packets per traffic tag (`TAGS` order) among those tested. */
  tags: number[];
}

/** The attribution of the full event of `packets` packets (row at `rowU[u ..]`, words at `a[o ..]`). */
export function attrOf(
  rowU: Uint32Array,
  u: number,
  a: Uint32Array,
  o: number,
  v6: boolean,
  packets: number,
): Attribution {
  const tested = packets - a[o + BASE];
  const flags = a[o + FLAGS];
  const matched = new Array<number>(T);
  for (let k = 0; k < T; k++) matched[k] = a[o + k];
  return {
    matched,
    tested,
    synSignature: flags & HAS_SIG
      ? signatureText(a[o + SIG_WM], a[o + SIG_OPTS], flags & 0xff)
      : "",
    ipIdClass: v6 || tested === 0
      ? ""
      : ipIdClass(tested - 1, rowU[u + IPID_EQUAL], rowU[u + IPID_STEP]),
    tags: tagCounts(rowU[u + FP], a, o, tested),
  };
}

/** The attribution of the single-packet event at `s[so ..]`. */
export function attrOfSingle(s: Uint32Array, so: number): Attribution {
  const f = s[so];
  const m = f & 0xff;
  return {
    matched: TOOLS.map((_, k) => SEQ_SLOT[k] < 0 ? (m >>> k) & 1 : 0),
    tested: (f & S_VALID) !== 0 ? 1 : 0,
    synSignature: f & S_SIG ? signatureText(s[so + S_WM], s[so + S_OPTS], (f >>> 8) & 0xff) : "",
    ipIdClass: "",
    tags: TAGS.map((_, t) => (f >>> (S_TAGS + t)) & 1),
  };
}

/**
 * What is wrong with a full event's attribution from a state file (row at `rowU[u ..]`, words at
 * `a[o ..]`; an event of `packets` packets, tested by `armed`, a TCP SYN event if `syn`), or "".
 */
export function attrProblem(
  rowU: Uint32Array,
  u: number,
  a: Uint32Array,
  o: number,
  armed: number,
  packets: number,
  syn: boolean,
): string {
  const base = a[o + BASE];
  const flags = a[o + FLAGS];
  if (base > packets) return `attribution after ${base} packets of an event of ${packets}`;
  const tested = packets - base;
  if (flags >>> 24 !== armed) return `tools ${flags >>> 24} armed where ${armed} apply`;
  for (let k = 0; k < T; k++) {
    if (a[o + k] > tested || (a[o + k] > 0 && ((armed >>> k) & 1) === 0)) {
      return `${a[o + k]} packets matched ${TOOLS[k].label} of ${tested} tested`;
    }
  }
  for (let x = 0; x < S; x++) {
    if ((flags >>> (16 + x)) & 1 && ((armed >>> SEQUENCE_TOOLS[x]) & 1) === 0) {
      return "a sequence rule's state on an event it does not apply to";
    }
  }
  if ((flags & 0xfe00) !== 0 || (flags >>> 16 & 0xff) >>> S !== 0) {
    return `attribution flags ${flags}`;
  }
  if ((flags & HAS_SIG) !== 0 && !syn) return "a SYN signature on an event of other traffic";
  if (a[o + IPID_FIRST] > 0xffff) return `IP ID ${a[o + IPID_FIRST]}`;
  const pairs = rowU[u + IPID_EQUAL] + rowU[u + IPID_STEP];
  if (pairs > Math.max(tested - 1, 0)) return "IP ID pairs beyond the packets";
  const w = rowU[u + FP];
  if ((w & FIRST_ID) !== 0 && (tested > 0 || pairs > 0 || (w & TAG_WORD) !== 0)) {
    return "an attribution that has not started has counts";
  }
  if ((w & 0xfe00 & ~TAG_WORD) !== 0 || (w & TAGS_MIXED && w & (TAG_BITS << TAGS_SHIFT))) {
    return `fingerprint word ${w}`;
  }
  for (let t = 0; t < TAGS.length; t++) {
    if (a[o + TAG_COUNTS + t] > tested) {
      return `${a[o + TAG_COUNTS + t]} packets tagged ${TAGS[t]} of ${tested}`;
    }
  }
  return "";
}

/** What is wrong with the single-packet event's words at `s[o ..]` from a state file, or "". */
export function attrSingleProblem(s: Uint32Array, o: number, armed: number, syn: boolean): string {
  const f = s[o];
  if (f >>> (S_TAGS + TAGS.length) !== 0) return `attribution flags ${f}`;
  if ((f & 0xff & ~armed) !== 0) return `tool bits ${f & 0xff} where ${armed} apply`;
  if ((f & S_SIG) !== 0 && !syn) return "a SYN signature on an event of other traffic";
  if ((f & S_VALID) === 0 && (f !== 0 || s[o + S_IPID] !== 0)) return "attribution flags";
  if (s[o + S_IPID] > 0xffff) return `IP ID ${s[o + S_IPID]}`;
  return "";
}

/**
 * The single-packet event's attribution as a state file keeps it, appended to `out`: its first
 * compact word, then the number of its signature in the file's dictionary (`dict` maps the
 * aggregator's numbers to the file's, 1 on; see `state_file.ts`) if it has one, then its sequence
 * value if it has one.
 */
export function attrSingleToFile(
  s: Uint32Array,
  o: number,
  values: Map<number, number>,
  entry: number,
  dict: Uint32Array,
  out: number[],
): void {
  const w = s[o];
  out.push(w);
  if ((w & C_SIG) !== 0) out.push(dict[s[o + 1]]);
  if ((w & SEQUENCE_BITS) !== 0) out.push(values.get(entry) ?? 0);
}

/** Whether the compact word `w` is followed by a signature number, and by a sequence value. */
export function attrSingleFileWords(w: number): number {
  return ((w & C_SIG) !== 0 ? 1 : 0) + ((w & C_VALID) !== 0 && (w & SEQUENCE_BITS) !== 0 ? 1 : 0);
}

/**
 * The expanded words (into `out`) of a single-packet event read from a state file: compact word
 * `w`, its signature's words (`sig`: window << 16 | MSS, layout, window scale; when `w` says it
 * has one) and its sequence value. "" or the problem: flags this build does not know.
 */
export function attrSingleFromFile(
  w: number,
  sig: ArrayLike<number> | null,
  value: number,
  out: Uint32Array,
): string {
  out.fill(0);
  if ((w & ~(0xff | C_VALID | C_SIG | (TAG_BITS << C_TAGS) | 0xffff0000)) !== 0) {
    return `attribution word ${w}`;
  }
  if ((w & C_VALID) === 0) return w === 0 ? "" : `attribution word ${w}`;
  const m = w & 0xff;
  let flags = m | S_VALID | (((w >>> C_TAGS) & TAG_BITS) << S_TAGS);
  if ((w & C_SIG) !== 0 && sig) {
    out[S_WM] = sig[0];
    out[S_OPTS] = sig[1];
    if (sig[2] > 255) return `window scale ${sig[2]}`;
    flags |= S_SIG | (sig[2] << 8);
  }
  out[0] = flags >>> 0;
  out[S_IPID] = w >>> 16;
  for (let x = 0; x < S; x++) if ((m >>> SEQUENCE_TOOLS[x]) & 1) out[S_VALUES + x] = value;
  return "";
}

/** The signature number of the single-packet event at `s[o ..]`, 0 if none. */
export function attrSingleSignature(s: Uint32Array, o: number): number {
  return (s[o] & C_SIG) !== 0 ? s[o + 1] : 0;
}

/** Whether compact word `w` (from a state file) says a signature number follows. */
export function attrSingleHasSignature(w: number): boolean {
  return (w & C_SIG) !== 0;
}

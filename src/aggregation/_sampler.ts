// Samples that merge: an event keeps the `--samples` packets of lowest rank, where a packet's rank
// is a seeded hash of the packet (bottom-k sampling). Which packets are kept depends on the
// packets alone, not on their order or on where a run was split: two halves of an event, each
// sampled on its own, merge into exactly the samples of one pass (the lowest ranks of both; a
// tie goes to the earlier packet). Kept samples are in packet order. A packet costs one hash and
// one comparison with the event's threshold (the highest kept rank once the slots are full).
//
//   eventSeed = mix(seed ^ mix(k0 ^ mix(k1)))                        (IPv4: source, traffic<<16|port)
//   eventSeed = mix(seed ^ mix(w0 ^ mix(w1 ^ mix(w2 ^ mix(w3 ^ mix(k1)))))) (IPv6 source words)
//   rank = mix(eventSeed ^ mix(nsec ^ mix(dst ^ imul(sec, 0x9e3779b1) ^ caplen)))
//
// with `mix` the 32-bit finaliser of util/key_table.ts and `dst` the IPv4 destination, or for
// IPv6 `hashDest6` of its four words. docs/parse.md states it; the Python reference recomputes it.

import { mix } from "../util/key_table.ts";

/** An IPv4 event's sampling seed: the run's seed and the key. */
export function eventSeed4(seed: number, src: number, k1: number): number {
  return mix(seed ^ mix(src ^ mix(k1)));
}

/** An IPv6 event's sampling seed: the run's seed, the source's four words and the key's last. */
export function eventSeed6(
  seed: number,
  w0: number,
  w1: number,
  w2: number,
  w3: number,
  k1: number,
): number {
  return mix(seed ^ mix(w0 ^ mix(w1 ^ mix(w2 ^ mix(w3 ^ mix(k1))))));
}

/** A packet's rank in its event (lower ranks are kept). */
export function packetRank(
  eventSeed: number,
  sec: number,
  nsec: number,
  dst: number,
  len: number,
): number {
  return mix(eventSeed ^ mix(nsec ^ mix(dst ^ Math.imul(sec, 0x9e3779b1) ^ len)));
}

/** The threshold of an event whose slots are not all filled: any rank is below it. */
export const OPEN_THRESHOLD = 2 ** 32;

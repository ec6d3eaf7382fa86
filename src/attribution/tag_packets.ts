/**
 * Tagging once per packet, where packets are decoded: the scanning tools whose rules a packet
 * matches (among those tested on its traffic and IP version) and the Merit fingerprints it
 * matches (TCP SYN rows; Merit's rules arm no other event) and its traffic tags
 * (`tags/traffic_tags.ts`), as three columns of its batch. parse does it on its capture worker,
 * so that the aggregator on the other core reads a few bytes a packet instead of running the
 * rules.
 *
 * @module
 */

import type { PacketBatch } from "../decode/packet_batch.ts";
import { matchFingerprints } from "../fingerprints/registry.ts";
import { Traffic } from "../decode/traffic.ts";
import { armedTools, matchTools, TOOLS } from "./tools.ts";
import { tagRows } from "../tags/traffic_tags.ts";

const MASSCAN = 1 << TOOLS.findIndex((t) => t.name === "masscan");

/**
 * Fills the batch's `tools`, `fingerprints` and `tags` columns and marks it tagged.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { tagPackets } from "./tag_packets.ts";
 * import { PacketBatch } from "../decode/packet_batch.ts";
 * import { Traffic } from "../decode/traffic.ts";
 * const b = new PacketBatch(2);
 * b.length = 2;
 * b.ipVersion.fill(4);
 * b.traffic[0] = Traffic.TCPSYN;
 * b.traffic[1] = Traffic.UDP;
 * b.src.fill(0x01020304);
 * b.srcPort.fill(40000);
 * b.dstPort.fill(443);
 * b.tcpFlags[0] = 0x002;
 * b.proto[0] = 6;
 * b.proto[1] = 17;
 * b.dst.fill(7);
 * b.tcpSeq.fill(7); // seq = destination: Mirai's relation, on both rows
 * b.ipId.fill(1); // not masscan's (0 here)
 * tagPackets(b);
 * equal(b.tools[0], 0b10000); // the Mirai tool
 * equal(b.tools[1], 0); // masscan's UDP rule is about DNS queries; ZMap's needs IP ID 54321
 * equal(b.fingerprints[0], 0b100); // Merit's Mirai bit
 * equal(b.fingerprints[1], 0); // Merit's rules are for TCP SYN only
 * equal(b.tags[0], 0); // nothing odd about either
 * ```
 */
export function tagPackets(b: PacketBatch): void {
  if (b.tools.length < b.capacity) {
    b.tools = new Uint8Array(b.capacity);
    b.fingerprints = new Uint8Array(b.capacity);
  }
  const tags = b.tags;
  const tools = b.tools;
  const fingerprints = b.fingerprints;
  const version = b.ipVersion;
  const traffic = b.traffic;
  for (let i = 0; i < b.length; i++) {
    const v = version[i];
    if (v === 0) {
      tools[i] = 0;
      fingerprints[i] = 0;
      continue;
    }
    const t = traffic[i];
    const armed = armedTools(t, v === 6);
    const m = armed === 0 ? 0 : matchTools(b, i) & armed;
    tools[i] = m;
    // Merit's rules apply to IPv4 TCP SYN events only (no other event arms them).
    fingerprints[i] = v === 4 && t === Traffic.TCPSYN ? matchFingerprints(b, i) : 0;
  }
  // The traffic tags: masscan's exemption from the tools just tagged.
  tagRows(b, 0, b.length, tags, 0, fromTools);
  b.tagged = true;
  b.trafficTagged = true;
}

/**
 * Fills the batch's `tags` column alone (for packet statistics, which need no tool or
 * fingerprint): masscan's rule, which exempts its TTL from `ttl-200-not-masscan`, is tested only
 * on the rows that need it.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { tagTraffic } from "./tag_packets.ts";
 * import { PacketBatch } from "../decode/packet_batch.ts";
 * import { Tag } from "../tags/traffic_tags.ts";
 * const b = new PacketBatch(1);
 * b.length = 1;
 * b.ipVersion[0] = 4;
 * b.proto[0] = 17;
 * b.traffic[0] = 16; // UDP
 * b.src[0] = 0x01020304;
 * b.srcPort[0] = 53; // a DNS reply: backscatter, erratic
 * b.dstPort[0] = 40000;
 * tagTraffic(b);
 * equal(b.tags[0] & 15, Tag.erratic);
 * equal(b.trafficTagged && !b.tagged, true);
 * ```
 */
export function tagTraffic(b: PacketBatch): void {
  if (b.tags.length < b.capacity) b.tags = new Uint32Array(b.capacity);
  tagRows(b, 0, b.length, b.tags, 0, masscanRule);
  b.trafficTagged = true;
}

// masscan's rule on row i (the traffic tags ask only for rows with TTL ≥ 200).
const masscanRule = (b: PacketBatch, i: number) =>
  (armedTools(b.traffic[i], b.ipVersion[i] === 6) & MASSCAN) !== 0 &&
    (matchTools(b, i) & MASSCAN) !== 0
    ? 1
    : 0;
// The same, read from the tools column tagPackets has just filled.
const fromTools = (b: PacketBatch, i: number) => (b.tools[i] & MASSCAN) !== 0 ? 1 : 0;

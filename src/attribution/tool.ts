/**
 * A scanning tool's rule: which packets it sent, judged one packet at a time from header fields
 * the tool sets in a recognisable way. Each tool lives in a file of its own and is listed once
 * in `tools.ts`; the aggregator counts, per event, the packets each tool's rule matched (the
 * event's `Tools`), and the attribution (`Tool`) follows from those counts and the rule's
 * {@link Tool.chance}.
 *
 * @module
 */

import type { PacketBatch } from "../decode/packet_batch.ts";

/**
 * One tool.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import type { Tool } from "./tool.ts";
 * import { isZero } from "../fingerprints/fingerprint.ts";
 * import { Traffic } from "../decode/traffic.ts";
 * // A toy rule: TCP window 4321 on every probe (one packet in 65,536 by chance).
 * const toy: Tool = {
 *   name: "toy",
 *   label: "Toy",
 *   versions: "all",
 *   rule: "TCP window 4321",
 *   traffic: [Traffic.TCPSYN],
 *   ipv6: true,
 *   chance: 2 ** -16,
 *   test: (b, i) => isZero(b.tcpWindow[i] ^ 4321),
 * };
 * equal(toy.name, "toy");
 * ```
 */
export interface Tool {
  /** Lower-case name: the key in an event's `Tools`, the value of its `Tool`. */
  readonly name: string;
  /** Name for people (e.g. "ZMap"). */
  readonly label: string;
  /** The versions the rule describes (docs). */
  readonly versions: string;
  /** The rule in words (docs). */
  readonly rule: string;
  /** Traffic codes of the events it applies to; other events are never tested. */
  readonly traffic: readonly number[];
  /** Whether it applies to IPv6 events (rules that read IPv4-only fields such as the IP ID do not). */
  readonly ipv6: boolean;
  /**
   * The probability that a packet the tool did not send matches anyway, assuming the fields the
   * rule reads vary at random (IP ID, sequence number, ports, timestamps) and for fixed layouts
   * the bound stated in the tool's file: the attribution needs enough matched packets to make a
   * chance match of the whole event less likely than one in a million ({@link minMatches}).
   */
  readonly chance: number;
  /**
   * 1 if packet `i` of the batch is one the tool sends, else 0 — without branches where it can
   * (tested for every packet of an event it applies to). For a rule about a sequence
   * ({@link value}), 1 says the packet has the tool's shape; it matches only if its value is the
   * one before it too.
   */
  readonly test: (b: PacketBatch, i: number) => number;
  /**
   * For a rule about a sequence: a 32-bit value the tool keeps the same on every probe of a scan
   * (nmap's sequence number). A packet that passes {@link test} matches when its value equals
   * that of the event's previous packet that passed, sent to another destination (a
   * retransmission to the same address proves nothing); the first such packet of an event
   * cannot match.
   */
  readonly value?: (b: PacketBatch, i: number) => number;
}

/** The chance of a whole event's match the attribution stays under: one in a million. */
export const ATTRIBUTION_BOUND = 1e-6;

/**
 * The fewest matched packets that make a chance match rarer than {@link ATTRIBUTION_BOUND}:
 * the least n with chance^n < 10^-6.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { minMatches } from "./tool.ts";
 * equal(minMatches(2 ** -16), 2); // 2^-32 ≈ 2.3e-10; one packet (1.5e-5) is not enough
 * equal(minMatches(2 ** -32), 1);
 * equal(minMatches(2 ** -8), 3);
 * ```
 */
export function minMatches(chance: number): number {
  let n = 1;
  while (chance ** n >= ATTRIBUTION_BOUND) n++;
  return n;
}

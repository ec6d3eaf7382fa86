/**
 * Per-packet decode outcomes that are not fatal. A capture is never rejected because one frame
 * is odd: the frame is marked with one of these and counted.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { Problem, problemName } from "./problem.ts";
 * ok(problemName(Problem.TruncatedIp) === "truncated-ip");
 * ```
 * @module
 */

/**
 * Decode outcome codes stored per packet in `PacketBatch.problem`.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { Problem } from "./problem.ts";
 * ok(Problem.None === 0 && Problem.TruncatedTransport === 7);
 * ```
 */
export const Problem = {
  /** Fully decoded IP packet. */
  None: 0,
  /** A valid frame that carries no IP (ARP, LLDP, STP, …). */
  NonIp: 1,
  /** The frame's link type is not one this tool decodes. */
  UnsupportedLink: 2,
  /** The frame ends inside its link-layer header. */
  TruncatedLink: 3,
  /** The frame ends inside the IP header. */
  TruncatedIp: 4,
  /** The IP version nibble disagrees with the link layer. */
  BadIpVersion: 5,
  /** IPv4 header length below 20 bytes or beyond the total length. */
  BadIpHeader: 6,
  /** The IP header is fine but the TCP/UDP/ICMP header is cut short (traffic Unknown). */
  TruncatedTransport: 7,
  /** A TCP header whose data offset is below 5 words (traffic Unknown). */
  BadTransportHeader: 8,
} as const;

/** Number of problem codes. */
export const PROBLEM_COUNT = 9;

const NAMES = [
  "ok",
  "non-ip",
  "unsupported-link-type",
  "truncated-link-header",
  "truncated-ip",
  "bad-ip-version",
  "bad-ip-header",
  "truncated-transport",
  "bad-transport-header",
];

/**
 * Kebab-case name of a problem code, as printed by `count --pcap`.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { problemName } from "./problem.ts";
 * ok(problemName(1) === "non-ip");
 * ```
 */
export function problemName(code: number): string {
  return NAMES[code] ?? `problem-${code}`;
}

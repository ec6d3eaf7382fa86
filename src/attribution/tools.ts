/**
 * The tool registry: every scanning tool's rule, in the order of their counters (tool k is bit k
 * of a packet's matches; at most eight). To add a tool: write its file (see {@link Tool}) and
 * list it here — the aggregator's counters, state files, the event's `Tools` and `Tool`,
 * `count` and `timeseries` follow this list.
 *
 * @module
 */

import type { PacketBatch } from "../decode/packet_batch.ts";
import { masscan } from "./masscan.ts";
import { mirai } from "./mirai.ts";
import { nmap } from "./nmap.ts";
import { minMatches, type Tool } from "./tool.ts";
import { unicornscan } from "./unicornscan.ts";
import { zmap } from "./zmap.ts";

/**
 * Every registered tool.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { TOOLS } from "./tools.ts";
 * deepEqual(TOOLS.map((t) => t.name), ["zmap", "masscan", "nmap", "unicornscan", "mirai"]);
 * ```
 */
export const TOOLS: readonly Tool[] = [
  zmap,
  masscan,
  nmap,
  unicornscan,
  mirai,
];

if (TOOLS.length > 8) throw new Error("at most 8 tools (a packet's matches are a byte)");

/**
 * The tools with a rule about a sequence, as indices into {@link TOOLS}.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { SEQUENCE_TOOLS, TOOLS } from "./tools.ts";
 * deepEqual(SEQUENCE_TOOLS.map((k) => TOOLS[k].name), ["nmap", "unicornscan"]);
 * ```
 */
export const SEQUENCE_TOOLS: readonly number[] = TOOLS.flatMap((t, k) => t.value ? [k] : []);

/**
 * The bits of the tools with a rule about a sequence.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { SEQUENCE_BITS } from "./tools.ts";
 * equal(SEQUENCE_BITS, 0b01100);
 * ```
 */
export const SEQUENCE_BITS: number = SEQUENCE_TOOLS.reduce((m, k) => m | (1 << k), 0);

/**
 * Matched packets each tool needs for the attribution ({@link minMatches} of its chance).
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { MIN_MATCHES } from "./tools.ts";
 * deepEqual([...MIN_MATCHES], [3, 2, 1, 1, 1]);
 * ```
 */
export const MIN_MATCHES: readonly number[] = TOOLS.map((t) => minMatches(t.chance));

// Bits armed for an event, by traffic code (IPv4 at [t], IPv6 at [256 + t]).
const ARMED = new Uint8Array(512);
for (const [k, t] of TOOLS.entries()) {
  for (const x of t.traffic) {
    ARMED[x] |= 1 << k;
    if (t.ipv6) ARMED[256 + x] |= 1 << k;
  }
}

/**
 * The bits of the tools tested on an event of this traffic and IP version.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { armedTools } from "./tools.ts";
 * import { Traffic } from "../decode/traffic.ts";
 * equal(armedTools(Traffic.TCPSYN, false), 0b11111);
 * equal(armedTools(Traffic.TCPSYN, true), 0b00101); // ZMap and nmap
 * equal(armedTools(Traffic.ICMPEchoRequest, false), 0b00001);
 * equal(armedTools(Traffic.UDP, false), 0b00011); // ZMap ≤ 4.0, masscan's DNS probes
 * equal(armedTools(Traffic.TCPRST, false), 0);
 * ```
 */
export function armedTools(traffic: number, v6: boolean): number {
  return ARMED[(v6 ? 256 : 0) + (traffic & 255)];
}

const zero = (_b: PacketBatch, _i: number) => 0;

// One function testing every tool, each call site bound to one tool's test (inlined into the
// aggregator's loop as if written out there).
function compose(tools: readonly Tool[]): (b: PacketBatch, i: number) => number {
  const [a = zero, b = zero, c = zero, d = zero, e = zero, f = zero, g = zero, h = zero] = tools
    .map((t) => t.test);
  return (x, i) =>
    a(x, i) | (b(x, i) << 1) | (c(x, i) << 2) | (d(x, i) << 3) | (e(x, i) << 4) |
    (f(x, i) << 5) | (g(x, i) << 6) | (h(x, i) << 7);
}

/**
 * The bits of the tools whose test packet `i` of the batch passes (mask them with
 * {@link armedTools} of its event).
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { matchTools } from "./tools.ts";
 * import { PacketBatch } from "../decode/packet_batch.ts";
 * const b = new PacketBatch(1);
 * b.dst[0] = b.tcpSeq[0] = 0x01020304;
 * equal(matchTools(b, 0) & 0b10000, 0b10000); // Mirai
 * ```
 */
export const matchTools: (b: PacketBatch, i: number) => number = compose(TOOLS);

/**
 * The attribution from an event's matched packets per tool (registry order): the tool with at
 * least its {@link MIN_MATCHES} and the most matched packets; "" if none, or if two tie.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { attribute } from "./tools.ts";
 * equal(attribute([0, 2, 0, 0, 0]), "masscan");
 * equal(attribute([0, 1, 0, 0, 0]), ""); // one packet: 1 in 65,536 by chance
 * equal(attribute([5, 5, 0, 0, 0]), ""); // a tie
 * ```
 */
export function attribute(matched: ArrayLike<number>): string {
  let best = -1;
  let tie = false;
  for (let k = 0; k < TOOLS.length; k++) {
    const m = matched[k] ?? 0;
    if (m < MIN_MATCHES[k]) continue;
    if (best < 0 || m > matched[best]) {
      best = k;
      tie = false;
    } else if (m === matched[best]) tie = true;
  }
  return best < 0 || tie ? "" : TOOLS[best].name;
}

/**
 * Traffic types, with the codes and names of Merit's darknet-events so that scripts written
 * for its output keep working.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { Traffic, trafficName } from "./traffic.ts";
 * ok(trafficName(Traffic.TCPSYN) === "TCPSYN");
 * ok(Traffic.UDP === 16);
 * ```
 * @module
 */

/**
 * Traffic codes (numeric values are part of the output format; never renumber).
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { Traffic } from "./traffic.ts";
 * ok(Traffic.TCPSYN === 11 && Traffic.Unknown === 17);
 * ```
 */
export const Traffic = {
  ICMPEchoRequest: 0,
  ICMPEchoReply: 1,
  ICMPDestinationUnreachable: 2,
  ICMPSourceQuench: 3,
  ICMPRedirect: 4,
  ICMPTimeExceeded: 5,
  ICMPParameterProblem: 6,
  ICMPTimestampReply: 7,
  ICMPInfoReply: 8,
  ICMPAddressMaskReply: 9,
  ICMPOther: 10,
  TCPSYN: 11,
  TCPSYNACK: 12,
  TCPACK: 13,
  TCPRST: 14,
  TCPOther: 15,
  UDP: 16,
  Unknown: 17,
} as const;

/** One of the {@link Traffic} codes. */
export type TrafficCode = typeof Traffic[keyof typeof Traffic];

/** Number of traffic codes; codes are `0 .. TRAFFIC_COUNT - 1`. */
export const TRAFFIC_COUNT = 18;

/**
 * Names indexed by code.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { TRAFFIC_NAMES } from "./traffic.ts";
 * ok(TRAFFIC_NAMES[16] === "UDP" && TRAFFIC_NAMES.length === 18);
 * ```
 */
export const TRAFFIC_NAMES: readonly string[] = Object.keys(Traffic);

/**
 * The traffic codes of ICMP and ICMPv6 replies and errors: what a host sends back to an address
 * that reached it (backscatter, when that address was spoofed).
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { ICMP_ANSWERS, Traffic } from "./traffic.ts";
 * ok(ICMP_ANSWERS.includes(Traffic.ICMPEchoReply) && !ICMP_ANSWERS.includes(Traffic.ICMPEchoRequest));
 * ```
 */
export const ICMP_ANSWERS: readonly number[] = [
  Traffic.ICMPEchoReply,
  Traffic.ICMPDestinationUnreachable,
  Traffic.ICMPSourceQuench,
  Traffic.ICMPRedirect,
  Traffic.ICMPTimeExceeded,
  Traffic.ICMPParameterProblem,
  Traffic.ICMPTimestampReply,
  Traffic.ICMPInfoReply,
  Traffic.ICMPAddressMaskReply,
];

/**
 * The name of a traffic code (`"Unknown"` for anything out of range).
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { trafficName } from "./traffic.ts";
 * ok(trafficName(12) === "TCPSYNACK");
 * ```
 */
export function trafficName(code: number): string {
  return TRAFFIC_NAMES[code] ?? "Unknown";
}

/**
 * The code for a traffic name or decimal code string, or -1 if it names none.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { trafficCode } from "./traffic.ts";
 * ok(trafficCode("TCPSYN") === 11 && trafficCode("16") === 16);
 * ```
 */
export function trafficCode(name: string): number {
  const i = TRAFFIC_NAMES.indexOf(name);
  if (i >= 0) return i;
  if (/^\d+$/.test(name) && Number(name) < TRAFFIC_COUNT) return Number(name);
  return -1;
}

/**
 * True for the ICMP and ICMPv6 codes (0–10).
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { isIcmp, Traffic } from "./traffic.ts";
 * ok(isIcmp(Traffic.ICMPEchoRequest) && !isIcmp(Traffic.UDP));
 * ```
 */
export function isIcmp(code: number): boolean {
  return code <= Traffic.ICMPOther;
}

/**
 * True for the TCP codes (11–15).
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { isTcp, Traffic } from "./traffic.ts";
 * ok(isTcp(Traffic.TCPRST) && !isTcp(Traffic.ICMPOther));
 * ```
 */
export function isTcp(code: number): boolean {
  return code >= Traffic.TCPSYN && code <= Traffic.TCPOther;
}

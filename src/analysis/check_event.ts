/**
 * Checks an object read from an event file before `count` or `timeseries` use it: every field
 * they read must be there with the right type and range (Merit's keys, as `parse` writes them),
 * so that a wrong file gives one line naming the field instead of a wrong total or a crash.
 *
 * @example
 * ```ts
 * import { checkEvent } from "./check_event.ts";
 * import { equal } from "node:assert/strict";
 * const ok = { SourceIP: "192.0.2.1", Traffic: 11, Port: 23, Packets: 5, Bytes: 300,
 *   UniqueDests: 5, First: "2020-10-21T16:00:00Z", Last: "2020-10-21T16:00:10Z" };
 * equal(checkEvent(ok), undefined);
 * equal(checkEvent({ ...ok, Packets: "5" }), 'field "Packets": expected a whole number ≥ 0, got "5"');
 * ```
 * @module
 */

import type { EventJson } from "../events/darknet_event.ts";

const TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?(Z|[+-]\d\d:\d\d)$/;
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const IPV6 = /^[0-9A-Fa-f:.]{2,45}$/;

function show(v: unknown): string {
  const s = typeof v === "string" ? JSON.stringify(v) : JSON.stringify(v) ?? String(v);
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
}

const whole = (max: number) => (v: unknown) =>
  typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= max;

// Required fields: what count and timeseries read from every event.
const REQUIRED: [keyof EventJson, (v: unknown) => boolean, string][] = [
  [
    "SourceIP",
    (v) => typeof v === "string" && (IPV4.test(v) || (v.includes(":") && IPV6.test(v))),
    "an IPv4 or IPv6 address",
  ],
  ["Traffic", whole(255), "a traffic code from 0 to 255"],
  ["Port", whole(65535), "a port from 0 to 65535"],
  ["Packets", whole(Number.MAX_SAFE_INTEGER), "a whole number ≥ 0"],
  ["Bytes", whole(Number.MAX_SAFE_INTEGER), "a whole number ≥ 0"],
  ["UniqueDests", whole(Number.MAX_SAFE_INTEGER), "a whole number ≥ 0"],
  [
    "First",
    (v) => typeof v === "string" && TIME.test(v) && v.slice(0, 4) !== "0000",
    "an RFC 3339 time",
  ],
  [
    "Last",
    (v) => typeof v === "string" && TIME.test(v) && v.slice(0, 4) !== "0000",
    "an RFC 3339 time",
  ],
];

// Optional fields (enrichment, fingerprints): checked when present.
const OPTIONAL: [keyof EventJson, (v: unknown) => boolean, string][] = [
  ["UniqueDest24s", whole(Number.MAX_SAFE_INTEGER), "a whole number ≥ 0"],
  ["Country", (v) => typeof v === "string", "a string"],
  ["City", (v) => typeof v === "string", "a string"],
  ["Org", (v) => typeof v === "string", "a string"],
  ["Prefix", (v) => typeof v === "string", "a string"],
  ["ASN", whole(4294967295), "an AS number from 0 to 4294967295"],
  ["Lat", (v) => typeof v === "number" && Number.isFinite(v), "a number"],
  ["Long", (v) => typeof v === "number" && Number.isFinite(v), "a number"],
  ["Zmap", (v) => typeof v === "boolean", "true or false"],
  ["Masscan", (v) => typeof v === "boolean", "true or false"],
  ["Mirai", (v) => typeof v === "boolean", "true or false"],
];

/** Why `v` is not a usable event (one phrase), or undefined if it is one. */
export function checkEvent(v: unknown): string | undefined {
  if (typeof v !== "object" || v === null || Array.isArray(v)) {
    return `expected an event object, got ${Array.isArray(v) ? "an array" : show(v)}`;
  }
  const o = v as Record<string, unknown>;
  if (!("SourceIP" in o)) {
    const keys = Object.keys(o).slice(0, 4).join(", ");
    return `not an event: no "SourceIP" (an object with keys ${keys || "none"})`;
  }
  for (const [k, test, what] of REQUIRED) {
    if (!(k in o)) return `field "${k}" is missing`;
    if (!test(o[k])) return `field "${k}": expected ${what}, got ${show(o[k])}`;
  }
  for (const [k, test, what] of OPTIONAL) {
    if (k in o && o[k] !== null && !test(o[k])) {
      return `field "${k}": expected ${what}, got ${show(o[k])}`;
    }
  }
  return undefined;
}

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

import { FINGERPRINTS } from "../fingerprints/registry.ts";
import { EVENT_FIELDS, type FieldKind } from "../model/event_schema.ts";

const TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?(Z|[+-]\d\d:\d\d)$/;
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const IPV6 = /^[0-9A-Fa-f:.]{2,45}$/;

function show(v: unknown): string {
  const s = typeof v === "string" ? JSON.stringify(v) : JSON.stringify(v) ?? String(v);
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
}

const whole = (max: number) => (v: unknown) =>
  typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= max;

// The check and its phrase for each kind of field (the event schema's kinds). Arrays (reverse
// DNS names, sampled frames) and traffic names are never read by count or timeseries, so they
// are not checked: a file from another writer may differ there without harm.
const KIND: Partial<Record<FieldKind, [(v: unknown) => boolean, string]>> = {
  address: [
    (v) => typeof v === "string" && (IPV4.test(v) || (v.includes(":") && IPV6.test(v))),
    "an IPv4 or IPv6 address",
  ],
  traffic: [whole(255), "a traffic code from 0 to 255"],
  port: [whole(65535), "a port from 0 to 65535"],
  count: [whole(Number.MAX_SAFE_INTEGER), "a whole number ≥ 0"],
  time: [
    (v) => typeof v === "string" && TIME.test(v) && v.slice(0, 4) !== "0000",
    "an RFC 3339 time",
  ],
  number: [(v) => typeof v === "number" && Number.isFinite(v), "a number"],
  string: [(v) => typeof v === "string", "a string"],
  asn: [whole(4294967295), "an AS number from 0 to 4294967295"],
  boolean: [(v) => typeof v === "boolean", "true or false"],
  tools: [(v) => v !== undefined && isTools(v), "an object of [matched, tested] pairs"],
  tool: [(v) => typeof v === "string", "a tool's name or empty"],
  tags: [(v) => isTags(v), "an object of packet counts"],
};

// {tag: packets} (or null / absent).
function isTags(v: unknown): boolean {
  if (v === undefined || v === null) return true;
  if (typeof v !== "object" || Array.isArray(v)) return false;
  return Object.values(v as Record<string, unknown>).every(isCount);
}

// {name: [matched, tested]} with matched ≤ tested (or null / absent).
function isTools(v: unknown): boolean {
  if (v === undefined || v === null) return true;
  if (typeof v !== "object" || Array.isArray(v)) return false;
  for (const x of Object.values(v as Record<string, unknown>)) {
    if (!Array.isArray(x) || x.length !== 2 || !isCount(x[0]) || !isCount(x[1]) || x[0] > x[1]) {
      return false;
    }
  }
  return true;
}

type Check = [string, (v: unknown) => boolean, string];
const checks = (required: boolean): Check[] =>
  EVENT_FIELDS.filter((f) => f.required === required && KIND[f.kind]).map((f) => [
    f.key,
    ...KIND[f.kind]!,
  ]);
// Required fields (what count and timeseries read from every event), then the optional ones
// (enrichment, fingerprints), checked when present — in the order of the event's JSON.
const REQUIRED = checks(true);
const OPTIONAL = checks(false);
const FINGERPRINT_KEYS = FINGERPRINTS.map((f) => f.key);

const isCount = (v: unknown) =>
  typeof v === "number" && v >= 0 && v <= Number.MAX_SAFE_INTEGER && Math.floor(v) === v;

// Digits at s[a .. b).
function digits(s: string, a: number, b: number): boolean {
  for (let i = a; i < b; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

// RFC 3339 as TIME says, by hand (a regular expression per field cost a third of the check).
function isTime(s: string): boolean {
  const n = s.length;
  if (
    n < 20 || !digits(s, 0, 4) || s.charCodeAt(4) !== 45 || !digits(s, 5, 7) ||
    s.charCodeAt(7) !== 45 || !digits(s, 8, 10) || s.charCodeAt(10) !== 84 ||
    !digits(s, 11, 13) || s.charCodeAt(13) !== 58 || !digits(s, 14, 16) ||
    s.charCodeAt(16) !== 58 || !digits(s, 17, 19) || s.startsWith("0000")
  ) {
    return false;
  }
  let i = 19;
  if (s.charCodeAt(i) === 46) {
    const f = ++i;
    while (i < n && i - f < 10 && s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57) i++;
    if (i === f || i - f > 9) return false;
  }
  if (i === n - 1) return s.charCodeAt(i) === 90;
  const sign = s.charCodeAt(i);
  return i === n - 6 && (sign === 43 || sign === 45) && digits(s, i + 1, i + 3) &&
    s.charCodeAt(i + 3) === 58 && digits(s, i + 4, i + 6);
}

// A dotted quad, by hand.
function isIpv4(s: string): boolean {
  let parts = 0;
  let v = -1;
  let len = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 46) {
      if (v < 0 || ++parts > 3) return false;
      v = -1;
      len = 0;
    } else if (c >= 48 && c <= 57) {
      if (len > 0 && v === 0) return false; // a leading zero
      v = (v < 0 ? 0 : v * 10) + c - 48;
      if (++len > 3 || v > 255) return false;
    } else return false;
  }
  return parts === 3 && v >= 0;
}

const isStr = (v: unknown) => v === undefined || v === null || typeof v === "string";
const isNum = (v: unknown) =>
  v === undefined || v === null || (typeof v === "number" && Number.isFinite(v));
const isBool = (v: unknown) => v === undefined || v === null || typeof v === "boolean";

// The common case in one pass of plain tests; only an event that fails it is looked at field
// by field, with the regular expressions, for the message.
function plainlyValid(o: Record<string, unknown>): boolean {
  const ip = o.SourceIP;
  const t = o.Traffic;
  const p = o.Port;
  const f = o.First;
  const l = o.Last;
  const asn = o.ASN;
  const d24 = o.UniqueDest24s;
  return typeof ip === "string" && (isIpv4(ip) || (ip.includes(":") && IPV6.test(ip))) &&
    isCount(t) && (t as number) <= 255 && isCount(p) && (p as number) <= 65535 &&
    isCount(o.Packets) && isCount(o.Bytes) && isCount(o.UniqueDests) &&
    typeof f === "string" && isTime(f) && typeof l === "string" && isTime(l) &&
    (d24 === undefined || d24 === null || isCount(d24)) &&
    (asn === undefined || asn === null || (isCount(asn) && (asn as number) <= 4294967295)) &&
    isStr(o.Country) && isStr(o.City) && isStr(o.Org) && isStr(o.Prefix) && isNum(o.Lat) &&
    isNum(o.Long) && FINGERPRINT_KEYS.every((k) => isBool(o[k])) && isTools(o.Tools) &&
    isStr(o.Tool) && isStr(o.SynSignature) && isStr(o.IPIDClass) && isTags(o.Tags) &&
    isStr(o.Scanner);
}

/** Why `v` is not a usable event (one phrase), or undefined if it is one. */
export function checkEvent(v: unknown): string | undefined {
  if (
    typeof v === "object" && v !== null && !Array.isArray(v) &&
    plainlyValid(v as Record<string, unknown>)
  ) {
    return undefined;
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) {
    return `expected an event object, got ${Array.isArray(v) ? "an array" : show(v)}`;
  }
  const o = v as Record<string, unknown>;
  if (!("SourceIP" in o)) {
    const keys = Object.keys(o).slice(0, 4).join(", ");
    return `not an event: no "SourceIP" (an object with keys ${keys || "none"})`;
  }
  return checkEventFields(o);
}

/**
 * The field-by-field check of {@link checkEvent} (its slow path, with the message): every field
 * of the event schema, by its kind. `checkEvent` first tries one pass of plain tests written out
 * for speed; the two agree (tested on mutations of every field).
 *
 * @example
 * ```ts
 * import { checkEventFields } from "./check_event.ts";
 * import { equal } from "node:assert/strict";
 * equal(checkEventFields({ SourceIP: "192.0.2.1" }), 'field "Port" is missing');
 * ```
 */
export function checkEventFields(o: Record<string, unknown>): string | undefined {
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

/**
 * Statistics of the other analyses' records (`count --dos`, `count --sources`): DoS attack
 * vectors (`parse --dosout`) per victim and protocol, and per-source roll-ups (`parse
 * --sourceout`) per scan shape with the aggressive scanners listed. Each record read is checked
 * (one line naming file and line for a bad one), as events are.
 *
 * @module
 */

import { toCsv } from "./_csv.ts";

const isStr = (v: unknown) => typeof v === "string";
const isCount = (v: unknown) => typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
const isNum = (v: unknown) => typeof v === "number" && Number.isFinite(v);
const TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;

/**
 * Why `v` is not a DoS record of `parse --dosout`, or undefined.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { checkDosRecord } from "./record_stats.ts";
 * equal(checkDosRecord({ Victim: "192.0.2.1" }), "Protocol: missing or not a string");
 * ```
 */
export function checkDosRecord(v: unknown): string | undefined {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return "not a DoS record";
  const o = v as Record<string, unknown>;
  const need: [string, (x: unknown) => boolean, string][] = [
    ["Victim", isStr, "a string"],
    ["Protocol", isStr, "a string"],
    ["First", (x) => isStr(x) && TIME.test(x as string), "an RFC 3339 time"],
    ["Last", (x) => isStr(x) && TIME.test(x as string), "an RFC 3339 time"],
    ["Packets", isCount, "a whole number ≥ 0"],
    ["Bytes", isCount, "a whole number ≥ 0"],
    ["UniqueAttackers", isCount, "a whole number ≥ 0"],
    ["MaxWindowPackets", isCount, "a whole number ≥ 0"],
    ["ObservedRate", isNum, "a number"],
  ];
  for (const [k, ok, what] of need) {
    if (!ok(o[k])) return `${k}: missing or not ${what}`;
  }
  if (o.EstimatedRate !== null && o.EstimatedRate !== undefined && !isNum(o.EstimatedRate)) {
    return "EstimatedRate: not a number or null";
  }
  return undefined;
}

/**
 * Why `v` is not a per-source roll-up of `parse --sourceout`, or undefined.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { checkSourceRecord } from "./record_stats.ts";
 * equal(checkSourceRecord({ Source: "192.0.2.1", Packets: -1 }), "Packets: missing or not a whole number ≥ 0");
 * ```
 */
export function checkSourceRecord(v: unknown): string | undefined {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return "not a source record";
  const o = v as Record<string, unknown>;
  const need: [string, (x: unknown) => boolean, string][] = [
    ["Source", isStr, "a string"],
    ["Packets", isCount, "a whole number ≥ 0"],
    ["Bytes", isCount, "a whole number ≥ 0"],
    ["Events", isCount, "a whole number ≥ 0"],
    ["Ports", isCount, "a whole number ≥ 0"],
    ["UniqueDests", isCount, "a whole number ≥ 0"],
    ["Dispersion", isNum, "a number"],
    ["Shape", isStr, "a string"],
    ["Aggressive", (x) => typeof x === "boolean", "true or false"],
  ];
  for (const [k, ok, what] of need) {
    if (!ok(o[k])) return `${k}: missing or not ${what}`;
  }
  return undefined;
}

interface Tally {
  vectors: number;
  packets: number;
  bytes: number;
  maxAttackers: number;
  maxRate: number;
  first: string;
  last: string;
  protocols: Set<string>;
  country: string;
  asn: number;
}

/**
 * DoS records per victim and per protocol.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { DosStats } from "./record_stats.ts";
 * const s = new DosStats();
 * const r = { Victim: "192.0.2.1", Protocol: "TCP", First: "2026-01-01T00:00:00Z",
 *   Last: "2026-01-01T00:02:00Z", Packets: 500, Bytes: 30000, UniqueAttackers: 400,
 *   MaxWindowPackets: 300, ObservedRate: 4.2, EstimatedRate: 38000 };
 * s.add(r);
 * s.add({ ...r, Protocol: "ICMP", Packets: 100 });
 * equal(s.summary(5).victims, 1);
 * equal(s.summary(5).topVictims[0].packets, 600);
 * ```
 */
export class DosStats {
  #victims = new Map<string, Tally>();
  #protocols = new Map<string, { vectors: number; victims: Set<string>; packets: number }>();
  /** Vectors read. */
  vectors = 0;

  /** Adds a record (checked with {@link checkDosRecord}). */
  add(r: Record<string, unknown>): void {
    this.vectors++;
    const victim = r.Victim as string;
    const packets = r.Packets as number;
    let t = this.#victims.get(victim);
    if (t === undefined) {
      this.#victims.set(
        victim,
        t = {
          vectors: 0,
          packets: 0,
          bytes: 0,
          maxAttackers: 0,
          maxRate: 0,
          first: r.First as string,
          last: r.Last as string,
          protocols: new Set(),
          country: "",
          asn: 0,
        },
      );
    }
    t.vectors++;
    t.packets += packets;
    t.bytes += r.Bytes as number;
    t.maxAttackers = Math.max(t.maxAttackers, r.UniqueAttackers as number);
    t.maxRate = Math.max(t.maxRate, typeof r.EstimatedRate === "number" ? r.EstimatedRate : 0);
    if ((r.First as string) < t.first) t.first = r.First as string;
    if ((r.Last as string) > t.last) t.last = r.Last as string;
    t.protocols.add(r.Protocol as string);
    if (t.country === "" && typeof r.Country === "string") t.country = r.Country;
    if (t.asn === 0 && typeof r.ASN === "number") t.asn = r.ASN;
    const p = r.Protocol as string;
    let q = this.#protocols.get(p);
    if (q === undefined) this.#protocols.set(p, q = { vectors: 0, victims: new Set(), packets: 0 });
    q.vectors++;
    q.victims.add(victim);
    q.packets += packets;
  }

  #rows(): [string, Tally][] {
    return [...this.#victims].sort((a, b) => b[1].packets - a[1].packets || (a[0] < b[0] ? -1 : 1));
  }

  /** The CSV files, by name. */
  files(): Record<string, string> {
    return {
      "dos_victims.csv": toCsv(
        [
          "victim",
          "vectors",
          "packets",
          "bytes",
          "max_unique_attackers",
          "max_estimated_rate",
          "first",
          "last",
          "protocols",
          "country",
          "asn",
        ],
        this.#rows().map(([v, t]) => [
          v,
          t.vectors,
          t.packets,
          t.bytes,
          t.maxAttackers,
          Math.round(t.maxRate),
          t.first,
          t.last,
          [...t.protocols].sort().join(" "),
          t.country,
          t.asn,
        ]),
      ),
      "dos_protocols.csv": toCsv(
        ["protocol", "vectors", "victims", "packets"],
        [...this.#protocols].sort((a, b) => b[1].packets - a[1].packets || (a[0] < b[0] ? -1 : 1))
          .map(([p, q]) => [p, q.vectors, q.victims.size, q.packets]),
      ),
    };
  }

  /** Totals and the `top` victims by packets. */
  summary(top: number): {
    vectors: number;
    victims: number;
    packets: number;
    topVictims: { victim: string; vectors: number; packets: number; maxEstimatedRate: number }[];
  } {
    const rows = this.#rows();
    return {
      vectors: this.vectors,
      victims: rows.length,
      packets: rows.reduce((n, [, t]) => n + t.packets, 0),
      topVictims: rows.slice(0, top).map(([victim, t]) => ({
        victim,
        vectors: t.vectors,
        packets: t.packets,
        maxEstimatedRate: Math.round(t.maxRate),
      })),
    };
  }
}

/**
 * Per-source roll-ups per scan shape, and the aggressive scanners.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { SourceStats } from "./record_stats.ts";
 * const s = new SourceStats();
 * s.add({ Source: "192.0.2.1", Packets: 9, Bytes: 540, Events: 1, Ports: 1, UniqueDests: 9,
 *   Dispersion: 0.2, Shape: "other", Aggressive: true, AggressiveWhy: ["dispersion"] });
 * equal(s.summary(5).aggressive, 1);
 * ```
 */
export class SourceStats {
  #shapes = new Map<string, { sources: number; packets: number; aggressive: number }>();
  #aggressive: Record<string, unknown>[] = [];
  /** Records read. */
  records = 0;

  /** Adds a record (checked with {@link checkSourceRecord}). */
  add(r: Record<string, unknown>): void {
    this.records++;
    const shape = r.Shape as string;
    let t = this.#shapes.get(shape);
    if (t === undefined) this.#shapes.set(shape, t = { sources: 0, packets: 0, aggressive: 0 });
    t.sources++;
    t.packets += r.Packets as number;
    if (r.Aggressive === true) {
      t.aggressive++;
      this.#aggressive.push(r);
    }
  }

  #top(): Record<string, unknown>[] {
    return [...this.#aggressive].sort((a, b) =>
      (b.Packets as number) - (a.Packets as number) ||
      ((a.Source as string) < (b.Source as string) ? -1 : 1)
    );
  }

  /** The CSV files, by name. */
  files(): Record<string, string> {
    return {
      "source_shapes.csv": toCsv(
        ["shape", "sources", "packets", "aggressive"],
        [...this.#shapes].sort((a, b) => b[1].packets - a[1].packets || (a[0] < b[0] ? -1 : 1))
          .map(([k, t]) => [k, t.sources, t.packets, t.aggressive]),
      ),
      "aggressive_sources.csv": toCsv(
        [
          "source",
          "window_start",
          "packets",
          "unique_dests",
          "dispersion",
          "ports",
          "why",
          "tool",
          "scanner",
          "country",
        ],
        this.#top().map((r) => [
          r.Source as string,
          (r.WindowStart as string | null) ?? "",
          r.Packets as number,
          r.UniqueDests as number,
          r.Dispersion as number,
          r.Ports as number,
          Array.isArray(r.AggressiveWhy) ? r.AggressiveWhy.join(" ") : "",
          (r.Tool as string) ?? "",
          (r.Scanner as string) ?? "",
          (r.Country as string) ?? "",
        ]),
      ),
    };
  }

  /** Totals, sources per shape, and the `top` aggressive sources by packets. */
  summary(top: number): {
    sources: number;
    aggressive: number;
    shapes: Record<string, number>;
    topAggressive: { source: string; packets: number; uniqueDests: number; why: string[] }[];
  } {
    return {
      sources: this.records,
      aggressive: this.#aggressive.length,
      shapes: Object.fromEntries([...this.#shapes].map(([k, t]) => [k, t.sources])),
      topAggressive: this.#top().slice(0, top).map((r) => ({
        source: r.Source as string,
        packets: r.Packets as number,
        uniqueDests: r.UniqueDests as number,
        why: Array.isArray(r.AggressiveWhy) ? r.AggressiveWhy as string[] : [],
      })),
    };
  }
}

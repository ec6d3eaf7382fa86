/**
 * Known scanners (`parse --known-scanners FILE`): address prefixes and reverse-DNS name suffixes
 * of organisations that scan the Internet (research projects, search engines of devices), each
 * with a label that an event from them carries as `Scanner`.
 *
 * The file: one entry a line, `PREFIX-OR-SUFFIX LABEL`, separated by spaces or tabs; `#` starts
 * a comment; blank lines are skipped. A prefix is an IPv4 or IPv6 address with an optional
 * `/length` (an address alone is one host); a suffix starts with a dot and matches a name that
 * ends with it or equals it without the dot, case-insensitively (e.g. `.shodan.io`). A label is
 * 1–64 letters, digits, `.`, `_` or `-`. The most specific prefix wins; names are tried only
 * when no prefix matched, and only with `--dns` (each of an event's PTR names, in order).
 *
 * @module
 */

import { DataError, ioError } from "../errors.ts";
import { parseIpv4, parseIpv6 } from "../util/ip.ts";
import type { DarknetEvent } from "../model/darknet_event.ts";
import type { Enricher } from "./enricher.ts";
import { PrefixTable } from "./prefix_table.ts";

const LABEL = /^[A-Za-z0-9._-]{1,64}$/;
const SUFFIX = /^\.[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*\.?$/;

/**
 * A list of known scanners.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { KnownScanners } from "./known_scanners.ts";
 * const k = KnownScanners.parse("192.0.2.0/24 lab\n192.0.2.128/25 lab-b\n.example.net probe\n", "x");
 * equal(k.label4(0xc0000201), "lab");
 * equal(k.label4(0xc0000281), "lab-b"); // the most specific prefix
 * equal(k.labelOfName("Scan-7.EXAMPLE.net."), "probe");
 * equal(k.label4(0x01020304), "");
 * ```
 */
export class KnownScanners {
  /** The labels, in order of first appearance. */
  readonly labels: readonly string[];
  /** Prefix entries. */
  readonly prefixes: number;
  /** Name-suffix entries. */
  readonly suffixes: number;
  readonly #table: PrefixTable;
  // Suffix (lower case, with the leading dot, no trailing dot) → label.
  readonly #names: Map<string, string>;

  private constructor(
    labels: string[],
    prefixes: number,
    table: PrefixTable,
    names: Map<string, string>,
  ) {
    this.labels = labels;
    this.prefixes = prefixes;
    this.suffixes = names.size;
    this.#table = table;
    this.#names = names;
  }

  /** Reads a file; unreadable: an `IoError`; a bad line: a `DataError` naming file and line. */
  static async load(path: string): Promise<KnownScanners> {
    let text: string;
    try {
      text = new TextDecoder("utf-8", { fatal: true }).decode(await Deno.readFile(path));
    } catch (e) {
      if (e instanceof TypeError) throw new DataError("not UTF-8 text", { file: path });
      throw ioError(e, path);
    }
    return KnownScanners.parse(text, path);
  }

  /** Parses the text of a file named `name` (for messages). */
  static parse(text: string, name: string): KnownScanners {
    const labels: string[] = [];
    const index = new Map<string, number>();
    const names = new Map<string, string>();
    const rows: string[] = [];
    let prefixes = 0;
    const seen = new Set<string>();
    text.split("\n").forEach((raw, n) => {
      const line = raw.replace(/#.*/, "").trim();
      if (line === "") return;
      const bad = (what: string) => new DataError(what, { file: name, line: n + 1 });
      const parts = line.split(/[ \t]+/);
      if (parts.length !== 2) {
        throw bad(`expected "PREFIX-OR-SUFFIX LABEL", got ${parts.length} fields`);
      }
      const [what, label] = parts;
      if (!LABEL.test(label)) throw bad(`label "${label}": 1-64 letters, digits, ".", "_" or "-"`);
      if (what.startsWith(".")) {
        if (!SUFFIX.test(what)) throw bad(`name suffix "${what}" is not a DNS name`);
        const key = what.toLowerCase().replace(/\.$/, "");
        if (names.has(key)) throw bad(`name suffix "${what}" listed twice`);
        names.set(key, label);
        return;
      }
      const slash = what.indexOf("/");
      const addr = slash < 0 ? what : what.slice(0, slash);
      const v6 = addr.includes(":");
      const max = v6 ? 128 : 32;
      const lenText = slash < 0 ? String(max) : what.slice(slash + 1);
      const len = /^\d{1,3}$/.test(lenText) ? Number(lenText) : -1;
      if (len < 0 || len > max) throw bad(`prefix length "${lenText}" (0-${max})`);
      let net: string;
      if (v6) {
        const b = parseIpv6(addr);
        if (b === null) throw bad(`"${addr}" is not an IPv6 address`);
        for (let i = 0; i < 16; i++) {
          const keep = Math.max(0, Math.min(8, len - 8 * i));
          b[i] &= (0xff00 >> keep) & 0xff;
        }
        net = Array.from({ length: 8 }, (_, i) => ((b[2 * i] << 8) | b[2 * i + 1]).toString(16))
          .join(":");
      } else {
        const a = parseIpv4(addr);
        if (a < 0) throw bad(`"${addr}" is not an IPv4 address`);
        const masked = len === 0 ? 0 : (a & (0xffffffff << (32 - len))) >>> 0;
        net = [24, 16, 8, 0].map((s) => (masked >>> s) & 255).join(".");
      }
      const key = `${net}/${len}`;
      if (seen.has(key)) throw bad(`prefix ${what} listed twice`);
      seen.add(key);
      let k = index.get(label);
      if (k === undefined) {
        index.set(label, k = labels.length);
        labels.push(label);
      }
      rows.push(`${net}\t${len}\t${k + 1}`); // the label's number as the table's "AS"
      prefixes++;
    });
    for (const l of names.values()) if (!index.has(l)) index.set(l, labels.push(l) - 1);
    return new KnownScanners(labels, prefixes, PrefixTable.fromText(rows.join("\n"), name), names);
  }

  /** The label of an IPv4 source (uint32), or "". */
  label4(addr: number): string {
    const m = this.#table.lookup4(addr);
    return m === null ? "" : this.labels[m.asn - 1];
  }

  /** The label of an IPv6 source (16 bytes), or "". */
  label6(addr: Uint8Array): string {
    const m = this.#table.lookup6(addr);
    return m === null ? "" : this.labels[m.asn - 1];
  }

  /** The label of a DNS name by its longest listed suffix, or "". */
  labelOfName(name: string): string {
    let s = name.toLowerCase();
    if (s.endsWith(".")) s = s.slice(0, -1);
    const whole = this.#names.get(`.${s}`);
    if (whole !== undefined) return whole;
    for (let i = s.indexOf("."); i >= 0; i = s.indexOf(".", i + 1)) {
      const l = this.#names.get(s.slice(i));
      if (l !== undefined) return l;
    }
    return "";
  }
}

/**
 * The enricher that sets an event's `Scanner`: by its source at once, or — when no prefix
 * matched — by its reverse-DNS names once they are known (`finish`).
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { KnownScanners, knownScannerEnricher } from "./known_scanners.ts";
 * import { DarknetEvent } from "../model/darknet_event.ts";
 * const x = knownScannerEnricher(KnownScanners.parse("198.51.100.0/24 lab\n.example.org research\n", "x"));
 * const e = new DarknetEvent();
 * e.src = 0xc6336407;
 * x.annotate!(e);
 * equal(e.scanner, "lab");
 * const f = new DarknetEvent();
 * f.src = 0x01020304;
 * x.annotate!(f);
 * f.rdns = ["host-1.example.org."];
 * x.finish!(f);
 * equal(f.scanner, "research");
 * ```
 */
export function knownScannerEnricher(k: KnownScanners): Enricher {
  return {
    name: "known scanners",
    fields: ["scanner"],
    annotate(e: DarknetEvent) {
      e.scanner = e.version === 4 ? k.label4(e.src) : k.label6(e.src6);
    },
    finish: k.suffixes === 0 ? undefined : (e: DarknetEvent) => {
      if (e.scanner !== "" || e.rdns === null) return;
      for (const n of e.rdns) {
        const l = k.labelOfName(n);
        if (l !== "") {
          e.scanner = l;
          return;
        }
      }
    },
  };
}

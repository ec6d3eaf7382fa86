/**
 * MaxMind ASN and City databases (GeoLite2 / GeoIP2 `.mmdb`) through `npm:maxmind`'s Reader,
 * opened once from memory. Opening checks that the file is an mmdb of the right kind and
 * decodes a spread of records, so a missing, gzipped, foreign or corrupt database fails with
 * one line naming the file before any packet is read. Results are cached per address, in a
 * bounded cache (the last {@link MAX_CACHED} to {@link MAX_CACHED}×2 addresses looked up), so a
 * sensor that runs for months does not grow with the sources it has seen.
 *
 * Every value is checked for its type on every lookup: a database whose organisation, country
 * or city holds a number, map, array, boolean or bytes (or whose AS number is not a whole
 * number) gives `""` or `0` for that field, counted in {@link MaxMindDb.wrongTypes}, never a
 * crash after hours of processing.
 *
 * @module
 */

import { Buffer } from "node:buffer";
// A full specifier, not an import-map name: mod.ts then works imported from anywhere (a URL,
// another project) without this project's deno.json.
// deno-lint-ignore no-import-prefix
import { Reader, type Response } from "npm:maxmind@4.3.29";
import { DataError, ioError } from "../errors.ts";
import type { Enricher } from "./enricher.ts";
import { BoundedCache } from "../util/bounded_cache.ts";

/** Which fields a database provides. */
export type MaxMindKind = "asn" | "city";

/** ASN fields of an event (zero values when the address is not in the database). */
export interface AsnInfo {
  /** Autonomous system number (0 if unknown). */
  asn: number;
  /** Its organisation (empty if unknown). */
  org: string;
}

/** City fields of an event (zero values when the address is not in the database). */
export interface CityInfo {
  /** Latitude (0 if unknown). */
  lat: number;
  /** Longitude (0 if unknown). */
  long: number;
  /** Country ISO code. */
  country: string;
  /** City, English name. */
  city: string;
  /** The first (largest) subdivision's ISO 3166-2 code after the country's, e.g. "ENG" ("" if unknown). */
  region: string;
}

/** Addresses cached per database by default (two generations of up to this many). */
export const MAX_CACHED = 65536;

type Rec = Record<string, unknown>;
const isMap = (v: unknown): v is Rec =>
  typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);

// Addresses whose records are decoded when a database is opened (v4 spread + a few v6).
const PROBES = [
  ...Array.from(
    { length: 64 },
    (_, i) => `${i * 4 + 1}.${(i * 37) & 255}.${(i * 91) & 255}.${(i * 13) & 255}`,
  ),
  "1.128.0.1",
  "81.2.69.142",
  "2001:218::1",
  "2a02:d300::1",
  "::1",
];

/**
 * An opened MaxMind database.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { MaxMindDb } from "./maxmind_db.ts";
 * const asn = await MaxMindDb.open("testdata/mmdb/GeoLite2-ASN-Test.mmdb", "asn");
 * ok(asn.asn("1.128.0.1").asn === 1221);
 * ```
 */
export class MaxMindDb {
  /** The path it was opened from. */
  readonly path: string;
  /** What it provides. */
  readonly kind: MaxMindKind;
  /** The database type from its metadata, e.g. `GeoLite2-ASN`. */
  readonly databaseType: string;
  /** Lookups that failed on corrupt records (the event keeps zero values). */
  failures = 0;
  /** Values of the wrong type found in records (written as `""` or `0`). */
  wrongTypes = 0;
  readonly #reader: Reader<Response>;
  readonly #asnCache: BoundedCache<AsnInfo>;
  readonly #cityCache: BoundedCache<CityInfo>;

  private constructor(path: string, kind: MaxMindKind, reader: Reader<Response>, cache: number) {
    this.path = path;
    this.kind = kind;
    this.#reader = reader;
    this.databaseType = reader.metadata.databaseType;
    this.#asnCache = new BoundedCache(cache);
    this.#cityCache = new BoundedCache(cache);
  }

  /**
   * Opens and checks a database; lookups are cached for up to `cacheSize` to twice that many
   * addresses. Throws an `IoError` or a `DataError` naming the file.
   */
  static async open(
    path: string,
    kind: MaxMindKind,
    cacheSize: number = MAX_CACHED,
  ): Promise<MaxMindDb> {
    let bytes: Uint8Array;
    try {
      bytes = await Deno.readFile(path);
    } catch (e) {
      throw ioError(e, path);
    }
    const bad = (msg: string) => new DataError(msg, { file: path });
    if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
      throw bad("is gzip-compressed: gunzip it first (mmdb files are read as they are)");
    }
    let reader: Reader<Response>;
    try {
      reader = new Reader<Response>(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    } catch (e) {
      throw bad(`not a readable MaxMind database (${(e as Error).message.split("\n")[0]})`);
    }
    const type = String(reader.metadata?.databaseType ?? "");
    const want = kind === "asn" ? /ASN|ISP/i : /City|Enterprise/i;
    if (!want.test(type)) {
      throw bad(`is a "${type}" database, not ${kind === "asn" ? "an ASN" : "a City"} database`);
    }
    for (const ip of PROBES) {
      let rec: unknown;
      try {
        rec = reader.get(ip);
      } catch (e) {
        throw bad(
          `corrupt MaxMind database (looking up ${ip}: ${(e as Error).message.split("\n")[0]})`,
        );
      }
      if (rec !== null && !isMap(rec)) {
        throw bad(`not a MaxMind ${kind} database: the record of ${ip} is not a map`);
      }
    }
    return new MaxMindDb(path, kind, reader, cacheSize);
  }

  #get(ip: string): Rec | null {
    let rec: unknown;
    try {
      rec = this.#reader.get(ip);
    } catch {
      this.failures++;
      return null;
    }
    if (rec === null || rec === undefined) return null;
    if (!isMap(rec)) {
      this.wrongTypes++;
      return null;
    }
    return rec;
  }

  // A field's value if it has the type wanted; else the zero value, counted if present.
  #str(v: unknown): string {
    if (typeof v === "string") return v;
    if (v !== undefined && v !== null) this.wrongTypes++;
    return "";
  }

  #num(v: unknown, whole: boolean): number {
    if (
      typeof v === "number" && Number.isFinite(v) &&
      (!whole || (Number.isInteger(v) && v >= 0 && v <= 4294967295))
    ) {
      return v;
    }
    if (v !== undefined && v !== null) this.wrongTypes++;
    return 0;
  }

  #map(v: unknown): Rec | undefined {
    if (isMap(v)) return v;
    if (v !== undefined && v !== null) this.wrongTypes++;
    return undefined;
  }

  /** ASN and organisation of `ip`. */
  asn(ip: string): AsnInfo {
    let r = this.#asnCache.get(ip);
    if (r === undefined) {
      const rec = this.#get(ip);
      r = {
        asn: this.#num(rec?.autonomous_system_number, true),
        org: this.#str(rec?.autonomous_system_organization),
      };
      this.#asnCache.set(ip, r);
    }
    return r;
  }

  /** Location, country ISO code and English city name of `ip`. */
  city(ip: string): CityInfo {
    let r = this.#cityCache.get(ip);
    if (r === undefined) {
      const rec = this.#get(ip);
      const loc = this.#map(rec?.location);
      r = {
        lat: this.#num(loc?.latitude, false),
        long: this.#num(loc?.longitude, false),
        country: this.#str(this.#map(rec?.country)?.iso_code),
        city: this.#str(this.#map(this.#map(rec?.city)?.names)?.en),
        region: this.#str(
          this.#map(Array.isArray(rec?.subdivisions) ? rec.subdivisions[0] : undefined)?.iso_code,
        ),
      };
      this.#cityCache.set(ip, r);
    }
    return r;
  }

  /** Addresses cached now (bounded by twice {@link MAX_CACHED}). */
  get cached(): number {
    return this.#asnCache.size + this.#cityCache.size;
  }
}

/**
 * `ASN` and `Org` from a MaxMind ASN database.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { asnEnricher, MaxMindDb } from "./maxmind_db.ts";
 * import { DarknetEvent } from "../model/darknet_event.ts";
 * const x = asnEnricher(await MaxMindDb.open("testdata/mmdb/GeoLite2-ASN-Test.mmdb", "asn"));
 * const e = new DarknetEvent();
 * e.src = 0x01800001; // 1.128.0.1
 * x.annotate!(e);
 * equal(e.asn, 1221);
 * ```
 */
export function asnEnricher(db: MaxMindDb): Enricher {
  return {
    name: "asn",
    fields: ["asn", "org"],
    annotate(e) {
      const a = db.asn(e.sourceIP);
      e.asn = a.asn;
      e.org = a.org;
    },
  };
}

/**
 * `Lat`, `Long`, `Country` and `City` from a MaxMind City database.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { cityEnricher, MaxMindDb } from "./maxmind_db.ts";
 * import { DarknetEvent } from "../model/darknet_event.ts";
 * const x = cityEnricher(await MaxMindDb.open("testdata/mmdb/GeoLite2-City-Test.mmdb", "city"));
 * const e = new DarknetEvent();
 * e.src = 0x5102458e; // 81.2.69.142
 * x.annotate!(e);
 * equal(e.country, "GB");
 * ```
 */
export function cityEnricher(db: MaxMindDb): Enricher {
  return {
    name: "city",
    fields: ["lat", "long", "country", "city"],
    annotate(e) {
      const c = db.city(e.sourceIP);
      e.lat = c.lat;
      e.long = c.long;
      e.country = c.country;
      e.city = c.city;
    },
  };
}

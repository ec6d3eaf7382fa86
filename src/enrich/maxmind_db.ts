/**
 * MaxMind ASN and City databases (GeoLite2 / GeoIP2 `.mmdb`) through `npm:maxmind`'s Reader,
 * opened once from memory. Opening checks that the file is an mmdb of the right kind and
 * decodes a spread of records, so a missing, gzipped, foreign or corrupt database fails with
 * one line naming the file before any packet is read. Results are cached per address.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { Reader, type Response } from "maxmind";
import { DataError, ioError } from "../errors.ts";

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
}

interface AsnRecord {
  autonomous_system_number?: number;
  autonomous_system_organization?: string;
}

interface CityRecord {
  location?: { latitude?: number; longitude?: number };
  country?: { iso_code?: string };
  city?: { names?: Record<string, string> };
}

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
  readonly #reader: Reader<Response>;
  readonly #asnCache = new Map<string, AsnInfo>();
  readonly #cityCache = new Map<string, CityInfo>();

  private constructor(path: string, kind: MaxMindKind, reader: Reader<Response>) {
    this.path = path;
    this.kind = kind;
    this.#reader = reader;
    this.databaseType = reader.metadata.databaseType;
  }

  /** Opens and checks a database. Throws an `IoError` or a `DataError` naming the file. */
  static async open(path: string, kind: MaxMindKind): Promise<MaxMindDb> {
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
      try {
        reader.get(ip);
      } catch (e) {
        throw bad(
          `corrupt MaxMind database (looking up ${ip}: ${(e as Error).message.split("\n")[0]})`,
        );
      }
    }
    return new MaxMindDb(path, kind, reader);
  }

  #get(ip: string): (AsnRecord & CityRecord) | null {
    try {
      return this.#reader.get(ip) as unknown as (AsnRecord & CityRecord) | null;
    } catch {
      this.failures++;
      return null;
    }
  }

  /** ASN and organisation of `ip`. */
  asn(ip: string): AsnInfo {
    let r = this.#asnCache.get(ip);
    if (r === undefined) {
      const rec = this.#get(ip);
      r = {
        asn: rec?.autonomous_system_number ?? 0,
        org: rec?.autonomous_system_organization ?? "",
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
      r = {
        lat: rec?.location?.latitude ?? 0,
        long: rec?.location?.longitude ?? 0,
        country: rec?.country?.iso_code ?? "",
        city: rec?.city?.names?.en ?? "",
      };
      this.#cityCache.set(ip, r);
    }
    return r;
  }
}

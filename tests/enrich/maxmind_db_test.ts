import { deepEqual, equal, match, ok, rejects } from "node:assert/strict";
import { DataError } from "../../src/errors.ts";
import { MAX_CACHED, MaxMindDb } from "../../src/enrich/maxmind_db.ts";
import type { MmdbValue } from "./_mmdb_writer.ts";
import { tempDir } from "../_helpers.ts";

// Expected values come from MaxMind's own source data (testdata/mmdb/*.json).
type Rec = Record<string, Record<string, unknown>>;
const source = (f: string) => JSON.parse(Deno.readTextFileSync(`testdata/mmdb/${f}`)) as Rec[];
const first = (net: string) => net.split("/")[0].replace(/::$/, "::1");

Deno.test("ASN database: exact values for every IPv4 and IPv6 network of the source data, and a miss", async () => {
  const db = await MaxMindDb.open("testdata/mmdb/GeoLite2-ASN-Test.mmdb", "asn");
  equal(db.databaseType, "GeoLite2-ASN");
  let v4 = 0;
  let v6 = 0;
  for (const rec of source("GeoLite2-ASN-Test.json")) {
    const [net, want] = Object.entries(rec)[0];
    const ip = first(net);
    deepEqual(db.asn(ip), {
      asn: want.autonomous_system_number ?? 0,
      org: want.autonomous_system_organization ?? "",
    }, net);
    if (ip.includes(":")) v6++;
    else v4++;
  }
  ok(v4 > 100 && v6 > 100);
  deepEqual(db.asn("1.128.0.1"), { asn: 1221, org: "Telstra Pty Ltd" });
  deepEqual(db.asn("10.1.2.3"), { asn: 0, org: "" });
  equal(db.failures, 0);
});

Deno.test("City databases: location, country ISO code and English city name, v4 and v6, and a miss", async () => {
  for (const name of ["GeoLite2-City-Test", "GeoIP2-City-Test"]) {
    const db = await MaxMindDb.open(`testdata/mmdb/${name}.mmdb`, "city");
    let checked = 0;
    for (const rec of source(`${name}.json`)) {
      const [net, want] = Object.entries(rec)[0] as [string, {
        location?: { latitude?: number; longitude?: number };
        country?: { iso_code?: string };
        city?: { names?: { en?: string } };
        subdivisions?: { iso_code?: string }[];
      }];
      deepEqual(db.city(first(net)), {
        lat: want.location?.latitude ?? 0,
        long: want.location?.longitude ?? 0,
        country: want.country?.iso_code ?? "",
        city: want.city?.names?.en ?? "",
        region: want.subdivisions?.[0]?.iso_code ?? "",
      }, `${name} ${net}`);
      checked++;
    }
    ok(checked > 2);
    deepEqual(db.city("10.1.2.3"), { lat: 0, long: 0, country: "", city: "", region: "" });
  }
  const db = await MaxMindDb.open("testdata/mmdb/GeoLite2-City-Test.mmdb", "city");
  deepEqual(db.city("81.2.69.142"), {
    lat: 51.5142,
    long: -0.0931,
    country: "GB",
    city: "London",
    region: "ENG",
  });
  equal(db.city("2001:218::1").country, "JP");
});

Deno.test("missing, gzipped, foreign and corrupt databases fail with one line naming the file", async () => {
  const bad = async (path: string, kind: "asn" | "city", re: RegExp) => {
    let err: unknown;
    try {
      await MaxMindDb.open(path, kind);
    } catch (e) {
      err = e;
    }
    ok(err instanceof Error, path);
    ok(!(err as Error).message.includes("\n"));
    match((err as Error).message, new RegExp(`^${path.replace(/[.]/g, "\\.")}: `));
    match((err as Error).message, re);
    return err;
  };
  await rejects(MaxMindDb.open("testdata/mmdb/nope.mmdb", "asn"), /nope\.mmdb: no such file/);
  await bad(
    "testdata/mmdb/GeoLite2-City-Test.mmdb",
    "asn",
    /is a "GeoLite2-City" database, not an ASN database/,
  );
  await bad("testdata/mmdb/GeoLite2-ASN-Test.mmdb", "city", /not a City database/);
  await bad(
    "testdata/mmdb/GeoIP2-City-Test-Invalid-Node-Count.mmdb",
    "city",
    /corrupt MaxMind database/,
  );
  const gz = Deno.makeTempFileSync({ suffix: ".mmdb" });
  Deno.writeFileSync(gz, new Uint8Array([0x1f, 0x8b, 8, 0, 0, 0, 0, 0]));
  await bad(gz, "asn", /gzip-compressed/);
  const text = Deno.makeTempFileSync({ suffix: ".mmdb" });
  Deno.writeTextFileSync(text, "not a database\n");
  await bad(text, "asn", /not a readable MaxMind database/);
  // Every deliberately corrupt database of the MaxMind test suite is refused, for both kinds.
  let n = 0;
  for (const dir of ["libmaxminddb", "maxminddb-golang", "maxminddb-python"]) {
    for (const e of Deno.readDirSync(`testdata/mmdb/bad-data/${dir}`)) {
      if (!e.name.endsWith(".mmdb")) continue;
      for (const kind of ["asn", "city"] as const) {
        const err = await bad(`testdata/mmdb/bad-data/${dir}/${e.name}`, kind, /./);
        ok(err instanceof DataError);
      }
      n++;
    }
  }
  equal(n, 21);
});

Deno.test('values of the wrong type (number, map, array, boolean, bytes, a string AS number) give 0 or "" and are counted', async () => {
  const { writeMmdb } = await import("./_mmdb_writer.ts");
  const dir = tempDir();
  const odd: MmdbValue[] = [7, { a: 1 }, ["x"], true, Uint8Array.of(1, 2, 3), { double: 1.5 }];
  Deno.writeFileSync(
    `${dir}/asn.mmdb`,
    writeMmdb("GeoLite2-ASN", [
      ["192.0.2.1/32", { autonomous_system_number: 64496, autonomous_system_organization: "Good" }],
      ...odd.map((v, i) =>
        [`198.51.100.${i}/32`, {
          autonomous_system_number: "AS1",
          autonomous_system_organization: v,
        }] as [
          string,
          MmdbValue,
        ]
      ),
    ]),
  );
  Deno.writeFileSync(
    `${dir}/city.mmdb`,
    writeMmdb("GeoLite2-City", [
      ["192.0.2.1/32", {
        location: { latitude: { double: 51.5 }, longitude: { double: -0.1 } },
        country: { iso_code: "GB" },
        city: { names: { en: "London" } },
        subdivisions: [{ iso_code: "ENG" }],
      }],
      ...odd.map((v, i) =>
        [`198.51.100.${i}/32`, {
          location: { latitude: v, longitude: "west" },
          country: { iso_code: v },
          city: { names: v },
          subdivisions: [{ iso_code: v }],
        }] as [string, MmdbValue]
      ),
      ["203.0.113.0/24", { location: 5, country: [1], city: "Paris" }],
    ]),
  );
  const asn = await MaxMindDb.open(`${dir}/asn.mmdb`, "asn");
  deepEqual(asn.asn("192.0.2.1"), { asn: 64496, org: "Good" });
  for (let i = 0; i < odd.length; i++) deepEqual(asn.asn(`198.51.100.${i}`), { asn: 0, org: "" });
  equal(asn.wrongTypes, 2 * odd.length);
  const city = await MaxMindDb.open(`${dir}/city.mmdb`, "city");
  deepEqual(city.city("192.0.2.1"), {
    lat: 51.5,
    long: -0.1,
    country: "GB",
    city: "London",
    region: "ENG",
  });
  for (let i = 0; i < odd.length; i++) {
    const c = city.city(`198.51.100.${i}`);
    equal(c.country, "");
    equal(c.city, "");
    equal(c.region, "");
    equal(c.long, 0);
  }
  deepEqual(city.city("203.0.113.9"), { lat: 0, long: 0, country: "", city: "", region: "" });
  ok(city.wrongTypes >= 4 * odd.length + 3, String(city.wrongTypes));
  equal(city.failures, 0);
});

Deno.test("the per-address caches are bounded", async () => {
  const db = await MaxMindDb.open("testdata/mmdb/GeoLite2-ASN-Test.mmdb", "asn");
  for (let i = 0; i < 3 * MAX_CACHED; i++) {
    db.asn(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
  }
  ok(db.cached <= 2 * MAX_CACHED, String(db.cached));
  deepEqual(db.asn("1.128.0.1"), { asn: 1221, org: "Telstra Pty Ltd" });
});

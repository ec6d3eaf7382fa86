import { deepEqual, equal, match, ok } from "node:assert/strict";
import { denoFlags, ENTRIES } from "../../src/cli/permissions.ts";
import { startDnsmasq } from "../enrich/_dnsmasq.ts";
import { runCli, tempDir } from "../_helpers.ts";
import { testWith } from "../_programs.ts";

const parse = (args: string[]) => runCli(ENTRIES.parse, args, denoFlags("parse"));
const DEMO = "testdata/demo/scan.pcap.gz";
const ASN = "testdata/mmdb/GeoLite2-ASN-Test.mmdb";
const CITY = "testdata/mmdb/GeoLite2-City-Test.mmdb";
const PFX = "testdata/pfx2as/routeviews-rv2-20160202-1200-excerpt.pfx2as.gz";
const dir = tempDir("parse-enrich-");

testWith(
  ["dnsmasq"],
  "parse with MaxMind ASN + City, prefix-to-AS and reverse DNS from a real dnsmasq",
  async () => {
    const dns = await startDnsmasq({
      "5.120.78.214.in-addr.arpa": ["zmap-scanner.example.net"],
      "142.69.2.81.in-addr.arpa": ["masscan.example.co.uk"],
    });
    try {
      const r = await parse([
        "--pcap",
        DEMO,
        "--eventout",
        `${dir}/e.json`,
        "--samples",
        "1",
        "--uniques",
        "100",
        "--asnin",
        ASN,
        "--geoin",
        CITY,
        "--pfx2asin",
        PFX,
        "--dns",
        `127.0.0.1:${dns.port}`,
      ]);
      equal(r.code, 0, r.stderr);
      match(r.stderr, /reverse DNS: 5 addresses, 2 named, 3 NXDOMAIN, 0 failed, 0 query timeouts/);
      const evs = JSON.parse(Deno.readTextFileSync(`${dir}/e.json`));
      const by = Object.fromEntries(evs.map((e: { SourceIP: string }) => [e.SourceIP, e]));
      const pick = (ip: string) => {
        const e = by[ip];
        return [e.ASN, e.Org, e.Prefix, e.Country, e.City, e.Lat, e.Long, e.RDNS];
      };
      deepEqual(pick("214.78.120.5"), [
        721,
        "DoD Network Information Center",
        "214.0.0.0/8",
        "",
        "",
        0,
        0,
        [
          "zmap-scanner.example.net.",
        ],
      ]);
      deepEqual(pick("81.2.69.142"), [0, "", "81.2.64.0/18", "GB", "London", 51.5142, -0.0931, [
        "masscan.example.co.uk.",
      ]]);
      deepEqual(pick("1.128.0.1"), [1221, "Telstra Pty Ltd", "1.128.0.0/11", "", "", 0, 0, []]);
      deepEqual(pick("89.160.20.115"), [
        29518,
        "Bredband2 AB",
        "89.160.0.0/17",
        "SE",
        "Linköping",
        58.4167,
        15.6167,
        [],
      ]);
    } finally {
      await dns.stop();
    }
    // Without --asnin the ASN comes from the prefix's first origin; without --dns RDNS is null.
    const p = await parse([
      "--pcap",
      DEMO,
      "--eventout",
      `${dir}/p.json`,
      "--samples",
      "0",
      "--uniques",
      "100",
      "--pfx2asin",
      PFX,
      "--quiet",
    ]);
    equal(p.code, 0, p.stderr);
    const e = JSON.parse(Deno.readTextFileSync(`${dir}/p.json`)).find((x: { SourceIP: string }) =>
      x.SourceIP === "81.2.69.142"
    );
    deepEqual([e.ASN, e.Prefix, e.RDNS], [20712, "81.2.64.0/18", null]);
  },
);

Deno.test("a dead DNS server: the run completes, events carry the failure marker, the summary counts it", async () => {
  const r = await parse([
    "--pcap",
    DEMO,
    "--eventout",
    `${dir}/d.json`,
    "--samples",
    "0",
    "--uniques",
    "100",
    "--dns",
    "127.0.0.1:9",
    "--dns-timeout",
    "0.2",
    "--dns-retries",
    "1",
  ]);
  equal(r.code, 0, r.stderr);
  match(r.stderr, /reverse DNS: 5 addresses, 0 named, 0 NXDOMAIN, 5 failed/);
  const evs = JSON.parse(Deno.readTextFileSync(`${dir}/d.json`));
  equal(evs.length, 5);
  ok(evs.every((e: { RDNS: string[] }) => JSON.stringify(e.RDNS) === '["FAILED (ERR)"]'));
});

Deno.test("bad databases stop the run before any packet is read, naming the file", async () => {
  const out = `${dir}/never.json`;
  const cases: [string[], RegExp][] = [
    [
      ["--asnin", CITY],
      /GeoLite2-City-Test\.mmdb: is a "GeoLite2-City" database, not an ASN database/,
    ],
    [
      ["--geoin", "testdata/mmdb/bad-data/maxminddb-golang/invalid-string-length.mmdb"],
      /invalid-string-length\.mmdb: /,
    ],
    [["--pfx2asin", "testdata/pfx2as/missing.pfx2as"], /missing\.pfx2as: no such file/],
    [["--pfx2asin", "testdata/demo/scan.pcap.gz"], /scan\.pcap\.gz: line 1: /],
  ];
  for (const [flags, re] of cases) {
    const r = await parse(["--pcap", DEMO, "--eventout", out, "--samples", "0", ...flags]);
    ok(r.code === 65 || r.code === 74, `${flags}: exit ${r.code}`);
    match(r.stderr, re);
    equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    let exists = true;
    try {
      Deno.statSync(out);
    } catch {
      exists = false;
    }
    ok(!exists, "an output file was created before the databases were checked");
  }
});

Deno.test("paths after --pfx2asin belong to it; paths after --pcap to --pcap", async () => {
  const r = await parse([
    "--pfx2asin",
    PFX,
    "testdata/pfx2as/handmade.pfx2as",
    "--pcap",
    DEMO,
    DEMO,
    "--eventout",
    `${dir}/two.json`,
    "--samples",
    "0",
    "--uniques",
    "100",
    "--quiet",
  ]);
  equal(r.code, 0, r.stderr);
  const evs = JSON.parse(Deno.readTextFileSync(`${dir}/two.json`));
  ok(evs.length >= 5 && evs.every((e: { Prefix: string }) => e.Prefix !== ""));
  equal(evs.reduce((n: number, e: { Packets: number }) => n + e.Packets, 0) > 20000, true);
});

Deno.test("a City database with values of the wrong type: the run completes, every event kept, the summary counts them", async () => {
  const { writeMmdb } = await import("../enrich/_mmdb_writer.ts");
  const { ethernet, ipv4Packet } = await import("../../src/synth/frames.ts");
  const { pcapFile } = await import("../../src/synth/pcap_writer.ts");
  const d = tempDir();
  Deno.writeFileSync(
    `${d}/city.mmdb`,
    writeMmdb("GeoLite2-City", [["198.51.100.0/24", {
      location: { latitude: "north", longitude: [1] },
      country: { iso_code: { x: 1 } },
      city: { names: { en: Uint8Array.of(0xff, 0) } },
    }]]),
  );
  const pk = Array.from({ length: 50 }, (_, i) => ({
    sec: 1603296000 + i,
    nsec: 0,
    data: ethernet(
      ipv4Packet({ src: 0xc6336400 + i, dst: 0x0a000001, proto: 6, dport: 23, flags: 2 }),
    ),
  }));
  Deno.writeFileSync(`${d}/in.pcap`, pcapFile(pk, { linkType: 1 }));
  const r = await runCli(ENTRIES.parse, [
    "--pcap",
    `${d}/in.pcap`,
    "--eventout",
    `${d}/out.json`,
    "--samples",
    "0",
    "--geoin",
    `${d}/city.mmdb`,
    "--cacheout",
    `${d}/s.state`,
    "--timeout",
    "10",
  ], denoFlags("parse"));
  equal(r.code, 0, r.stderr);
  const evs = JSON.parse(Deno.readTextFileSync(`${d}/out.json`));
  ok(evs.length > 30);
  // Four fields of each written event (open events saved in the state are not enriched).
  match(
    r.stderr,
    new RegExp(`; ${4 * evs.length} values of the wrong type in .*city\\.mmdb written as 0 or ""`),
  );
  for (const e of evs) deepEqual([e.Lat, e.Long, e.Country, e.City], [0, 0, "", ""]);
});

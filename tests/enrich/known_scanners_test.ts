// Known scanners: the file format (every error a line naming file and line, before any packet
// is read), the most specific prefix, IPv6, name suffixes after reverse DNS (a real dnsmasq),
// and the Scanner key through parse, count and timeseries.

import { byKey, tempDir } from "../_helpers.ts";
import { deepEqual, equal, match, ok, throws } from "node:assert/strict";
import { knownScannerEnricher, KnownScanners } from "../../src/enrich/known_scanners.ts";
import { DataError } from "../../src/errors.ts";
import { DarknetEvent } from "../../src/model/darknet_event.ts";
import { parseIpv6 } from "../../src/util/ip.ts";
import { denoFlags, ENTRIES } from "../../src/cli/permissions.ts";
import { runCli } from "../_helpers.ts";
import { capture, pkt } from "../aggregation/_events_helpers.ts";
import { testWith } from "../_programs.ts";
import { startDnsmasq } from "./_dnsmasq.ts";
import { EventStats } from "../../src/analysis/event_stats.ts";
import { TimeSeries } from "../../src/analysis/timeseries.ts";

const EXAMPLE = "docs/example/known_scanners.txt";
const dir = tempDir("known-scanners-");

Deno.test("the shipped example loads; prefixes, the most specific one, IPv6 and name suffixes", async () => {
  const ex = await KnownScanners.load(EXAMPLE);
  ok(ex.prefixes >= 4 && ex.suffixes >= 4);
  equal(ex.label4(0xa28e7d07), "censys"); // 162.142.125.7
  equal(ex.label4(0xa28e7e07), ""); // 162.142.126.7
  const k = KnownScanners.parse(
    [
      "# a comment line",
      "198.51.100.0/24   lab      # a comment after an entry",
      "198.51.100.128/25 lab-b",
      "203.0.113.9       one-host",
      "2001:db8:5::/48   six",
      "0.0.0.0/0         anyone",
      ".Example.ORG.     research",
      "",
    ].join("\n"),
    "k.txt",
  );
  deepEqual(
    [0xc6336401, 0xc6336481, 0xcb007109, 0xcb00710a].map((a) => k.label4(a)),
    ["lab", "lab-b", "one-host", "anyone"],
  );
  equal(k.label6(parseIpv6("2001:db8:5:ffff::1")!), "six");
  equal(k.label6(parseIpv6("2001:db8:6::1")!), "");
  equal(k.labelOfName("scan-1.example.org"), "research");
  equal(k.labelOfName("EXAMPLE.org."), "research");
  equal(k.labelOfName("notexample.org"), "");
  deepEqual(k.labels, ["lab", "lab-b", "one-host", "six", "anyone", "research"]);
});

Deno.test("bad lines: one error naming the file and the line", () => {
  const cases: [string, RegExp][] = [
    ["192.0.2.0/24", /expected "PREFIX-OR-SUFFIX LABEL", got 1 fields/],
    ["192.0.2.0/24 a b", /got 3 fields/],
    ["192.0.2.0/33 x", /prefix length "33" \(0-32\)/],
    ["192.0.2.0/x x", /prefix length "x"/],
    ["192.0.2.256 x", /"192.0.2.256" is not an IPv4 address/],
    ["2001:db8::/129 x", /prefix length "129" \(0-128\)/],
    ["2001:db8:::1 x", /is not an IPv6 address/],
    ["192.0.2.0/24 bad/label", /label "bad\/label"/],
    [".bad..name x", /name suffix ".bad..name" is not a DNS name/],
    ["192.0.2.0/24 a\n192.0.2.7/24 b", /prefix 192.0.2.7\/24 listed twice/],
  ];
  for (const [text, want] of cases) {
    throws(() => KnownScanners.parse(`# header\n${text}\n`, "k.txt"), (e: Error) => {
      ok(e instanceof DataError, text);
      match(e.message, want);
      match(e.message, /k\.txt.*line [23]/);
      return true;
    });
  }
});

Deno.test("the enricher: prefix at once, name suffix after the names are known", () => {
  const x = knownScannerEnricher(
    KnownScanners.parse("198.51.100.0/24 lab\n.example.org research\n", "x"),
  );
  const e = new DarknetEvent();
  e.src = 0xc6336407;
  e.rdns = ["host.example.org."];
  x.annotate!(e);
  x.finish!(e);
  equal(e.scanner, "lab", "a prefix beats a name");
  const f = new DarknetEvent();
  f.src = 0x01020304;
  x.annotate!(f);
  equal(f.scanner, "");
  f.rdns = ["a.other.net.", "b.example.org."];
  x.finish!(f);
  equal(f.scanner, "research");
  // Without suffixes there is no finish step.
  equal(knownScannerEnricher(KnownScanners.parse("198.51.100.0/24 lab\n", "x")).finish, undefined);
});

const parse = (args: string[]) => runCli(ENTRIES.parse, args, denoFlags("parse"));
// parse of k.pcap into `out` with the known-scanner file `list`, and more flags.
const label = (out: string, list: string, ...more: string[]) =>
  parse([
    "--pcap",
    `${dir}/k.pcap`,
    "--samples",
    "0",
    "--eventout",
    out,
    "--known-scanners",
    list,
    ...more,
  ]);
const PK = [
  pkt(0, { src: 0xc6336401, dst: 0x0a4d0001 }),
  pkt(1, { src: 0xc6336401, dst: 0x0a4d0002 }),
  pkt(2, { src: 0x01020304, dst: 0x0a4d0003 }),
  pkt(3, { src: 0x05060708, dst: 0x0a4d0004 }),
];
Deno.writeFileSync(`${dir}/k.pcap`, capture(PK));
Deno.writeTextFileSync(`${dir}/k.txt`, "198.51.100.0/24 lab\n.example.org research\n");

Deno.test("parse --known-scanners: Scanner by prefix; a bad file stops the run before anything is written", async () => {
  const r = await label(`${dir}/e.json`, `${dir}/k.txt`);
  equal(r.code, 0, r.stderr);
  const evs: { SourceIP: string; Scanner: string }[] = JSON.parse(
    Deno.readTextFileSync(`${dir}/e.json`),
  );
  deepEqual(byKey(evs).map((e) => [e.SourceIP, e.Scanner]), [
    ["1.2.3.4", ""],
    ["5.6.7.8", ""],
    ["198.51.100.1", "lab"],
  ]);
  Deno.writeTextFileSync(`${dir}/bad.txt`, "198.51.100.0/24 lab\n10.0.0.0/8\n");
  const bad = await label(`${dir}/b.json`, `${dir}/bad.txt`);
  equal(bad.code, 65);
  equal(bad.stderr.trim().split("\n").length, 1, bad.stderr);
  match(bad.stderr, /bad\.txt.*line 2/);
  let made = true;
  try {
    Deno.statSync(`${dir}/b.json`);
  } catch {
    made = false;
  }
  equal(made, false, "no event file for a run that never read a packet");
  const missing = await label(`${dir}/m.json`, `${dir}/nope.txt`);
  ok(missing.code === 74 || missing.code === 2, `${missing.code}: ${missing.stderr}`);
  equal(missing.stderr.trim().split("\n").length, 1, missing.stderr);
});

testWith(
  ["dnsmasq"],
  "parse --known-scanners --dns: Scanner by PTR name suffix (a real dnsmasq)",
  async () => {
    const dns = await startDnsmasq({
      "4.3.2.1.in-addr.arpa": ["scan-7.example.org"],
      "8.7.6.5.in-addr.arpa": ["host.other.net"],
    });
    try {
      const r = await label(`${dir}/d.json`, `${dir}/k.txt`, "--dns", `127.0.0.1:${dns.port}`);
      equal(r.code, 0, r.stderr);
      const evs: { SourceIP: string; Scanner: string }[] = JSON.parse(
        Deno.readTextFileSync(`${dir}/d.json`),
      );
      deepEqual(
        byKey(evs).map((e) => [e.SourceIP, e.Scanner]),
        [
          ["1.2.3.4", "research"],
          ["5.6.7.8", ""],
          ["198.51.100.1", "lab"],
        ],
      );
    } finally {
      await dns.stop();
    }
  },
);

Deno.test("count and timeseries split by Scanner", () => {
  const ev = (src: string, scanner: string, packets: number) =>
    ({
      SourceIP: src,
      Traffic: 11,
      Port: 23,
      Packets: packets,
      Bytes: 60 * packets,
      UniqueDests: 1,
      First: "2020-10-21T16:00:00Z",
      Last: "2020-10-21T16:00:01Z",
      Scanner: scanner,
    }) as never;
  const s = new EventStats();
  const t = new TimeSeries({ by: "scanner" });
  for (const e of [ev("192.0.2.1", "lab", 5), ev("192.0.2.2", "lab", 2), ev("192.0.2.3", "", 1)]) {
    s.add(e);
    t.add(e, "h1");
  }
  equal(
    s.files()["scanner_counts.csv"],
    "scanner,events,packets,bytes,unique_sources\nlab,2,7,420,2\n(none),1,1,60,1\n",
  );
  deepEqual(s.summary(3).scanners, { lab: 2 });
  deepEqual(t.result(5).series.map((x) => [x.key, x.packets[0]]), [["lab", 7], ["none", 1]]);
});

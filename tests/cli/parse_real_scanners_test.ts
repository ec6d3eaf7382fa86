// parse against real scanners: testdata/real-scanners/scanners.pcap holds real ZMap, Masscan
// and nmap scans and real backscatter from a Linux TCP/IP stack (recorded by
// scripts/record_real_scanners.sh), and expected.json each event's fields as counted by
// tcpdump's own filters — libpcap's BPF, not this project's decoder — fingerprints included
// (e.g. Masscan: `ip[4:2] == ((ip[16:4] ^ tcp[2:2] ^ tcp[4:4]) & 0xffff)` on every packet).

import { deepEqual, equal, ok } from "node:assert/strict";
import { denoFlags, ENTRIES } from "../../src/cli/permissions.ts";
import { runCli, tempDir } from "../_helpers.ts";

const DIR = "testdata/real-scanners";
const dir = tempDir("parse-real-");

interface Expected {
  name: string;
  SourceIP: string;
  Traffic: number;
  Port: number;
  Packets: number;
  Bytes: number;
  UniqueDests: number;
  UniqueDest24s: number;
  First: string; // tcpdump -tt: seconds.microseconds
  Last: string;
  Zmap: boolean;
  Masscan: boolean;
  Mirai: boolean;
}

// RFC 3339 with nanoseconds → "seconds.microseconds" as tcpdump prints it (the capture is µs).
function asTcpdump(t: string): string {
  const m = /^(.*T\d\d:\d\d:\d\d)\.(\d{9})Z$/.exec(t);
  ok(m, `time ${t}`);
  equal(m[2].slice(6), "000", `a microsecond capture gives whole microseconds: ${t}`);
  return `${Date.parse(m[1] + "Z") / 1000}.${m[2].slice(0, 6)}`;
}

Deno.test("real ZMap, Masscan and nmap scans and real backscatter: every field as tcpdump counts it", async () => {
  const truth = JSON.parse(Deno.readTextFileSync(`${DIR}/expected.json`));
  const expected: Expected[] = truth.events;
  equal(expected.length, 8);
  ok(expected.every((x) => x.Packets >= 150), "the recording lost probes");
  const r = await runCli(ENTRIES.parse, [
    "--pcap",
    `${DIR}/scanners.pcap`,
    "--eventout",
    `${dir}/ev.json`,
    "--samples",
    "3",
    "--quiet",
  ], denoFlags("parse"));
  equal(r.code, 0, r.stderr);
  const events = JSON.parse(Deno.readTextFileSync(`${dir}/ev.json`));
  for (const x of expected) {
    const found = events.filter((e: Expected) =>
      e.SourceIP === x.SourceIP && e.Traffic === x.Traffic && e.Port === x.Port
    );
    equal(found.length, 1, `${x.name}: one event`);
    const e = found[0];
    deepEqual(
      {
        Packets: e.Packets,
        Bytes: e.Bytes,
        UniqueDests: e.UniqueDests,
        UniqueDest24s: e.UniqueDest24s,
        First: asTcpdump(e.First),
        Last: asTcpdump(e.Last),
        Zmap: e.Zmap,
        Masscan: e.Masscan,
        Mirai: e.Mirai,
      },
      {
        Packets: x.Packets,
        Bytes: x.Bytes,
        UniqueDests: x.UniqueDests,
        UniqueDest24s: x.UniqueDest24s,
        First: x.First,
        Last: x.Last,
        Zmap: x.Zmap,
        Masscan: x.Masscan,
        Mirai: x.Mirai,
      },
      x.name,
    );
    // Three sampled frames, each one of this event's packets: the source address at its place.
    equal(e.Samples.length, 3, x.name);
    for (const s of e.Samples) {
      const f = Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
      equal([...f.subarray(26, 30)].join("."), x.SourceIP, `${x.name}: sample's source`);
    }
  }
  // SYNs to a closed port draw RST+ACK: TCPOther keyed by the destination port (the prober's
  // source port), as in Merit's tool — TCPRST is a bare RST.
  const rstAck = events.filter((e: Expected & { TCP: string }) =>
    e.SourceIP === "198.18.0.1" && e.TCP === "TCPOther"
  );
  ok(truth.rstAck.packets > 150);
  equal(rstAck.reduce((n: number, e: Expected) => n + e.Packets, 0), truth.rstAck.packets);
  ok(rstAck.length > 150 && rstAck.every((e: Expected) => e.Port !== 81));
  // The tools' fingerprints, as the real tools set them.
  const by = (name: string) => expected.find((x) => x.name === name)!;
  ok(by("ZMap TCP SYN").Zmap && !by("ZMap TCP SYN").Masscan);
  ok(by("Masscan port 23").Masscan && by("Masscan port 8080").Masscan);
  ok(!by("nmap SYN").Zmap && !by("nmap SYN").Masscan && !by("nmap SYN").Mirai);
});

// Real scanners attributed: current ZMap (4.3, windows and linux layouts, ICMP echo) and masscan
// master from testdata/captures-modern (closed-lab captures with ground truth), ZMap 2.1.1,
// masscan 1.3.2 and nmap 7.93 from testdata/real-scanners; real SYN-ACK backscatter and the
// Linux stack's own responses attributed to none.

import { byKey } from "../_helpers.ts";
import { deepEqual, equal } from "node:assert/strict";
import { parseEvents } from "./_parse.ts";

const parse = async (pcap: string) => byKey(await parseEvents(pcap));

const row = (e: Record<string, unknown>) => [
  e.SourceIP,
  e.Port,
  e.Packets,
  e.Tools,
  e.Tool,
  e.SynSignature,
  e.IPIDClass,
];

Deno.test("current ZMap and masscan (closed-lab captures): every event attributed, with its signature and IP ID class", async () => {
  const M = "testdata/captures-modern";
  const truth = JSON.parse(Deno.readTextFileSync(`${M}/ground_truth.json`)).captures;
  equal(truth["zmap4_syn_windows.pcap"].header_facts.tcp.window["65535"], 2048);
  const z = (port: number, sig: string) => [
    "192.0.2.11",
    port,
    1024,
    { zmap: [1024, 1024] },
    "zmap",
    sig,
    "random",
  ];
  deepEqual((await parse(`${M}/zmap4_syn_windows.pcap`)).map(row), [
    z(23, "65535_2-1-3-1-1-4_1460_8"),
    z(80, "65535_2-1-3-1-1-4_1460_8"),
  ]);
  deepEqual((await parse(`${M}/zmap4_syn_linux.pcap`)).map(row), [
    z(23, "65535_2-4-8-1-3_1460_7"),
    z(80, "65535_2-4-8-1-3_1460_7"),
  ]);
  deepEqual((await parse(`${M}/zmap4_icmp.pcap`)).map(row), [
    ["192.0.2.11", 0, 1024, { zmap: [1024, 1024] }, "zmap", "", "random"],
  ]);
  const m = (port: number) => [
    "192.0.2.21",
    port,
    1024,
    { masscan: [1024, 1024] },
    "masscan",
    "1025_2_1460_00",
    "random",
  ];
  deepEqual((await parse(`${M}/masscan_master_syn.pcap`)).map(row), [m(22), m(80), m(443)]);
  // Backscatter from a Linux victim: no tool, its stack's constant IP ID 0.
  deepEqual((await parse(`${M}/rsdos_synack.pcap`)).map(row), [
    ["192.0.2.100", 80, 1958, {}, "", "", "constant"],
  ]);
});

Deno.test("older real scanners: ZMap 2.1.1, masscan 1.3.2, nmap 7.93 attributed; backscatter not", async () => {
  const evs = await parse("testdata/real-scanners/scanners.pcap");
  const by = (ip: string, port: number) =>
    evs.filter((e) => e.SourceIP === ip && e.Port === port && (e.Packets as number) > 100)
      .map(row);
  deepEqual(by("10.250.0.11", 80), [
    ["10.250.0.11", 80, 256, { zmap: [256, 256] }, "zmap", "65535_00_00_00", "constant"],
  ]);
  deepEqual(by("10.250.0.14", 0), [
    ["10.250.0.14", 0, 256, { zmap: [256, 256] }, "zmap", "", "constant"],
  ]);
  deepEqual(by("10.250.0.12", 23), [
    ["10.250.0.12", 23, 256, { masscan: [256, 256] }, "masscan", "1024_00_00_00", "random"],
  ]);
  deepEqual(by("10.250.0.1", 22), [
    ["10.250.0.1", 22, 256, { nmap: [255, 256] }, "nmap", "1024_2_1460_00", "random"],
  ]);
  const others = evs.filter((e) => !String(e.SourceIP).startsWith("10.250.0."));
  equal(others.length > 5, true);
  deepEqual(others.filter((e) => e.Tool !== "" || Object.keys(e.Tools as object).length), []);
});

Deno.test("count and timeseries follow the attribution: events, packets and sources per tool, top SYN signatures, series by tool; halves merged equal one pass", async () => {
  const { EventStats } = await import("../../src/analysis/event_stats.ts");
  const { TimeSeries } = await import("../../src/analysis/timeseries.ts");
  const evs = [
    ...await parse("testdata/real-scanners/scanners.pcap"),
    ...await parse("testdata/captures-modern/masscan_master_syn.pcap"),
  ] as never[];
  const one = new EventStats();
  for (const e of evs) one.add(e);
  const a = new EventStats();
  const b = new EventStats();
  evs.forEach((e, i) => (i < evs.length / 2 ? a : b).add(e));
  a.mergeData(structuredClone(b.exportData()));
  for (const s of [one, a]) {
    const sum = s.summary(3);
    deepEqual(sum.tools, { zmap: 2, masscan: 5, nmap: 1, unicornscan: 0, mirai: 0 });
    deepEqual(sum.topSynSignatures.map((r) => [r.signature, r.events]), [
      ["512_00_00_00", 400],
      ["1025_2_1460_00", 3],
      ["1024_00_00_00", 2],
    ]);
    const csv = s.files()["tool_counts.csv"].trim().split("\n");
    deepEqual(csv.slice(0, 4), [
      "tool,events,packets,bytes,unique_sources",
      "zmap,2,512,29696,2",
      "masscan,5,3584,205824,2",
      "nmap,1,256,14848,1",
    ]);
    equal(csv[4].startsWith("(none),"), true);
  }
  const ts = new TimeSeries({ by: "tool", binSeconds: 3600 });
  for (const e of evs) ts.add(e, "x");
  const r = ts.result(10);
  deepEqual(r.series.map((s) => s.key).sort(), ["masscan", "nmap", "none", "zmap"]);
});

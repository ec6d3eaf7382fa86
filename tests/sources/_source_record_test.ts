// A split run's roll-up records: every field SourceRollup reads comes back as it went in, for
// IPv4 and IPv6 events; a damaged file is refused with one line.

import { deepEqual, equal, ok, rejects } from "node:assert/strict";
import { EventAggregator } from "../../src/aggregation/event_aggregator.ts";
import { captureBatches } from "../../src/capture/open_capture.ts";
import { encodeSourceRecord, readSourceRecords } from "../../src/sources/_source_record.ts";
import { DataError } from "../../src/errors.ts";
import type { DarknetEvent } from "../../src/model/darknet_event.ts";
import { tempDir } from "../_helpers.ts";

const dir = tempDir("source-record-");

Deno.test("source records: written and read back, field for field; damaged ones refused", async () => {
  const agg = new EventAggregator({ destinations: true });
  const events: DarknetEvent[] = [];
  for (
    const f of [
      "testdata/demo/scan.pcap.gz",
      "testdata/pcap-formats/PcapPlusPlus/Packet++Test__PacketExamples__ipv6_options.pcap",
    ]
  ) {
    for await (const b of await captureBatches([f])) events.push(...agg.add(b));
  }
  events.push(...agg.sweepIdle(), ...agg.openEvents());
  ok(events.some((e) => e.version === 6) && events.some((e) => (e.destinations?.length ?? 0) > 1));
  events[0].country = "NL";
  events[0].asn = 64500;
  events[0].scanner = "a scanner";
  const parts = events.map(encodeSourceRecord);
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) (all.set(p, o), o += p.length);
  Deno.writeFileSync(`${dir}/s.bin`, all);
  const back = [];
  for await (const e of readSourceRecords(`${dir}/s.bin`)) back.push(e);
  equal(back.length, events.length);
  const fields = (e: DarknetEvent) => [
    e.version,
    e.version === 6 ? [...e.src6] : e.src,
    e.firstSec,
    e.firstNsec,
    e.lastSec,
    e.lastNsec,
    e.packets,
    e.bytes,
    e.traffic,
    e.port,
    e.uniqueDest24s,
    [...e.tools],
    [...e.tags],
    e.scanner,
    e.country,
    e.asn,
    e.org,
    [...(e.destinations ?? [])],
  ];
  deepEqual(back.map(fields), events.map(fields));
  Deno.writeFileSync(`${dir}/cut.bin`, all.subarray(0, all.length - 2));
  await rejects(async () => {
    for await (const _ of readSourceRecords(`${dir}/cut.bin`)) { /* read */ }
  }, (e: Error) => e instanceof DataError && /damaged source record/.test(e.message));
});

// The traffic tags in the tools' outputs: count --pcap's packets per tag and rule (worker and
// standard-input paths, halves merged), count's tag_counts.csv and --json, timeseries --by tag,
// and parse --exclude-tags end to end (with its usage error).

import { byKey, tempDir } from "../_helpers.ts";
import { deepEqual, equal, match, ok } from "node:assert/strict";
import { denoFlags, ENTRIES } from "../../src/cli/permissions.ts";
import { runCli } from "../_helpers.ts";
import { capture, pkt } from "../aggregation/_events_helpers.ts";
import { countPcap, formatPacketSummary } from "../../src/cli/count_pcap.ts";
import { PacketStats } from "../../src/stats/packet_stats.ts";
import { PcapDecoderStream } from "../../src/capture/pcap_decoder_stream.ts";
import { EventStats } from "../../src/analysis/event_stats.ts";
import { TimeSeries } from "../../src/analysis/timeseries.ts";
import type { EventJson } from "../../src/model/darknet_event.ts";

const G = 0x01020304; // 1.2.3.4
const H = 0x05060708;
const U = 0xc0a80001; // 192.168.0.1: unroutable
const D = 0x0a4d0000;

// 3 spoofed (TTL 250) in an event of 4, 2 erratic only (port 23), 4 unroutable, 1 untagged:
// eleven packets.
const PACKETS = [
  ...[0, 1, 2].map((k) => pkt(k, { src: G, dst: D + k, dport: 443, ttl: 250, window: 1025 })),
  ...[3, 4].map((k) => pkt(k, { src: H, dst: D + k, dport: 23 })),
  ...[5, 6, 7, 8].map((k) => pkt(k, { src: U, dst: D + k, dport: 443 })),
  pkt(9, { src: H, dst: D + 9, dport: 443 }),
  pkt(10, { src: G, dst: D + 10, dport: 443, ttl: 64, window: 1025 }),
];
const dir = tempDir("tag-analyses-");
const path = `${dir}/tags.pcap`;
Deno.writeFileSync(path, capture(PACKETS));

const WANT_TAGS = [
  { name: "spoofed", packets: 3, bytes: 3 * 54 },
  { name: "erratic", packets: 5, bytes: 5 * 54 },
  { name: "unroutable", packets: 4, bytes: 4 * 54 },
  { name: "large-scale-scan", packets: 0, bytes: 0 },
];

Deno.test("count --pcap: packets per tag and per rule, on the worker and on this thread", async () => {
  const r = await countPcap([path]);
  equal(r.error, undefined);
  deepEqual(r.summary.tags, WANT_TAGS);
  deepEqual(r.summary.tagRules, [
    { name: "ttl-200-not-masscan", tag: "spoofed", packets: 3 },
    { name: "ttl-200", tag: "erratic", packets: 3 },
    { name: "tcp-port-23", tag: "erratic", packets: 2 },
    { name: "special-purpose-source", tag: "unroutable", packets: 4 },
  ]);
  match(formatPacketSummary(r.summary), /^spoofed +3 +27\.3 % +162$/m);
  // Standard input: decoded and tagged on this thread.
  const cli = await runCli(
    ENTRIES.count,
    ["--pcap", "-", "--json"],
    denoFlags("count"),
    capture(PACKETS),
  );
  equal(cli.code, 0, cli.stderr);
  deepEqual(JSON.parse(cli.stdout).tags, WANT_TAGS);
});

Deno.test("count --pcap: two halves' statistics merged equal one pass, tags included", async () => {
  const stats = async (pk: typeof PACKETS) => {
    const s = new PacketStats();
    for await (const b of ReadableStream.from([capture(pk)]).pipeThrough(new PcapDecoderStream())) {
      s.add(b);
    }
    return s;
  };
  const a = await stats(PACKETS.slice(0, 4));
  a.merge(await stats(PACKETS.slice(4)));
  deepEqual(a.result().tags, WANT_TAGS);
  deepEqual(a.result().tagRules, (await stats(PACKETS)).result().tagRules);
});

// The events parse writes for PACKETS.
async function parsed(extra: string[] = []): Promise<EventJson[]> {
  const out = `${dir}/ev-${extra.join("_").replace(/\W/g, "")}.json`;
  const r = await runCli(
    ENTRIES.parse,
    ["--pcap", path, "--samples", "0", "--eventout", out, ...extra],
    denoFlags("parse"),
  );
  equal(r.code, 0, r.stderr);
  return JSON.parse(Deno.readTextFileSync(out));
}

Deno.test("count: tag_counts.csv and --json count events and tagged packets per tag", async () => {
  const evs = await parsed();
  const s = new EventStats();
  for (const e of evs) s.add(e);
  equal(
    s.files()["tag_counts.csv"],
    "tag,events,tagged_packets,unique_sources\n" +
      "spoofed,1,3,1\nerratic,2,5,2\nunroutable,1,4,1\n(none),1,1,1\n",
  );
  deepEqual(s.summary(3).tags, {
    spoofed: { events: 1, packets: 3 },
    erratic: { events: 2, packets: 5 },
    unroutable: { events: 1, packets: 4 },
    "large-scale-scan": { events: 0, packets: 0 },
  });
  // Halves merged (as count's workers do) equal one pass.
  const a = new EventStats();
  const b = new EventStats();
  evs.forEach((e, i) => (i < 2 ? a : b).add(e));
  a.mergeData(b.exportData());
  equal(a.files()["tag_counts.csv"], s.files()["tag_counts.csv"]);
});

Deno.test("timeseries --by tag: a series per tag of its tagged packets, and one of untagged events", async () => {
  const evs = await parsed();
  const t = new TimeSeries({ by: "tag" });
  for (const e of evs) t.add(e, "hour-1.json");
  const r = t.result(10);
  deepEqual(
    r.series.map((s) => [s.key, s.packets[0], s.events[0]]),
    [["erratic", 5, 2], ["unroutable", 4, 1], ["spoofed", 3, 1], ["none", 1, 1]],
  );
  const cli = await runCli(
    ENTRIES.timeseries,
    [`${dir}/ev-.json`, "--by", "tag", "--series", "tag=spoofed", "--outdir", `${dir}/ts`],
    denoFlags("timeseries"),
  );
  equal(cli.code, 0, cli.stderr);
  ok(Deno.statSync(`${dir}/ts/series_spoofed.csv`).isFile);
  const bad = await runCli(
    ENTRIES.timeseries,
    [`${dir}/ev-.json`, "--by", "tag", "--series", "tag=spoof", "--outdir", `${dir}/ts2`],
    denoFlags("timeseries"),
  );
  equal(bad.code, 2);
});

Deno.test("parse --exclude-tags drops tagged packets; an unknown tag is a usage error", async () => {
  const all = await parsed();
  equal(all.reduce((n, e) => n + e.Packets, 0), 11);
  const kept = await parsed(["--exclude-tags", "spoofed,unroutable"]);
  deepEqual(byKey(kept).map((e) => [e.SourceIP, e.Port, e.Packets, e.Tags]), [
    ["1.2.3.4", 443, 1, {}],
    ["5.6.7.8", 23, 2, { erratic: 2 }],
    ["5.6.7.8", 443, 1, {}],
  ]);
  const r = await runCli(
    ENTRIES.parse,
    ["--pcap", path, "--samples", "0", "--eventout", `${dir}/x.json`, "--exclude-tags", "spoofy"],
    denoFlags("parse"),
  );
  equal(r.code, 2);
  equal(r.stderr.trim().split("\n").length, 1, r.stderr);
  match(
    r.stderr,
    /--exclude-tags: unknown tag "spoofy" \(tags: spoofed, erratic, unroutable, large-scale-scan\)/,
  );
  ok(!Deno.statSync(dir).isFile);
  let exists = true;
  try {
    Deno.statSync(`${dir}/x.json`);
  } catch {
    exists = false;
  }
  equal(exists, false, "no output made before the flag is refused");
});

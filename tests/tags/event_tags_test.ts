// Per-event traffic-tag counts through the aggregator: events whose packets share their tags,
// events whose tags change (at the first, a middle and the last packet), one-packet events and
// their promotion, IPv6, the gap that restarts an event, and --exclude-tags.

import { byKey } from "../_helpers.ts";
import { deepEqual, equal } from "node:assert/strict";
import { capture, events, pkt } from "../aggregation/_events_helpers.ts";
import { EventAggregator } from "../../src/aggregation/event_aggregator.ts";
import { PcapDecoderStream } from "../../src/capture/pcap_decoder_stream.ts";
import { ethernet, ipv6Packet } from "../../src/synth/frames.ts";
import { pcapFile } from "../../src/synth/pcap_writer.ts";
import { Tag } from "../../src/tags/traffic_tags.ts";
import type { DarknetEvent } from "../../src/model/darknet_event.ts";

const S = 0xc6336401; // 198.51.100.1: documentation space, so every packet is unroutable
const G = 0x01020304; // 1.2.3.4
const D = 0x0a4d0000;
const json = (e: DarknetEvent) => JSON.parse(JSON.stringify(e));

// One event from `src` to port 443, packet k with TTL ttls[k].
async function one(src: number, ttls: number[]) {
  const pk = ttls.map((ttl, k) => pkt(k, { src, dst: D + k, dport: 443, ttl, window: 1025 }));
  const evs = await events(capture(pk));
  equal(evs.length, 1);
  return json(evs[0]);
}

Deno.test("an event whose packets share their tags counts every packet; untagged ones show {}", async () => {
  deepEqual((await one(G, [64, 64, 64])).Tags, {});
  deepEqual((await one(G, [250, 250, 250])).Tags, { spoofed: 3, erratic: 3 });
  deepEqual((await one(S, [64, 64])).Tags, { unroutable: 2 });
  // Port 23 is erratic: every packet of the event.
  const pk = [0, 1, 2, 3].map((k) => pkt(k, { src: G, dst: D + k, dport: 23 }));
  deepEqual(json((await events(capture(pk)))[0]).Tags, { erratic: 4 });
});

Deno.test("tags that change within an event are counted per packet, wherever they change", async () => {
  deepEqual((await one(G, [250, 64, 64, 64])).Tags, { spoofed: 1, erratic: 1 });
  deepEqual((await one(G, [64, 64, 250, 64])).Tags, { spoofed: 1, erratic: 1 });
  deepEqual((await one(G, [64, 64, 64, 250])).Tags, { spoofed: 1, erratic: 1 });
  deepEqual((await one(G, [250, 250, 64, 250, 64])).Tags, { spoofed: 3, erratic: 3 });
  deepEqual((await one(S, [250, 64])).Tags, { spoofed: 1, erratic: 1, unroutable: 2 });
});

Deno.test("one-packet events carry their packet's tags, and a promotion keeps them", async () => {
  deepEqual((await one(G, [250])).Tags, { spoofed: 1, erratic: 1 });
  deepEqual((await one(G, [64])).Tags, {});
  deepEqual((await one(G, [250, 64])).Tags, { spoofed: 1, erratic: 1 });
  deepEqual((await one(G, [64, 250])).Tags, { spoofed: 1, erratic: 1 });
  deepEqual((await one(G, [250, 250])).Tags, { spoofed: 2, erratic: 2 });
});

Deno.test("a gap longer than the timeout starts the next event's counts afresh", async () => {
  const pk = [
    pkt(0, { src: G, dst: D, dport: 443, ttl: 250, window: 1025 }),
    pkt(1, { src: G, dst: D, dport: 443, ttl: 250, window: 1025 }),
    pkt(5000, { src: G, dst: D, dport: 443, ttl: 64, window: 1025 }),
    pkt(5001, { src: G, dst: D, dport: 443, ttl: 64, window: 1025 }),
  ];
  const evs = (await events(capture(pk), { timeout: 600 })).map(json);
  deepEqual(evs.map((e) => e.Tags), [{ spoofed: 2, erratic: 2 }, {}]);
});

Deno.test("IPv6 events count tags too", async () => {
  const src = Uint8Array.from([0x20, 1, 0xd, 0xb8, ...new Array(11).fill(0), 1]); // 2001:db8::1
  const dst = Uint8Array.from([0x2a, 0, ...new Array(13).fill(0), 2]);
  const frames = [64, 250, 64].map((ttl, k) => ({
    sec: 1603296000 + k,
    nsec: 0,
    data: ethernet(ipv6Packet({ src, dst, proto: 6, dport: 443, flags: 0x02, ttl, window: 1025 })),
  }));
  const evs = (await events(pcapFile(frames, { linkType: 1 }))).map(json);
  deepEqual(evs.map((e) => e.Tags), [{ spoofed: 1, erratic: 1, unroutable: 3 }]);
});

Deno.test("--exclude-tags drops the tagged packets before they join an event", async () => {
  const pk = [
    pkt(0, { src: G, dst: D, dport: 443, ttl: 250, window: 1025 }),
    pkt(1, { src: G, dst: D + 1, dport: 443, ttl: 64, window: 1025 }),
    pkt(2, { src: S, dst: D + 2, dport: 443, ttl: 64, window: 1025 }),
    pkt(3, { src: G, dst: D + 3, dport: 23, ttl: 64, window: 1025 }),
  ];
  const agg = new EventAggregator({ excludeTags: Tag.spoofed | Tag.unroutable });
  const evs = byKey((await events(capture(pk), {}, agg)).map(json));
  deepEqual(evs.map((e) => [e.SourceIP, e.Port, e.Packets, e.Tags]), [
    ["1.2.3.4", 23, 1, { erratic: 1 }],
    ["1.2.3.4", 443, 1, {}],
  ]);
  equal(agg.stats.excludedByTags, 2);
  equal(agg.stats.ipPackets, 2);
  // Without the option nothing is dropped.
  const all = new EventAggregator();
  for await (
    const b of ReadableStream.from([capture(pk)]).pipeThrough(new PcapDecoderStream())
  ) all.add(b);
  equal(all.stats.excludedByTags, 0);
  equal(all.stats.ipPackets, 4);
});

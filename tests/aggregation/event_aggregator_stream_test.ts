import { deepEqual, equal } from "node:assert/strict";
import { PcapDecoderStream } from "../../src/capture/pcap_decoder_stream.ts";
import { EventAggregator } from "../../src/aggregation/event_aggregator.ts";
import { EventAggregatorStream } from "../../src/aggregation/event_aggregator_stream.ts";
import { capture, pkt } from "./_events_helpers.ts";

const D = 0x0a000001;

Deno.test("end of input: open events leave in chunks of 1,024, each made once the one before was taken", async () => {
  const pk = [];
  for (let i = 0; i < 2500; i++) {
    pk.push(pkt(i * 0.01, { src: 0x0b000000 + i * 3, dst: 0x0a000001 }));
  }
  const agg = new EventAggregator({ timeout: 600 });
  const chunks = ReadableStream.from([capture(pk)])
    .pipeThrough(new PcapDecoderStream())
    .pipeThrough(new EventAggregatorStream(agg));
  const sizes: number[] = [];
  const endedWhenTaken: number[] = [];
  for await (const c of chunks) {
    equal(c.open, true);
    sizes.push(c.events.length);
    endedWhenTaken.push(agg.openCount);
    await new Promise((r) => setTimeout(r, 5)); // a slow consumer
  }
  deepEqual(sizes, [1024, 1024, 452]);
  // Each chunk is made only once the one before was taken, and the tables empty only after
  // the last was taken: had the stream made them all at once, the counts would be 0 already.
  deepEqual(endedWhenTaken, [2500, 2500, 2500]);
  equal(agg.openCount, 0);
});

// A at 0 s, B at 400 s (a sweep then: A idle 400 s, not > 624), C at 700 s (700 − 400 ≤ 312: no
// sweep). At the end A has been idle 700 s: no later packet could continue it, so it is finished.
const IDLE_AT_END = capture([
  pkt(0, { src: 0x0b000001, dst: 0x0a000001 }),
  pkt(400, { src: 0x0b000002, dst: 0x0a000001 }),
  pkt(700, { src: 0x0b000003, dst: 0x0a000001 }),
]);

Deno.test("end of input: a last sweep ends the idle events as finished; the rest stay open", async () => {
  for (const keepOpen of [false, true]) {
    const agg = new EventAggregator();
    const chunks = ReadableStream.from([IDLE_AT_END])
      .pipeThrough(new PcapDecoderStream())
      .pipeThrough(new EventAggregatorStream(agg, { keepOpen }));
    const got: [boolean, number[]][] = [];
    for await (const c of chunks) got.push([c.open, c.events.map((e) => e.src & 0xff)]);
    deepEqual(got, [[false, [1]], [true, [2, 3]]], `keepOpen ${keepOpen}`);
    equal(agg.openCount, keepOpen ? 2 : 0);
  }
});

Deno.test("a sweep ending many events hands them out in chunks, each made once the one before was taken", async () => {
  // 10,000 one-packet sources at t < 10 s, then one packet at t = 400 s: its sweep (timeout 600,
  // so at the first packet more than 300 s after the last one) finds none idle; the packet at
  // t = 750 s sweeps all 10,000 (idle > 600 s) in the middle of the stream.
  const pk = [];
  for (let i = 0; i < 10000; i++) pk.push(pkt(i * 0.001, { src: 0x0b000000 + i * 3, dst: D }));
  pk.push(pkt(400, { src: 0x0c000001, dst: D }), pkt(750, { src: 0x0c000002, dst: D }));
  const agg = new EventAggregator({ timeout: 600 });
  const chunks = ReadableStream.from([capture(pk)])
    .pipeThrough(new PcapDecoderStream())
    .pipeThrough(new EventAggregatorStream(agg));
  const got: [boolean, number, number][] = []; // open, size, events open when taken
  const keys: number[] = [];
  for await (const c of chunks) {
    got.push([c.open, c.events.length, agg.openCount]);
    for (const e of c.events) keys.push(e.src);
    await new Promise((r) => setTimeout(r, 5)); // a slow consumer
  }
  // Swept: 4,096 + 4,096 + 1,808, made before the packet at 750 s is added, the tables emptied
  // of them only after the last was taken (had the stream made them all at once, the count
  // would have dropped already); then the two open ones.
  deepEqual(got, [
    [false, 4096, 10001],
    [false, 4096, 10001],
    [false, 1808, 10001],
    [true, 2, 2],
  ]);
  deepEqual(keys.slice(0, 10000), [...keys.slice(0, 10000)].sort((a, b) => a - b));
  equal(agg.stats.packets, 10002);
  equal(agg.stats.eventsEnded, 10002);
});

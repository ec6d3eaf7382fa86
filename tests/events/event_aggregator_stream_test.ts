import { deepEqual, equal } from "node:assert/strict";
import { PcapDecoderStream } from "../../src/capture/pcap_decoder_stream.ts";
import { EventAggregator } from "../../src/events/event_aggregator.ts";
import { EventAggregatorStream } from "../../src/events/event_aggregator_stream.ts";
import { capture, pkt } from "./_events_helpers.ts";

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

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

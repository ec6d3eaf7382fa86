// Builds captures with known answers and runs them through the aggregator.

import { PcapDecoderStream } from "../../src/capture/pcap_decoder_stream.ts";
import type { DarknetEvent } from "../../src/model/darknet_event.ts";
import {
  EventAggregator,
  type EventAggregatorOptions,
} from "../../src/aggregation/event_aggregator.ts";
import { ethernet, ipv4Packet, type PacketSpec } from "../../src/synth/frames.ts";
import { pcapFile, type WritePacket } from "../../src/synth/pcap_writer.ts";

export const T0 = 1603296000; // 2020-10-21T16:00:00Z

/** A packet at T0 + `sec` seconds (fractional allowed, µs precision kept as ns). */
export function pkt(
  sec: number,
  spec: Partial<PacketSpec> & { src: number; dst: number },
): WritePacket {
  const whole = Math.floor(sec);
  const nsec = Math.round((sec - whole) * 1e6) * 1000;
  return {
    sec: T0 + whole,
    nsec,
    data: ethernet(ipv4Packet({ proto: 6, flags: 0x02, dport: 23, ...spec })),
  };
}

/** Capture bytes (classic pcap, nanosecond resolution so sub-µs tests are exact). */
export function capture(packets: WritePacket[]): Uint8Array {
  return pcapFile(packets, { linkType: 1, nanosecond: true });
}

/** Ended events then end-of-input events, as the CLI would write them. */
export async function events(
  bytes: Uint8Array,
  o: EventAggregatorOptions = {},
  agg = new EventAggregator(o),
): Promise<DarknetEvent[]> {
  const out: DarknetEvent[] = [];
  const s = ReadableStream.from([bytes]).pipeThrough(new PcapDecoderStream());
  for await (const b of s) out.push(...agg.add(b));
  out.push(...agg.sweepIdle(), ...agg.openEvents());
  return out;
}

// The attribution's per-event state merges exactly: an event's packets split in two at every
// place, each half aggregated on its own, the halves merged (attrMerge) — the same counters,
// sequence state, IP ID pairs, signature, fingerprint bits and traffic-tag counts as one pass.

import { deepEqual, ok } from "node:assert/strict";
import { capture, pkt } from "./_events_helpers.ts";
import { EventAggregator } from "../../src/aggregation/event_aggregator.ts";
import { PcapDecoderStream } from "../../src/capture/pcap_decoder_stream.ts";
import {
  ATTR,
  attrMerge,
  attrOf,
  attrSaved,
  SEQ_STATE,
} from "../../src/aggregation/_attribution.ts";
import { FP, IPID_EQUAL, IPID_STEP, ROW_U32 } from "../../src/aggregation/_event_table.ts";
import type { WritePacket } from "../../src/synth/pcap_writer.ts";
import { xorshift } from "../_helpers.ts";

const S = 0xc6336401;
const D = 0x0a4d0000;
const MSS = [2, 4, 5, 0xb4];

async function open(packets: WritePacket[]) {
  const agg = new EventAggregator({ timeout: 3600 });
  for await (
    const b of ReadableStream.from([capture(packets)]).pipeThrough(new PcapDecoderStream())
  ) {
    agg.add(b);
  }
  const t = agg._internals.v4;
  const e = t.keys.find2(S, (11 << 16) | 23);
  ok(e >= 0, "a full event");
  return { t, e, packets: packets.length };
}

Deno.test("the attribution of two halves merged equals one pass, split anywhere", async () => {
  const r = xorshift(11);
  for (let round = 0; round < 6; round++) {
    const n = 12;
    const pk: WritePacket[] = [];
    let id = r(65536);
    for (let k = 0; k < n; k++) {
      const dst = D + 1 + r(4); // repeats: a retransmission now and then
      const kind = r(4);
      id = r(3) === 0 ? id : r(2) === 0 ? (id + 1 + r(3)) & 0xffff : r(65536);
      const seq = kind === 0 ? 0x1234 : r(2 ** 32) >>> 0;
      pk.push(pkt(k, {
        src: S,
        dst,
        seq,
        id: kind === 1 ? (dst ^ 23 ^ seq) & 0xffff : id,
        window: kind === 0 ? 1024 : 65535,
        options: kind === 0 ? MSS : k === 0 ? [...MSS, 1, 3, 3, 8, 1, 1, 4, 2] : [],
        // Traffic tags: all alike in odd rounds, mixed (TTL ≥ 200 is spoofed) in even ones.
        ttl: round % 2 === 0 && r(3) === 0 ? 250 : 60,
      }));
    }
    const all = await open(pk);
    const want = state(all.t, all.e, all.packets);
    for (let cut = 2; cut <= n - 2; cut++) {
      const a = await open(pk.slice(0, cut));
      const b = await open(pk.slice(cut));
      attrMerge(
        a.t.rowU,
        a.e * ROW_U32,
        a.t.attr,
        a.e * ATTR,
        a.packets,
        a.t.seq,
        a.e,
        b.t.rowU,
        b.e * ROW_U32,
        b.t.attr,
        b.e * ATTR,
        b.packets,
        b.t.seq,
        b.e,
      );
      deepEqual(state(a.t, a.e, n), want, `round ${round}, cut ${cut}`);
    }
  }
});

// Everything the attribution keeps of entry e, as shown and as stored.
function state(
  t: { rowU: Uint32Array; attr: Uint32Array; v6: boolean; seq: Map<number, Uint32Array> },
  e: number,
  n: number,
) {
  const u = e * ROW_U32;
  const saved = new Uint32Array(ATTR + SEQ_STATE);
  attrSaved(t.rowU, u, t.attr, e * ATTR, t.seq, e, saved);
  return {
    shown: attrOf(t.rowU, u, t.attr, e * ATTR, t.v6, n),
    words: Array.from(saved), // as a state file keeps them: the sequence state too
    row: [t.rowU[u + FP], t.rowU[u + IPID_EQUAL], t.rowU[u + IPID_STEP]],
  };
}

// Bottom-k samples: each event keeps the packets of lowest rank (a seeded hash of the packet,
// _sampler.ts), in packet order — checked against the rule computed plainly here, for IPv4 and
// IPv6, one-packet events that grow, and every number of slots; and the rule keeps each packet
// with probability S/n.

import { deepEqual, equal, ok } from "node:assert/strict";
import { capture, events, pkt } from "./_events_helpers.ts";
import { eventSeed4, eventSeed6, packetRank } from "../../src/aggregation/_sampler.ts";
import { hashDest6 } from "../../src/aggregation/event_aggregator.ts";
import { ethernet, ipv6Packet } from "../../src/synth/frames.ts";
import { pcapFile, type WritePacket } from "../../src/synth/pcap_writer.ts";
import { xorshift } from "../_helpers.ts";

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

// The S lowest (rank, arrival) of the packets, in arrival order.
function bottomK(ranks: number[], frames: Uint8Array[], S: number): string[] {
  const order = ranks.map((r, i) => [r, i]).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  return order.slice(0, S).map((x) => x[1]).sort((a, b) => a - b).map((i) => hex(frames[i]));
}

Deno.test("IPv4: the samples are the S packets of lowest rank, in packet order", async () => {
  const r = xorshift(5);
  const src = 0xc6336401;
  for (const S of [1, 2, 3, 5]) {
    const pk: WritePacket[] = [];
    for (let k = 0; k < 40; k++) {
      // Some packets alike in time and destination (lengths differ), some duplicates.
      pk.push(pkt(k * 0.5 + (k % 7 === 0 ? 0 : r(1000) / 1e6), {
        src,
        dst: 0x0a000000 + r(8),
        payload: new Uint8Array(k % 3),
      }));
    }
    pk.push(pk[10]); // an exact duplicate: a tie, the earlier one wins
    const seed = 7;
    const [e] = await events(capture(pk), { samples: S, seed, timeout: 3600 });
    equal(e.packets, pk.length);
    const es = eventSeed4(seed, src, (11 << 16) | 23);
    const ranks = pk.map((p) => {
      const dst = new DataView(p.data.buffer, p.data.byteOffset).getUint32(14 + 16);
      return packetRank(es, p.sec, p.nsec, dst, p.data.length);
    });
    deepEqual(e.samples!.map(hex), bottomK(ranks, pk.map((p) => p.data), S), `S=${S}`);
  }
});

Deno.test("IPv6: the same rule, the destination hashed from its four words", async () => {
  const src = Uint8Array.from({ length: 16 }, (_, i) => (i === 0 ? 0x20 : i === 1 ? 0x01 : i));
  const r = xorshift(9);
  const pk: WritePacket[] = [];
  for (let k = 0; k < 25; k++) {
    const dst = Uint8Array.from({ length: 16 }, (_, i) => (i < 2 ? 0x20 : i === 15 ? r(50) : i));
    pk.push({
      sec: 1603296000 + k,
      nsec: r(1e9),
      data: ethernet(ipv6Packet({ src, dst, proto: 6, flags: 0x02, dport: 443 })),
    });
  }
  const [e] = await events(pcapFile(pk, { linkType: 1, nanosecond: true }), {
    samples: 3,
    seed: 3,
    timeout: 3600,
  });
  const dv = new DataView(src.buffer);
  const es = eventSeed6(
    3,
    dv.getUint32(0),
    dv.getUint32(4),
    dv.getUint32(8),
    dv.getUint32(12),
    (11 << 16) | 443,
  );
  const ranks = pk.map((p) => {
    const d = new DataView(p.data.buffer, p.data.byteOffset + 14 + 24);
    const h = hashDest6(d.getUint32(0), d.getUint32(4), d.getUint32(8), d.getUint32(12));
    return packetRank(es, p.sec, p.nsec, h, p.data.length);
  });
  deepEqual(e.samples!.map(hex), bottomK(ranks, pk.map((p) => p.data), 3));
});

Deno.test("each packet is kept with probability S/n (chi-square over positions)", () => {
  for (const [n, S] of [[60, 3], [200, 1], [50, 10]]) {
    const runs = 20000;
    const count = new Array(n).fill(0);
    for (let run = 1; run <= runs; run++) {
      const es = eventSeed4(1, 0x0a000000 + run, (11 << 16) | 23);
      const ranks = Array.from(
        { length: n },
        (_, k) => packetRank(es, 1603296000 + k, 0, 0x0a0b0c0d, 60),
      );
      const kept = ranks.map((x, k) => [x, k]).sort((a, b) => a[0] - b[0] || a[1] - b[1])
        .slice(0, S);
      for (const [, k] of kept) count[k]++;
    }
    const expected = (runs * S) / n;
    let chi = 0;
    for (let k = 0; k < n; k++) chi += (count[k] - expected) ** 2 / expected;
    // n − 1 degrees of freedom; the 99.9th percentile is below 1.6 × (n − 1) + 25 for these n.
    ok(chi < 1.6 * (n - 1) + 25, `n=${n} S=${S}: chi-square ${chi.toFixed(1)}`);
  }
});

Deno.test("a tie in rank goes to the earlier packet, also when a lower rank evicts one of them", async () => {
  const src = 0xc6336401;
  const es = eventSeed4(1, src, (11 << 16) | 23);
  // A and B: the same time, destination and length (ranks equal), different sequence numbers.
  const a = pkt(0, { src, dst: 0x0a000001, seq: 1 });
  const b = pkt(0, { src, dst: 0x0a000001, seq: 2 });
  const rank = (p: WritePacket) =>
    packetRank(es, p.sec, p.nsec, new DataView(p.data.buffer).getUint32(30), p.data.length);
  equal(rank(a), rank(b));
  // C: a later packet of lower rank.
  let c = pkt(1, { src, dst: 0x0a000002 });
  for (let k = 2; rank(c) >= rank(a); k++) c = pkt(k, { src, dst: 0x0a000002 });
  const [e] = await events(capture([a, b, c]), { samples: 2, timeout: 3600 });
  deepEqual(e.samples!.map(hex), [hex(a.data), hex(c.data)]);
});

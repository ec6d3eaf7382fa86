import { deepEqual, equal, ok, throws } from "node:assert/strict";
import { DataError } from "../../src/errors.ts";
import { captureBatches } from "../../src/capture/open_capture.ts";
import { formatTime, PacketStats } from "../../src/stats/packet_stats.ts";
import { xorshift } from "../_helpers.ts";

const files = [
  "testdata/pcap-formats/libtrace/vlan.pcap",
  "testdata/pcap-formats/PcapPlusPlus/Pcap++Test__PcapExamples__sll.pcap",
  "testdata/pcap-formats/PcapPlusPlus/Packet++Test__PacketExamples__ipv6_options.pcap",
];

Deno.test("merging per-file aggregators equals one aggregator over all files", async () => {
  const all = new PacketStats();
  const merged = new PacketStats();
  for (const f of files) {
    const one = new PacketStats();
    for await (const b of await captureBatches([f])) {
      all.add(b);
      one.add(b);
    }
    merged.merge(one);
  }
  deepEqual(merged.summary(20), all.summary(20));
  const s = all.summary(3);
  equal(s.packets, 395 + 518 + 6);
  equal(s.topSources.length, 3);
  equal(s.traffic.reduce((n, r) => n + r.packets, 0), s.ipPackets);
});

Deno.test("formatTime: RFC 3339 with nanoseconds, beyond Date's range too", () => {
  equal(formatTime(1603296000, 123456789), "2020-10-21T16:00:00.123456789Z");
  equal(formatTime(951782400, 0), "2000-02-29T00:00:00.000000000Z");
  equal(formatTime(0, 1), "1970-01-01T00:00:00.000000001Z");
  equal(formatTime(4294967295, 0), "2106-02-07T06:28:15.000000000Z");
});

Deno.test("formatTime agrees with Date over random times, with its minute cache hit and missed", () => {
  const rnd = xorshift(11);
  for (let i = 0; i < 20000; i++) {
    // Runs of nearby times (cache hits), jumps anywhere in 1970–2106 and before 1970.
    const sec = i % 7 === 0 ? rnd(2 ** 32) - (i % 3 === 0 ? 2 ** 31 : 0) : 1603296000 + rnd(7200);
    const nsec = rnd(1e9);
    const iso = new Date(sec * 1000).toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ
    equal(formatTime(sec, nsec), `${iso.slice(0, 19)}.${String(nsec).padStart(9, "0")}Z`);
  }
});

Deno.test("save and load: per-file statistics saved, loaded and merged equal one pass; damaged bytes refused with one line", async () => {
  const all = new PacketStats();
  const merged = new PacketStats();
  const saved: Uint8Array[] = [];
  for (const f of [...files, "testdata/demo/scan.pcap.gz"]) {
    const one = new PacketStats();
    for await (const b of await captureBatches([f])) {
      all.add(b);
      one.add(b);
    }
    const bytes = one.save();
    saved.push(bytes);
    const back = new PacketStats();
    back.load(bytes, f);
    deepEqual(back.summary(50), one.summary(50), f);
    deepEqual(back.save(), bytes, f); // loading keeps everything saving wrote
    merged.merge(back);
  }
  deepEqual(merged.summary(50), all.summary(50));
  const empty = new PacketStats();
  const e2 = new PacketStats();
  e2.load(empty.save(), "empty");
  deepEqual(e2.summary(), empty.summary());
  // Damaged: cut short, a byte more, a count made fractional, a source given twice.
  const b = saved[3];
  const fails = (bytes: Uint8Array, re: RegExp) =>
    throws(() => new PacketStats().load(bytes, "x.bin"), (e: Error) => {
      ok(e instanceof DataError && re.test(e.message) && e.message.startsWith("x.bin"), e.message);
      return true;
    });
  fails(b.subarray(0, b.length - 3), /ends early|beyond the data/);
  const more = new Uint8Array(b.length + 1);
  more.set(b);
  fails(more, /left over/);
  const frac = b.slice();
  const hl = new DataView(frac.buffer).getUint32(0, true);
  new DataView(frac.buffer).setFloat64(4 + hl, 0.5, true); // the first traffic count
  fails(frac, /not whole/);
  fails(Uint8Array.of(1, 0, 0, 0, 0x7b), /not JSON/);
});

Deno.test("top sources and ports: the first `top` of the whole ordered list, ties at the cut by address and port", async () => {
  const stats = new PacketStats();
  for (const f of [...files, "testdata/demo/scan.pcap.gz"]) {
    for await (const b of await captureBatches([f])) stats.add(b);
  }
  const all = stats.summary(1e9);
  ok(all.topSources.length > 100 && all.topPorts.length > 20);
  // Ties: many sources share a packet count (a cut falls inside a run of equal counts).
  const counts = all.topSources.map((s) => s.packets);
  ok(counts.some((c, i) => i > 0 && c === counts[i - 1]));
  for (const top of [0, 1, 2, 3, 7, 10, 50, 500]) {
    const s = stats.summary(top);
    deepEqual(s.topSources, all.topSources.slice(0, top), `top ${top}`);
    deepEqual(s.topPorts, all.topPorts.slice(0, top), `top ${top}`);
  }
});

Deno.test("tags and rules counted per tag word stay exact with more distinct words than the word slots", async () => {
  const { TAGS, TAG_RULES } = await import("../../src/tags/traffic_tags.ts");
  const rnd = xorshift(17);
  const s = new PacketStats();
  const tagPk = new Array(TAGS.length).fill(0);
  const tagBy = new Array(TAGS.length).fill(0);
  const rulePk = new Array(TAG_RULES.length).fill(0);
  let batches = 0;
  for await (const b of await captureBatches(["testdata/demo/scan.pcap.gz"])) {
    batches++;
    // Words of every shape: none, few repeated, hundreds of distinct ones (slots collide).
    for (let i = 0; i < b.length; i++) {
      const w = rnd(3) === 0 ? 0 : rnd(2) === 0 ? 1 + rnd(4) : (rnd(1 << 24) << 4) | rnd(16);
      b.tags[i] = w;
      if (b.ipVersion[i] === 0 || w === 0) continue;
      for (let t = 0; t < TAGS.length; t++) {
        if ((w >>> t) & 1) (tagPk[t]++, tagBy[t] += b.capLen[i]);
      }
      for (let k = 0; k < TAG_RULES.length; k++) if ((w >>> (4 + k)) & 1) rulePk[k]++;
    }
    b.trafficTagged = true;
    s.add(b);
  }
  ok(batches > 0);
  const r = s.result();
  deepEqual(r.tags.map((x) => [x.packets, x.bytes]), tagPk.map((p, t) => [p, tagBy[t]]));
  deepEqual(
    r.tagRules.map((x) => [x.name, x.packets]),
    TAG_RULES.flatMap((rule, k) => rulePk[k] > 0 ? [[rule.name, rulePk[k]]] : []),
  );
});

// Random corruption of real captures (byte flips, truncation, length-field overwrites): every
// mutated file must decode or fail with a DataError — never another exception, a hang, or an
// allocation sized by a corrupted length. Deterministic (seeded), bounded in count and time.

import { ok } from "node:assert/strict";
import { gzipSync } from "node:zlib";
import { DataError } from "../../src/errors.ts";
import { decode } from "../_helpers.ts";

const SEEDS = [
  "testdata/pcap-formats/libtrace/100_packets.pcap",
  "testdata/pcap-formats/libtrace/100_packets.pcapng",
  "testdata/pcap-formats/PcapPlusPlus/Pcap++Test__PcapExamples__many_interfaces-1.pcapng",
  "testdata/pcap-formats/PcapPlusPlus/Pcap++Test__PcapExamples__sll.pcap",
  "testdata/pcap-formats/pcapng-test-generator/output_be/difficult/test202.pcapng",
];

// What this bounds is a hang or a runaway allocation, not speed: each mutation takes ~5 ms, a
// loaded 2-core machine has taken 100× that, and a hang or a length-sized allocation never ends
// or takes gigabytes.
const HANG_MS = 30_000;
const MAX_RSS = 2e9;

Deno.test("500 mutated captures: clean result or DataError, never a hang or a huge allocation", async () => {
  let s = 2026;
  const rnd = (n: number) => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) % n);
  let errors = 0;
  for (let k = 0; k < 500; k++) {
    const base = Deno.readFileSync(SEEDS[k % SEEDS.length]);
    const m = base.slice();
    const kind = rnd(4);
    if (kind === 0) { for (let i = 0; i < 1 + rnd(8); i++) m[rnd(m.length)] ^= 1 << rnd(8); }
    else if (kind === 1) {
      // Overwrite a 32-bit word at a random aligned offset with an extreme value.
      const o = rnd(m.length - 4) & ~3;
      new DataView(m.buffer).setUint32(
        o,
        [0xffffffff, 0x7fffffff, 0x80000000, 0, 12][rnd(5)],
        rnd(2) === 0,
      );
    } else if (kind === 2) {
      const cut = rnd(m.length);
      m.fill(0, cut);
    }
    const input = kind === 3 ? new Uint8Array(gzipSync(m)).subarray(0, 10 + rnd(200)) : m;
    const t0 = performance.now();
    const r = await decode(input, 1 + rnd(5000), `mut-${k}`);
    ok(performance.now() - t0 < HANG_MS, `mutation ${k} took too long`);
    ok(Deno.memoryUsage().rss < MAX_RSS, `mutation ${k}: ${Deno.memoryUsage().rss} bytes resident`);
    if (r.error) {
      ok(r.error instanceof DataError, `mutation ${k} (kind ${kind}): ${r.error}`);
      errors++;
    }
  }
  ok(errors > 50 && errors < 500, `${errors} of 500 mutations failed`);
});

// Per-traffic-code packet counts on real captures agree with tshark's own dissection.
// testdata/expected/tshark_traffic.txt was made with tshark 4.0.17 by
// `python3 scripts/tshark_traffic.py $(cat testdata/expected/tshark_files.txt)`, which reads
// each frame's first IP layer (no reassembly) and applies the rules of src/decode/traffic.ts.

import { deepEqual, ok } from "node:assert/strict";
import { captureBatches } from "../../src/capture/open_capture.ts";

const expected = Deno.readTextFileSync("testdata/expected/tshark_traffic.txt").trim().split("\n");

Deno.test(`traffic counts agree with tshark on ${expected.length} Ethernet/SLL/RAW/NULL captures`, async () => {
  ok(expected.length >= 20);
  for (const line of expected) {
    const [name, counts, nonip] = line.split(" ");
    const want = counts.split(",").map(Number);
    const got = new Array(18).fill(0);
    let non = 0;
    for await (const b of await captureBatches([`testdata/${name}`])) {
      for (let i = 0; i < b.length; i++) {
        if (b.ipVersion[i] === 0) non++;
        else got[b.traffic[i]]++;
      }
    }
    deepEqual(got, want, name);
    deepEqual(`nonip=${non}`, nonip, name);
  }
});

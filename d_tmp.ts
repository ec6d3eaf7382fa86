import { captureBatches } from "./src/capture/open_capture.ts";
import { BatchPool } from "./src/capture/batch_pool.ts";
const f = "bench/.cache/scenario-5000000-1.pcap";
for (let r = 0; r < 3; r++) {
  const t0 = performance.now(); let n = 0;
  for await (const b of await captureBatches([f], { pool: new BatchPool() })) { n += b.length; b.release?.(); }
  console.log("pool", (5e6 / (performance.now() - t0) / 1e3).toFixed(2), "M/s");
}

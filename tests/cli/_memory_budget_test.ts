import { equal, match, ok } from "node:assert/strict";
import { MemoryBudget } from "../../src/cli/_memory_budget.ts";

// Readings are counted through Deno.memoryUsage, restored afterwards.
function withReadings(rss: () => number, f: (reads: () => number) => void): void {
  const real = Deno.memoryUsage;
  let n = 0;
  Deno.memoryUsage = () => {
    n++;
    return { ...real(), rss: rss(), heapUsed: 10 * 2 ** 20 };
  };
  try {
    f(() => n);
  } finally {
    Deno.memoryUsage = real;
  }
}

Deno.test("memory budget: read after every batch near the limit, about once a second far from it", async () => {
  let rss = 100 * 2 ** 20;
  const far = new MemoryBudget(64 * 2 ** 30);
  let farReads = 0;
  const start = performance.now();
  withReadings(() => rss, (reads) => {
    for (let i = 0; i < 1000; i++) equal(far.check(), undefined);
    farReads += reads();
  });
  await new Promise((r) => setTimeout(r, 60));
  withReadings(() => rss, (reads) => {
    equal(far.check(), undefined);
    farReads += reads();
  });
  // 64 GiB of room: the next reading a second later (twice only if this machine stalled that long)
  equal(farReads, performance.now() - start < 1000 ? 1 : 2);
  // 30 MiB of room at 1 GiB/s: read again after ~29 ms, and the limit is seen then.
  const near = new MemoryBudget(130 * 2 ** 20);
  let stopped: string | undefined;
  await new Promise<void>((done) => {
    withReadings(() => rss, (reads) => {
      equal(near.check(), undefined);
      equal(near.check(), undefined);
      equal(reads(), 1);
    });
    rss = 140 * 2 ** 20;
    setTimeout(() => {
      withReadings(() => rss, (reads) => {
        stopped = near.check();
        equal(reads(), 1);
      });
      done();
    }, 40);
  });
  ok(stopped);
  match(stopped!, /^memory budget reached: 140 MiB resident, --max-memory 130 MiB$/);
});

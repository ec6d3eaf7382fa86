// mod.ts as a library user gets it: imported from outside a checkout (no deno.json, no lock
// file), its dependencies resolve and a stage works.

import { equal } from "node:assert/strict";
import { tempDir } from "./_helpers.ts";

Deno.test("mod.ts imports and runs from outside the checkout, without this project's deno.json", async () => {
  const root = new URL("../", import.meta.url);
  const dir = tempDir("mod-outside-");
  const capture = new URL("testdata/demo/scan.pcap.gz", root).pathname;
  await Deno.writeTextFile(
    `${dir}/use.ts`,
    `import { captureBatches, EventAggregator, MaxMindDb } from "${new URL("mod.ts", root)}";
const agg = new EventAggregator({ uniques: 100 });
let n = 0;
for await (const b of await captureBatches([${JSON.stringify(capture)}])) n += agg.add(b).length;
n += agg.openEvents().length;
console.log(n, typeof MaxMindDb);
`,
  );
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", "--no-config", "--no-lock", "--allow-read", `${dir}/use.ts`],
    cwd: dir,
    env: { NO_COLOR: "1" },
  }).output();
  const td = new TextDecoder();
  equal(out.code, 0, td.decode(out.stderr));
  equal(td.decode(out.stdout).trim(), "5 function"); // the five scans of mod.ts's own example
  await Deno.remove(dir, { recursive: true });
});

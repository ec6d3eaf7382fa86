import { equal, match, ok } from "node:assert/strict";
import { copySource, insertAfter, ROOT, runTool } from "../_source_copy.ts";

Deno.test("a toy output format is one new file and two lines in formats.ts; --format, --help and rotation follow", async () => {
  const dir = await copySource("toy-format-");
  await Deno.writeTextFile(
    `${dir}/src/outputs/tsv.ts`,
    `import type { EventEncoder, EventFormat } from "./event_encoder.ts";
const HEAD = "SourceIP\\tPackets\\n";
export const tsv: EventFormat = {
  name: "tsv",
  description: "source and packets, tab-separated",
  create: (): EventEncoder => ({
    open: (out) => out.ascii(HEAD),
    add: (out, e) => out.ascii(\`\${e.sourceIP}\\t\${e.packets}\\n\`),
    closing: () => new Uint8Array(0),
  }),
};
`,
  );
  const reg = "src/outputs/formats.ts";
  equal(
    await insertAfter(dir, reg, 'import { ndjson } from "./ndjson.ts";', [
      'import { tsv } from "./tsv.ts";',
    ]),
    1,
  );
  equal(await insertAfter(dir, reg, "  ndjson,", ["  tsv,"]), 1);

  const pcap = `${ROOT}testdata/demo/scan.pcap.gz`;
  const help = await runTool(dir, "parse", ["--help"]);
  match(help.stdout, /tsv: source and packets, tab-separated/);
  const json = `${dir}/events.json`;
  const tsvOut = `${dir}/events.tsv`;
  const flags = ["--pcap", pcap, "--samples", "0", "--uniques", "100"];
  equal((await runTool(ROOT, "parse", [...flags, "--eventout", json])).code, 0);
  const r = await runTool(dir, "parse", [...flags, "--eventout", tsvOut, "--format", "tsv"]);
  equal(r.code, 0, r.stderr);
  const events = JSON.parse(await Deno.readTextFile(json)) as {
    SourceIP: string;
    Packets: number;
  }[];
  equal(
    await Deno.readTextFile(tsvOut),
    `SourceIP\tPackets\n${events.map((e) => `${e.SourceIP}\t${e.Packets}\n`).join("")}`,
  );
  ok(events.length === 5);
  // Rotation takes any format too.
  const rot = await runTool(dir, "parse", [
    ...flags,
    "--rotate",
    "600",
    "--outdir",
    `${dir}/rot`,
    "--format",
    "tsv",
  ]);
  equal(rot.code, 0, rot.stderr);
  const files = [...Deno.readDirSync(`${dir}/rot`)].map((e) => e.name).filter((n) =>
    n.startsWith("results_")
  );
  ok(files.length > 0);
  for (const f of files) match(await Deno.readTextFile(`${dir}/rot/${f}`), /^SourceIP\tPackets\n/);
  await Deno.remove(dir, { recursive: true });
});

// Parquet event files read back by pyarrow, an independent reader, and compared value by value
// with the JSON of the same run.

import { deepEqual, equal, match } from "node:assert/strict";
import { denoFlags, ENTRIES } from "../../src/cli/permissions.ts";
import { runCli, tempDir } from "../_helpers.ts";
import { program, testWith } from "../_programs.ts";
import { EventWriter } from "../../src/outputs/event_writer.ts";
import { parquet, PARQUET_ROW_GROUP } from "../../src/outputs/parquet.ts";
import { DarknetEvent } from "../../src/model/darknet_event.ts";
import { generateFlood } from "../../src/synth/flood.ts";

const dir = tempDir("parquet-");
const parse = (args: string[]) => runCli(ENTRIES.parse, args, denoFlags("parse"));
// One of the pyarrow comparison scripts beside this file; its output, after a clean exit.
const python = async (script: string, args: string[]) => {
  const r = await new Deno.Command(program("python3")!, {
    args: [new URL(script, import.meta.url).pathname, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const out = new TextDecoder().decode(r.stdout) + new TextDecoder().decode(r.stderr);
  equal(r.code, 0, out);
  return out;
};
const compare = (pq: string, json: string, groups?: number) =>
  python("./_parquet_compare.py", [pq, json, ...(groups ? [String(groups)] : [])]);
const compareRecords = (pq: string, json: string) =>
  python("./_parquet_records_compare.py", [pq, json]);

// pyarrow is a pip package (.ci/run installs it): outside CI a machine without it skips these.
const pyarrow = program("python3") !== undefined &&
  (await new Deno.Command(program("python3")!, { args: ["-c", "import pyarrow"] }).output())
      .code ===
    0;
const withPyarrow = (name: string, fn: () => Promise<void>) =>
  pyarrow || Deno.env.get("CI") === "true"
    ? testWith(["python3"], name, fn)
    : Deno.test({ name: `${name} (needs pyarrow: pip install pyarrow)`, ignore: true, fn });

withPyarrow(
  "parse --format parquet: pyarrow reads every value the JSON of the same run has",
  async () => {
    const common = [
      "--pcap",
      "testdata/demo/scan.pcap.gz",
      "testdata/real-scanners/scanners.pcap",
      "--samples",
      "2",
      "--geoin",
      "testdata/mmdb/GeoIP2-City-Test.mmdb",
      "--asnin",
      "testdata/mmdb/GeoLite2-ASN-Test.mmdb",
      "--quiet",
    ];
    const a = await parse([...common, "--eventout", `${dir}/ev.parquet`, "--format", "parquet"]);
    equal(a.code, 0, a.stderr);
    const b = await parse([...common, "--eventout", `${dir}/ev.json`]);
    equal(b.code, 0, b.stderr);
    match(await compare(`${dir}/ev.parquet`, `${dir}/ev.json`, 1), /^ok \d+/);
    // Same input and flags, same bytes.
    const c = await parse([...common, "--eventout", `${dir}/ev2.parquet`, "--format", "parquet"]);
    equal(c.code, 0, c.stderr);
    deepEqual(Deno.readFileSync(`${dir}/ev.parquet`), Deno.readFileSync(`${dir}/ev2.parquet`));
  },
);

withPyarrow(
  "more events than a row group: several groups, IPv6 sources, every value read back",
  async () => {
    const n = PARQUET_ROW_GROUP + 5000;
    const cap = `${dir}/flood6.pcap`;
    const f = Deno.openSync(cap, { write: true, create: true, truncate: true });
    generateFlood({ packets: n, ipv6: true, gapMicros: 10 }, (b) => f.writeSync(b));
    f.close();
    const common = ["--pcap", cap, "--samples", "1", "--quiet"];
    equal(
      (await parse([...common, "--eventout", `${dir}/big.parquet`, "--format", "parquet"])).code,
      0,
    );
    equal((await parse([...common, "--eventout", `${dir}/big.ndjson`, "--newdl"])).code, 0);
    match(await compare(`${dir}/big.parquet`, `${dir}/big.ndjson`, 2), new RegExp(`^ok ${n}`));
  },
);

withPyarrow(
  "a Parquet file is complete after every flush (the held-back events and footer rewritten)",
  async () => {
    const path = `${dir}/flushes.parquet`;
    const w = await EventWriter.create(path, { format: parquet });
    const ev = (i: number) => {
      const e = new DarknetEvent();
      e.src = 0x0a000000 + i;
      e.packets = i + 1;
      return e;
    };
    const copies: [string, number][] = [];
    let written = 0;
    for (const n of [3, 4, 0, 5]) {
      for (let i = 0; i < n; i++) w.write(ev(written++));
      w.flush();
      const copy = `${dir}/flush-${copies.length}.parquet`;
      Deno.copyFileSync(path, copy);
      copies.push([copy, written]);
    }
    w.close();
    copies.push([path, written]);
    for (const [copy, count] of copies) {
      const json = `${copy}.json`;
      Deno.writeTextFileSync(
        json,
        JSON.stringify(Array.from({ length: count }, (_, i) => ev(i).toJSON())),
      );
      match(await compare(copy, json), new RegExp(`^ok ${count}`), copy);
    }
  },
);

withPyarrow(
  "--rotate and batch mode with Parquet: Hive partitions (date=/hour=) a dataset reader takes whole",
  async () => {
    const demo = "testdata/demo/scan.pcap.gz";
    const rot = await parse([
      "--pcap",
      demo,
      "--outdir",
      `${dir}/rot`,
      "--rotate",
      "1800",
      "--samples",
      "0",
      "--quiet",
      "--format",
      "parquet",
    ]);
    equal(rot.code, 0, rot.stderr);
    const part = `${dir}/rot/date=2020-10-21/hour=16`;
    deepEqual(Array.from(Deno.readDirSync(part), (e) => e.name).sort(), [
      "ongoing_2020-10-21T16-00_2020-10-21T16-30.parquet",
      "ongoing_2020-10-21T16-30_2020-10-21T17-00.parquet",
      "results_2020-10-21T16-00_2020-10-21T16-30.parquet",
      "results_2020-10-21T16-30_2020-10-21T17-00.parquet",
    ]);
    const json = await parse([
      "--pcap",
      demo,
      "--outdir",
      `${dir}/rotj`,
      "--rotate",
      "1800",
      "--samples",
      "0",
      "--quiet",
    ]);
    equal(json.code, 0, json.stderr);
    // Every results file, Parquet against its JSON twin.
    for (const w of ["2020-10-21T16-00_2020-10-21T16-30", "2020-10-21T16-30_2020-10-21T17-00"]) {
      match(
        await compare(`${part}/results_${w}.parquet`, `${dir}/rotj/results_${w}.json`),
        /^ok \d+/,
      );
    }
    // pyarrow's dataset reads the partitions as columns.
    const r = await new Deno.Command(program("python3")!, {
      args: [
        "-c",
        `import pyarrow.dataset as ds
t = ds.dataset("${dir}/rot", format="parquet", partitioning="hive", exclude_invalid_files=True).to_table(filter=ds.field("hour") == 16)
print(t.num_rows, sorted(set(t.column("date").to_pylist())))`,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    equal(r.code, 0, new TextDecoder().decode(r.stderr));
    const rows = (n: string) =>
      (JSON.parse(Deno.readTextFileSync(`${dir}/rotj/${n}`)) as unknown[]).length;
    const total = Array.from(Deno.readDirSync(`${dir}/rotj`), (e) => e.name)
      .filter((n) => n.endsWith(".json")).reduce((s, n) => s + rows(n), 0);
    equal(new TextDecoder().decode(r.stdout).trim(), `${total} ['2020-10-21']`);
    // Batch mode: the block's partition.
    const hour = `${dir}/hours`;
    Deno.mkdirSync(hour);
    Deno.copyFileSync(demo, `${hour}/2020-10-21.16.pcap.gz`);
    const b = await parse([
      "--from",
      "2020-10-21T16",
      "--to",
      "2020-10-21T17",
      "--input",
      `${hour}/2020-10-21.{hour}.pcap.gz`,
      "--outdir",
      `${dir}/batch`,
      "--samples",
      "0",
      "--quiet",
      "--format",
      "parquet",
      "--sourceout",
      `${dir}/batch-sources`,
    ]);
    equal(b.code, 0, b.stderr);
    deepEqual(
      Array.from(Deno.readDirSync(`${dir}/batch/date=2020-10-21/hour=16`), (e) => e.name).sort(),
      [
        "ongoing_2020-10-21T16_2020-10-21T17.parquet",
        "results_2020-10-21T16_2020-10-21T17.parquet",
      ],
    );
    deepEqual(Array.from(Deno.readDirSync(`${dir}/batch-sources`), (e) => e.name), [
      "sources_2020-10-21T16_2020-10-21T17.parquet",
    ]);
  },
);

Deno.test("count and timeseries read Parquet event files: the same outputs as from the JSON of the same run", async () => {
  const common = [
    "--pcap",
    "testdata/demo/scan.pcap.gz",
    "testdata/real-scanners/scanners.pcap",
    "--samples",
    "1",
    "--quiet",
  ];
  equal(
    (await parse([...common, "--eventout", `${dir}/r.parquet`, "--format", "parquet"])).code,
    0,
  );
  equal((await parse([...common, "--eventout", `${dir}/r.json`])).code, 0);
  for (const tool of ["count", "timeseries"] as const) {
    const run = (input: string, out: string) =>
      runCli(ENTRIES[tool], [
        input,
        "--outdir",
        out,
        ...(tool === "timeseries" ? ["--bin", "day"] : []),
      ], denoFlags(tool));
    const a = await run(`${dir}/r.parquet`, `${dir}/${tool}-pq`);
    equal(a.code, 0, a.stderr);
    const b = await run(`${dir}/r.json`, `${dir}/${tool}-json`);
    equal(b.code, 0, b.stderr);
    const files = Array.from(Deno.readDirSync(`${dir}/${tool}-json`), (e) => e.name).sort();
    deepEqual(Array.from(Deno.readDirSync(`${dir}/${tool}-pq`), (e) => e.name).sort(), files);
    for (const f of files) {
      equal(
        Deno.readTextFileSync(`${dir}/${tool}-pq/${f}`),
        Deno.readTextFileSync(`${dir}/${tool}-json/${f}`),
        `${tool} ${f}`,
      );
    }
    equal(a.stdout.replace(/-pq/g, ""), b.stdout.replace(/-json/g, ""));
  }
  // A damaged Parquet file: one line naming it (exit 65).
  const bytes = Deno.readFileSync(`${dir}/r.parquet`);
  Deno.writeFileSync(`${dir}/cut.parquet`, bytes.subarray(0, bytes.length - 100));
  const cut = await runCli(
    ENTRIES.count,
    [`${dir}/cut.parquet`, "--outdir", `${dir}/cut`],
    denoFlags("count"),
  );
  equal(cut.code, 65, cut.stderr);
  match(cut.stderr, /^count: .*cut\.parquet: not a readable Parquet file/);
  equal(cut.stderr.trim().split("\n").length, 1);
});

withPyarrow(
  "--dosout and --sourceout with --format parquet: typed columns, every value the JSON has; count reads them",
  async () => {
    const common = [
      "--pcap",
      "testdata/captures-modern/rsdos_synack.pcap",
      "testdata/demo/scan.pcap.gz",
      "--samples",
      "1",
      "--asnin",
      "testdata/mmdb/GeoLite2-ASN-Test.mmdb",
      "--rotate",
      "3600",
      "--quiet",
    ];
    const out = (ext: string, format: string[]) => [
      "--outdir",
      `${dir}/rec-${ext}`,
      "--dosout",
      `${dir}/dos.${ext}`,
      "--sourceout",
      `${dir}/src.${ext}`,
      ...format,
    ];
    const a = await parse([...common, ...out("parquet", ["--format", "parquet"])]);
    equal(a.code, 0, a.stderr);
    const b = await parse([...common, ...out("json", [])]);
    equal(b.code, 0, b.stderr);
    match(
      await compareRecords(`${dir}/dos.parquet`, `${dir}/dos.json`),
      / Packets=int64! .* ASN=int64! .* Lat=double! /,
    );
    // Sources of two years' windows: WindowStart and WindowEnd set.
    const sources = JSON.parse(Deno.readTextFileSync(`${dir}/src.json`)) as {
      WindowStart: string | null;
    }[];
    equal(sources.every((s) => s.WindowStart !== null), true);
    match(
      await compareRecords(`${dir}/src.parquet`, `${dir}/src.json`),
      new RegExp(
        `^ok ${sources.length}\n.*WindowStart=timestamp\\[ns, tz=UTC\\] .* Tools=extension<arrow.json>!`,
      ),
    );
    // count reads the Parquet records as it reads the JSON ones.
    const count = (args: string[]) => runCli(ENTRIES.count, args, denoFlags("count"));
    for (const [flag, name] of [["--dos", "dos"], ["--sources", "src"]]) {
      const fromPq = await count([flag, `${dir}/${name}.parquet`, "--json"]);
      const fromJson = await count([flag, `${dir}/${name}.json`, "--json"]);
      equal(fromPq.code, 0, fromPq.stderr);
      equal(fromPq.stdout, fromJson.stdout);
    }
  },
);

withPyarrow(
  "Parquet records: nulls where a column allows them (an IPv6 victim's EstimatedRate)",
  async () => {
    const { recordFormat } = await import("../../src/outputs/record_format.ts");
    const { DOS_COLUMNS } = await import("../../src/dos/dos_victims.ts");
    const rec = (victim: string, rate: number | null) => ({
      Victim: victim,
      Protocol: "TCP",
      First: "2026-12-06T00:00:00.000000001Z",
      Last: "2026-12-06T00:01:00.5Z",
      Packets: 2 ** 40,
      Bytes: 120,
      UniqueAttackers: 3,
      UniqueAttacker16s: 1,
      UniquePorts: 1,
      UniqueCountsExact: true,
      MaxWindowPackets: 3,
      ObservedRate: 0.05,
      EstimatedRate: rate,
      QuotedMismatches: 0,
      FirstPacket: "AAAA",
    });
    const records = [rec("192.0.2.1", 1e6), rec("2001:db8::7", null)];
    const path = `${dir}/nulls.parquet`;
    const w = await EventWriter.create(path, { format: recordFormat(parquet, DOS_COLUMNS) });
    for (const r of records) w.write(r as never);
    w.close();
    Deno.writeTextFileSync(`${dir}/nulls.json`, JSON.stringify(records));
    const got = await compareRecords(path, `${dir}/nulls.json`);
    match(got, /^ok 2\n/);
    for (
      const col of [
        "Victim=string!",
        "First=timestamp[ns, tz=UTC]!",
        "Packets=int64!",
        "UniqueCountsExact=bool!",
        "ObservedRate=double!",
        "EstimatedRate=double ",
      ]
    ) match(got, new RegExp(`[ \\n]${col.replace(/[[\]]/g, "\\$&")}`));
  },
);

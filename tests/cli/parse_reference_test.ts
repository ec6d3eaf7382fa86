// parse against an independent implementation: tests/cli/_reference_parse.py writes docs/parse.md's
// event rules out plainly in Python (its own pcap reader and classifier, dicts and sets, one
// packet at a time). Every event must match field by field and in order, its samples the very
// frames of lowest rank (the reference lists their SHA-1s).

import { deepEqual, equal, ok } from "node:assert/strict";
import { gunzipSync } from "node:zlib";
import { denoFlags, ENTRIES } from "../../src/cli/permissions.ts";
import { generateScenario } from "../../src/synth/scenario.ts";
import { eventJson } from "../../src/synth/event_json.ts";
import { concat } from "../../src/synth/pcap_writer.ts";
import { runCli, tempDir } from "../_helpers.ts";
import { testWith } from "../_programs.ts";

const dir = tempDir("parse-ref-");
const REFERENCE = new URL("./_reference_parse.py", import.meta.url).pathname;

// A scenario capture; with `shuffle`, every three consecutive records are written in reverse
// order, so packets arrive up to two records late (out of order) all through the capture.
function scenario(name: string, packets: number, seed: number, shuffle = false): string {
  const parts: Uint8Array[] = [];
  generateScenario({ packets, seed, oneOffs: 2000, duration: 1800 }, (b) => parts.push(b.slice()));
  const all = concat(parts);
  if (shuffle) {
    const rec = 76;
    const body = all.slice(24);
    for (let i = 0; i + 3 * rec <= body.length; i += 3 * rec) {
      const a = body.slice(i, i + rec);
      body.copyWithin(i, i + 2 * rec, i + 3 * rec);
      body.set(a, i + 2 * rec);
    }
    all.set(body, 24);
  }
  const path = `${dir}/${name}.pcap`;
  Deno.writeFileSync(path, all);
  return path;
}

async function reference(
  captures: string[],
  flags: string[],
): Promise<Record<string, unknown>[]> {
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command("python3", { args: [REFERENCE, ...captures, ...flags] }).output();
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
    throw new Error("python3 is not installed (apt-get install python3); .ci/run installs it");
  }
  equal(out.code, 0, new TextDecoder().decode(out.stderr));
  return new TextDecoder().decode(out.stdout).split("\n").filter((l) => l).map((l) =>
    JSON.parse(l)
  );
}

async function sha1(bytes: Uint8Array): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-1", bytes as Uint8Array<ArrayBuffer>));
  return Array.from(d, (b) => b.toString(16).padStart(2, "0")).join("");
}

async function agree(
  capture: string | string[],
  flags: string[],
  samples: number,
): Promise<number> {
  const captures = typeof capture === "string" ? [capture] : capture;
  const out = `${dir}/out.json`;
  const r = await runCli(ENTRIES.parse, [
    "--pcap",
    ...captures,
    "--eventout",
    out,
    "--samples",
    String(samples),
    "--quiet",
    ...flags,
  ], denoFlags("parse"));
  equal(r.code, 0, r.stderr);
  const got: Record<string, unknown>[] = JSON.parse(Deno.readTextFileSync(out));
  const want = await reference(captures, [...flags, "--samples", String(samples)]);
  equal(got.length, want.length, `${capture} ${flags.join(" ")}: number of events`);
  for (let i = 0; i < got.length; i++) {
    const { SampleFrames, ...expected } = want[i];
    const s = got[i].Samples as string[];
    // Merit's keys in order, the reference's values, no enrichment (defaults).
    deepEqual(Object.keys(got[i]), Object.keys(eventJson({})));
    deepEqual(
      got[i],
      eventJson({ ...expected, Samples: s }),
      `${capture} ${flags.join(" ")}: event ${i}`,
    );
    equal(s.length, Math.min(samples, got[i].Packets as number), `event ${i}: samples`);
    // The very frames the rule picks (lowest ranks, in packet order).
    const shas: string[] = [];
    for (const b64 of s) shas.push(await sha1(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))));
    deepEqual(shas, SampleFrames, `event ${i}: samples`);
  }
  return got.length;
}

testWith(
  ["python3"],
  "the shipped demo capture: every event as the reference gives it, with two timeouts",
  async () => {
    ok(await agree("testdata/demo/scan.pcap.gz", [], 3) > 1000);
    ok(await agree("testdata/demo/scan.pcap.gz", ["--timeout", "20"], 1) > 1000);
    ok(await agree("testdata/demo/scan.pcap.gz", ["--seed", "9"], 2) > 1000); // other samples
  },
);

testWith(
  ["python3"],
  "real scanners and backscatter, IPv6 included: as the reference gives them",
  async () => {
    ok(await agree("testdata/real-scanners/scanners.pcap", [], 2) > 500);
    // IPv6 rates are packets per second at the telescope: of three IPv6 events one reaches 1 pps.
    equal(await agree("testdata/real-scanners/scanners.pcap", ["--rate", "1"], 0), 1003);
  },
);

testWith(
  ["python3"],
  "a scenario with short timeouts (many gaps and sweeps) and every filter",
  async () => {
    const p = scenario("short", 60000, 5);
    ok(await agree(p, ["--timeout", "7"], 2) > 1000);
    // Each filter cuts: of 17,459 events (no filter) 68 pass --threshold 3, 537 --uniques 2, 22
    // --uniques 2 --rate 20000.
    equal(await agree(p, ["--timeout", "30", "--threshold", "3"], 3), 68);
    equal(await agree(p, ["--timeout", "30", "--uniques", "2"], 1), 537);
    equal(await agree(p, ["--timeout", "30", "--uniques", "2", "--rate", "20000"], 3), 22);
    const small = ["--telescope-size", "65536"]; // 2^32 / 65,536: rates 7.25 times those above
    equal(
      await agree(p, ["--timeout", "30", "--uniques", "2", "--rate", "20000", ...small], 0),
      127,
    );
  },
);

// Classic pcap files with Ethernet frames (the reference reads no other format), by content.
function classicEthernet(root: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of [...Deno.readDirSync(d)].sort((a, b) => a.name < b.name ? -1 : 1)) {
      const p = `${d}/${e.name}`;
      if (e.isDirectory) walk(p);
      else if (e.isFile) {
        let h: Uint8Array = Deno.readFileSync(p);
        if (h[0] === 0x1f && h[1] === 0x8b) h = gunzipSync(h);
        if (h.length < 24) continue;
        const m = new DataView(h.buffer, h.byteOffset, 24);
        const magic = m.getUint32(0, true);
        const le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
        const be = magic === 0xd4c3b2a1 || magic === 0x4d3cb2a1;
        if ((le || be) && m.getUint32(20, le) === 1) out.push(p);
      }
    }
  };
  walk(root);
  return out;
}

testWith(
  ["python3"],
  "every classic Ethernet capture of the format corpus, read as one stream",
  async () => {
    const files = classicEthernet("testdata/pcap-formats");
    ok(files.length >= 60, `${files.length} files`);
    ok(await agree(files, ["--timeout", "60"], 1) > 200);
  },
);

testWith(["python3"], "out-of-order packets all through the capture", async () => {
  const p = scenario("shuffled", 30000, 6, true);
  ok(await agree(p, ["--timeout", "5"], 2) > 1000);
});

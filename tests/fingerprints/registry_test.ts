import { deepEqual, equal, match, ok } from "node:assert/strict";
import { PacketBatch } from "../../src/decode/packet_batch.ts";
import { Traffic } from "../../src/decode/traffic.ts";
import {
  ALL_FINGERPRINTS,
  armedFingerprints,
  matchFingerprints,
} from "../../src/fingerprints/registry.ts";
import { copySource, insertAfter, ROOT, runTool } from "../_source_copy.ts";
import { pcapHeader } from "../../src/synth/pcap_writer.ts";

Deno.test("the composed test gives each rule's bit, for every combination of matches", () => {
  const b = new PacketBatch(8);
  for (let m = 0; m < 8; m++) {
    // Row m matches ZMap if bit 0, Masscan if bit 1, Mirai if bit 2 of m is set. dst ^ seq is 0
    // in its low 16 bits either way, so Masscan's formula asks for IP ID = destination port.
    const [z, ms, mi] = [m & 1, m & 2, m & 4];
    b.dst[m] = 0x0a000000 + m;
    b.tcpSeq[m] = mi ? b.dst[m] : (b.dst[m] ^ 0x10000) >>> 0;
    b.dstPort[m] = z && ms ? 54321 : 80;
    b.ipId[m] = z ? 54321 : ms ? 80 : 7;
    equal(matchFingerprints(b, m), m, `row ${m}`);
  }
  equal(ALL_FINGERPRINTS, 7);
  equal(armedFingerprints(Traffic.TCPSYN, false), 7);
  for (const t of [Traffic.UDP, Traffic.TCPSYNACK, Traffic.ICMPEchoRequest]) {
    equal(armedFingerprints(t, false), 0);
  }
});

Deno.test("a toy fingerprint is one new file and two lines in registry.ts; parse, state files, count and timeseries follow", async () => {
  // A copy of the source with a rule that every TCP SYN matches, added the documented way.
  const dir = await copySource("toy-fingerprint-");
  const root = ROOT;
  await Deno.writeTextFile(
    `${dir}/src/fingerprints/always.ts`,
    `import { Traffic } from "../decode/traffic.ts";
import type { Fingerprint } from "./fingerprint.ts";
export const always: Fingerprint = {
  name: "always",
  label: "Always",
  key: "Always",
  traffic: [Traffic.TCPSYN],
  test: () => 1,
};
`,
  );
  const reg = "src/fingerprints/registry.ts";
  equal(
    await insertAfter(dir, reg, 'import { zmap } from "./zmap.ts";', [
      'import { always } from "./always.ts";',
    ]),
    1,
  );
  equal(await insertAfter(dir, reg, "  mirai,", ["  always,"]), 1);

  const pcap = `${root}testdata/demo/scan.pcap.gz`;
  const run = (cmd: "count" | "timeseries", base: string, args: string[]) =>
    runTool(base, cmd, args);
  const parse = async (base: string, input: string, out: string, more: string[] = []) => {
    const r = await runTool(base, "parse", [
      ...["--pcap", input, "--samples", "0", "--eventout", out],
      ...more,
    ]);
    equal(r.code, 0, r.stderr);
  };
  const plainOut = `${dir}/plain.json`;
  await parse(root, pcap, plainOut);
  const state = `${dir}/toy.state`;
  await parse(dir, pcap, `${dir}/toy.json`, ["--cacheout", state, "--timeout", "100000"]);

  // Every event of the copy: the plain event with "Always" after "Mirai", true exactly for
  // IPv4 TCP SYN events.
  const plain = JSON.parse(await Deno.readTextFile(plainOut)) as Record<string, unknown>[];
  const again = `${dir}/again.json`;
  await parse(dir, pcap, again);
  const toy = JSON.parse(await Deno.readTextFile(again)) as Record<string, unknown>[];
  equal(toy.length, plain.length);
  let syn = 0;
  for (let i = 0; i < toy.length; i++) {
    const keys = Object.keys(toy[i]);
    equal(keys[keys.indexOf("Mirai") + 1], "Always");
    const isSyn = toy[i].Traffic === Traffic.TCPSYN && !String(toy[i].SourceIP).includes(":");
    equal(toy[i].Always, isSyn);
    if (isSyn) syn++;
    const { Always: _, ...rest } = toy[i];
    deepEqual(rest, plain[i]);
  }
  ok(syn > 0);

  // The bit survives a state file: the events saved open come back from it with "Always".
  const fromState = `${dir}/from-state.json`;
  const empty = `${dir}/empty.pcap`;
  await Deno.writeFile(empty, pcapHeader({ linkType: 1 }));
  await parse(dir, empty, fromState, ["--cachein", state, "--timeout", "100000"]);
  const loaded = JSON.parse(await Deno.readTextFile(fromState)) as Record<string, unknown>[];
  ok(loaded.length > 0);
  for (const e of loaded) {
    equal(e.Always, e.Traffic === Traffic.TCPSYN && !String(e.SourceIP).includes(":"));
  }
  ok(loaded.some((e) => e.Always === true));

  // count and timeseries of the copy know the rule.
  const c = await run("count", dir, [again, "--outdir", `${dir}/count`]);
  equal(c.code, 0, c.stderr);
  match(c.stdout + c.stderr, new RegExp(`Always ${syn.toLocaleString("en-US")}\\b`));
  await Deno.stat(`${dir}/count/always_port_counts.csv`);
  const t = await run("timeseries", dir, [again, "--by", "fingerprint", "--outdir", `${dir}/ts`]);
  equal(t.code, 0, t.stderr);
  await Deno.stat(`${dir}/ts/series_always.csv`);
  await Deno.remove(dir, { recursive: true });
});

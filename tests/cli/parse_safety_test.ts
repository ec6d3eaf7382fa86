// The user's data is never harmed: outputs never overwrite an input or each other, a run that
// refuses its input leaves existing outputs alone, state temporaries never follow links, one
// corrupt timestamp cannot poison a run, and signals during the end phase do not lose state.

import { deepEqual, equal, match, notEqual, ok } from "node:assert/strict";
import { denoFlags, ENTRIES } from "../../src/cli/permissions.ts";
import { ethernet, ipv4Packet } from "../../src/synth/frames.ts";
import { pcapFile, type WritePacket } from "../../src/synth/pcap_writer.ts";
import { generateScenario } from "../../src/synth/scenario.ts";
import { concat } from "../../src/synth/pcap_writer.ts";
import { runCli, tempDir } from "../_helpers.ts";

const parse = (args: string[]) => runCli(ENTRIES.parse, args, denoFlags("parse"));
const dir = tempDir("parse-safety-");
const CAPTURE = `${dir}/in.pcap`;
const parts: Uint8Array[] = [];
generateScenario({ packets: 20000, seed: 5, oneOffs: 300, duration: 3600 }, (b) => {
  parts.push(b.slice());
});
Deno.writeFileSync(CAPTURE, concat(parts));
const ORIGINAL = Deno.readFileSync(CAPTURE);
const base = ["--samples", "1", "--quiet"];

Deno.test("an output naming an input (path, ./path, symlink, hard link) is refused with exit 2 and both flags; the input is untouched", async () => {
  Deno.symlinkSync(CAPTURE, `${dir}/link.pcap`);
  Deno.linkSync(CAPTURE, `${dir}/hard.pcap`);
  Deno.writeFileSync(`${dir}/db.pfx2as`, new TextEncoder().encode("192.0.2.0\t24\t64496\n"));
  const cases: [string[], RegExp][] = [
    [["--eventout", CAPTURE], /--eventout .*in\.pcap is the same file as --pcap .*in\.pcap/],
    [["--eventout", `${dir}/./in.pcap`], /--eventout .* is the same file as --pcap/],
    [["--eventout", `${dir}/link.pcap`], /--eventout .*link\.pcap is the same file as --pcap/],
    [["--eventout", `${dir}/hard.pcap`], /--eventout .*hard\.pcap is the same file as --pcap/],
    [
      ["--eventout", `${dir}/o.json`, "--ongoingout", CAPTURE],
      /--ongoingout .* is the same file as --pcap/,
    ],
    [
      ["--eventout", `${dir}/o.json`, "--cacheout", `${dir}/link.pcap`],
      /--cacheout .* is the same file as --pcap/,
    ],
    [
      [
        "--eventout",
        `${dir}/o.json`,
        "--pfx2asin",
        `${dir}/db.pfx2as`,
        "--cpu",
        `${dir}/db.pfx2as`,
      ],
      /--cpu .* is the same file as --pfx2asin/,
    ],
  ];
  for (const [args, re] of cases) {
    const r = await parse(["--pcap", CAPTURE, ...args, ...base]);
    equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    match(r.stderr, re);
    equal(r.stderr.trim().split("\n").length, 1);
    deepEqual(Deno.readFileSync(CAPTURE), ORIGINAL, args.join(" "));
  }
});

Deno.test("outputs must differ from each other; empty paths are refused; an unwritable --cacheout fails before any packet", async () => {
  const o = `${dir}/same.json`;
  const cases: [string[], number, RegExp][] = [
    [["--eventout", o, "--ongoingout", o], 2, /--eventout and --ongoingout name the same file/],
    [["--eventout", o, "--cacheout", o], 2, /--eventout and --cacheout name the same file/],
    [["--eventout", o, "--cacheout", ""], 2, /--cacheout: empty path/],
    [["--eventout", o, "--ongoingout", ""], 2, /--ongoingout: empty path/],
    [["--eventout", o, "--cachein", ""], 2, /--cachein: empty path/],
    [["--eventout", ""], 2, /--eventout: empty path/],
    [["--eventout", o, "--cacheout", dir], 74, /--cacheout: is a directory/],
    [["--eventout", o, "--cacheout", `${dir}/nope/s.state`], 74, /folder does not exist/],
  ];
  for (const [args, code, re] of cases) {
    const r = await parse(["--pcap", CAPTURE, ...args, ...base]);
    equal(r.code, code, `${args.join(" ")}: ${r.stderr}`);
    match(r.stderr, re);
    ok(!r.stderr.includes("packets in"), "refused before processing");
    ok(!Deno.readDirSync(dir).some((e) => e.name === "same.json"), "no output created");
  }
  // A device is no one's data: /dev/null may take several outputs.
  const nul = await parse([
    "--pcap",
    CAPTURE,
    "--eventout",
    "/dev/null",
    "--ongoingout",
    "/dev/null",
    ...base,
  ]);
  equal(nul.code, 0, nul.stderr);
  // --cachein and --cacheout may be one file: it is read whole, then replaced atomically.
  const s = `${dir}/carry.state`;
  const first = await parse(["--pcap", CAPTURE, "--eventout", o, "--cacheout", s, ...base]);
  equal(first.code, 0, first.stderr);
  const again = await parse([
    "--pcap",
    CAPTURE,
    "--eventout",
    `${dir}/again.json`,
    "--cachein",
    s,
    "--cacheout",
    s,
    ...base,
  ]);
  equal(again.code, 0, again.stderr);
});

Deno.test("an existing event file is left as it was when the input is refused; replaced once the run writes", async () => {
  const out = `${dir}/previous.json`;
  Deno.writeTextFileSync(out, '[{"kept":true}]\n');
  Deno.writeTextFileSync(`${dir}/notes.txt`, "not a capture\n");
  const r = await parse(["--pcap", CAPTURE, `${dir}/notes.txt`, "--eventout", out, ...base]);
  equal(r.code, 65, r.stderr);
  match(r.stderr, /notes\.txt: byte 0: a text file/);
  equal(Deno.readTextFileSync(out), '[{"kept":true}]\n');
  const ok2 = await parse(["--pcap", CAPTURE, "--eventout", out, ...base]);
  equal(ok2.code, 0, ok2.stderr);
  ok(JSON.parse(Deno.readTextFileSync(out)).length > 10);
});

Deno.test("the state file's temporary is never a planted link: its target stays as it was", async () => {
  const victim = `${dir}/victim.txt`;
  Deno.writeTextFileSync(victim, "precious");
  const state = `${dir}/planted.state`;
  Deno.symlinkSync(victim, `${state}.tmp`);
  const r = await parse([
    "--pcap",
    CAPTURE,
    "--eventout",
    `${dir}/p.json`,
    "--cacheout",
    state,
    ...base,
  ]);
  equal(r.code, 0, r.stderr);
  equal(Deno.readTextFileSync(victim), "precious");
  ok(Deno.statSync(state).size > 20);
  ok(!Deno.readDirSync(dir).some((e) => e.name.startsWith(".planted.state")), "no temporary left");
});

Deno.test("a packet timed in 2106 is skipped and counted: sweeps go on, the state's clock stays true", async () => {
  const frame = (src: number, dport: number) =>
    ethernet(ipv4Packet({ src, dst: 0x0a000001, proto: 6, dport, flags: 0x02 }));
  const t0 = 1603296000;
  const pk: WritePacket[] = [];
  // 200 one-off sources a minute apart: with --timeout 60 each event ends at a later sweep.
  for (let i = 0; i < 200; i++) {
    pk.push({ sec: t0 + i * 60, nsec: 0, data: frame(0xc0000200 + i, 23) });
  }
  const bad = [
    ...pk.slice(0, 10),
    { sec: 0xffffffff, nsec: 0, data: frame(0x01020304, 80) },
    ...pk.slice(10),
  ];
  Deno.writeFileSync(`${dir}/good.pcap`, pcapFile(pk, { linkType: 1 }));
  Deno.writeFileSync(`${dir}/bad.pcap`, pcapFile(bad, { linkType: 1 }));
  const run = (name: string) =>
    parse([
      "--pcap",
      `${dir}/${name}.pcap`,
      "--eventout",
      `${dir}/${name}.json`,
      "--cacheout",
      `${dir}/${name}.state`,
      "--timeout",
      "60",
      "--samples",
      "0",
    ]);
  const good = await run("good");
  const badRun = await run("bad");
  equal(good.code, 0, good.stderr);
  equal(badRun.code, 0, badRun.stderr);
  match(badRun.stderr, /1 packets skipped: timestamp after \d{4}-\d\d-\d\dT.*\(corrupt\)/);
  const events = (n: string) => Deno.readTextFileSync(`${dir}/${n}.json`);
  ok(JSON.parse(events("good")).length > 150, "sweeps went on");
  equal(events("bad"), events("good"));
  deepEqual(Deno.readFileSync(`${dir}/bad.state`), Deno.readFileSync(`${dir}/good.state`));
});

Deno.test("SIGTERM again and again, through the end phase: the run finishes, saves its state and exits 0", async () => {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      ...denoFlags("parse"),
      ENTRIES.parse,
      "--pcap",
      CAPTURE,
      CAPTURE,
      CAPTURE,
      "--eventout",
      `${dir}/sig.json`,
      "--cacheout",
      `${dir}/sig.state`,
      "--samples",
      "2",
      "--quiet",
    ],
    env: { RUST_BACKTRACE: "0", NO_COLOR: "1" },
    stdout: "null",
    stderr: "piped",
  }).spawn();
  // Signals every few milliseconds from start to exit: some land while the state is saved.
  let alive = true;
  const status = child.status.then((s) => {
    alive = false;
    return s;
  });
  // From the moment the run has its handlers (they come before the event file is created).
  for (let t = 0; t < 500 && alive; t++) {
    try {
      Deno.statSync(`${dir}/sig.json`);
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 10));
    }
  }
  let sent = 0;
  while (alive && sent < 2000) {
    try {
      child.kill("SIGTERM");
      sent++;
    } catch { /* exited */ }
    await new Promise((r) => setTimeout(r, 2));
  }
  const st = await status;
  const err = new TextDecoder().decode(
    (await child.stderr.getReader().read()).value ?? new Uint8Array(),
  );
  ok(sent > 0);
  notEqual(st.signal, "SIGTERM", err);
  equal(st.code, 0, err);
  ok(Array.isArray(JSON.parse(Deno.readTextFileSync(`${dir}/sig.json`))));
  ok(Deno.statSync(`${dir}/sig.state`).size > 20);
});

Deno.test("an input that fails part-way: the summary counts the events open at the failure", async () => {
  const whole = Deno.readFileSync(CAPTURE);
  Deno.writeFileSync(`${dir}/cut.pcap`, whole.subarray(0, whole.length - 30));
  const r = await parse([
    "--pcap",
    `${dir}/cut.pcap`,
    "--eventout",
    `${dir}/cut.json`,
    "--samples",
    "0",
  ]);
  equal(r.code, 65, r.stderr);
  match(r.stderr, /; [\d,]+ events were open when the input failed/);
  const clean = await parse([
    "--pcap",
    CAPTURE,
    "--eventout",
    `${dir}/clean.json`,
    "--samples",
    "0",
  ]);
  ok(!clean.stderr.includes("open when the input failed"), clean.stderr);
});

Deno.test("--max-memory: a flood of new sources ends the run like an input error — outputs valid, state saved, exit 74", async () => {
  const { generateFlood } = await import("../../src/synth/flood.ts");
  const parts: Uint8Array[] = [];
  generateFlood({ packets: 600_000, gapMicros: 100 }, (b) => parts.push(b.slice()));
  Deno.writeFileSync(`${dir}/flood.pcap`, concat(parts));
  const r = await parse([
    "--pcap",
    `${dir}/flood.pcap`,
    "--eventout",
    `${dir}/flood.json`,
    "--ongoingout",
    `${dir}/flood-ongoing.json`,
    "--cacheout",
    `${dir}/flood.state`,
    "--samples",
    "1",
    "--timeout",
    "3600",
    "--max-memory",
    "100M",
  ]);
  equal(r.code, 74, r.stderr);
  match(
    r.stderr,
    /^parse: memory budget reached: \d+ MiB resident, --max-memory 100 MiB; stopped reading with [\d,]+ open events/m,
  );
  equal(r.stderr.trim().split("\n").length, 2, r.stderr); // the summary and the error
  deepEqual(JSON.parse(Deno.readTextFileSync(`${dir}/flood.json`)), []);
  const open = JSON.parse(Deno.readTextFileSync(`${dir}/flood-ongoing.json`)).length;
  ok(open > 1000 && open < 600_000, String(open));
  const next = await parse([
    "--pcap",
    `${dir}/in.pcap`,
    "--eventout",
    `${dir}/after.json`,
    "--cachein",
    `${dir}/flood.state`,
    "--samples",
    "1",
    "--timeout",
    "3600",
    "--quiet",
  ]);
  equal(next.code, 0, next.stderr);
  for (const bad of ["10", "1x", "-5"]) {
    const u = await parse([
      "--pcap",
      CAPTURE,
      "--eventout",
      `${dir}/u.json`,
      "--samples",
      "0",
      "--max-memory",
      bad,
    ]);
    equal(u.code, 2, bad);
    match(u.stderr, /--max-memory: expected a size of at least 64M/);
  }
});

Deno.test("batch mode: SIGTERM ends the batch after the block it arrived in, every file of it complete, exit 0", async () => {
  const out = `${dir}/batch-sig`;
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      ...denoFlags("parse"),
      ENTRIES.parse,
      "--from",
      "2020-10-21T00",
      "--to",
      "2020-11-21T00", // 744 hours, none of them there: each block is quick, all of them are not
      "--input",
      `${dir}/none/{date}.{hour}.pcap`,
      "--outdir",
      out,
      "--samples",
      "0",
      "--quiet",
    ],
    env: { RUST_BACKTRACE: "0", NO_COLOR: "1" },
    stdout: "null",
    stderr: "piped",
  }).spawn();
  // Once a few blocks are done.
  for (let t = 0; t < 1000; t++) {
    let n = 0;
    try {
      n = Array.from(Deno.readDirSync(out)).length;
    } catch { /* not yet */ }
    if (n >= 9) break;
    await new Promise((r) => setTimeout(r, 10));
  }
  child.kill("SIGTERM");
  const st = await child.output();
  const err = new TextDecoder().decode(st.stderr);
  equal(st.code, 0, err);
  match(err, /parse: stopped by SIGTERM (after|before) 2020-10-2\dT\d\d_/);
  const names = Array.from(Deno.readDirSync(out), (e) => e.name);
  ok(names.length < 3 * 744, String(names.length));
  // Every block begun is complete: its three files, the event files valid JSON.
  const blocks = new Set(
    names.map((n) => n.replace(/^(results|ongoing|cache)_/, "").replace(/\.(json|state)$/, "")),
  );
  for (const b of blocks) {
    for (const f of [`results_${b}.json`, `ongoing_${b}.json`]) {
      deepEqual(JSON.parse(Deno.readTextFileSync(`${out}/${f}`)), [], f);
    }
    ok(names.includes(`cache_${b}.state`), b);
  }
});

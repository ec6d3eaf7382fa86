// Live capture with a real tcpdump on the loopback interface, with traffic the test sends to
// 127.0.0.1 itself; and --rotate, which must leave the same files as batch mode.

import { deepEqual, equal, match, ok } from "node:assert/strict";
import { createSocket } from "node:dgram";
import { denoFlags, ENTRIES } from "../../src/cli/permissions.ts";
import { runCli, tempDir } from "../_helpers.ts";
import { testWith } from "../_programs.ts";
import { pcapHeader } from "../../src/synth/pcap_writer.ts";

const dir = tempDir("parse-live-");

function spawnParse(args: string[]): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", ...denoFlags("parse"), ENTRIES.parse, ...args],
    env: { RUST_BACKTRACE: "0", NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

async function send(port: number, n: number, payload = "probe"): Promise<void> {
  const s = createSocket("udp4");
  for (let i = 0; i < n; i++) {
    await new Promise<void>((r) =>
      s.send(new TextEncoder().encode(payload), port, "127.0.0.1", () => r())
    );
  }
  await new Promise<void>((r) => s.close(() => r()));
}

async function until(what: string, cond: () => boolean, ms = 8000): Promise<void> {
  const t0 = performance.now();
  while (!cond()) {
    if (performance.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// True once the tcpdump for this test's port runs.
function started(port: number): boolean {
  return new Deno.Command("pgrep", { args: ["-f", `tcpdump -i lo -U .*dst port ${port}`] })
    .outputSync().success;
}

const lines = (p: string) => {
  try {
    return Deno.readTextFileSync(p).split("\n").filter((l) => l !== "");
  } catch {
    return [];
  }
};

testWith(
  ["tcpdump", "pgrep"],
  "live capture on lo: events appear while running; SIGTERM saves a state the next run loads",
  async () => {
    const port = 40000 + Math.floor(Math.random() * 20000);
    const out = `${dir}/live.json`;
    const child = spawnParse([
      "--interface",
      "lo",
      "--bpf",
      `udp and dst port ${port}`,
      "--eventout",
      out,
      "--newdl",
      "--samples",
      "1",
      "--timeout",
      "1",
      "--cacheout",
      `${dir}/live.state`,
      "--seriesout",
      `${dir}/live.series`,
      "--series-bin",
      "1",
    ]);
    try {
      // tcpdump needs a moment to start listening: send until the first burst is seen.
      await until("the capture to start", () => {
        send(port, 1);
        return lines(out).length > 0 || started(port);
      });
      await new Promise((r) => setTimeout(r, 1000));
      await send(port, 3);
      await new Promise((r) => setTimeout(r, 1300)); // > timeout: the next packet ends the event
      await send(port, 2);
      await until("an event in the output while running", () => lines(out).length >= 1);
      const e = JSON.parse(lines(out)[0]);
      deepEqual([e.SourceIP, e.Traffic, e.Port], ["127.0.0.1", 16, port]);
      child.kill("SIGTERM");
      const st = await child.output();
      const err = new TextDecoder().decode(st.stderr);
      equal(st.code, 0, err);
      match(
        err,
        /open events saved; capture: \d+ packets received by the filter \(on a loopback interface the filter sees each packet twice\), \d+ dropped by the kernel; stopped by SIGTERM/,
      );
    } finally {
      try {
        child.kill("SIGKILL");
      } catch { /* exited */ }
    }
    // The signal series of the capture, written at SIGTERM: one source (127.0.0.1); at least
    // the burst of 3 and the packet that ended its event (the rest may still have been in
    // flight when SIGTERM came).
    const { SignalTable } = await import("../../src/series/signal_table.ts");
    const t = await SignalTable.load([`${dir}/live.series`]);
    const total = t.packetTotals[t.keys.indexOf("total")];
    ok(
      total >= 4,
      `${total} packets in the series file, ${JSON.stringify(t.keys)}, late ${t.late}`,
    );
    ok(t.sourcesOf("total")!.every((n) => n <= 1));
    ok(t.keys.includes("traffic=UDP"));
    // The saved state continues in a following run.
    Deno.writeFileSync(`${dir}/empty.pcap`, pcapHeader({ linkType: 1 }));
    const next = await runCli(ENTRIES.parse, [
      "--pcap",
      `${dir}/empty.pcap`,
      "--eventout",
      `${dir}/next.json`,
      "--samples",
      "1",
      "--timeout",
      "1",
      "--cachein",
      `${dir}/live.state`,
      "--quiet",
    ], denoFlags("parse"));
    equal(next.code, 0, next.stderr);
    const carried = JSON.parse(Deno.readTextFileSync(`${dir}/next.json`));
    equal(carried.length, 1);
    equal(carried[0].Port, port);
  },
);

testWith(
  ["tcpdump", "pgrep", "pkill"],
  "live capture: a killed tcpdump ends the run with a clear error, outputs still valid",
  async () => {
    const port = 40000 + Math.floor(Math.random() * 20000);
    const out = `${dir}/killed.json`;
    const child = spawnParse([
      "--interface",
      "lo",
      "--bpf",
      `udp and dst port ${port}`,
      "--eventout",
      out,
      "--samples",
      "0",
      "--timeout",
      "60",
      "--ongoingout",
      `${dir}/killed-ongoing.json`,
    ]);
    await until("the capture to start", () => {
      send(port, 1);
      try {
        return Deno.statSync(out).isFile &&
          new Deno.Command("pgrep", { args: ["-f", `dst port ${port}`] }).outputSync().success;
      } catch {
        return false;
      }
    });
    await new Promise((r) => setTimeout(r, 500));
    await send(port, 5);
    await new Promise((r) => setTimeout(r, 300));
    new Deno.Command("pkill", { args: ["-KILL", "-f", `tcpdump -i lo -U .*dst port ${port}`] })
      .outputSync();
    const guard = setTimeout(() => child.kill("SIGKILL"), 15000); // never hang the suite
    const st = await child.output();
    clearTimeout(guard);
    const err = new TextDecoder().decode(st.stderr);
    equal(st.code, 74, err);
    match(err, /parse: tcpdump on lo stopped unexpectedly \(killed by SIGKILL\)/);
    // Valid, closed JSON arrays: the open event went to --ongoingout and, without --cacheout, to
    // --eventout as finished.
    const evs = JSON.parse(Deno.readTextFileSync(out));
    equal(evs.length, 1);
    equal(evs[0].Port, port);
    deepEqual(JSON.parse(Deno.readTextFileSync(`${dir}/killed-ongoing.json`)), evs);
  },
);

testWith(
  ["tcpdump"],
  "live capture: an unknown interface or a bad filter is tcpdump's own message, exit 2, no output touched",
  async () => {
    const out = `${dir}/refused.json`;
    Deno.writeTextFileSync(out, "keep me");
    for (
      const [extra, re] of [
        [
          ["--interface", "nosuch0"],
          /^parse: --interface nosuch0: tcpdump: nosuch0: No such device/,
        ],
        [
          ["--interface", "lo", "--bpf", "udp and dts port 3"],
          /^parse: --interface lo --bpf 'udp and dts port 3': tcpdump: syntax error/,
        ],
      ] as [string[], RegExp][]
    ) {
      const r = await runCli(
        ENTRIES.parse,
        [...extra, "--eventout", out, "--samples", "0"],
        denoFlags("parse"),
      );
      equal(r.code, 2, r.stderr);
      match(r.stderr, re);
      equal(r.stderr.trim().split("\n").length, 1, r.stderr);
      equal(Deno.readTextFileSync(out), "keep me");
    }
  },
);

testWith(
  ["tcpdump", "pgrep"],
  "live capture: parse killed with SIGKILL takes its tcpdump with it",
  async () => {
    const port = 40000 + Math.floor(Math.random() * 20000);
    const child = spawnParse([
      "--interface",
      "lo",
      "--bpf",
      `udp and dst port ${port}`,
      "--eventout",
      `${dir}/kill9.json`,
      "--samples",
      "0",
      "--quiet",
    ]);
    await until("the capture to start", () => started(port));
    child.kill("SIGKILL");
    await child.output();
    // No packet is sent: tcpdump must not wait for a write into the dead pipe to notice.
    await until("tcpdump to end", () => !started(port), 5000);
  },
);

Deno.test("--rotate on captures leaves the same files as batch mode over hourly files", async () => {
  // Reuse the hourly captures of parse_main_test's layout: build two hours here.
  const { generateScenario } = await import("../../src/synth/scenario.ts");
  const { concat } = await import("../../src/synth/pcap_writer.ts");
  const parts: Uint8Array[] = [];
  generateScenario(
    { packets: 20000, seed: 4, oneOffs: 100, duration: 7200 },
    (b) => parts.push(b.slice()),
  );
  const all = concat(parts);
  const half = 24 + 10000 * 76;
  Deno.writeFileSync(`${dir}/2020-10-21.16.pcap`, all.subarray(0, half));
  Deno.writeFileSync(
    `${dir}/2020-10-21.17.pcap`,
    concat([all.subarray(0, 24), all.subarray(half)]),
  );
  const base = ["--samples", "2", "--uniques", "3", "--timeout", "300", "--quiet"];
  const rot = await runCli(ENTRIES.parse, [
    "--pcap",
    `${dir}/2020-10-21.16.pcap`,
    `${dir}/2020-10-21.17.pcap`,
    "--rotate",
    "3600",
    "--outdir",
    `${dir}/rot`,
    ...base,
  ], denoFlags("parse"));
  equal(rot.code, 0, rot.stderr);
  const bat = await runCli(ENTRIES.parse, [
    "--from",
    "2020-10-21:16",
    "--to",
    "2020-10-21:18",
    "--input",
    `${dir}/{date}.{hour}.pcap`,
    "--outdir",
    `${dir}/bat`,
    ...base,
  ], denoFlags("parse"));
  equal(bat.code, 0, bat.stderr);
  const names = (d: string) => Array.from(Deno.readDirSync(d), (e) => e.name).sort();
  deepEqual(names(`${dir}/rot`), names(`${dir}/bat`));
  equal(names(`${dir}/rot`).length, 6);
  for (const n of names(`${dir}/rot`)) {
    deepEqual(Deno.readFileSync(`${dir}/rot/${n}`), Deno.readFileSync(`${dir}/bat/${n}`), n);
  }
});

Deno.test("live and rotate flag errors exit 2", async () => {
  const cases: [string[], RegExp][] = [
    [
      ["--pcap", "x", "--interface", "lo", "--eventout", "o", "--samples", "0"],
      /give --pcap or --interface, not both/,
    ],
    [
      ["--pcap", "x", "--bpf", "udp", "--eventout", "o", "--samples", "0"],
      /--bpf only applies to --interface/,
    ],
    [["--pcap", "x", "--rotate", "60", "--samples", "0"], /--rotate needs --outdir/],
    [
      ["--pcap", "x", "--rotate", "60", "--outdir", "d", "--eventout", "o", "--samples", "0"],
      /--eventout cannot be used with --rotate/,
    ],
    [
      ["--pcap", "x", "--rotate", "0", "--outdir", "d", "--samples", "0"],
      /--rotate: expected a whole number ≥ 1/,
    ],
  ];
  for (const [args, re] of cases) {
    const r = await runCli(ENTRIES.parse, args, denoFlags("parse"));
    equal(r.code, 2, args.join(" "));
    match(r.stderr, re);
  }
});

// Split runs across processes on a real NATS JetStream (Debian's nats-server, started here on
// 127.0.0.1, a free port, a temporary store): a coordinator and three workers as real processes
// with the permissions `deno task compile` grants, one worker killed with SIGKILL in the middle
// of a block, one started late, and a coordinator killed and restarted with the same job id —
// the event file of one sequential run every time, nothing lost, nothing twice.

import { deepEqual, equal, ok } from "node:assert/strict";
import { denoFlags, ENTRIES } from "../../src/cli/permissions.ts";
import { generateScenario } from "../../src/synth/scenario.ts";
import { concat } from "../../src/synth/pcap_writer.ts";
import { runCli, tempDir } from "../_helpers.ts";
import { program, testWith } from "../_programs.ts";

const dir = tempDir("parse-queue-");
const FLAGS = ["--samples", "2", "--timeout", "120"];
// The analyses a queued run also writes (the first test): DoS vectors and packet statistics.
const DOS = ["--dos-min-packets", "2", "--dos-min-duration", "0", "--dos-min-window", "1"];

// Six files of a generated scenario, big enough that a block takes a moment.
function files(): string[] {
  const parts: Uint8Array[] = [];
  generateScenario(
    { packets: 3000000, seed: 4, oneOffs: 20000, duration: 3600 },
    (b) => parts.push(b.slice()),
  );
  const all = concat(parts);
  const dv = new DataView(all.buffer, all.byteOffset, all.byteLength);
  const recs: number[] = [];
  for (let p = 24; p + 16 <= all.length; p += 16 + dv.getUint32(p + 8, true)) recs.push(p);
  recs.push(all.length);
  const out: string[] = [];
  const n = 6;
  for (let k = 0; k < n; k++) {
    const a = recs[Math.floor((k * (recs.length - 1)) / n)];
    const b = recs[Math.floor(((k + 1) * (recs.length - 1)) / n)];
    const path = `${dir}/h${k}.pcap`;
    Deno.writeFileSync(path, concat([all.subarray(0, 24), all.subarray(a, b)]));
    out.push(path);
  }
  return out;
}

async function natsServer(): Promise<{ url: string; stop: () => Promise<void> }> {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  const store = tempDir("nats-store-");
  const child = new Deno.Command(program("nats-server")!, {
    args: ["-js", "-a", "127.0.0.1", "-p", String(port), "-sd", store],
    stdout: "null",
    stderr: "null",
  }).spawn();
  for (let i = 0; i < 100; i++) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return {
    url: `nats://127.0.0.1:${port}`,
    stop: async () => {
      child.kill("SIGKILL");
      await child.status;
    },
  };
}

// Fails instead of hanging when a block is lost (the coordinator would wait for it forever).
async function within<T>(p: Promise<T>, seconds: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what}: not done in ${seconds} s`)),
      seconds * 1000,
    );
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

// A parse process whose stderr lines are collected (and can be waited for).
function spawnParse(args: string[]) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", ...denoFlags("parse"), ENTRIES.parse, ...args],
    // Temporary folders under the test's own, so those of processes killed here go with it.
    env: { RUST_BACKTRACE: "0", NO_COLOR: "1", TMPDIR: dir },
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const lines: string[] = [];
  const waiters: [RegExp, () => void][] = [];
  const done = (async () => {
    let buf = "";
    for await (const t of child.stderr.pipeThrough(new TextDecoderStream())) {
      buf += t;
      let i;
      while ((i = buf.indexOf("\n")) >= 0) {
        lines.push(buf.slice(0, i));
        buf = buf.slice(i + 1);
        for (const w of [...waiters]) {
          if (w[0].test(lines.at(-1)!)) (waiters.splice(waiters.indexOf(w), 1), w[1]());
        }
      }
    }
  })();
  return {
    child,
    lines,
    waitFor: (re: RegExp) =>
      lines.some((l) => re.test(l))
        ? Promise.resolve()
        : new Promise<void>((r) => waiters.push([re, r])),
    finished: async () => {
      const s = await child.status;
      await done;
      return s;
    },
  };
}

// The captures and the event file of one sequential run over them (made once).
let made: Promise<string[]> | undefined;
const setup = () =>
  made ??= (async () => {
    const pcaps = files();
    const one = await runCli(
      ENTRIES.parse,
      [
        "--pcap",
        ...pcaps,
        "--eventout",
        `${dir}/one.json`,
        "--dosout",
        `${dir}/one-dos.json`,
        "--statsout",
        `${dir}/one-stats.json`,
        "--sourceout",
        `${dir}/one-src.json`,
        "--quiet",
        ...FLAGS,
        ...DOS,
      ],
      denoFlags("parse"),
    );
    equal(one.code, 0, one.stderr);
    return pcaps;
  })();

testWith(
  ["nats-server"],
  "NATS: a coordinator and three workers, one killed mid-block, one started late: one run's events",
  async () => {
    const pcaps = await setup();
    const nats = await natsServer();
    try {
      const coord = spawnParse([
        "--queue",
        nats.url,
        "--pcap",
        ...pcaps,
        "--eventout",
        `${dir}/q.json`,
        "--dosout",
        `${dir}/q-dos.json`,
        "--statsout",
        `${dir}/q-stats.json`,
        "--sourceout",
        `${dir}/q-src.json`,
        "--ack-wait",
        "2",
        ...FLAGS,
        ...DOS,
      ]);
      await coord.waitFor(/waiting for workers/);
      const w1 = spawnParse(["--worker", nats.url, "--idle-exit", "4"]);
      const w2 = spawnParse(["--worker", nats.url, "--idle-exit", "4"]);
      // The first block a worker takes: killed in the middle of it.
      await w1.waitFor(/worker: job \w+ block \d+/);
      const killed = w1.lines.find((l) => /block \d+/.test(l))!.match(/block (\d+)/)![1];
      // Well into the block (a block takes about a second here), not before its first bytes.
      await new Promise((r) => setTimeout(r, 300));
      w1.child.kill("SIGKILL");
      await w1.finished();
      // A worker that comes late.
      await new Promise((r) => setTimeout(r, 500));
      const w3 = spawnParse(["--worker", nats.url, "--idle-exit", "4"]);
      const s = await within(coord.finished(), 90, "the coordinator").catch((e) => {
        coord.child.kill("SIGKILL");
        for (const w of [w2, w3]) w.child.kill("SIGKILL");
        throw e;
      });
      equal(s.code, 0, coord.lines.join("\n"));
      deepEqual(Deno.readFileSync(`${dir}/q.json`), Deno.readFileSync(`${dir}/one.json`));
      for (const f of ["dos", "stats", "src"]) {
        deepEqual(
          Deno.readFileSync(`${dir}/q-${f}.json`),
          Deno.readFileSync(`${dir}/one-${f}.json`),
        );
      }
      ok(JSON.parse(Deno.readTextFileSync(`${dir}/one-dos.json`)).length > 0);
      await Promise.all([w2.finished(), w3.finished()]);
      // The killed worker's block was done again by another (redelivered after the ack wait).
      const others = [...w2.lines, ...w3.lines].join("\n");
      ok(new RegExp(`block ${killed}:`).test(others), `block ${killed} redone:\n${others}`);
    } finally {
      await nats.stop();
    }
  },
);

testWith(
  ["nats-server"],
  "NATS: a coordinator killed part-way and restarted with the same job id: one run's events",
  async () => {
    const pcaps = await setup();
    const nats = await natsServer();
    try {
      const args = [
        "--queue",
        nats.url,
        "--job",
        "restart-test",
        "--pcap",
        ...pcaps,
        "--eventout",
        `${dir}/r.json`,
        ...FLAGS,
      ];
      const w = spawnParse(["--worker", nats.url, "--idle-exit", "6"]);
      const first = spawnParse(args);
      // Killed once a block's result is stored and others are still to come.
      await w.waitFor(/block 2:/);
      first.child.kill("SIGKILL");
      await first.finished();
      const again = spawnParse(args);
      const s = await within(again.finished(), 90, "the restarted coordinator").catch((e) => {
        again.child.kill("SIGKILL");
        w.child.kill("SIGKILL");
        throw e;
      });
      equal(s.code, 0, again.lines.join("\n"));
      deepEqual(Deno.readFileSync(`${dir}/r.json`), Deno.readFileSync(`${dir}/one.json`));
      await w.finished();
    } finally {
      await nats.stop();
    }
  },
);

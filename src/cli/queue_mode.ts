// Split runs across machines on NATS JetStream (README "Scaling out"): `parse --queue URL …` is
// the coordinator — one task per block on a work-queue stream, results merged in block order as
// they arrive — and `parse --worker URL` (any number, any host that can read the captures) pulls
// tasks, runs the map step and stores the block result in a JetStream object store.
//
// Robust by construction: a task is acked only after its result is stored (its files, then a
// `done` object), so a worker killed at any moment leaves the task to be redelivered after the
// ack wait (a worker alive says it is still working every third of it); a result is stored
// under the job and block's names, so a task run twice stores the same result twice; a
// coordinator restarted with the same job id enqueues only the blocks without a result and
// merges them all again. Names: stream DARKNET_TASKS (subjects darknet.tasks.JOB), durable
// consumer darknet-workers, object store darknet-blocks (JOB/BLOCK/FILE).

import { createHash } from "node:crypto";
import { DarknetError, DataError, IoError, UsageError } from "../errors.ts";
import { type Block, BLOCK_FILES, OPTIONAL_BLOCK_FILES, readBlock } from "../split/block_result.ts";
import { fileBlocks } from "./jobs_mode.ts";
import { checkMergePaths, mergeBlocks } from "./merge_mode.ts";
import { commonConfig, type ParseConfig, type ParseResult, runParse } from "./run_parse.ts";
import { parseFlags, pathList } from "./_cli.ts";
import { TAGS } from "../tags/traffic_tags.ts";
import { StopSignals } from "./_stop_signals.ts";

const STREAM = "DARKNET_TASKS";
const CONSUMER = "darknet-workers";
const BUCKET = "darknet-blocks";
const FILES = BLOCK_FILES;

/** One block to aggregate. */
interface Task {
  job: string;
  index: number;
  pcaps: string[];
  /** The parse flags of the map step (settings and enrichment), as given to the coordinator. */
  args: string[];
}

// The NATS client, loaded only for --queue and --worker.
async function nats(url: string) {
  // deno-lint-ignore no-import-prefix
  const { connect } = await import("npm:@nats-io/transport-node@3.4.0");
  // deno-lint-ignore no-import-prefix
  const jsmod = await import("npm:@nats-io/jetstream@3.4.0");
  // deno-lint-ignore no-import-prefix
  const { Objm } = await import("npm:@nats-io/obj@3.4.0");
  const servers = url.replace(/^nats:\/\//, "");
  let nc;
  try {
    nc = await connect({ servers, maxReconnectAttempts: 10 });
  } catch (e) {
    throw new IoError(`cannot reach NATS at ${url}: ${(e as Error).message}`);
  }
  const os = await new Objm(nc).create(BUCKET);
  return { nc, jsmod, js: jsmod.jetstream(nc), jsm: await jsmod.jetstreamManager(nc), os };
}

// Whether an object is there (a deleted one leaves a marker that `info` still returns).
async function stored(
  os: { info(name: string): Promise<{ deleted?: boolean } | null> },
  name: string,
): Promise<boolean> {
  const i = await os.info(name);
  return i !== null && !i.deleted;
}

/** The flags that make a map step's settings and enrichment: those of `cfg`. */
export function mapArgs(cfg: ParseConfig): string[] {
  const a = [
    "--samples",
    String(cfg.samples),
    "--timeout",
    String(cfg.timeout),
    "--threshold",
    String(cfg.threshold),
    "--uniques",
    String(cfg.uniques),
    "--rate",
    String(cfg.rate),
    "--telescope-size",
    String(cfg.telescopeSize),
    "--seed",
    String(cfg.seed),
  ];
  const opt = (flag: string, v: string | undefined) => (v !== undefined ? a.push(flag, v) : 0);
  opt("--asnin", cfg.asnin);
  opt("--geoin", cfg.geoin);
  for (const p of cfg.pfx2asin ?? []) a.push("--pfx2asin", p);
  opt("--known-scanners", cfg.knownScanners);
  // Tag k is bit k (TAGS' order).
  const tags = TAGS.filter((_, k) => ((cfg.excludeTags ?? 0) >>> k) & 1);
  if (tags.length > 0) a.push("--exclude-tags", tags.join(","));
  for (const d of cfg.dns ?? []) a.push("--dns", d);
  // The DoS analysis in the block result (the merge writes --dosout), with its settings.
  if (cfg.dosout !== undefined) {
    const d = cfg.dos ?? {};
    a.push("--dos");
    if (d.timeout !== undefined) a.push("--dos-timeout", String(d.timeout));
    if (d.minPackets !== undefined) a.push("--dos-min-packets", String(d.minPackets));
    if (d.minDuration !== undefined) a.push("--dos-min-duration", String(d.minDuration));
    if (d.minWindow !== undefined) a.push("--dos-min-window", String(d.minWindow));
  }
  if (cfg.statsout !== undefined) a.push("--stats"); // the block's packet statistics
  if (cfg.sourceout !== undefined) a.push("--sources"); // its events' roll-up records
  return a;
}

/** `parse --queue URL`: enqueues the blocks of `cfg.pcaps`, merges their results in order. */
export async function runQueue(
  cfg: ParseConfig,
  url: string,
  o: { job?: string; blocks?: number; ackWait: number },
  signals: StopSignals,
): Promise<ParseResult> {
  await checkMergePaths(cfg, []);
  const groups = await fileBlocks(cfg.pcaps, o.blocks ?? cfg.pcaps.length);
  const args = mapArgs(cfg);
  const job = o.job ??
    createHash("sha256").update(JSON.stringify([groups, args])).digest("hex").slice(0, 16);
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(job)) {
    throw new UsageError(`--job: letters, digits, - and _ only (got "${job}")`);
  }
  const { nc, jsmod, js, jsm, os } = await nats(url);
  const tmp = await Deno.makeTempDir({ prefix: "darknet-events-queue-" });
  try {
    try {
      await jsm.streams.info(STREAM);
    } catch {
      await jsm.streams.add({
        name: STREAM,
        subjects: ["darknet.tasks.*"],
        retention: jsmod.RetentionPolicy.Workqueue,
      });
    }
    const consumer = {
      durable_name: CONSUMER,
      ack_policy: jsmod.AckPolicy.Explicit,
      ack_wait: o.ackWait * 1e9,
      max_deliver: -1,
    };
    try {
      await jsm.consumers.add(STREAM, consumer);
    } catch {
      await jsm.consumers.update(STREAM, CONSUMER, { ack_wait: consumer.ack_wait });
    }
    const te = new TextEncoder();
    for (const [index, pcaps] of groups.entries()) {
      // A failure of an earlier run of the job is retried.
      await os.delete(`${job}/${index}/error`).catch(() => {});
      if (await stored(os, `${job}/${index}/done`)) continue; // a coordinator restarted
      const task: Task = { job, index, pcaps, args };
      // No message id: a restarted coordinator queues its unfinished blocks again (a block done
      // twice stores the same result), and a job run again later is queued afresh.
      await js.publish(`darknet.tasks.${job}`, te.encode(JSON.stringify(task)));
    }
    if (!cfg.quiet) {
      console.error(`parse: job ${job}: ${groups.length} blocks on ${url}; waiting for workers`);
    }
    // Results in block order, each fetched once stored (tasks finish in any order).
    const results = async function* (): AsyncGenerator<Block> {
      for (let index = 0; index < groups.length; index++) {
        for (;;) {
          if (signals.stopped) throw new IoError(`stopped by ${signals.stopped}`);
          const failed = await stored(os, `${job}/${index}/error`)
            ? await os.getBlob(`${job}/${index}/error`)
            : null;
          if (failed) {
            const [message, code] = JSON.parse(new TextDecoder().decode(failed));
            throw code === 65 ? new DataError(message) : new IoError(message);
          }
          if (await stored(os, `${job}/${index}/done`)) break;
          await new Promise((r) => setTimeout(r, 100));
        }
        const dir = `${tmp}/${index}`;
        await Deno.mkdir(dir);
        for (const f of FILES) {
          const b = await os.getBlob(`${job}/${index}/${f}`);
          if (!b && OPTIONAL_BLOCK_FILES.includes(f)) continue; // (readBlock checks the list)
          if (!b) throw new IoError(`job ${job} block ${index}: ${f} missing from ${BUCKET}`);
          await Deno.writeFile(`${dir}/${f}`, b);
        }
        yield await readBlock(dir);
      }
    };
    const r = await mergeBlocks(cfg, results());
    if (!r.error) {
      for (let index = 0; index < groups.length; index++) {
        for (const f of [...FILES, "done", "error"]) {
          await os.delete(`${job}/${index}/${f}`).catch(() => {});
        }
      }
    }
    return { ...r, stopSignal: signals.stopped };
  } finally {
    await nc.close();
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
  }
}

/** `parse --worker URL`: runs map steps of queued blocks until stopped (SIGINT/SIGTERM). */
export async function runWorker(
  url: string,
  o: { quiet: boolean; idleExit?: number },
  signals: StopSignals,
): Promise<DarknetError | undefined> {
  const { nc, js, jsm, os } = await nats(url);
  const te = new TextEncoder();
  try {
    // The coordinator makes the stream and consumer; a worker started first waits for them.
    let idle = 0;
    for (;;) {
      if (signals.stopped) return undefined;
      let consumer;
      try {
        consumer = await js.consumers.get(STREAM, CONSUMER);
      } catch {
        await new Promise((r) => setTimeout(r, 500));
        continue;
      }
      const ackWait = ((await jsm.consumers.info(STREAM, CONSUMER)).config.ack_wait ?? 30e9) / 1e6;
      const m = await consumer.next({ expires: 1000 }).catch(() => null);
      if (!m) {
        idle += 1;
        if (o.idleExit !== undefined && idle >= o.idleExit) return undefined;
        continue;
      }
      idle = 0;
      const task: Task = JSON.parse(new TextDecoder().decode(m.data));
      const name = (f: string) => `${task.job}/${task.index}/${f}`;
      if (await stored(os, name("done"))) { // stored by a worker that died before its ack
        m.ack();
        continue;
      }
      if (!o.quiet) {
        console.error(
          `parse: worker: job ${task.job} block ${task.index}: ${task.pcaps.length} files`,
        );
      }
      const dir = `${await Deno.makeTempDir({ prefix: "darknet-events-worker-" })}/block`;
      const beat = setInterval(() => m.working(), Math.max(100, ackWait / 3));
      try {
        const { values, after } = parseFlags(
          [...task.args, "--pcap", ...task.pcaps, "--quiet"],
          WORKER_FLAGS,
        );
        const pcaps = pathList(values.pcap as string[], after.pcap ?? []);
        const cfg: ParseConfig = {
          ...commonConfig(values, after),
          pcaps,
          map: dir,
          mapDos: values.dos === true,
          mapStats: values.stats === true,
          mapSources: values.sources === true,
        };
        const r = await runParse(cfg, new StopSignals(false));
        if (r.error) {
          await os.putBlob(
            { name: name("error") },
            te.encode(JSON.stringify([r.error.message, r.error.exitCode])),
          );
        } else {
          for (const f of FILES) {
            if (OPTIONAL_BLOCK_FILES.includes(f) && !(await exists(`${dir}/${f}`))) continue;
            await os.putBlob({ name: name(f) }, await Deno.readFile(`${dir}/${f}`));
          }
          await os.putBlob({ name: name("done") }, te.encode("1"));
        }
        await m.ackAck();
      } finally {
        clearInterval(beat);
        await Deno.remove(dir.slice(0, -"/block".length), { recursive: true }).catch(() => {});
      }
    }
  } catch (e) {
    if (e instanceof DarknetError) return e;
    throw e;
  } finally {
    await nc.close().catch(() => {});
  }
}

// The flags a task carries (mapArgs) and the paths it adds.
const WORKER_FLAGS = {
  pcap: { type: "string", multiple: true },
  samples: { type: "string" },
  timeout: { type: "string" },
  threshold: { type: "string" },
  uniques: { type: "string" },
  rate: { type: "string" },
  "telescope-size": { type: "string" },
  seed: { type: "string" },
  asnin: { type: "string" },
  geoin: { type: "string" },
  pfx2asin: { type: "string", multiple: true },
  "known-scanners": { type: "string" },
  dns: { type: "string", multiple: true },
  "exclude-tags": { type: "string" },
  dos: { type: "boolean" },
  stats: { type: "boolean" },
  sources: { type: "boolean" },
  "dos-timeout": { type: "string" },
  "dos-min-packets": { type: "string" },
  "dos-min-duration": { type: "string" },
  "dos-min-window": { type: "string" },
  quiet: { type: "boolean" },
} as const;

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch {
    return false;
  }
}

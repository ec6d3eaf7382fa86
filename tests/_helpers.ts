// Shared test helpers: feed bytes through the pcap stream in chosen chunk sizes and flatten
// the batches into plain rows, so tests can compare whole results.

import type { PacketBatch } from "../src/decode/packet_batch.ts";
import { PcapDecoderStream } from "../src/capture/pcap_decoder_stream.ts";

/** One decoded packet as a plain object. */
export interface Row {
  sec: number;
  nsec: number;
  capLen: number;
  origLen: number;
  linkType: number;
  ipVersion: number;
  problem: number;
  src: number;
  dst: number;
  proto: number;
  traffic: number;
  port: number;
  srcPort: number;
  dstPort: number;
  ttl: number;
  ipId: number;
  tcpSeq: number;
  tcpFlags: number;
  tcpWindow: number;
  tcpOptLen: number;
  frame: string;
  src6: string;
}

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

/** Flattens a batch into rows. */
export function rows(b: PacketBatch): Row[] {
  const out: Row[] = [];
  for (let i = 0; i < b.length; i++) {
    out.push({
      sec: b.tsSec[i],
      nsec: b.tsNsec[i],
      capLen: b.capLen[i],
      origLen: b.origLen[i],
      linkType: b.linkType[i],
      ipVersion: b.ipVersion[i],
      problem: b.problem[i],
      src: b.src[i],
      dst: b.dst[i],
      proto: b.proto[i],
      traffic: b.traffic[i],
      port: b.port[i],
      srcPort: b.srcPort[i],
      dstPort: b.dstPort[i],
      ttl: b.ttl[i],
      ipId: b.ipId[i],
      tcpSeq: b.tcpSeq[i],
      tcpFlags: b.tcpFlags[i],
      tcpWindow: b.tcpWindow[i],
      tcpOptLen: b.tcpOptLen[i],
      frame: hex(b.frame(i)),
      src6: b.ipVersion[i] === 6 ? hex(b.src6.subarray(i * 16, i * 16 + 16)) : "",
    });
  }
  return out;
}

/** Splits `bytes` into chunks of `size` (the last may be shorter). */
export function chunks(bytes: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let o = 0; o < bytes.length; o += size) out.push(bytes.slice(o, o + size));
  return out;
}

/** Decodes `bytes` fed in chunks of `size`; returns every row and the error, if any. */
export async function decode(
  bytes: Uint8Array,
  size = bytes.length || 1,
  name = "test.pcap",
): Promise<{ rows: Row[]; error?: Error; batches: number }> {
  const out: Row[] = [];
  let batches = 0;
  try {
    const s = ReadableStream.from(chunks(bytes, size)).pipeThrough(new PcapDecoderStream({ name }));
    for await (const b of s) {
      batches++;
      out.push(...rows(b));
    }
  } catch (e) {
    return { rows: out, error: e as Error, batches };
  }
  return { rows: out, batches };
}

/** Runs a CLI entry point with `deno run` and the given Deno flags (see `denoFlags`). */
export async function runCli(
  entry: string,
  args: string[],
  perms: string[],
  stdin?: Uint8Array,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const cmd = new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", ...perms, entry, ...args],
    env: { RUST_BACKTRACE: "0", NO_COLOR: "1" },
    stdin: stdin ? "piped" : "null",
    stdout: "piped",
    stderr: "piped",
  });
  const child = cmd.spawn();
  if (stdin) {
    const w = child.stdin.getWriter();
    await w.write(stdin);
    await w.close();
  }
  const r = await child.output();
  const td = new TextDecoder();
  return { code: r.code, stdout: td.decode(r.stdout), stderr: td.decode(r.stderr) };
}

/** A seeded xorshift32 generator: each call `rnd(n)` gives the next integer in [0, n). */
export function xorshift(seed: number): (n: number) => number {
  let x = seed;
  return (n: number) => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % n;
  };
}

/**
 * Event objects (Merit's keys) in key order — IPv4 before IPv6, then source, traffic, port — for
 * tests about what events hold rather than their order (files are in event order: last packet,
 * then key).
 */
// deno-lint-ignore no-explicit-any
export function byKey<T extends Record<string, any>>(events: T[]): T[] {
  const key = (e: T): [number, bigint, number, number] => {
    const ip = String(e.SourceIP);
    let n = 0n;
    if (ip.includes(":")) {
      const [head, tail = ""] = ip.split("::");
      const h = head ? head.split(":") : [];
      const t = tail ? tail.split(":") : [];
      const all = ip.includes("::") ? [...h, ...Array(8 - h.length - t.length).fill("0"), ...t] : h;
      for (const g of all) n = (n << 16n) | BigInt(parseInt(g, 16));
      return [6, n, Number(e.Traffic), Number(e.Port)];
    }
    for (const o of ip.split(".")) n = (n << 8n) | BigInt(o);
    return [4, n, Number(e.Traffic), Number(e.Port)];
  };
  return [...events].sort((a, b) => {
    const x = key(a);
    const y = key(b);
    return x[0] - y[0] || (x[1] < y[1] ? -1 : x[1] > y[1] ? 1 : 0) || x[2] - y[2] || x[3] - y[3];
  });
}

/** Whether a path exists (any kind of file). */
export function exists(p: string): boolean {
  try {
    Deno.statSync(p);
    return true;
  } catch {
    return false;
  }
}

/**
 * A new temporary directory, removed when the test module ends (pass or fail): the captures
 * and state files tests write there run to hundreds of megabytes a module.
 */
export function tempDir(prefix = "darknet-test-"): string {
  const dir = Deno.makeTempDirSync({ prefix });
  globalThis.addEventListener("unload", () => {
    try {
      Deno.removeSync(dir, { recursive: true });
    } catch { /* removed already */ }
  });
  return dir;
}

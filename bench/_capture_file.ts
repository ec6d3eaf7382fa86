// Creates (once) and caches the benchmark captures under bench/.cache.

import { createGzip } from "node:zlib";
import { generateScenario } from "../src/synth/scenario.ts";
import { generateFlood } from "../src/synth/flood.ts";

/** Paths of the plain and gzip benchmark captures with `packets` packets (created if missing). */
export async function benchCapture(
  packets: number,
  seed = 1,
): Promise<{ pcap: string; gz: string }> {
  const dir = new URL("./.cache/", import.meta.url).pathname;
  await Deno.mkdir(dir, { recursive: true });
  const pcap = `${dir}scenario-${packets}-${seed}.pcap`;
  const gz = `${pcap}.gz`;
  const exists = (p: string) => {
    try {
      return Deno.statSync(p).size > 0;
    } catch {
      return false;
    }
  };
  if (!exists(pcap)) {
    console.error(`generating ${pcap} …`);
    const f = await Deno.open(pcap + ".tmp", { write: true, create: true, truncate: true });
    const pending: Uint8Array[] = [];
    generateScenario({ packets, seed }, (b) => pending.push(b.slice()));
    for (const b of pending) await f.write(b);
    f.close();
    await Deno.rename(pcap + ".tmp", pcap);
  }
  if (!exists(gz)) {
    console.error(`compressing ${gz} …`);
    const src = await Deno.open(pcap);
    const dst = await Deno.open(gz + ".tmp", { write: true, create: true, truncate: true });
    const z = createGzip({ level: 6 });
    const done = new Promise<void>((res, rej) => {
      z.on("data", (b: Uint8Array) => dst.writeSync(b));
      z.on("end", res);
      z.on("error", rej);
    });
    for await (const chunk of src.readable) {
      if (!z.write(chunk)) await new Promise((r) => z.once("drain", r));
    }
    z.end();
    await done;
    dst.close();
    await Deno.rename(gz + ".tmp", gz);
  }
  return { pcap, gz };
}

/**
 * Path of a flood capture (every packet from a new source; see src/synth/flood.ts) with
 * `packets` packets, IPv4 or IPv6, 100 µs apart (created if missing).
 */
export async function floodCapture(packets: number, ipv6: boolean): Promise<string> {
  const dir = new URL("./.cache/", import.meta.url).pathname;
  await Deno.mkdir(dir, { recursive: true });
  const path = `${dir}flood-${packets}-v${ipv6 ? 6 : 4}-100.pcap`;
  try {
    if (Deno.statSync(path).size > 0) return path;
  } catch { /* not made yet */ }
  console.error(`generating ${path} …`);
  const f = await Deno.open(path + ".tmp", { write: true, create: true, truncate: true });
  generateFlood({ packets, ipv6, gapMicros: 100 }, (b) => {
    let o = 0;
    while (o < b.length) o += f.writeSync(b.subarray(o));
  });
  f.close();
  await Deno.rename(path + ".tmp", path);
  return path;
}

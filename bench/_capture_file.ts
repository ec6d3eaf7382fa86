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

/**
 * A day of traffic (`packets` packets over 24 hours, the scenario generator's sources) as 24
 * hourly pcap files, as a telescope stores them (created once under bench/.cache).
 */
export function dayCaptures(packets: number, seed = 1): string[] {
  const dir = new URL(`./.cache/day-${packets}-${seed}/`, import.meta.url).pathname;
  const files = Array.from({ length: 24 }, (_, h) => `${dir}h${String(h).padStart(2, "0")}.pcap`);
  try {
    if (files.every((f) => Deno.statSync(f).isFile)) return files;
  } catch { /* made below */ }
  console.error(`generating ${dir} …`);
  Deno.mkdirSync(dir, { recursive: true });
  let out: Deno.FsFile | undefined;
  let hour = -1;
  let head: Uint8Array | undefined;
  let t0 = -1;
  generateScenario({ packets, seed, duration: 86400 }, (b) => {
    // The writer hands out the pcap header first, then whole records.
    let p = 0;
    if (!head) {
      head = b.slice(0, 24);
      p = 24;
    }
    const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    while (p + 16 <= b.length) {
      const sec = dv.getUint32(p, true);
      const len = dv.getUint32(p + 8, true);
      if (t0 < 0) t0 = sec;
      const h = Math.min(23, Math.floor((sec - t0) / 3600));
      if (h !== hour) {
        out?.close();
        hour = h;
        out = Deno.openSync(files[h], { write: true, create: true, truncate: true });
        out.writeSync(head);
      }
      const rec = b.subarray(p, p + 16 + len);
      let o = 0;
      while (o < rec.length) o += out!.writeSync(rec.subarray(o));
      p += 16 + len;
    }
  });
  out?.close();
  for (const f of files) {
    try {
      Deno.statSync(f);
    } catch {
      Deno.writeFileSync(f, head!); // an hour without packets
    }
  }
  return files;
}

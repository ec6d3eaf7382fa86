import { deepEqual, equal, match, ok } from "node:assert/strict";
import { gzipSync } from "node:zlib";
import { captureBatches } from "../../src/capture/open_capture.ts";
import { DataError } from "../../src/errors.ts";
import { GunzipStream } from "../../src/io/gunzip_stream.ts";
import { ethernet, ipv4Packet } from "../../src/synth/frames.ts";
import { concat, pcapFile, type WritePacket } from "../../src/synth/pcap_writer.ts";
import { tempDir } from "../_helpers.ts";

const dir = tempDir("gz-test-");

function capture(n: number): Uint8Array {
  const pk: WritePacket[] = [];
  for (let i = 0; i < n; i++) {
    pk.push({
      sec: 1000 + i,
      nsec: 0,
      data: ethernet(ipv4Packet({ src: 0x01020304 + i, dst: 0x0a000000 + i, proto: 6, dport: 23 })),
    });
  }
  return pcapFile(pk, { linkType: 1 });
}

async function count(path: string): Promise<{ packets: number; error?: unknown }> {
  let packets = 0;
  try {
    for await (const b of await captureBatches([path], { chunkSize: 4096 })) packets += b.length;
  } catch (e) {
    return { packets, error: e };
  }
  return { packets };
}

Deno.test("multi-member gzip decodes completely", async () => {
  const cap = capture(3000);
  const third = Math.floor(cap.length / 3);
  const gz = concat(
    [cap.subarray(0, third), cap.subarray(third, 2 * third), cap.subarray(2 * third)].map((p) =>
      new Uint8Array(gzipSync(p))
    ),
  );
  const out = await new Response(ReadableStream.from([gz]).pipeThrough(new GunzipStream()))
    .arrayBuffer();
  deepEqual(new Uint8Array(out), cap);
  Deno.writeFileSync(`${dir}/multi.pcap`, gz); // compressed, whatever the name says
  deepEqual(await count(`${dir}/multi.pcap`), { packets: 3000 });
});

Deno.test("truncated gzip: every packet before the cut is counted, then a clear error", async () => {
  const cap = capture(5000);
  const gz = new Uint8Array(gzipSync(cap, { level: 1 }));
  const cut = gz.subarray(0, Math.floor(gz.length * 0.6));
  Deno.writeFileSync(`${dir}/cut.pcap.gz`, cut);
  const r = await count(`${dir}/cut.pcap.gz`);
  ok(r.error instanceof DataError);
  match((r.error as Error).message, new RegExp(`^${dir}/cut\\.pcap\\.gz: truncated gzip stream`));
  // All complete records inside the decompressible prefix were counted.
  const { inflateRawSync } = await import("node:zlib");
  let avail = 0;
  try {
    avail = inflateRawSync(cut.subarray(10), { finishFlush: 2 }).length;
  } catch { /* partial stream */ }
  const complete = Math.floor((avail - 24) / 70);
  ok(r.packets >= complete - 1 && r.packets <= 5000, `${r.packets} vs ~${complete}`);
  ok(r.packets > 2000, `only ${r.packets} packets kept`);
});

Deno.test("corrupt gzip data names the file", async () => {
  const gz = new Uint8Array(gzipSync(capture(100)));
  gz[40] ^= 0xff;
  gz[41] ^= 0xff;
  Deno.writeFileSync(`${dir}/bad.gz`, gz);
  const r = await count(`${dir}/bad.gz`);
  ok(r.error instanceof DataError, String(r.error));
  match((r.error as Error).message, /bad\.gz: /);
  equal((r.error as Error).message.includes("\n"), false);
});

Deno.test("WorkerGunzipStream: multi-member output identical to GunzipStream; truncation kept as an error", async () => {
  const { WorkerGunzipStream } = await import("../../src/io/worker_gunzip_stream.ts");
  const cap = capture(20000);
  const third = Math.floor(cap.length / 3);
  const gz = concat(
    [cap.subarray(0, third), cap.subarray(third)].map((p) => new Uint8Array(gzipSync(p))),
  );
  const chunks = (b: Uint8Array) =>
    Array.from({ length: Math.ceil(b.length / 7000) }, (_, i) => b.slice(i * 7000, (i + 1) * 7000));
  const w = new WorkerGunzipStream({ name: "w.gz" });
  const out = new Uint8Array(
    await new Response(ReadableStream.from(chunks(gz)).pipeThrough(w)).arrayBuffer(),
  );
  deepEqual(out, cap);
  equal(w.error, undefined);
  const cut = new WorkerGunzipStream({ name: "cut.gz" });
  const partial = new Uint8Array(
    await new Response(ReadableStream.from(chunks(gz.subarray(0, gz.length >> 2))).pipeThrough(cut))
      .arrayBuffer(),
  );
  ok(partial.length > 0 && partial.length < cap.length);
  deepEqual(partial, cap.subarray(0, partial.length));
  match(cut.error!.message, /^cut\.gz: truncated gzip stream/);
  // The offset counts every compressed byte read (each chunk is transferred to the worker, so
  // its size must be taken before), as GunzipStream's does.
  equal(cut.error!.message, `cut.gz: truncated gzip stream (at compressed byte ${gz.length >> 2})`);
});

Deno.test("GunzipStream with a pool inflates into the pool's buffers and reuses them (no buffer per output megabyte)", async () => {
  // 12 MB of varied bytes in three gzip members, fed in 64 KiB compressed chunks.
  const plain = new Uint8Array(12 << 20);
  let x = 7;
  for (let i = 0; i < plain.length; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    plain[i] = x & 15;
    plain[i + 1] = i >>> 12;
  }
  const m = plain.length / 3;
  const gz = concat(
    [0, 1, 2].map((k) => new Uint8Array(gzipSync(plain.subarray(k * m, (k + 1) * m)))),
  );
  const free: Uint8Array[] = [];
  const lent = new Set<ArrayBufferLike>();
  let created = 0;
  const pool = {
    takeChunk: (size: number) => {
      const b = free.pop() ?? (created++, new Uint8Array(size));
      lent.add(b.buffer);
      return b;
    },
    lent: () => false,
    giveChunk: (b: Uint8Array) => void free.push(new Uint8Array(b.buffer)),
  };
  const chunks: Uint8Array[] = [];
  for (let at = 0; at < gz.length; at += 65536) chunks.push(gz.subarray(at, at + 65536));
  let at = 0;
  let outputs = 0;
  for await (const out of ReadableStream.from(chunks).pipeThrough(new GunzipStream({ pool }))) {
    ok(lent.has(out.buffer), "an output buffer the pool did not lend");
    deepEqual(out, plain.subarray(at, at + out.length));
    at += out.length;
    outputs++;
    pool.giveChunk(out); // the consumer is done with it
  }
  equal(at, plain.length);
  ok(created >= 1 && created <= 3, `${created} output buffers for 12 MB`);
  // 186 small inputs, yet only full 1 MiB chunks leave (a partly filled one waits for more).
  equal(outputs, 12);
});

Deno.test("inflateAll: whole multi-member files, output far beyond 4× the input, truncation and corruption as errors", async () => {
  const { inflateAll } = await import("../../src/io/_inflate.ts");
  const text = new TextEncoder().encode("10.0.0.0\t8\t64500\n".repeat(100000)); // compresses ~200×
  const gz = concat(
    [gzipSync(text.subarray(0, 700000)), gzipSync(text.subarray(700000))].map((b) =>
      new Uint8Array(b)
    ),
  );
  deepEqual(inflateAll(gz), text);
  match(
    String(assertThrowsMessage(() => inflateAll(gz.subarray(0, gz.length - 9)))),
    /unexpected end/,
  );
  const bad = gz.slice();
  bad[20] ^= 0xff;
  ok(assertThrowsMessage(() => inflateAll(bad)).length > 0);
});

function assertThrowsMessage(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error("no error");
}

Deno.test("gzip captures are read a quarter chunk at a time; plain ones in whole chunks", async () => {
  const { openCapture } = await import("../../src/capture/open_capture.ts");
  const { DEFAULT_CHUNK_SIZE } = await import("../../src/io/file_source.ts");
  const plain = `${dir}/q.pcap`;
  Deno.writeFileSync(plain, capture(50000));
  Deno.writeFileSync(`${plain}.gz`, gzipSync(Deno.readFileSync(plain)));
  for (
    const [path, want] of [[plain, DEFAULT_CHUNK_SIZE], [`${plain}.gz`, DEFAULT_CHUNK_SIZE / 4]]
  ) {
    const cap = await openCapture(path as string);
    equal(cap.source.chunkSize, want);
    let n = 0;
    for await (const b of cap.batches) n += b.length;
    equal(n, 50000);
  }
});

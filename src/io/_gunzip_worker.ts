// Worker side of WorkerGunzipStream: inflates the chunks it is sent and posts the output back
// (transferred, so nothing is left here for the collector). Chunks arrive and leave in order;
// "end" finishes the stream (a truncated one fails there).

/// <reference lib="deno.worker" />

import { Inflate } from "./_inflate.ts";

const inflate = new Inflate();
const take = () => new Uint8Array(1 << 20);
const emit = (buf: Uint8Array, n: number) => {
  if (n === 0) return;
  const chunk = buf.subarray(0, n);
  self.postMessage({ type: "data", chunk }, [buf.buffer as ArrayBuffer]);
};

self.onmessage = (ev: MessageEvent) => {
  const m = ev.data as { type: string; chunk?: Uint8Array; id?: number };
  if (m.type === "data") {
    inflate.write(m.chunk!, take, emit);
    self.postMessage({ type: "ack", id: m.id, failure: inflate.failure });
  } else if (m.type === "end") {
    inflate.finish(take, emit);
    self.postMessage({ type: "end", failure: inflate.failure });
  }
};

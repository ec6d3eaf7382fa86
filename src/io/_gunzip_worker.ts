// Worker side of WorkerGunzipStream: decompresses the chunks it is sent with node:zlib and posts
// the output back (transferred). Chunks arrive and leave in order; "end" flushes.

/// <reference lib="deno.worker" />

import { constants, createGunzip } from "node:zlib";

const gz = createGunzip({ chunkSize: 1 << 20 });
let failure: string | undefined;
gz.on("data", (b: Uint8Array) => {
  // zlib reuses its output buffer: copy before transferring (Buffer#slice would not copy).
  const copy = new Uint8Array(b);
  self.postMessage({ type: "data", chunk: copy }, [copy.buffer as ArrayBuffer]);
});
gz.on("error", (e: Error) => failure ??= (e.message || "corrupt gzip data").split("\n")[0]);

self.onmessage = (ev: MessageEvent) => {
  const m = ev.data as { type: string; chunk?: Uint8Array; id?: number };
  if (m.type === "data") {
    if (failure) return self.postMessage({ type: "ack", id: m.id, failure });
    gz.write(m.chunk!, () => self.postMessage({ type: "ack", id: m.id, failure }));
  } else if (m.type === "end") {
    if (failure) return self.postMessage({ type: "end", failure });
    gz.once("end", () => self.postMessage({ type: "end", failure }));
    gz.once("error", () => self.postMessage({ type: "end", failure }));
    // Flush first: output that zlib still holds would be dropped if finishing raises an error
    // (a truncated stream), and it is good data.
    gz.flush(constants.Z_SYNC_FLUSH, () => gz.end());
  }
};

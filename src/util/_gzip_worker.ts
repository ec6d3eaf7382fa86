// Worker side of GzipPieces (state_container.ts): compresses each piece it is sent into one gzip
// member and posts it back (transferred), in the order the pieces came.

/// <reference lib="deno.worker" />

import { gzipSync } from "node:zlib";

self.onmessage = (ev: MessageEvent) => {
  const { id, piece } = ev.data as { id: number; piece: Uint8Array };
  // A copy: gzipSync may return a view of a shared pool, which must not be transferred.
  const body = new Uint8Array(gzipSync(piece, { level: 1 }));
  self.postMessage({ id, body }, [body.buffer]);
};

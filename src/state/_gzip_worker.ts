// Worker side of GzipPieces (state_container.ts): compresses each piece it is sent into one gzip
// member and posts it back (transferred), in the order the pieces came, counting the pieces done
// in a shared word that the sender reads without waiting for the messages.

/// <reference lib="deno.worker" />

import { gzipMember } from "./_gzip_member.ts";

let done: Int32Array | undefined;

self.onmessage = (ev: MessageEvent) => {
  const { id, piece, counter } = ev.data as {
    id: number;
    piece: Uint8Array;
    counter?: Int32Array;
  };
  if (counter) {
    done = counter;
    return;
  }
  const body = gzipMember(piece);
  self.postMessage({ id, body }, [body.buffer]);
  if (done) Atomics.add(done, 0, 1);
};

// node:zlib, loaded on first use. Loading it takes 30–45 ms (Deno starts part of its Node
// compatibility layer for it) and most runs never need it: a parse of plain captures without
// state files, or the capture worker of a plain capture. A static import would make every start
// pay (and the capture worker's start is on the way to the first packet); `getBuiltinModule`
// loads it synchronously where gzip or a state file is first touched.

import type * as Zlib from "node:zlib";

type Process = { getBuiltinModule(id: string): unknown };
let loaded: typeof Zlib | undefined;

/** node:zlib, loaded on the first call. */
export function zlib(): typeof Zlib {
  return loaded ??= (globalThis as unknown as { process: Process }).process
    .getBuiltinModule("node:zlib") as typeof Zlib;
}

// The floor under any merge step of the split benchmark: a process that starts, checks the
// blocks (readBlock: version and every SHA-256, as `parse --merge` does) and copies their event
// lines into one JSON array, with no boundary work at all (no open events loaded, joined or
// ended). `deno task bench --only split` times it beside the merge; BENCHMARKS.md ("Targets",
// issue 18) compares both with a sequential run.
//
//   deno run --allow-read --allow-write bench/_merge_floor.ts OUT BLOCK...

import { INDEX_ENTRY, readBlock } from "../src/split/block_result.ts";

const [outPath, ...dirs] = Deno.args;
const out = Deno.openSync(outPath, { write: true, create: true, truncate: true });
const buf = new Uint8Array(1 << 16);
let used = 0;
const put = (b: Uint8Array) => {
  if (used + b.length > buf.length) {
    out.writeSync(buf.subarray(0, used));
    used = 0;
  }
  if (b.length > buf.length) out.writeSync(b);
  else {
    buf.set(b, used);
    used += b.length;
  }
};
const te = new TextEncoder();
const [open, sep, close] = [te.encode("[\n"), te.encode(",\n"), te.encode("\n]\n")];
put(open);
let first = true;
for (const b of await Promise.all(dirs.map(readBlock))) {
  const f = Deno.openSync(b.events);
  const data = new Uint8Array(1 << 20);
  let have = 0;
  let at = 0;
  for (let i = 0; i < b.header.events; i++) {
    const len = b.index.getUint32(i * INDEX_ENTRY + 36, true);
    while (have - at < len) {
      data.copyWithin(0, at, have);
      have -= at;
      at = 0;
      const n = f.readSync(data.subarray(have));
      if (n === null) throw new Error(`${b.events}: shorter than its index`);
      have += n;
    }
    if (!first) put(sep);
    first = false;
    put(data.subarray(at, at + len - 1)); // without its newline
    at += len;
  }
  f.close();
}
put(close);
out.writeSync(buf.subarray(0, used));
out.close();

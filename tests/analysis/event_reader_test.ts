import { deepEqual, equal, match, ok } from "node:assert/strict";
import { gzipSync } from "node:zlib";
import { readEvents } from "../../src/analysis/event_reader.ts";
import { DataError } from "../../src/errors.ts";

const dir = Deno.makeTempDirSync({ prefix: "reader-" });
const ev = (i: number) => ({
  SourceIP: `192.0.2.${i}`,
  Port: i,
  Traffic: 11,
  Packets: i,
  Samples: ['a}b{"c'],
});

async function all(paths: string[]) {
  const out: [string, number, number][] = [];
  for await (const r of readEvents(paths)) out.push([r.event.SourceIP, r.event.Packets, r.line]);
  return out;
}

Deno.test("JSON arrays in any layout, NDJSON and gzip, mixed in one run, with line numbers", async () => {
  Deno.writeTextFileSync(
    `${dir}/a.json`,
    `[\n${[1, 2].map((i) => JSON.stringify(ev(i))).join(",\n")}\n]\n`,
  );
  Deno.writeTextFileSync(`${dir}/b.json`, JSON.stringify([ev(3), ev(4)], null, 2)); // Go-style indented array
  Deno.writeTextFileSync(
    `${dir}/c.ndjson`,
    [5, 6].map((i) => JSON.stringify(ev(i))).join("\n") + "\n",
  );
  Deno.writeFileSync(
    `${dir}/d.json.gz`,
    gzipSync(new TextEncoder().encode(JSON.stringify([ev(7)]))),
  );
  Deno.writeTextFileSync(`${dir}/e.json`, "[]\n");
  const r = await all([
    `${dir}/a.json`,
    `${dir}/b.json`,
    `${dir}/c.ndjson`,
    `${dir}/d.json.gz`,
    `${dir}/e.json`,
  ]);
  deepEqual(r.map((x) => x[1]), [1, 2, 3, 4, 5, 6, 7]);
  deepEqual(r.map((x) => x[2]), [2, 3, 2, 11, 1, 2, 1]);
});

Deno.test("malformed event files fail with file and line", async () => {
  const bad = async (text: string, re: RegExp) => {
    const p = `${dir}/bad-${Math.random()}.json`;
    Deno.writeTextFileSync(p, text);
    let err: unknown;
    try {
      await all([p]);
    } catch (e) {
      err = e;
    }
    ok(err instanceof DataError, String(err));
    match(err.message, re);
    ok(err.message.startsWith(p));
  };
  await bad('[\n{"a":1},\n{"a":tru}\n]', /line 3: malformed event/);
  await bad('[\n{"a":1},\nxyz\n]', /line 3: unexpected "x" between events/);
  await bad('[\n{"a":1},\n{"a":', /line 3: the file ends inside an event/);
  equal((await all([`${dir}/a.json`])).length, 2);
});

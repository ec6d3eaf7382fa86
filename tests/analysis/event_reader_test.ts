import { deepEqual, equal, match, ok } from "node:assert/strict";
import { gzipSync } from "node:zlib";
import {
  type InvalidEvents,
  readEventBuffer,
  readEvents,
  skipping,
} from "../../src/analysis/event_reader.ts";
import { DataError } from "../../src/errors.ts";
import { tempDir } from "../_helpers.ts";

const dir = tempDir("reader-");
const ev = (i: number) => ({
  SourceIP: `192.0.${i >> 8}.${i & 255}`,
  Port: i,
  Traffic: 11,
  First: "2020-10-21T16:00:00Z",
  Last: "2020-10-21T16:00:01.5Z",
  Packets: i,
  Bytes: 60 * i,
  UniqueDests: 1,
  Samples: ['a}b{"c\\', 'q\\"]'],
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
  deepEqual(r.map((x) => x[2]), [2, 3, 2, 16, 1, 2, 1]);
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
  const one = JSON.stringify(ev(1));
  await bad(`[\n${one},\n{"a":tru}\n]`, /line 3: malformed event/);
  await bad(`[\n${one},\nxyz\n]`, /line 3: unexpected "x" between events/);
  await bad(`[\n${one},\n{"a":`, /byte \d+: the file ends inside the event starting at line 3/);
  equal((await all([`${dir}/a.json`])).length, 2);
});

Deno.test("several events on one line (jq -c, json.dumps, Go's json.Marshal), concatenated objects, escapes across chunk ends", async () => {
  const evs = Array.from({ length: 3000 }, (_, i) => ev(i + 1));
  Deno.writeTextFileSync(`${dir}/one-line.json`, JSON.stringify(evs)); // ~1 MB on one line
  Deno.writeTextFileSync(
    `${dir}/concat.json`,
    evs.slice(0, 5).map((e) => JSON.stringify(e)).join(""),
  );
  // Python's json.dumps separators: ", " and ": ".
  const py = (e: object) =>
    `{${
      Object.entries(e).map(([k, v]) => `${JSON.stringify(k)}: ${JSON.stringify(v)}`).join(", ")
    }}`;
  Deno.writeTextFileSync(`${dir}/py.json`, `[${evs.slice(0, 2).map(py).join(", ")}]`);
  deepEqual((await all([`${dir}/one-line.json`])).map((x) => x[1]), evs.map((e) => e.Packets));
  deepEqual((await all([`${dir}/concat.json`])).map((x) => x[1]), [1, 2, 3, 4, 5]);
  deepEqual((await all([`${dir}/py.json`])).map((x) => x[1]), [1, 2]);
  const gz = gzipSync(new TextEncoder().encode(JSON.stringify(evs)));
  Deno.writeFileSync(`${dir}/one-line.json.gz`, gz);
  deepEqual((await all([`${dir}/one-line.json.gz`])).length, 3000);
  // Chunk boundaries everywhere: inside strings, right after each backslash, between a
  // backslash and the quote it escapes, inside numbers and keys. (Two arrays one after the
  // other, as `cat a.json b.json` gives.)
  const text = new TextEncoder().encode(
    `[\n${JSON.stringify(evs[0])}\n]\n${JSON.stringify(evs.slice(1, 4))}\n`,
  );
  for (const size of [1, 2, 3, 5, 7, 13, 64]) {
    const pieces = Array.from(
      { length: Math.ceil(text.length / size) },
      (_, k) => text.slice(k * size, (k + 1) * size),
    );
    const got: [number, number][] = [];
    for await (const r of readEventBuffer(ReadableStream.from(pieces), "x")) {
      got.push([r.event.Packets, r.line]);
      deepEqual(r.event.Samples, ev(1).Samples);
    }
    deepEqual(got, [[1, 2], [2, 4], [3, 4], [4, 4]], `chunks of ${size}`);
  }
});

Deno.test("every field count and timeseries use is checked, with file and line", async () => {
  const cases: [unknown, RegExp][] = [
    [{}, /not an event: no "SourceIP" \(an object with keys none\)/],
    [{ events: [ev(1)] }, /not an event: no "SourceIP" \(an object with keys events\)/],
    [{ ...ev(1), SourceIP: null }, /field "SourceIP": expected an IPv4 or IPv6 address, got null/],
    [{ ...ev(1), Packets: "5" }, /field "Packets": expected a whole number ≥ 0, got "5"/],
    [{ ...ev(1), Packets: -1 }, /field "Packets"/],
    [{ ...ev(1), Bytes: 1.5 }, /field "Bytes"/],
    [{ ...ev(1), Traffic: 200.5 }, /field "Traffic"/],
    [{ ...ev(1), Port: 70000 }, /field "Port": expected a port from 0 to 65535/],
    [{ ...ev(1), First: 1603296000 }, /field "First": expected an RFC 3339 time, got 1603296000/],
    [{ ...ev(1), Last: "yesterday" }, /field "Last"/],
    [{ ...ev(1), Country: 7 }, /field "Country": expected a string, got 7/],
    [{ ...ev(1), ASN: "AS1" }, /field "ASN"/],
    [{ ...ev(1), Zmap: "true" }, /field "Zmap": expected true or false/],
  ];
  for (const [obj, re] of cases) {
    const p = `${dir}/field-${Math.random()}.json`;
    Deno.writeTextFileSync(p, `[\n${JSON.stringify(ev(1))},\n${JSON.stringify(obj)}\n]\n`);
    let err: unknown;
    try {
      await all([p]);
    } catch (e) {
      err = e;
    }
    ok(err instanceof DataError, `${JSON.stringify(obj)}: ${err}`);
    match(err.message, new RegExp(`^${p.replaceAll(".", "\\.")}: line 3: `));
    match(err.message, re);
  }
});

Deno.test("skipInvalid: bad events and a torn last event are counted and passed over", async () => {
  const p = `${dir}/torn.ndjson`;
  Deno.writeTextFileSync(
    p,
    `${JSON.stringify(ev(1))}\n${JSON.stringify({ ...ev(2), Packets: "x" })}\n${
      JSON.stringify(ev(3))
    }\n{"SourceIP":"192.0`,
  );
  const tally: InvalidEvents = { count: 0 };
  const got: number[] = [];
  for await (const r of readEvents([p], skipping(tally))) got.push(r.event.Packets);
  deepEqual(got, [1, 3]);
  equal(tally.count, 2);
  match(tally.first!, /line 2: field "Packets"/);
});

Deno.test("bounded: an event over the limit is refused, a long file of short events is not; captures and folders are named", async () => {
  const big = { ...ev(1), Samples: ["A".repeat(200000)] };
  const p = `${dir}/big.json`;
  Deno.writeTextFileSync(p, `[${JSON.stringify(ev(2))},${JSON.stringify(big)}]`);
  let err: unknown;
  try {
    for await (const _ of readEvents([p], { maxEventBuffer: 100000 })) { /* read */ }
  } catch (e) {
    err = e;
  }
  match(String(err), /big\.json: line 1: event larger than 100000 bytes/);
  const tally: InvalidEvents = { count: 0 };
  const got: number[] = [];
  for await (const r of readEvents([p], skipping(tally, 100000))) got.push(r.event.Packets);
  deepEqual(got, [2]);
  equal(tally.count, 1);
  Deno.writeFileSync(`${dir}/cap.pcap`, Uint8Array.of(0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0));
  err = undefined;
  try {
    await all([`${dir}/cap.pcap`]);
  } catch (e) {
    err = e;
  }
  match(
    String(err),
    /cap\.pcap: byte 0: a pcap capture, not an event file \(count --pcap reads captures\)/,
  );
  err = undefined;
  try {
    await all([dir]);
  } catch (e) {
    err = e;
  }
  match(String(err), /: is a directory$/);
});

Deno.test("a 64 MB line and a gzip bomb of white space are read in linear time and bounded memory", async () => {
  const one = new TextEncoder().encode(JSON.stringify(ev(9)));
  const spaces = new Uint8Array(64 << 20).fill(32);
  const line = new Uint8Array(spaces.length + one.length + 1);
  line.set(spaces);
  line.set(one, spaces.length);
  line[line.length - 1] = 10;
  Deno.writeFileSync(`${dir}/long-line.json`, line);
  Deno.writeFileSync(`${dir}/bomb.json.gz`, gzipSync(line, { level: 9 }));
  ok(Deno.statSync(`${dir}/bomb.json.gz`).size < 1 << 20);
  for (const f of ["long-line.json", "bomb.json.gz"]) {
    const before = Deno.memoryUsage().rss;
    const t0 = performance.now();
    const got = await all([`${dir}/${f}`]);
    deepEqual(got.map((x) => [x[1], x[2]]), [[9, 1]], f);
    // Bounds against a runaway, not a speed figure: ~0.3 s here; quadratic took minutes.
    ok(performance.now() - t0 < 30_000, f);
    ok(Deno.memoryUsage().rss - before < 150e6, `${f}: ${Deno.memoryUsage().rss - before}`);
  }
});

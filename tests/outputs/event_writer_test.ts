import { equal } from "node:assert/strict";
import { DarknetEvent } from "../../src/model/darknet_event.ts";
import { EventWriter } from "../../src/outputs/event_writer.ts";
import { jsonArray } from "../../src/outputs/json_array.ts";
import { ndjson as NDJSON } from "../../src/outputs/ndjson.ts";
import { tempDir, xorshift } from "../_helpers.ts";

Deno.test("EventWriter writes exactly JSON.stringify of each event (array and NDJSON), for every kind of field value", async () => {
  const events: DarknetEvent[] = [];
  const strings = [
    "",
    "GOOGLE - Google LLC",
    "del\u007f",
    "Zürich",
    'a "quoted" \\ back\\slash',
    "line\nbreak\ttab\u0001",
    "東京",
    "😀",
  ];
  const rnd = xorshift(3);
  for (let i = 0; i < 500; i++) {
    const e = new DarknetEvent();
    if (rnd(4) === 0) {
      e.version = 6;
      e.src6 = new Uint8Array(16).map(() => rnd(3) === 0 ? 0 : rnd(256));
    } else e.src = rnd(2 ** 32);
    e.traffic = rnd(40);
    e.port = rnd(65536);
    e.firstSec = 1603296000 + rnd(1e6);
    e.firstNsec = rnd(1e9);
    e.lastSec = e.firstSec + rnd(5000);
    e.lastNsec = rnd(1e9);
    e.packets = rnd(3) === 0 ? 2 ** 40 + rnd(1000) : rnd(1e6);
    e.bytes = e.packets * 60;
    e.uniqueDests = rnd(1e5);
    e.uniqueDest24s = rnd(1e3);
    e.lat = [0, 47.3769, -33.8688, NaN, Infinity][rnd(5)];
    e.long = [0, 8.5417, -151.2093, 1e-7][rnd(4)];
    e.country = strings[rnd(strings.length)];
    e.city = strings[rnd(strings.length)];
    e.asn = rnd(400000);
    e.org = strings[rnd(strings.length)];
    e.prefix = rnd(2) ? "" : "198.51.100.0/24";
    e.rdns = rnd(3) === 0
      ? null
      : Array.from({ length: rnd(3) }, () => strings[rnd(strings.length)]);
    e.fingerprints = rnd(8);
    e.samples = Array.from({ length: rnd(4) }, () => new Uint8Array(rnd(100)).map(() => rnd(256)));
    events.push(e);
  }
  // A frame bigger than the writer's buffer, and an IPv6 source.
  const big = new DarknetEvent();
  big.samples = [new Uint8Array(200000).map((_, i) => i * 7)];
  events.push(big);
  const dir = tempDir();
  for (const ndjson of [false, true]) {
    const w = await EventWriter.create(`${dir}/out.json`, { format: ndjson ? NDJSON : jsonArray });
    for (const e of events) w.write(e);
    w.close();
    const text = await Deno.readTextFile(`${dir}/out.json`);
    const lines = events.map((e) => JSON.stringify(e));
    equal(text, ndjson ? lines.join("\n") + "\n" : `[\n${lines.join(",\n")}\n]\n`);
  }
});

Deno.test("the file on disk is a valid array after every flush, the empty array included", async () => {
  const path = Deno.makeTempFileSync();
  const w = await EventWriter.create(path);
  const onDisk = () => JSON.parse(Deno.readTextFileSync(path)).map((e: { Port: number }) => e.Port);
  equal(JSON.stringify(onDisk()), "[]"); // before any event
  for (let i = 1; i <= 3; i++) {
    w.write(Object.assign(new DarknetEvent(), { port: i }));
    equal(JSON.stringify(onDisk()), i === 1 ? "[]" : JSON.stringify([1, 2].slice(0, i - 1)));
    w.flush();
    equal(JSON.stringify(onDisk()), JSON.stringify([1, 2, 3].slice(0, i)));
    equal(w.saved, i);
  }
  w.close();
  equal(JSON.stringify(onDisk()), "[1,2,3]");
  w.close(); // twice is harmless
});

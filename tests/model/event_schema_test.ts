import { deepEqual, equal } from "node:assert/strict";
import { checkEvent, checkEventFields } from "../../src/analysis/check_event.ts";
import { DarknetEvent } from "../../src/model/darknet_event.ts";
import { EVENT_FIELDS } from "../../src/model/event_schema.ts";

function event(): DarknetEvent {
  const e = new DarknetEvent();
  e.src = 0xc6336401;
  e.traffic = 11;
  e.port = 23;
  e.firstSec = 1603296000;
  e.lastSec = 1603296010;
  e.packets = 5;
  e.bytes = 300;
  e.uniqueDests = e.uniqueDest24s = 5;
  e.fingerprints = 5;
  e.samples = [Uint8Array.of(1, 2, 3)];
  return e;
}

Deno.test("an event's JSON has exactly the schema's keys, in its order", () => {
  deepEqual(Object.keys(event().toJSON()), EVENT_FIELDS.map((f) => f.key));
  const v6 = event();
  v6.version = 6;
  v6.src6 = new Uint8Array(16).fill(0x20);
  deepEqual(Object.keys(v6.toJSON()), EVENT_FIELDS.map((f) => f.key));
});

Deno.test("the fast check of event files agrees with the schema's field-by-field check on every mutation of every field", () => {
  const good = JSON.parse(JSON.stringify(event())) as Record<string, unknown>;
  equal(checkEvent(good), undefined);
  const values: unknown[] = [
    undefined,
    null,
    0,
    -1,
    1.5,
    65535,
    65536,
    256,
    2 ** 32,
    2 ** 53,
    Number.NaN,
    "5",
    "",
    "x",
    true,
    [],
    {},
    ["a"],
    "192.0.2.1",
    "2001:db8::1",
    "0000-01-01T00:00:00Z",
    "2020-10-21T16:00:00Z",
    "2020-10-21T16:00:00.123456789+02:00",
  ];
  let disagreements = 0;
  for (const f of EVENT_FIELDS) {
    for (const v of values) {
      const o = { ...good };
      if (v === undefined) delete o[f.key];
      else o[f.key] = v;
      const fast = checkEvent(o) === undefined;
      const slow = checkEventFields(o) === undefined;
      if (fast !== slow) {
        disagreements++;
        console.error(`${f.key} = ${JSON.stringify(v)}: fast ${fast}, slow ${slow}`);
      }
    }
  }
  equal(disagreements, 0);
});

Deno.test("docs/parse.md's table of event fields is the schema's", () => {
  const text = Deno.readTextFileSync(new URL("../../docs/parse.md", import.meta.url));
  const rows = [...text.matchAll(/^\| `(\w+)` +\| (\w+) +\| (yes|no) +\| (.+?) +\|$/gm)]
    .map((m) => [m[1], m[2], m[3] === "yes", m[4]]);
  deepEqual(rows, EVENT_FIELDS.map((f) => [f.key, f.kind, f.required, f.doc]));
});

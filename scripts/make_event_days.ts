// Writes testdata/events/day-01.ndjson … day-10.ndjson: ten days of synthetic events with a
// known shape — steady series, a Mirai telnet series that triples on day 8 (an alert), and
// source pools that overlap from day to day — for the timeseries tests, docs and demo.
// Run: deno run --allow-write scripts/make_event_days.ts

import { eventJson } from "../src/synth/event_json.ts";

let s = 42;
const rnd = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 4294967296);
const countries = ["US", "CN", "BR", "RU", "IN", "DE"];
await Deno.mkdir("testdata/events", { recursive: true });
for (let day = 1; day <= 10; day++) {
  const lines: string[] = [];
  const date = `2020-10-${String(10 + day).padStart(2, "0")}`;
  const series: [number, number, number, boolean][] = [
    // traffic, port, events that day, mirai
    [11, 23, day === 8 ? 180 : 60 + Math.floor(rnd() * 8), true],
    [11, 445, 40 + Math.floor(rnd() * 5), false],
    [16, 53, 25 + Math.floor(rnd() * 4), false],
    [0, 0, 12 + Math.floor(rnd() * 3), false],
  ];
  for (const [traffic, port, n, mirai] of series) {
    for (let i = 0; i < n; i++) {
      // Sources come from a pool that drifts by 10 addresses a day: consecutive days overlap.
      const src = `198.51.${traffic}.${(day * 10 + Math.floor(rnd() * 60)) % 250}`;
      const sec = Math.floor(rnd() * 86000);
      const first = new Date(Date.parse(`${date}T00:00:00Z`) + sec * 1000).toISOString().replace(
        ".000Z",
        ".000000000Z",
      );
      const last = new Date(Date.parse(first) + 200_000).toISOString().replace(
        ".000Z",
        ".000000000Z",
      );
      const packets = 20 + Math.floor(rnd() * 200);
      lines.push(JSON.stringify(eventJson({
        SourceIP: src,
        Port: port,
        Traffic: traffic,
        First: first,
        Last: last,
        Packets: packets,
        Bytes: packets * 60,
        UniqueDests: packets,
        UniqueDest24s: Math.ceil(packets / 3),
        Country: countries[Math.floor(rnd() * countries.length)],
        ASN: 64500 + Math.floor(rnd() * 5),
        Mirai: mirai,
        TCP: traffic === 11 ? "TCPSYN" : "",
        ICMP: traffic === 0 ? "ICMPEchoRequest" : "",
      })));
    }
  }
  await Deno.writeTextFile(
    `testdata/events/day-${String(day).padStart(2, "0")}.ndjson`,
    lines.join("\n") + "\n",
  );
}

import { deepEqual, equal, ok, throws } from "node:assert/strict";
import { robustZ, seriesCsv, TimeSeries } from "../../src/analysis/timeseries.ts";
import { lineChart } from "../../src/analysis/svg_chart.ts";
import type { EventJson } from "../../src/model/darknet_event.ts";

function ev(
  src: string,
  traffic: number,
  port: number,
  packets: number,
  first = "2020-10-21T16:00:00Z",
): EventJson {
  return {
    SourceIP: src,
    Traffic: traffic,
    Port: port,
    Packets: packets,
    Bytes: packets * 60,
    First: first,
  } as EventJson;
}

Deno.test("file bins: every column of a series CSV, known answers", () => {
  const ts = new TimeSeries({ window: 2 });
  // Series TCPSYN/23 over three files: 10 / 30 / 30 packets; sources {a} / {a,b} / {b,c}.
  ts.add(ev("a", 11, 23, 10), "d1.json");
  ts.add(ev("a", 11, 23, 10), "d2.json");
  ts.add(ev("b", 11, 23, 20), "d2.json");
  ts.add(ev("b", 11, 23, 10), "d3.json");
  ts.add(ev("c", 11, 23, 20), "d3.json");
  ts.add(ev("z", 16, 53, 1), "d3.json");
  deepEqual(ts.bins, ["d1.json", "d2.json", "d3.json"]);
  const { total, series } = ts.result(5);
  deepEqual(series.map((s) => s.key), ["TCPSYN/23", "UDP/53"]);
  const rows = seriesCsv(series[0], ts.bins).trim().split("\n").map((l) => l.split(","));
  deepEqual(rows[0].slice(0, 7), [
    "Day",
    "Packets",
    "Events",
    "Moving Average Packets",
    "Moving Average Events",
    "Daily Packet Deviation",
    "Daily Event Deviation",
  ]);
  // MA over 2 bins; deviation against the previous bin's MA; Jaccard {a}∩{a,b}=1/2, {a,b}∩{b,c}=1/3.
  deepEqual(rows.slice(1), [
    ["d1.json", "10", "1", "10", "1", "0", "0", "600", "1", "0", "0", ""],
    ["d2.json", "30", "2", "20", "1.5", "2", "1", "1800", "2", "0", "0", "0.5"],
    ["d3.json", "30", "2", "30", "2", "0.5", "0.333333", "1800", "2", "0", "0", "0.333333"],
  ]);
  deepEqual(total.packets, [10, 30, 31]);
  deepEqual(total.sources, [1, 2, 3]);
});

Deno.test("time bins, series by country/ASN/fingerprint, and named series", () => {
  const day = new TimeSeries({ binSeconds: 86400, by: "fingerprint" });
  day.add({ ...ev("a", 11, 23, 5, "2020-10-22T01:00:00Z"), Mirai: true, Zmap: true }, "x");
  day.add({ ...ev("b", 11, 23, 7, "2020-10-21T23:00:00Z") }, "x");
  deepEqual(day.bins, ["2020-10-21T00:00:00Z", "2020-10-22T00:00:00Z"]);
  deepEqual(day.result(5).series.map((s) => [s.key, s.packets]), [["none", [7, 0]], ["mirai", [
    0,
    5,
  ]], ["zmap", [0, 5]]]);
  const hour = new TimeSeries({ binSeconds: 3600, by: "country" });
  hour.add({ ...ev("a", 11, 23, 5, "2020-10-21T16:59:59Z"), Country: "GB" }, "x");
  hour.add({ ...ev("a", 11, 23, 5, "2020-10-21T17:00:00Z"), Country: "" }, "x");
  deepEqual(hour.bins, ["2020-10-21T16:00:00Z", "2020-10-21T17:00:00Z"]);
  deepEqual(hour.result(1, ["??"]).series.map((s) => s.key), ["??"]);
});

Deno.test("time bins are a true time axis: quiet bins are 0, not dropped; the CSV names the width", () => {
  const ts = new TimeSeries({ binSeconds: 600 });
  ts.add(ev("a", 11, 23, 5, "2020-10-21T16:00:00Z"), "x");
  ts.add(ev("a", 11, 23, 7, "2020-10-21T16:45:10Z"), "x");
  deepEqual(ts.bins, [
    "2020-10-21T16:00:00Z",
    "2020-10-21T16:10:00Z",
    "2020-10-21T16:20:00Z",
    "2020-10-21T16:30:00Z",
    "2020-10-21T16:40:00Z",
  ]);
  const { total } = ts.result(1);
  deepEqual(total.packets, [5, 0, 0, 0, 7]);
  const csv = seriesCsv(total, ts.bins, 600).split("\n");
  equal(
    csv[0],
    "bin_start,packets_per_600s,events_per_600s,moving_average_packets,moving_average_events," +
      "packet_deviation,event_deviation,bytes_per_600s,unique_sources_per_600s,packet_z,event_z,source_jaccard",
  );
  equal(csv[2].split(",").slice(0, 3).join(), "2020-10-21T16:10:00Z,0,0");
  // A span past the limit: one clear error, not a million rows.
  const wide = new TimeSeries({ binSeconds: 1 });
  wide.add(ev("a", 11, 23, 1, "2020-10-21T00:00:00Z"), "x");
  wide.add(ev("a", 11, 23, 1, "2020-11-21T00:00:00Z"), "x");
  throws(
    () => wide.bins,
    /the events span 2,678,401 bins of 1 s .*more than 110,000; give a wider --bin/,
  );
});

Deno.test("alert rules: growth needs the deviation and the minimum events; z-score against earlier bins", () => {
  const ts = new TimeSeries({ window: 3, alertGrowth: 0.25, alertMinEvents: 4, alertZ: 3.5 });
  const counts = [4, 4, 5, 4, 10, 3];
  counts.forEach((n, d) => {
    for (let i = 0; i < n; i++) ts.add(ev(`s${i}`, 11, 23, 10), `d${d}.json`);
  });
  const { alerts } = ts.result(1);
  const growth = alerts.filter((a) => a.kind === "growth" && a.series === "TCPSYN/23").map((a) =>
    a.bin
  );
  // d2: 5 vs MA(4,4)=4 → 0.25 ✓ (≥ 4 events); d4: 10 vs MA(4,5,4)=4.33 → 1.31 ✓; d5: 3 events < 4.
  deepEqual(growth, ["d2.json", "d4.json"]);
  const z = alerts.filter((a) =>
    a.kind === "zscore" && a.series === "TCPSYN/23" && a.metric === "events"
  );
  deepEqual(z.map((a) => a.bin), ["d4.json"]);
  equal(z[0].score, (10 - 4) / (1.2533 * 0.25)); // MAD is 0 here: the mean absolute deviation stands in
  equal(robustZ(10, [4, 4, 5, 4]), (10 - 4) / (1.2533 * 0.25));
  equal(robustZ(4, [4, 4, 4]), 0);
  equal(robustZ(9, [1, 2, 3, 4, 5]), (0.6745 * 6) / 1);
});

// A tiny XML well-formedness check: every tag closes in order, attributes are quoted.
function wellFormed(xml: string): boolean {
  const stack: string[] = [];
  for (const m of xml.matchAll(/<(\/?)([a-zA-Z][\w:-]*)((?:\s+[\w:-]+="[^"]*")*)\s*(\/?)>/g)) {
    if (m[1]) {
      if (stack.pop() !== m[2]) return false;
    } else if (!m[4]) stack.push(m[2]);
  }
  const stripped = xml.replace(/<(\/?)([a-zA-Z][\w:-]*)((?:\s+[\w:-]+="[^"]*")*)\s*(\/?)>/g, "");
  return stack.length === 0 && !/[<>]/.test(stripped);
}

Deno.test("SVG charts are well-formed XML with one point per bin and a marker per alert", () => {
  const svg = lineChart({
    title: "A & B <test>",
    labels: ["d1", "d2", "d3", "d4"],
    unit: "packets",
    lines: [{ name: "packets", values: [1, 5, 3, 9], color: "#1f6fb4" }, {
      name: "ma",
      values: [1, 3, 3, 5],
      color: "#888",
      dashed: true,
    }],
    markers: [{ index: 3, text: "growth" }],
  });
  ok(wellFormed(svg));
  const polylines = [...svg.matchAll(/<polyline[^>]* points="([^"]*)"/g)];
  equal(polylines.length, 2);
  equal(polylines[0][1].split(" ").length, 4);
  equal([...svg.matchAll(/<circle /g)].length, 1);
  ok(svg.includes("A &amp; B &lt;test&gt;"));
});

Deno.test("a state of an earlier version (time bins labelled without a zone) continues the same bins", async () => {
  const { packState, unpackState } = await import("../../src/state/state_container.ts");
  for (
    const [bin, old] of [[86400, "2020-10-21"], [3600, "2020-10-21T16:00"], [
      600,
      "2020-10-21T16:10:00",
    ]] as const
  ) {
    const a = new TimeSeries({ binSeconds: bin });
    a.add(ev("a", 11, 23, 5, "2020-10-21T16:10:00Z"), "x");
    const body = JSON.parse(
      new TextDecoder().decode(unpackState(a.encodeState(), "DNTSSTAT", 1, "s")),
    );
    body.labels = [old];
    const b = new TimeSeries({ binSeconds: bin });
    b.loadState(packState("DNTSSTAT", 1, new TextEncoder().encode(JSON.stringify(body))), "s");
    b.add(ev("b", 11, 23, 7, "2020-10-21T16:10:00Z"), "x");
    deepEqual(b.bins, a.bins, old);
    deepEqual(b.result(1).total.packets, [12], old);
  }
});

import { deepEqual, equal } from "node:assert/strict";
import { openPlaceLookup } from "../../src/series/place_lookup.ts";
import { SignalSeries } from "../../src/series/signal_series.ts";
import { parseIpv4 } from "../../src/util/ip.ts";
import { PacketBatch } from "../../src/decode/packet_batch.ts";
import { Traffic } from "../../src/decode/traffic.ts";

const GEO = "testdata/mmdb/GeoIP2-City-Test.mmdb";
const ASN = "testdata/mmdb/GeoLite2-ASN-Test.mmdb";

Deno.test("a source's country, region and AS from the databases, as events get them", async () => {
  const lookup = (await openPlaceLookup({ geoin: GEO, asnin: ASN }))!;
  // MaxMind's test data: 81.2.69.142 is in England; 2.125.160.216 in England, then Berkshire.
  deepEqual(lookup(parseIpv4("81.2.69.142"), null, 0), { country: "GB", asn: 0, region: "ENG" });
  deepEqual(lookup(parseIpv4("2.125.160.216"), null, 0), { country: "GB", asn: 0, region: "ENG" });
  deepEqual(lookup(parseIpv4("1.128.0.1"), null, 0), { country: "", asn: 1221, region: "" });
  equal(await openPlaceLookup({}), undefined);
});

Deno.test("region series are keyed country-region; without a City database there are none", async () => {
  const b = new PacketBatch(3);
  b.length = 3;
  b.ipVersion.fill(4);
  b.traffic.fill(Traffic.TCPSYN);
  b.tsSec.fill(600);
  b.capLen.fill(60);
  b.src[0] = parseIpv4("81.2.69.142");
  b.src[1] = parseIpv4("2.125.160.216");
  b.src[2] = parseIpv4("192.0.2.1");
  const s = new SignalSeries({ lookup: await openPlaceLookup({ geoin: GEO }) });
  s.add(b);
  s.endInterval(Infinity);
  const cells = s.result()[0].cells;
  deepEqual(
    [...cells].filter(([k]) => k.startsWith("region=")).map(([k, c]) => [k, c.sources]),
    [["region=GB-ENG", 2], ["region=??-??", 1]],
  );
  const none = new SignalSeries();
  none.add(b);
  none.endInterval(Infinity);
  equal([...none.result()[0].cells.keys()].some((k) => k.startsWith("region=")), false);
});

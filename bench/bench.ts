// `deno task bench`: throughput of the capture pipeline on a generated 5 M-packet capture.
// Each figure is the best of `--runs` runs (default 3). Prints a Markdown table.

import { captureBatches } from "../src/capture/open_capture.ts";
import { FileSource } from "../src/io/file_source.ts";
import { GunzipStream } from "../src/io/gunzip_stream.ts";
import { benchCapture } from "./_capture_file.ts";

const args = Deno.args;
const opt = (name: string, def: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const packets = opt("packets", 5_000_000);
const runs = opt("runs", 3);
const { pcap, gz } = await benchCapture(packets);

async function best(fn: () => Promise<number>): Promise<{ sec: number; count: number }> {
  let sec = Infinity;
  let count = 0;
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    count = await fn();
    sec = Math.min(sec, (performance.now() - t0) / 1000);
  }
  return { sec, count };
}

async function decodeAll(path: string): Promise<number> {
  let n = 0;
  for await (const b of await captureBatches([path])) n += b.length;
  return n;
}

async function gunzipOnly(path: string): Promise<number> {
  const src = await FileSource.open(path);
  let n = 0;
  for await (const c of src.readable.pipeThrough(new GunzipStream())) n += c.length;
  return n;
}

async function nativeGunzip(path: string): Promise<number> {
  const src = await FileSource.open(path);
  let n = 0;
  for await (
    const c of src.readable.pipeThrough(
      new DecompressionStream("gzip") as unknown as TransformStream<Uint8Array, Uint8Array>,
    )
  ) n += c.length;
  return n;
}

const plainBytes = Deno.statSync(pcap).size;
const rows: string[] = [];
const row = (what: string, r: { sec: number }, pk: number, bytes: number) =>
  rows.push(
    `| ${what} | ${(pk / r.sec / 1e6).toFixed(2)} M pkt/s | ${
      (bytes / r.sec / 1e6).toFixed(0)
    } MB/s | ${r.sec.toFixed(3)} s |`,
  );
const a = await best(() => decodeAll(pcap));
row("read + decode + classify, .pcap", a, a.count, plainBytes);
const b = await best(() => decodeAll(gz));
row("read + decode + classify, .pcap.gz", b, b.count, plainBytes);
const c = await best(() => gunzipOnly(gz));
row("gunzip alone (node:zlib), .pcap.gz", c, packets, c.count);
if (args.includes("--native")) {
  const d = await best(() => nativeGunzip(gz));
  row("gunzip alone (DecompressionStream), .pcap.gz", d, packets, d.count);
}
console.log(
  `capture: ${packets.toLocaleString("en-US")} packets, ${(plainBytes / 1e6).toFixed(0)} MB plain`,
);
console.log("| stage | packets/s | bytes/s (uncompressed) | time |\n|---|---|---|---|");
console.log(rows.join("\n"));
console.log(`gz pipeline / gunzip alone: ${(b.sec / c.sec).toFixed(2)}×`);

// parse end to end (issue 3's figure): the CLI on a 10 M-packet capture, peak RSS from GNU time.
const big = await benchCapture(opt("parse-packets", 10_000_000));
const parseRows: string[] = [];
for (const [label, path] of [[".pcap", big.pcap], [".pcap.gz", big.gz]] as const) {
  let best = Infinity;
  let rss = "n/a";
  for (let r = 0; r < runs; r++) {
    const out = await Deno.makeTempFile({ suffix: ".json" });
    const args = [
      "run",
      "-A",
      new URL("../src/cli/parse_main.ts", import.meta.url).pathname,
      "--pcap",
      path,
      "--eventout",
      out,
      "--samples",
      "3",
      "--uniques",
      "10",
      "--rate",
      "10",
      "--quiet",
    ];
    const hasTime = (() => {
      try {
        return Deno.statSync("/usr/bin/time").isFile;
      } catch {
        return false;
      }
    })();
    const cmd = hasTime
      ? new Deno.Command("/usr/bin/time", {
        args: ["-f", "%M", Deno.execPath(), ...args],
        stderr: "piped",
      })
      : new Deno.Command(Deno.execPath(), { args, stderr: "piped" });
    const t0 = performance.now();
    const res = await cmd.output();
    const sec = (performance.now() - t0) / 1000;
    if (!res.success) throw new Error(new TextDecoder().decode(res.stderr));
    if (sec < best) {
      best = sec;
      if (hasTime) {
        rss = `${
          (Number(new TextDecoder().decode(res.stderr).trim().split("\n").pop()) / 1024).toFixed(0)
        } MB`;
      }
    }
    await Deno.remove(out);
  }
  const n = opt("parse-packets", 10_000_000);
  parseRows.push(
    `| parse ${label} (--uniques 10 --rate 10 --samples 3) | ${
      (n / best / 1e6).toFixed(2)
    } M pkt/s | ${best.toFixed(2)} s | ${rss} |`,
  );
}
console.log(
  `\nparse, ${
    opt("parse-packets", 10_000_000).toLocaleString("en-US")
  } packets, wall time of the whole process:`,
);
console.log("| run | packets/s | time | peak RSS |\n|---|---|---|---|");
console.log(parseRows.join("\n"));

// Enrichment overhead (issue 4): the same .pcap parse with all databases, DNS excluded. Uses
// the full GeoLite2-ASN (2019) and CAIDA rv2/rv6 files of the shared reference data when they
// are there (they are not part of a clone), and the City test database from testdata/.
const shared = new URL("../../shared/data/", import.meta.url).pathname;
const fullAsn = `${shared}mmdb/geolite2-2019/GeoLite2-ASN.mmdb`;
const rv2 = `${shared}pfx2as/routeviews-rv2-20160202-1200.pfx2as.gz`;
const rv6 = `${shared}pfx2as/routeviews-rv6-20160202-1200.pfx2as.gz`;
const have = [fullAsn, rv2, rv6].every((p) => {
  try {
    return Deno.statSync(p).isFile;
  } catch {
    return false;
  }
});
if (have) {
  const time = async (extra: string[]) => {
    let best = Infinity;
    for (let r = 0; r < runs; r++) {
      const out = await Deno.makeTempFile({ suffix: ".json" });
      const t0 = performance.now();
      const res = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          new URL("../src/cli/parse_main.ts", import.meta.url).pathname,
          "--pcap",
          big.pcap,
          "--eventout",
          out,
          "--samples",
          "3",
          "--uniques",
          "10",
          "--rate",
          "10",
          "--quiet",
          ...extra,
        ],
      }).output();
      if (!res.success) throw new Error(new TextDecoder().decode(res.stderr));
      best = Math.min(best, (performance.now() - t0) / 1000);
      await Deno.remove(out);
    }
    return best;
  };
  const plain = await time([]);
  const enriched = await time([
    "--asnin",
    fullAsn,
    "--geoin",
    new URL("../testdata/mmdb/GeoLite2-City-Test.mmdb", import.meta.url).pathname,
    "--pfx2asin",
    rv2,
    rv6,
  ]);
  console.log(`\nenrichment (full GeoLite2-ASN, City test DB, CAIDA rv2+rv6; no DNS), .pcap:`);
  console.log(
    `| parse | ${plain.toFixed(2)} s |\n| parse + enrichment | ${enriched.toFixed(2)} s |`,
  );
  console.log(`overhead: ${((enriched / plain - 1) * 100).toFixed(1)} %`);
} else console.log("\n(enrichment benchmark skipped: ../shared/data is not there)");

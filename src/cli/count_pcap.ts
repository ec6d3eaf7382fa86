/**
 * `count --pcap FILE...`: packet-level statistics of captures.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { countPcap } from "./count_pcap.ts";
 * const r = await countPcap(["testdata/pcap-formats/libtrace/100_packets.pcap"]);
 * ok(r.summary.packets === 100 && r.error === undefined);
 * ```
 * @module
 */

import { BatchPool } from "../capture/batch_pool.ts";
import { captureBatches } from "../capture/open_capture.ts";
import { DarknetError } from "../errors.ts";
import { PacketStats, type PacketSummary } from "../stats/packet_stats.ts";
import { runAnalyzers } from "../analysis/analyzer.ts";
import { WorkerCaptureSet } from "../capture/worker_capture_set.ts";
import { formatTable } from "./_cli.ts";

/** Result of {@link countPcap}: statistics of everything read, and the error that stopped it. */
export interface CountPcapResult {
  summary: PacketSummary;
  error?: DarknetError;
}

/**
 * Reads the captures in order and aggregates them: {@link PacketStats}, an analyzer over the
 * decoded batches, with reading and decoding on the other core (standard input on this one). A
 * data or I/O error stops reading, but the statistics of every packet before it are returned
 * with the error.
 */
export async function countPcap(paths: string[], top = 10): Promise<CountPcapResult> {
  const stats = new PacketStats(top);
  let error: DarknetError | undefined;
  try {
    if (paths.includes("-")) {
      // Batches are released after counting, so read buffers and arrays are reused.
      await runAnalyzers(await captureBatches(paths, { pool: new BatchPool() }), [stats]);
    } else {
      const set = await WorkerCaptureSet.open(paths, { tagPackets: "traffic" });
      await runAnalyzers(set.readable, [stats]);
      error = set.error;
    }
  } catch (e) {
    if (!(e instanceof DarknetError) || paths.length === 0) throw e;
    error = e;
  }
  return { summary: stats.result(), error };
}

const n = (x: number) => x.toLocaleString("en-US");

/** Renders a summary as the aligned text report printed by `count --pcap`. */
export function formatPacketSummary(s: PacketSummary): string {
  const out: string[] = [];
  out.push(
    `packets ${n(s.packets)}  bytes ${n(s.bytes)}  IP packets ${n(s.ipPackets)}`,
    `first ${s.first ?? "-"}  last ${s.last ?? "-"}`,
    `unique sources ${n(s.uniqueSources)}  unique destinations ${n(s.uniqueDestinations)}`,
    "",
  );
  const section = (title: string, header: string[], rows: (string | number)[][]) => {
    if (rows.length === 0) return;
    out.push(title, formatTable(header, rows), "");
  };
  section(
    "Traffic",
    ["traffic", "packets", "bytes"],
    s.traffic.map((r) => [r.name, n(r.packets), n(r.bytes)]),
  );
  section(
    "IP version",
    ["version", "packets", "bytes"],
    s.ipVersions.map((r) => [r.name, n(r.packets), n(r.bytes)]),
  );
  section(
    "Link type",
    ["link type", "packets", "bytes"],
    s.linkTypes.map((r) => [r.name, n(r.packets), n(r.bytes)]),
  );
  section(
    "Top sources",
    ["source", "packets", "bytes"],
    s.topSources.map((r) => [r.address, n(r.packets), n(r.bytes)]),
  );
  section(
    "Top ports",
    ["traffic", "port", "packets", "bytes"],
    s.topPorts.map((r) => [r.traffic, r.port, n(r.packets), n(r.bytes)]),
  );
  const pct = (x: number) => s.ipPackets ? `${(100 * x / s.ipPackets).toFixed(1)} %` : "-";
  if (s.tags.some((r) => r.packets > 0)) {
    section(
      "Traffic tags (README: Traffic tags)",
      ["tag", "packets", "of IP packets", "bytes"],
      s.tags.map((r) => [r.name, n(r.packets), pct(r.packets), n(r.bytes)]),
    );
    section(
      "Tag rules",
      ["rule", "tag", "packets", "of IP packets"],
      s.tagRules.map((r) => [r.name, r.tag, n(r.packets), pct(r.packets)]),
    );
  }
  section("Decode problems", ["problem", "packets"], s.problems.map((r) => [r.name, n(r.packets)]));
  section(
    "Unsupported link types",
    ["link type", "packets"],
    s.unsupportedLinkTypes.map((r) => [r.name, n(r.packets)]),
  );
  return out.join("\n").trimEnd() + "\n";
}

/**
 * The `count` command: `count --pcap CAPTURE...` (packet statistics).
 * Entry point of the compiled `count` binary.
 *
 * @module
 */

import { UsageError } from "../errors.ts";
import { intFlag, parseFlags, pathList, reportError, runCli } from "./_cli.ts";
import { countPcap, formatPacketSummary } from "./count_pcap.ts";

/** `count --help` text. */
export const COUNT_HELP = `Usage: count --pcap CAPTURE... [--top N] [--json]

Packet-level statistics of captures: packets and bytes per traffic type, IP version and link
type; unique sources and destinations; first and last timestamp; top sources and ports; decode
problems by kind and unsupported link types.

Captures are classic pcap (µs/ns, either byte order, modified magic) or pcapng, plain or
gzip-compressed (detected from the content). Several files are read in order; '-' is stdin.

  --pcap PATH...   captures to read (repeat the flag, list paths after it, or give one
                   space-separated value as Merit's tool did)
  --top N          rows in the top sources / top ports tables (default 10)
  --json           print the statistics as JSON instead of tables
  -h, --help       show this help

Exit status: 0 ok, 2 bad command line, 65 malformed input (statistics of every packet before
the problem are still printed), 74 I/O error.
`;

/** Runs `count` with command-line arguments; returns the exit code. */
export async function countMain(args: string[]): Promise<number> {
  const { values, after } = parseFlags(args, {
    pcap: { type: "string", multiple: true },
    top: { type: "string" },
    json: { type: "boolean" },
    help: { type: "boolean", short: "h" },
  });
  if (values.help) {
    console.log(COUNT_HELP);
    return 0;
  }
  const top = intFlag("top", values.top, 10);
  if (values.pcap === undefined) {
    throw new UsageError("give captures with --pcap (event-file statistics are not built yet)");
  }
  if (after[""]?.length) {
    throw new UsageError(`unexpected argument "${after[""][0]}" (paths follow --pcap)`);
  }
  const paths = pathList(values.pcap, after.pcap ?? []);
  if (paths.length === 0) throw new UsageError("--pcap needs at least one path");
  const { summary, error } = await countPcap(paths, top);
  if (values.json) console.log(JSON.stringify(summary, null, 2));
  else console.log(formatPacketSummary(summary));
  if (error) return reportError("count", error);
  return 0;
}

if (import.meta.main) await runCli("count", countMain, Deno.args);

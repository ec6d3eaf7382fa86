import { deepEqual, throws } from "node:assert/strict";
import { type FlagSpec, parseFlags } from "../../src/cli/_cli.ts";
import { UsageError } from "../../src/errors.ts";

const FLAGS: Record<string, FlagSpec> = {
  pcap: { type: "string", multiple: true },
  pfx2asin: { type: "string", multiple: true },
  eventout: { type: "string" },
  samples: { type: "string" },
  newdl: { type: "boolean" },
  help: { type: "boolean", short: "h" },
};

Deno.test("flags: values, repeats, = forms, booleans, -h, stdin and positionals grouped by flag", () => {
  const r = parseFlags([
    "--pcap",
    "a.pcap",
    "b.pcap",
    "--samples=3",
    "--newdl",
    "--pfx2asin",
    "rv2.gz",
    "rv6.gz",
    "--pcap=-",
    "--eventout",
    "-",
    "--samples",
    "5",
    "c.pcap",
    "-h",
    "--",
    "--not-a-flag",
  ], FLAGS);
  deepEqual(r.values, {
    pcap: ["a.pcap", "-"],
    samples: "5", // the last one wins
    newdl: true,
    pfx2asin: ["rv2.gz"],
    eventout: "-",
    help: true,
  });
  deepEqual(r.positionals, ["b.pcap", "rv6.gz", "c.pcap", "--not-a-flag"]);
  deepEqual(r.after, { pcap: ["b.pcap"], pfx2asin: ["rv6.gz"], "": ["c.pcap", "--not-a-flag"] });
  deepEqual(parseFlags([], FLAGS), { values: {}, positionals: [], after: {} });
});

Deno.test("flags: every mistake is one usage error naming the flag", () => {
  const cases: [string[], RegExp][] = [
    [["--wat"], /^unknown flag --wat \(see --help\)$/],
    [["--wat=1"], /^unknown flag --wat \(see --help\)$/],
    [["-x"], /^unknown flag -x \(see --help\)$/],
    [["-undefined"], /^unknown flag -undefined/], // flags without a short name have none
    [["--toString"], /^unknown flag --toString/], // not an inherited property
    [["--eventout"], /^--eventout needs a value$/],
    [
      ["--samples", "-1"],
      /^--samples needs a value \(to give one that starts with '-', write --samples=VALUE\)$/,
    ],
    [["--newdl=yes"], /^--newdl does not take a value$/],
  ];
  for (const [args, re] of cases) {
    throws(
      () => parseFlags(args, FLAGS),
      (e: unknown) => e instanceof UsageError && re.test(e.message),
    );
  }
});

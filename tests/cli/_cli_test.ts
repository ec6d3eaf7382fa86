import { deepEqual, throws } from "node:assert/strict";
import { type FlagSpec, intFlag, parseFlags } from "../../src/cli/_cli.ts";
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
    "c.pcap",
    "-h",
    "--",
    "--not-a-flag",
  ], FLAGS);
  deepEqual(r.values, {
    pcap: ["a.pcap", "-"],
    samples: "3",
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
      ["--samples", "-x"],
      /^--samples needs a value \(to give one that starts with '-', write --samples=VALUE\)$/,
    ],
    [["--newdl=yes"], /^--newdl does not take a value$/],
    [["--evnetout", "x"], /^unknown flag --evnetout \(did you mean --eventout\?\) \(see --help\)$/],
    [["--sample", "1"], /^unknown flag --sample \(did you mean --samples\?\)/],
    [["-evntout=x"], /^unknown flag -evntout \(did you mean --eventout\?\)/],
    [["--samples", "1", "--samples=2"], /^--samples is given twice \("1", "2"\): give it once$/],
    [["--eventout", "a", "-eventout", "b"], /^--eventout is given twice/],
  ];
  for (const [args, re] of cases) {
    throws(
      () => parseFlags(args, FLAGS),
      (e: unknown) => e instanceof UsageError && re.test(e.message),
    );
  }
});

Deno.test("flags: Merit's single-dash spellings; a negative number reaches the flag's range check", () => {
  const r = parseFlags(
    ["-pcap", "a.pcap", "b.pcap", "-eventout=o.json", "-samples", "-1", "-h"],
    FLAGS,
  );
  deepEqual(r.values, { pcap: ["a.pcap"], eventout: "o.json", samples: "-1", help: true });
  deepEqual(r.after.pcap, ["b.pcap"]);
  throws(
    () => intFlag("samples", r.values.samples, 0, 0, 255),
    (e: unknown) =>
      e instanceof UsageError &&
      e.message === '--samples: expected a whole number from 0 to 255, got "-1"',
  );
});

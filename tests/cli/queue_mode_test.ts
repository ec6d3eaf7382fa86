// A queued task carries the coordinator's settings as flags: the worker's map step is made with
// exactly the settings the merge checks (enrichment and excluded tags included).

import { deepEqual, equal } from "node:assert/strict";
import { mapArgs } from "../../src/cli/queue_mode.ts";
import { blockSettings, commonConfig } from "../../src/cli/run_parse.ts";
import { parseFlags } from "../../src/cli/_cli.ts";

Deno.test("mapArgs: the flags a task carries give back the coordinator's block settings", () => {
  const given = [
    "--samples",
    "3",
    "--timeout",
    "300",
    "--uniques",
    "10",
    "--rate",
    "2.5",
    "--threshold",
    "4",
    "--telescope",
    "10.0.0.0/16",
    "--seed",
    "9",
    "--exclude-tags",
    "spoofed,large-scale-scan",
    "--asnin",
    "a.mmdb",
    "--pfx2asin",
    "p4",
    "p6",
    "--known-scanners",
    "k.txt",
  ];
  const flags = {
    samples: { type: "string" },
    timeout: { type: "string" },
    uniques: { type: "string" },
    rate: { type: "string" },
    threshold: { type: "string" },
    telescope: { type: "string" },
    "telescope-size": { type: "string" },
    seed: { type: "string" },
    "exclude-tags": { type: "string" },
    asnin: { type: "string" },
    geoin: { type: "string" },
    pfx2asin: { type: "string", multiple: true },
    "known-scanners": { type: "string" },
    dns: { type: "string", multiple: true },
    dosout: { type: "string" },
    dos: { type: "boolean" },
    "dos-timeout": { type: "string" },
    "dos-min-packets": { type: "string" },
    "dos-min-duration": { type: "string" },
    "dos-min-window": { type: "string" },
  } as const;
  const cfgOf = (args: string[]) => {
    const { values, after } = parseFlags(args, flags);
    return { ...commonConfig(values, after), pcaps: [], mapDos: values.dos === true };
  };
  const coordinator = cfgOf(given);
  const worker = cfgOf(mapArgs(coordinator));
  deepEqual(blockSettings(worker), blockSettings(coordinator));
  deepEqual(worker.excludeTags, 1 | 8);
  // With --dosout: the task asks for the DoS analysis (--dos) with the same settings.
  const dos = cfgOf([
    ...given,
    "--dosout",
    "d.json",
    "--dos-timeout",
    "60",
    "--dos-min-window",
    "3",
  ]);
  const dosWorker = cfgOf(mapArgs(dos));
  equal(dosWorker.mapDos, true);
  deepEqual(blockSettings(dosWorker), blockSettings(dos));
  deepEqual(blockSettings(dos).dos?.timeout, 60);
});

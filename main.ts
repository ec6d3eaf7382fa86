/**
 * darknet-events command-line entry: `main.ts parse|count|timeseries [flags]`.
 * Each command also has its own entry file (`src/cli/*_main.ts`) for `deno compile`.
 *
 * @module
 */

import { runCli } from "./src/cli/_cli.ts";
import { countMain } from "./src/cli/count_main.ts";
import { parseMain } from "./src/cli/parse_main.ts";
import { timeseriesMain } from "./src/cli/timeseries_main.ts";
import { UsageError } from "./src/errors.ts";

const USAGE = `Usage: main.ts COMMAND [flags]

Commands:
  parse       captures to darknet events
  count       statistics: 'count EVENTFILE...' for events, 'count --pcap CAPTURE...' for packets
  timeseries  time series of events, with alerts and charts

Run 'main.ts COMMAND --help' for a command's flags.`;

async function dispatch(args: string[]): Promise<number> {
  const [cmd, ...rest] = args;
  switch (cmd) {
    case "count":
      return await countMain(rest);
    case "parse":
      return await parseMain(rest);
    case "timeseries":
      return await timeseriesMain(rest);
    case "-h":
    case "--help":
    case "help":
      console.log(USAGE);
      return 0;
    default:
      throw new UsageError(
        cmd === undefined ? `no command given\n${USAGE}` : `unknown command "${cmd}" (try --help)`,
      );
  }
}

if (import.meta.main) await runCli("darknet-events", dispatch, Deno.args);

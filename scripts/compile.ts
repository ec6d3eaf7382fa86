// `deno task compile`: builds bin/parse, bin/count and bin/timeseries with `deno compile`,
// each with the Deno flags (permissions, V8 settings) of src/cli/permissions.ts. Pass `--target TRIPLE` to cross-
// compile (the release workflow does). Needs network access to download the Deno runtime.

import { denoFlags, ENTRIES, INCLUDES } from "../src/cli/permissions.ts";

const ti = Deno.args.indexOf("--target");
const target = ti >= 0 ? Deno.args[ti + 1] : undefined;
const suffix = target ? `-${target}` : "";
for (const [name, entry] of Object.entries(ENTRIES) as [keyof typeof ENTRIES, string][]) {
  try {
    Deno.statSync(entry);
  } catch {
    console.error(`skipping ${name}: ${entry} does not exist yet`);
    continue;
  }
  const args = [
    "compile",
    ...denoFlags(name),
    ...INCLUDES[name].flatMap((f) => ["--include", f]),
    ...(target ? ["--target", target] : []),
    "--output",
    `bin/${name}${suffix}`,
    entry,
  ];
  console.error(`deno ${args.join(" ")}`);
  const r = await new Deno.Command(Deno.execPath(), { args, stdout: "inherit", stderr: "inherit" })
    .output();
  if (!r.success) Deno.exit(r.code);
}

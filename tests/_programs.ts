// Tests that drive real programs (tcpdump, dnsmasq, Chromium, Python, tshark, nmap, hping3,
// fping). Outside CI a
// test whose program is missing is reported as ignored, with the install hint in its name, and
// the run passes; with CI=true (as .ci/run sets) a missing program fails the test.

import { findProgram } from "../src/capture/live_capture.ts";

/** Debian package of each program the tests use. */
const PACKAGES: Record<string, string> = {
  tcpdump: "tcpdump",
  dnsmasq: "dnsmasq-base",
  chromium: "chromium",
  python3: "python3",
  tshark: "tshark",
  pgrep: "procps",
  pkill: "procps",
  nmap: "nmap",
  hping3: "hping3",
  fping: "fping",
};

const inCi = (() => {
  try {
    return Deno.env.get("CI") === "true";
  } catch {
    return false;
  }
})();

/** The path of a program the tests need, or undefined. */
export function program(name: string): string | undefined {
  return findProgram(name) ??
    (name === "chromium" ? findProgram("chromium-browser") : undefined);
}

/**
 * `Deno.test` for a test that needs `programs`: ignored (with the install hint in its name)
 * when one is missing outside CI; failing with the hint when one is missing in CI.
 */
export function testWith(programs: string[], name: string, fn: () => Promise<void>): void {
  const missing = programs.filter((p) => program(p) === undefined);
  const hint = `apt-get install ${[...new Set(missing.map((p) => PACKAGES[p] ?? p))].join(" ")}`;
  Deno.test({
    name: missing.length && !inCi
      ? `${name} [skipped: needs ${missing.join(", ")}: ${hint}]`
      : name,
    ignore: missing.length > 0 && !inCi,
    fn: async () => {
      if (missing.length) throw new Error(`${missing.join(", ")} not installed (${hint})`);
      await fn();
    },
  });
}

/**
 * A headless-Chromium screenshot of a local HTML file (no network, a fresh profile in
 * `profileDir`); returns the exit code and Chromium's log (console messages included).
 */
export async function screenshot(
  html: string,
  png: string,
  size: [number, number],
  profileDir: string,
): Promise<{ code: number; log: string }> {
  const out = await new Deno.Command(program("chromium")!, {
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      `--user-data-dir=${profileDir}`,
      "--enable-logging=stderr",
      "--v=0",
      `--screenshot=${png}`,
      `--window-size=${size[0]},${size[1]}`,
      `file://${Deno.realPathSync(html)}`,
    ],
    stdout: "null",
    stderr: "piped",
  }).output();
  return { code: out.code, log: new TextDecoder().decode(out.stderr) };
}

// A Worker running the map step of `parse --jobs` (cli/jobs_mode.ts): one block of the input into
// a block result folder, as `parse --map` would. Posts back { ok } or { error: [message, exit code] }.

/// <reference lib="deno.worker" />

import { DarknetError } from "../errors.ts";
import { eventFormat } from "../outputs/formats.ts";
import { type ParseConfig, runParse } from "./run_parse.ts";
import { StopSignals } from "./_stop_signals.ts";
import type { ProgressFigures } from "./_progress.ts";

self.onmessage = async (m: MessageEvent<Omit<ParseConfig, "format"> & { formatName: string }>) => {
  const { formatName, ...rest } = m.data;
  const signals = new StopSignals(false);
  try {
    // Progress for the owner's line, at most four times a second.
    let last = 0;
    const onProgress = (f: ProgressFigures) => {
      const now = performance.now();
      if (now - last < 250) return;
      last = now;
      self.postMessage({ progress: f });
    };
    const r = await runParse(
      { ...rest, format: eventFormat(formatName)!, quiet: true, onProgress },
      signals,
    );
    self.postMessage(
      r.error ? { error: [r.error.message, r.error.exitCode] } : { ok: true, packets: r.packets },
    );
  } catch (e) {
    self.postMessage({
      error: [
        e instanceof DarknetError ? e.message : String(e),
        e instanceof DarknetError ? e.exitCode : 70,
      ],
    });
  }
};

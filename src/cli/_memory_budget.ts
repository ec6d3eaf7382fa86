// The memory budget of a parse run (`--max-memory`): checked after every batch, so that a flood
// of new sources ends the run the way an input error does — finished events written, outputs
// valid, state saved, one line, exit 74 — before the process hits the machine's limit or V8's
// heap limit (a crash that would write nothing).

import { UsageError } from "../errors.ts";

const UNITS: Record<string, number> = { "": 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 };

/**
 * Bytes of a size written as a number with an optional K, M, G or T (powers of 1024, an
 * optional trailing B or iB), e.g. `8G`, `1.5GiB`, `800M`, `1048576`.
 *
 * @example
 * ```ts
 * import { parseSize } from "./_memory_budget.ts";
 * import { equal } from "node:assert/strict";
 * equal(parseSize("max-memory", "1.5G"), 1.5 * 2 ** 30);
 * equal(parseSize("max-memory", "800MiB"), 800 * 2 ** 20);
 * ```
 */
export function parseSize(flag: string, s: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?$/i.exec(s.trim());
  const n = m ? Number(m[1]) * UNITS[m[2].toUpperCase()] : NaN;
  if (!m || !Number.isFinite(n) || n < 64 * 2 ** 20) {
    throw new UsageError(`--${flag}: expected a size of at least 64M (e.g. 8G, 800M), got "${s}"`);
  }
  return Math.floor(n);
}

/** Three quarters of the machine's memory: room for the end of the run and for the system. */
export function defaultBudget(): number {
  try {
    return Math.floor(Deno.systemMemoryInfo().total * 0.75);
  } catch {
    return 4 * 2 ** 30; // no sys permission (a library caller): a conservative 4 GiB
  }
}

/** Checks resident memory and V8's heap against their limits. */
export class MemoryBudget {
  /** The resident-memory limit in bytes. */
  readonly limit: number;
  readonly #heapLimit: number;

  /** `heapLimit`: V8's heap size limit (the run stops at 85 % of it). */
  constructor(limit: number, heapLimit = Infinity) {
    this.limit = limit;
    this.#heapLimit = heapLimit * 0.85;
  }

  // When the process's memory is next read (ms, performance.now()).
  #next = -Infinity;

  /**
   * Why the run must stop now, or undefined. Memory is read again before the room left could
   * be used up at 1 GiB/s (the fastest flood measured grows ~0.3 GiB/s): 20 ms to a second
   * apart. Far from the limit a run reads it once a second instead of after every batch (a
   * reading costs 20–150 µs).
   */
  check(): string | undefined {
    const now = performance.now();
    if (now < this.#next) return undefined;
    const m = Deno.memoryUsage();
    if (m.rss > this.limit) {
      return `memory budget reached: ${mib(m.rss)} resident, --max-memory ${mib(this.limit)}`;
    }
    if (m.heapUsed > this.#heapLimit) {
      return `memory budget reached: ${mib(m.heapUsed)} of V8's heap in use, near its limit`;
    }
    const room = Math.min(this.limit - m.rss, this.#heapLimit - m.heapUsed);
    this.#next = now + Math.min(1000, Math.max(20, room / GROWTH_PER_MS));
    return undefined;
  }
}

// The fastest growth of memory the budget allows for between two readings: 1 GiB/s.
const GROWTH_PER_MS = 2 ** 30 / 1000;

const mib = (n: number) => `${Math.round(n / 2 ** 20)} MiB`;

// --cpu and --mem: a V8 CPU profile of the run (.cpuprofile, opens in Chrome DevTools) through
// node:inspector, and a heap snapshot at the end through node:v8.

import { Session } from "node:inspector";
import { writeHeapSnapshot } from "node:v8";
import { ioError } from "../errors.ts";

/** A running CPU profile. */
export class CpuProfile {
  readonly #session = new Session();
  readonly #path: string;

  private constructor(path: string) {
    this.#path = path;
  }

  /** Starts profiling; `stop()` writes the profile to `path`. */
  static async start(path: string): Promise<CpuProfile> {
    const p = new CpuProfile(path);
    p.#session.connect();
    await p.#post("Profiler.enable");
    await p.#post("Profiler.start");
    return p;
  }

  #post(method: string): Promise<unknown> {
    return new Promise((resolve, reject) =>
      this.#session.post(
        method,
        (err: Error | null, res?: unknown) => err ? reject(err) : resolve(res),
      )
    );
  }

  /** Stops profiling and writes the `.cpuprofile` JSON. */
  async stop(): Promise<void> {
    const res = await this.#post("Profiler.stop") as { profile: unknown };
    this.#session.disconnect();
    try {
      await Deno.writeTextFile(this.#path, JSON.stringify(res.profile));
    } catch (e) {
      throw ioError(e, this.#path);
    }
  }
}

/** Writes a V8 heap snapshot to `path`. */
export function heapSnapshot(path: string): void {
  try {
    writeHeapSnapshot(path);
  } catch (e) {
    throw ioError(e, path);
  }
}

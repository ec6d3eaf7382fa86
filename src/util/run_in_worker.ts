/**
 * Runs one job in a module Worker: posts `message`, resolves with the first reply, and
 * terminates the worker. A crash of the worker becomes an internal-error `DarknetError`.
 *
 * @example
 * ```ts ignore
 * import { runInWorker } from "./run_in_worker.ts";
 * const reply = await runInWorker(new URL("./my_worker.ts", import.meta.url), { files: ["a"] }, "count");
 * ```
 * @module
 */

import { DarknetError } from "../errors.ts";

/** Posts `message` to a new Worker running `url`; resolves with its first reply. */
export function runInWorker<T>(url: URL, message: unknown, label: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const w = new Worker(url, { type: "module" });
    w.onmessage = (ev) => {
      resolve(ev.data as T);
      w.terminate();
    };
    w.onerror = (ev) => {
      ev.preventDefault();
      w.terminate();
      reject(new DarknetError(`internal error in the ${label} worker: ${ev.message}`, 70));
    };
    w.postMessage(message);
  });
}

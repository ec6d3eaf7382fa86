// SIGINT and SIGTERM, handled from the start of a run to its last closed output: a signal asks
// the input to stop (at once if it is already open, else as soon as it is), and the run then
// finishes as at the end of input. Without handlers a signal would kill the process half-way.
export class StopSignals {
  stopped: Deno.Signal | undefined;
  #stop: (() => void) | undefined;
  readonly #handlers: [Deno.Signal, () => void][] = [];
  /** `listen`: handle the process's signals (a Worker's run is stopped by its owner instead). */
  constructor(listen = true) {
    for (const sig of listen ? ["SIGINT", "SIGTERM"] as Deno.Signal[] : []) {
      const h = () => {
        this.stopped ??= sig;
        this.#stop?.();
      };
      Deno.addSignalListener(sig, h);
      this.#handlers.push([sig, h]);
    }
  }
  /** As if `sig` came (a Worker's owner stopping its run; tests). */
  stop(sig: Deno.Signal): void {
    this.stopped ??= sig;
    this.#stop?.();
  }
  /** What stops the input; called now if a signal came already. */
  onStop(stop: () => void): void {
    this.#stop = stop;
    if (this.stopped) stop();
  }
  dispose(): void {
    for (const [sig, h] of this.#handlers) Deno.removeSignalListener(sig, h);
  }
}

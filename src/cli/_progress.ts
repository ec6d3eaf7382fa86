// A one-line progress report on stderr, only when stderr is a terminal (never into pipes or
// files): drawn at the first batch, then redrawn at most twice a second.

const enc = new TextEncoder();

/** Progress figures supplied by the caller. */
export interface ProgressFigures {
  bytesRead: number;
  totalBytes: number | undefined;
  packets: number;
  openEvents: number;
}

/** Redraws a progress line; `done()` clears it. */
export class Progress {
  readonly #on: boolean;
  readonly #start = performance.now();
  #last = -Infinity;
  #total: number | undefined;

  constructor(enabled: boolean) {
    this.#on = enabled && Deno.stderr.isTerminal();
  }

  /** Redraws if half a second has passed since the last redraw, or the total changed. */
  update(f: ProgressFigures): void {
    if (!this.#on) return;
    const now = performance.now();
    // A new total (another job of --jobs reporting) is drawn at once.
    if (now - this.#last < 500 && f.totalBytes === this.#total) return;
    this.#last = now;
    this.#total = f.totalBytes;
    const sec = (now - this.#start) / 1000;
    const mb = (x: number) => (x / 1e6).toFixed(x < 1e7 ? 1 : 0);
    let line = `read ${mb(f.bytesRead)}`;
    if (f.totalBytes) line += `/${mb(f.totalBytes)}`;
    line += ` MB  ${(f.packets / sec / 1e6).toFixed(2)} M pkt/s  ${
      f.openEvents.toLocaleString("en-US")
    } open events`;
    if (f.totalBytes && f.bytesRead > 0) {
      const eta = (sec * (f.totalBytes - f.bytesRead)) / f.bytesRead;
      line += `  ETA ${Math.ceil(eta)} s`;
    }
    Deno.stderr.writeSync(enc.encode(`\r\x1b[K${line}`));
  }

  /** Clears the line. */
  done(): void {
    if (this.#on) Deno.stderr.writeSync(enc.encode("\r\x1b[K"));
  }
}

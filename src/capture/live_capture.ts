/**
 * Live capture through `tcpdump` as a child process writing pcap to its stdout in immediate
 * mode (`-U --immediate-mode -w -`): measured here, packets reach the reader in under a
 * millisecond this way and about a second later without immediate mode. Using tcpdump (rather
 * than libpcap through FFI) keeps the binary free of native code and needs only
 * `--allow-run=tcpdump`; capturing needs the privileges tcpdump needs (root or CAP_NET_RAW).
 *
 * `stop()` sends tcpdump SIGTERM: it flushes what it captured, prints its counters and exits,
 * and the byte stream ends normally. If tcpdump dies by itself (killed, interface gone),
 * {@link LiveCapture.error} says so once its stream has ended: a failure before the first byte
 * (no such interface, a bad filter) is a usage error carrying tcpdump's own message.
 *
 * tcpdump is found on `PATH` (then in the sbin folders, where Debian puts it for root). Where
 * util-linux's `setpriv` exists, tcpdump is started through it with a parent-death signal, so
 * that it ends with this process even when this process is killed outright (`kill -9`). Linux
 * clears that signal when a process changes its user, and tcpdump started as root switches to
 * the user `tcpdump` once the interface is open: so as root it is told to stay root (`-Z root`;
 * with `-w` it writes the packets without dissecting them). Without setpriv, or with a tcpdump
 * that gets its capture right from file capabilities (exec clears the signal then too),
 * tcpdump ends at its next write into the closed pipe, i.e. at the next captured packet.
 *
 * @module
 */

import { DarknetError, EXIT_IO, IoError, UsageError } from "../errors.ts";

/** Options of {@link LiveCapture.start}. */
export interface LiveCaptureOptions {
  /** Interface to capture on. */
  iface: string;
  /** BPF filter expression (tcpdump syntax). */
  bpf?: string;
  /** The tcpdump program (default: `tcpdump` found on PATH or in the sbin folders). */
  tcpdump?: string;
}

/** Kernel/libpcap counters tcpdump reports when it exits. */
export interface CaptureStats {
  /** Packets tcpdump wrote. */
  captured: number;
  /** Packets the filter received (libpcap's count). */
  received: number;
  /** Packets the kernel dropped for lack of buffer space. */
  dropped: number;
  /** Captured on a loopback interface, where libpcap's filter count sees each packet twice. */
  loopback: boolean;
}

/**
 * A running tcpdump.
 *
 * @example
 * ```ts ignore
 * import { LiveCapture } from "./live_capture.ts";
 * const live = LiveCapture.start({ iface: "lo", bpf: "udp" });
 * // read live.stdout (pcap bytes) … then:
 * await live.stop();
 * console.log(live.stats); // { captured, received, dropped }
 * ```
 */
export class LiveCapture {
  /** The pcap byte stream. */
  readonly stdout: ReadableStream<Uint8Array>;
  /** The interface. */
  readonly iface: string;
  /** Counters, once tcpdump has exited. */
  stats: CaptureStats | undefined;
  readonly #child: Deno.ChildProcess;
  #stopping = false;
  #stderr = "";
  #exit: Promise<Deno.CommandStatus>;
  #status: Deno.CommandStatus | undefined;
  #gotData = false;

  private constructor(iface: string, child: Deno.ChildProcess) {
    this.iface = iface;
    this.#child = child;
    this.stdout = child.stdout.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform: (chunk, c) => {
          this.#gotData = true;
          c.enqueue(chunk);
        },
      }),
    );
    const dec = new TextDecoder();
    const drain = (async () => {
      for await (const chunk of child.stderr) this.#stderr += dec.decode(chunk, { stream: true });
    })();
    this.#exit = (async () => {
      const st = await child.status;
      await drain.catch(() => {});
      this.#status = st;
      const num = (re: RegExp) => Number(re.exec(this.#stderr)?.[1] ?? NaN);
      const captured = num(/(\d+) packets? captured/);
      if (!Number.isNaN(captured)) {
        this.stats = {
          captured,
          received: num(/(\d+) packets? received by filter/),
          dropped: num(/(\d+) packets? dropped by kernel/),
          loopback: /^lo\d*$/.test(iface),
        };
      }
      return st;
    })();
  }

  /**
   * Asks tcpdump to compile the filter for the interface (`-d`) without capturing: a missing
   * tcpdump, an unknown interface or a bad filter is a `UsageError` with tcpdump's own message
   * (a missing capture permission an `IoError`) — before the run creates any output.
   */
  static async check(o: LiveCaptureOptions): Promise<void> {
    const tcpdump = o.tcpdump ?? findProgram("tcpdump");
    if (tcpdump === undefined) {
      throw new UsageError(
        "--interface: tcpdump is not on PATH (install it: apt-get install tcpdump)",
      );
    }
    let out: Deno.CommandOutput;
    try {
      out = await new Deno.Command(tcpdump, {
        args: ["-i", o.iface, "-d", ...(o.bpf ? [o.bpf] : [])],
        stdin: "null",
        stdout: "null",
        stderr: "piped",
      }).output();
    } catch (e) {
      throw new UsageError(`--interface: cannot run ${tcpdump}: ${(e as Error).message}`);
    }
    if (out.success) return;
    const last = tcpdumpMessage(new TextDecoder().decode(out.stderr));
    const msg = `--interface ${o.iface}${o.bpf ? ` --bpf '${o.bpf}'` : ""}: ${last}`;
    throw /permission|not permitted/i.test(last) ? new IoError(msg) : new UsageError(msg);
  }

  /** Starts tcpdump. Throws a `UsageError` if it cannot be run. */
  static start(o: LiveCaptureOptions): LiveCapture {
    const args = ["-i", o.iface, "-U", "--immediate-mode", "-n", "-w", "-"];
    if (o.bpf) args.push(o.bpf);
    const tcpdump = o.tcpdump ?? findProgram("tcpdump");
    if (tcpdump === undefined) {
      throw new UsageError(
        "--interface: tcpdump is not on PATH (install it: apt-get install tcpdump)",
      );
    }
    const setpriv = findProgram("setpriv");
    if (setpriv && isRoot()) args.splice(args.length - (o.bpf ? 1 : 0), 0, "-Z", "root");
    let child: Deno.ChildProcess;
    try {
      child = new Deno.Command(setpriv ?? tcpdump, {
        args: setpriv ? ["--pdeathsig", "TERM", "--", tcpdump, ...args] : args,
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      })
        .spawn();
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) {
        throw new UsageError(`--interface: cannot run ${tcpdump} (is it installed?)`);
      }
      throw new UsageError(
        `--interface: cannot run tcpdump: ${(e as Error).message.split("\n")[0]}`,
      );
    }
    return new LiveCapture(o.iface, child);
  }

  /** Stops capturing gracefully (SIGTERM) and waits for tcpdump to exit. */
  async stop(): Promise<void> {
    if (!this.#stopping && this.#status === undefined) {
      this.#stopping = true;
      try {
        this.#child.kill("SIGTERM");
      } catch { /* already gone */ }
    }
    await this.#exit;
  }

  /** Waits for tcpdump to exit. */
  async wait(): Promise<void> {
    await this.#exit;
  }

  /** Waits for tcpdump to exit, then returns {@link error}. */
  async exitError(): Promise<DarknetError | undefined> {
    await this.#exit;
    return this.error;
  }

  /**
   * Why capture ended early, if it did: tcpdump exited without being asked to (killed, the
   * interface went away, permission denied). Available once it has exited.
   */
  get error(): DarknetError | undefined {
    const st = this.#status;
    if (!st) return undefined;
    const last = tcpdumpMessage(this.#stderr);
    if (!this.#gotData && !st.success && st.signal === null) {
      // tcpdump refused to start: its own words, e.g. "tcpdump: nosuch0: No such device exists".
      const msg = `--interface ${this.iface}: ${last || `tcpdump exit status ${st.code}`}`;
      return /permission|not permitted/i.test(last) ? new IoError(msg) : new UsageError(msg);
    }
    if (this.#stopping) return undefined;
    const how = st.signal ? `killed by ${st.signal}` : `exit status ${st.code}`;
    return new DarknetError(
      `tcpdump on ${this.iface} stopped unexpectedly (${how})${last ? `: ${last}` : ""}`,
      EXIT_IO,
    );
  }
}

/**
 * The path of `name` on `PATH`, then in `/usr/sbin`, `/sbin` and `/usr/local/sbin`; undefined
 * if it is in none of them.
 *
 * @example
 * ```ts
 * import { findProgram } from "./live_capture.ts";
 * import { equal } from "node:assert/strict";
 * equal(findProgram("no-such-program-here"), undefined);
 * ```
 */
export function findProgram(name: string): string | undefined {
  // Asked first: a missing permission would otherwise prompt on a terminal.
  const env = Deno.permissions.querySync({ name: "env", variable: "PATH" }).state;
  const path = env === "granted" ? Deno.env.get("PATH") ?? "" : "";
  const dirs = [...path.split(":"), "/usr/local/bin", "/usr/bin", "/bin", "/usr/sbin", "/sbin"];
  for (const d of dirs) {
    if (!d) continue;
    try {
      const st = Deno.statSync(`${d}/${name}`);
      if (st.isFile && ((st.mode ?? 0o111) & 0o111) !== 0) return `${d}/${name}`;
    } catch { /* not here */ }
  }
  return undefined;
}

// tcpdump's own complaint in its stderr: its last "tcpdump: …" line, else its last line that is
// not a counter or the "listening on" banner.
function tcpdumpMessage(stderr: string): string {
  const lines = stderr.trim().split("\n").filter((l) =>
    !/packets? (captured|received|dropped)|^listening on|^\s*$/.test(l)
  );
  return lines.findLast((l) => l.startsWith("tcpdump:")) ?? lines.pop() ?? "";
}

function isRoot(): boolean {
  try {
    return Deno.permissions.querySync({ name: "sys", kind: "uid" }).state === "granted" &&
      Deno.uid() === 0;
  } catch {
    return false;
  }
}

// Starts a real dnsmasq on 127.0.0.1 at a free port, authoritative for the reverse zones, with
// the given PTR records; `stop()` kills it by PID. The tests need it: CI installs dnsmasq.

import { createSocket } from "node:dgram";

export interface Dnsmasq {
  port: number;
  stop(): Promise<void>;
}

/** A UDP socket on 127.0.0.1 that receives queries and never answers. */
export async function silentServer(): Promise<{ port: number; close(): Promise<void> }> {
  const s = createSocket("udp4");
  await new Promise<void>((r) => s.bind(0, "127.0.0.1", () => r()));
  return { port: s.address().port, close: () => new Promise<void>((r) => s.close(() => r())) };
}

/** A UDP port on 127.0.0.1 that is free right now (nothing listens on it). */
export async function freePort(): Promise<number> {
  const s = await silentServer();
  await s.close();
  return s.port;
}

const BINARY = ["/usr/sbin/dnsmasq", "/usr/bin/dnsmasq"].find((p) => {
  try {
    return Deno.statSync(p).isFile;
  } catch {
    return false;
  }
});

/** Starts dnsmasq with `ptr` records (reverse name → host names). */
export async function startDnsmasq(ptr: Record<string, string[]>): Promise<Dnsmasq> {
  if (!BINARY) {
    throw new Error("dnsmasq is not installed (apt-get install dnsmasq-base); .ci/run installs it");
  }
  const port = await freePort();
  const args = [
    "-k",
    `--port=${port}`,
    "--listen-address=127.0.0.1",
    "--bind-interfaces",
    "--no-resolv",
    "--no-hosts",
    "--conf-file=/dev/null",
    "--local=/in-addr.arpa/",
    "--local=/ip6.arpa/",
    "--user=root",
    "--pid-file=",
  ];
  const all = { "1.2.0.192.in-addr.arpa": ["ready.test"], ...ptr };
  for (const [name, hosts] of Object.entries(all)) {
    for (const h of hosts) args.push(`--ptr-record=${name},${h}`);
  }
  const child = new Deno.Command(BINARY, { args, stdout: "null", stderr: "piped" }).spawn();
  // Wait until it answers the sentinel record (not merely until the port stops refusing).
  let up = false;
  for (let i = 0; i < 100 && !up; i++) {
    try {
      const names = await Deno.resolveDns("1.2.0.192.in-addr.arpa", "PTR", {
        nameServer: { ipAddr: "127.0.0.1", port },
        signal: AbortSignal.timeout(300),
      });
      up = names.includes("ready.test.");
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  if (!up) {
    try {
      child.kill("SIGTERM");
    } catch { /* it exited by itself */ }
    const err = new TextDecoder().decode((await child.output()).stderr).trim();
    throw new Error(`dnsmasq on port ${port} did not answer: ${err}`);
  }
  return {
    port,
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch { /* already gone */ }
      await child.status;
      await child.stderr.cancel();
    },
  };
}

/** A UDP server on 127.0.0.1 that answers every query with garbage bytes. */
export async function garbageServer(): Promise<{ port: number; close(): Promise<void> }> {
  const s = createSocket("udp4");
  s.on("message", (msg: Uint8Array, rinfo: { port: number; address: string }) => {
    // Echo the query id so the client reads the reply, then nonsense.
    const reply = new Uint8Array(40).fill(0xee);
    reply[0] = msg[0];
    reply[1] = msg[1];
    s.send(reply, rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => s.bind(0, "127.0.0.1", () => r()));
  return { port: s.address().port, close: () => new Promise<void>((r) => s.close(() => r())) };
}

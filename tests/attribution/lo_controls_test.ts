// Negative controls recorded live on lo: real nmap (a positive: nmap), hping3 and fping probes
// and the Linux stack's own connection SYNs (retried) are never attributed to ZMap, masscan,
// unicornscan or Mirai. tcpdump records them; parse reads the capture.

import { deepEqual, equal, ok } from "node:assert/strict";
import { parseEvents } from "./_parse.ts";
import { program, testWith } from "../_programs.ts";

const run = (cmd: string, args: string[]) =>
  new Deno.Command(program(cmd)!, { args, stdout: "null", stderr: "piped" }).output();

testWith(
  ["tcpdump", "nmap", "hping3", "fping"],
  "real nmap, hping3, fping and Linux connection SYNs on lo: only nmap is attributed, to nmap",
  async () => {
    const dir = Deno.makeTempDirSync({ prefix: "lo-controls-" });
    const pcap = `${dir}/lo.pcap`;
    const tcpdump = new Deno.Command(program("tcpdump")!, {
      args: ["-i", "lo", "-U", "-n", "-w", pcap, "dst net 127.77.0.0/16"],
      stdout: "null",
      stderr: "null",
    }).spawn();
    try {
      // tcpdump needs a moment before it captures.
      for (let i = 0; i < 50; i++) {
        await new Promise((r) => setTimeout(r, 100));
        if ((Deno.statSync(pcap).size ?? 0) >= 24) break;
      }
      await new Promise((r) => setTimeout(r, 500));
      // The kernel's own SYNs: twenty refused connections (window 65495, MSS, SACK, timestamp,
      // WS 10 on lo). Retransmissions are covered by tests/attribution/tools_test.ts.
      for (let k = 1; k <= 20; k++) {
        await Deno.connect({ hostname: `127.77.0.${k}`, port: 9 }).then((c) => c.close(), () => {});
      }
      const r1 = await run("nmap", [
        "-sS",
        "-Pn",
        "-n",
        "-p",
        "22",
        "--max-retries",
        "0",
        "127.77.1.1-20",
      ]);
      equal(r1.code, 0, new TextDecoder().decode(r1.stderr));
      const r2 = await run("hping3", ["-S", "-p", "80", "-c", "10", "-i", "u20000", "127.77.2.1"]);
      equal(r2.code, 0, new TextDecoder().decode(r2.stderr));
      await run("fping", ["-c", "1", "-q", "-g", "127.77.3.1", "127.77.3.20"]);
      await new Promise((r) => setTimeout(r, 500));
    } finally {
      tcpdump.kill("SIGINT");
      await tcpdump.status;
    }
    const evs = await parseEvents(pcap);
    const syn = (port: number) => evs.filter((e) => e.Traffic === 11 && e.Port === port);
    // nmap's SYNs to port 22: one event, attributed to nmap.
    deepEqual(syn(22).map((e) => [e.Tool, Object.keys(e.Tools as object)]), [["nmap", ["nmap"]]]);
    ok((syn(22)[0].Packets as number) >= 20);
    // The others: the kernel's SYNs (port 9), hping3's (port 80), fping's echo requests.
    equal(syn(9).length, 1);
    ok((syn(9)[0].Packets as number) >= 20);
    equal(syn(80).length, 1);
    ok(evs.some((e) => e.Traffic === 0 && (e.Packets as number) >= 5), "fping's echo requests");
    for (const e of evs.filter((e) => e.Port !== 22 || e.Traffic !== 11)) {
      deepEqual([e.Traffic, e.Port, e.Tool, e.Tools], [e.Traffic, e.Port, "", {}]);
    }
  },
);

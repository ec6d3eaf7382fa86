// Negative controls recorded live on lo: real nmap (a positive: nmap), hping3 and fping probes,
// the Linux stack's own connection SYNs and Windows-style SYNs (sent raw) are never attributed
// to ZMap, masscan, unicornscan or Mirai. tcpdump records them; parse reads the capture.

import { deepEqual, equal, ok } from "node:assert/strict";
import { parseEvents } from "./_parse.ts";
import { program, testWith } from "../_programs.ts";

const run = (cmd: string, args: string[]) =>
  new Deno.Command(program(cmd)!, { args, stdout: "null", stderr: "piped" }).output();

// Ten SYNs as Windows 10/11 sends them, to 127.77.4.1-10 port 3389, from a raw socket.
const WINDOWS_SYNS = `
import socket, struct
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
opts = bytes.fromhex("020405b4010303080101" "0402")
for k in range(10):
    dst = "127.77.4.%d" % (k + 1)
    tcp = struct.pack(">HHIIBBHHH", 50000 + k, 3389, 0x10000000 * (k + 1) + 12345, 0,
                      (5 + len(opts) // 4) << 4, 0x02, 64240, 0, 0) + opts
    ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 0x1a00 + k, 0x4000, 128, 6, 0,
                     socket.inet_aton("127.0.0.1"), socket.inet_aton(dst))
    s.sendto(ip + tcp, (dst, 0))
`;
import { tempDir } from "../_helpers.ts";

testWith(
  ["tcpdump", "nmap", "hping3", "fping", "python3"],
  "real nmap, hping3, fping, Linux and Windows-style connection SYNs on lo: only nmap is attributed, to nmap",
  async () => {
    const dir = tempDir("lo-controls-");
    const pcap = `${dir}/lo.pcap`;
    const tcpdump = new Deno.Command(program("tcpdump")!, {
      // Immediate mode: packets reach the file as they come, not a block a second later (a
      // block not yet handed over when tcpdump is stopped would be lost).
      args: [
        "-i",
        "lo",
        "-U",
        "--immediate-mode",
        "-B",
        "8192",
        "-n",
        "-w",
        pcap,
        "dst net 127.77.0.0/16",
      ],
      stdout: "null",
      stderr: "null",
    }).spawn();
    try {
      // tcpdump needs a moment before it captures: knock (SYNs to port 7) until one is seen.
      for (let i = 0; i < 100; i++) {
        await Deno.connect({ hostname: "127.77.9.1", port: 7 }).then((c) => c.close(), () => {});
        await new Promise((r) => setTimeout(r, 50));
        if (Deno.statSync(pcap).size > 24) break;
      }
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
      // Windows' connection SYNs (window 64240; MSS 1460, NOP, WS 8, NOP, NOP, SACK-permitted —
      // ZMap's default layout but for the window; TTL 128; a counter IP ID), sent raw by Python.
      const py = await new Deno.Command(program("python3")!, {
        args: ["-c", WINDOWS_SYNS],
        stdout: "null",
        stderr: "piped",
      }).output();
      equal(py.code, 0, new TextDecoder().decode(py.stderr));
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
    equal(syn(3389).length, 1, "the Windows-style SYNs");
    equal(syn(3389)[0].SynSignature, "64240_2-1-3-1-1-4_1460_8");
    // The others: the kernel's SYNs (port 9), hping3's (port 80), fping's echo requests.
    equal(syn(9).length, 1);
    ok((syn(9)[0].Packets as number) >= 20);
    equal(syn(80).length, 1);
    ok(evs.some((e) => e.Traffic === 0 && (e.Packets as number) >= 10), "fping's echo requests");
    for (const e of evs.filter((e) => e.Port !== 22 || e.Traffic !== 11)) {
      deepEqual([e.Traffic, e.Port, e.Tool, e.Tools], [e.Traffic, e.Port, "", {}]);
    }
  },
);

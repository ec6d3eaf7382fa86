/**
 * ZMap (github.com/zmap/zmap), TCP SYN and ICMP echo scans. Two generations:
 *
 * - **2.x – 4.0**: IP ID 54321 on every probe, initial TTL 255 (seen above 128), SYN window
 *   65535 with no options (2.x) or MSS 1460 alone (3.x – 4.0); echo requests with 12 zero bytes;
 *   UDP probes (any payload).
 * - **4.1 and later** (May 2024 on): the IP ID is part of the per-target validation (random),
 *   initial TTL 64 (seen at most 64), window 65535 and one of four option layouts
 *   (`--probe-args`): `windows` (the default: MSS 1460, NOP, WS 8, NOP, NOP, SACK-permitted),
 *   `linux` (MSS 1460, SACK-permitted, timestamp, NOP, WS 7), `bsd` (MSS 1460, NOP, WS 6, NOP,
 *   NOP, timestamp, SACK-permitted, EOL, EOL) or `smallest-probes` (MSS 1460 alone); the
 *   timestamp's value is the Unix time the scan started (taken as up to 31 days before the
 *   packet, or a day after for clock skew). Echo requests carry 20 zero bytes. Its UDP probes
 *   have nothing of their own (a random IP ID, the payload the user gives): not recognised.
 *
 * Chance: 2^-8 a packet. The old generation's IP ID alone is one in 65,536, and a timestamp
 * within the window one in ~1,600, but the 4.1 `windows` and `smallest-probes` layouts have no
 * random part: their bound is that fewer than one in 256 packets from other senders carry
 * exactly this window, these options and values and such a TTL (no common operating system
 * sends window 65535 with them; macOS's SYN has `bsd`'s layout, but not its timestamp). Three
 * matched packets attribute an event.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { PacketBatch } from "../decode/packet_batch.ts";
 * import { zmap } from "./zmap.ts";
 * const b = new PacketBatch(1);
 * b.allocExtras();
 * b.ttl[0] = 61;
 * b.traffic[0] = 11; // TCPSYN
 * b.tcpWindow[0] = 65535;
 * b.tcpOptLen[0] = 12;
 * b.tcpOpts[0] = 0x32422500; // MSS, NOP, WS, NOP, NOP, SACK-permitted
 * b.tcpMss[0] = 1460;
 * b.tcpWscale[0] = 8;
 * equal(zmap.test(b, 0), 1);
 * b.tcpWscale[0] = 7;
 * equal(zmap.test(b, 0), 0);
 * ```
 * @module
 */

import { Traffic } from "../decode/traffic.ts";
import { isZero } from "../fingerprints/fingerprint.ts";
import type { Tool } from "./tool.ts";

// Option kinds in order, as PacketBatch.tcpOpts packs them (kind + 1, four bits each).
const WINDOWS = 0x32422500;
const LINUX = 0x35924000;
const BSD = 0x32422951; // the first eight kinds: MSS NOP WS NOP NOP TS SACK EOL
const MSS_ONLY = 0x30000000;
const DAY = 86400;

/** ZMap's SYN and echo probes. */
export const zmap: Tool = {
  name: "zmap",
  label: "ZMap",
  versions: "2.x – 4.0 (IP ID 54321) and 4.1 – 4.3 (option layouts)",
  rule: "SYN: window 65535 and either IP ID 54321, TTL > 128, no options or MSS 1460 only " +
    "(≤ 4.0), or TTL ≤ 64 and exactly one of the windows / linux / bsd / smallest-probes " +
    "option layouts with MSS 1460 and WS 8 / 7 / 6, the timestamp (linux, bsd) the Unix time " +
    "up to 31 days before the packet (≥ 4.1). Echo request: payload of 12 zero bytes with " +
    "IP ID 54321 and TTL > 128 (≤ 4.0), or of 20 zero bytes with TTL ≤ 64 (≥ 4.1). UDP: IP ID " +
    "54321 and TTL > 128 (≤ 4.0)",
  traffic: [Traffic.TCPSYN, Traffic.ICMPEchoRequest, Traffic.UDP],
  ipv6: true,
  chance: 2 ** -8,
  test: (b, i) => {
    const ttl = b.ttl[i];
    const old = isZero(b.ipId[i] ^ 54321) & ((128 - ttl) >>> 31); // and TTL > 128
    const young = ((64 - ttl) >>> 31) ^ 1; // TTL ≤ 64
    const t = b.traffic[i];
    if (t === Traffic.UDP) return old;
    if (t !== Traffic.TCPSYN) {
      const p = b.icmpPayload[i];
      return (old & isZero(p ^ 0x1000c)) | (young & isZero(p ^ 0x10014));
    }
    const n = b.tcpOptLen[i];
    if (b.tcpWindow[i] !== 65535) return 0;
    if (n === 0) return old;
    const opts = b.tcpOpts[i];
    const mss = isZero(b.tcpMss[i] ^ 1460);
    const ws = b.tcpWscale[i];
    const near = ((b.tsSec[i] - b.tcpTsval[i] + DAY) >>> 0) < 32 * DAY ? 1 : 0;
    return mss & (
      (isZero(n ^ 4) & isZero(opts ^ MSS_ONLY) & (old | young)) |
      (young & (
        (isZero(n ^ 12) & isZero(opts ^ WINDOWS) & isZero(ws ^ 8)) |
        (isZero(n ^ 20) & isZero(opts ^ LINUX) & isZero(ws ^ 7) & near) |
        (isZero(n ^ 24) & isZero(opts ^ BSD) & isZero(ws ^ 6) & near)
      ))
    );
  },
};

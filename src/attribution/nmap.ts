/**
 * nmap's SYN scan (`-sS`, nmap.org): window 1024 (older builds 1024 × (TTL mod 4 + 1): 1024,
 * 2048, 3072 or 4096), MSS 1460 as the only option, and one sequence number for every
 * first-try probe of a scan. A rule about a sequence: a packet of that shape matches when its
 * sequence number is that of the event's previous packet of that shape, sent to another
 * destination. Applies to IPv6 (no IPv4-only field).
 *
 * Chance: 2^-32 a matched packet (a random sequence number repeated); one attributes an event.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { PacketBatch } from "../decode/packet_batch.ts";
 * import { nmap } from "./nmap.ts";
 * const b = new PacketBatch(1);
 * b.allocExtras();
 * b.tcpWindow[0] = 1024;
 * b.tcpOptLen[0] = 4;
 * b.tcpOpts[0] = 0x30000000; // MSS
 * b.tcpMss[0] = 1460;
 * b.tcpSeq[0] = 0xdeadbeef;
 * equal(nmap.test(b, 0), 1);
 * equal(nmap.value?.(b, 0), 0xdeadbeef);
 * b.tcpWindow[0] = 1025;
 * equal(nmap.test(b, 0), 0);
 * ```
 * @module
 */

import { Traffic } from "../decode/traffic.ts";
import { isZero } from "../fingerprints/fingerprint.ts";
import type { Tool } from "./tool.ts";

/** nmap's SYN probes. */
export const nmap: Tool = {
  name: "nmap",
  label: "nmap",
  versions: "nmap -sS (7.x; older builds' windows 2048–4096 too)",
  rule: "SYN: window 1024, 2048, 3072 or 4096, MSS 1460 the only option, and the sequence " +
    "number of the previous such packet of the event, to another destination",
  traffic: [Traffic.TCPSYN],
  ipv6: true,
  chance: 2 ** -32,
  test: (b, i) => {
    // The option columns exist only for rows with options: not read for the others.
    if (b.tcpOptLen[i] !== 4) return 0;
    const w = b.tcpWindow[i];
    // w = 1024 k with k in 1 .. 4
    return isZero(w & 1023) & isZero(((w >>> 10) - 1) >>> 2) &
      isZero(b.tcpOpts[i] ^ 0x30000000) & isZero(b.tcpMss[i] ^ 1460);
  },
  value: (b, i) => b.tcpSeq[i],
};

/**
 * A deterministic, realistic darknet capture generator: heavy SYN scanners (ZMap-, Masscan- and
 * Mirai-style) sweeping most of a /13 telescope, DoS backscatter (SYN-ACK, RST, ICMP
 * unreachable), ICMP echo sweeps, UDP probes and a long tail of one-off sources. The same seed
 * always gives the same bytes. Writes classic pcap (Ethernet, µs) in large blocks.
 *
 * @module
 */

/** Options of {@link generateScenario}. */
export interface ScenarioOptions {
  /** Total packets. */
  packets: number;
  /** PRNG seed (default 1). */
  seed?: number;
  /** First address of the telescope (default 10.0.0.0, a /13 of 524,288 addresses). */
  telescope?: number;
  /** Capture start, seconds since the epoch (default 2020-10-21T16:00:00Z). */
  start?: number;
  /** Capture duration in seconds (default 3600). */
  duration?: number;
  /** Number of one-off sources (default 100,000, scaled down for small captures). */
  oneOffs?: number;
  /**
   * Addresses of the five heavy scanners (ZMap-, Masscan-, Mirai-style and two plain ones, in
   * that order; default 198.51.100.1, 198.51.100.2, 203.0.113.1, 45.77.0.3, 91.216.10.10).
   */
  scanners?: number[];
}

/** What was generated. */
export interface ScenarioInfo {
  /** Packets written. */
  packets: number;
  /** Bytes written (file header included). */
  bytes: number;
  /** The heavy scanners' addresses (uint32). */
  scanners: number[];
}

const REC = 16 + 60; // record header + Ethernet/IPv4/TCP padded to the Ethernet minimum

/**
 * Generates the capture, handing out blocks of bytes to `write` (the block is reused).
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { generateScenario } from "./scenario.ts";
 * const chunks: Uint8Array[] = [];
 * const info = generateScenario({ packets: 1000, seed: 1 }, (b) => chunks.push(b.slice()));
 * ok(info.packets === 1000 && chunks.length > 0);
 * ```
 */
export function generateScenario(
  o: ScenarioOptions,
  write: (block: Uint8Array) => void,
): ScenarioInfo {
  let s = (o.seed ?? 1) >>> 0 || 1;
  const rnd = () => { // xorshift32
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
  const tel = o.telescope ?? 0x0a000000;
  const telSize = 1 << 19;
  const start = o.start ?? 1603296000;
  const dur = o.duration ?? 3600;
  const n = o.packets;
  const oneOffs = Math.min(o.oneOffs ?? 100000, Math.floor(n / 20));
  const scanners = o.scanners ?? [0xc6336401, 0xc6336402, 0xcb007101, 0x2d4d0003, 0x5bd80a0a];
  if (scanners.length !== 5) throw new RangeError("scenario: give exactly five scanner addresses");
  const scanPorts = [23, 445, 22, 80, 3389];
  const scanPos = new Uint32Array(scanners.length);
  const victims = 2000;

  const blockPackets = 8192;
  const block = new Uint8Array(blockPackets * REC);
  const dv = new DataView(block.buffer);
  // Template: Ethernet + IPv4 + TCP, little-endian pcap record header.
  for (let k = 0; k < blockPackets; k++) {
    const r = k * REC;
    dv.setUint32(r + 8, 60, true);
    dv.setUint32(r + 12, 60, true);
    const f = r + 16;
    block.set([0, 0x11, 0x22, 0x33, 0x44, 0x55, 0, 0x66, 0x77, 0x88, 0x99, 0xaa, 0x08, 0x00], f);
    block[f + 14] = 0x45;
    dv.setUint16(f + 16, 40);
  }
  // pcap file header
  const hdr = new Uint8Array(24);
  const hv = new DataView(hdr.buffer);
  hv.setUint32(0, 0xa1b2c3d4, true);
  hv.setUint16(4, 2, true);
  hv.setUint16(6, 4, true);
  hv.setUint32(16, 262144, true);
  hv.setUint32(20, 1, true);
  write(hdr);

  let bytes = 24;
  let k = 0;
  for (let i = 0; i < n; i++) {
    const usec = Math.floor((i / n) * dur * 1e6);
    const r = k * REC;
    const f = r + 16;
    const ip = f + 14;
    const t = ip + 20;
    dv.setUint32(r, start + Math.floor(usec / 1e6), true);
    dv.setUint32(r + 4, usec % 1e6, true);
    block.fill(0, t, t + 26);
    const roll = rnd() % 1000;
    let src: number;
    let dst = (tel + (rnd() & (telSize - 1))) >>> 0;
    let proto = 6;
    let id = rnd() & 0xffff;
    block[ip + 8] = 64 - (roll & 31);
    if (roll < 700) { // heavy scanners
      const sc = roll % scanners.length;
      src = scanners[sc];
      // Each scanner walks the telescope in its own pseudo-random permutation.
      scanPos[sc] = (scanPos[sc] + 0x9e3779b1 * (sc + 1)) >>> 0;
      dst = (tel + (scanPos[sc] & (telSize - 1))) >>> 0;
      const dport = scanPorts[sc];
      const seq = sc === 2 ? dst : rnd();
      if (sc === 0) id = 54321;
      else if (sc === 1) id = (dst ^ dport ^ seq) & 0xffff;
      dv.setUint16(t, 40000 + sc, false);
      dv.setUint16(t + 2, dport);
      dv.setUint32(t + 4, seq >>> 0);
      block[t + 12] = 0x50;
      block[t + 13] = 0x02;
      dv.setUint16(t + 14, 1024);
    } else if (roll < 820) { // backscatter from DoS victims
      src = (0x17000000 + (rnd() % victims) * 7919) >>> 0;
      const kind = rnd() % 3;
      if (kind === 2) {
        proto = 1;
        block[t] = 3;
        block[t + 1] = 3;
      } else {
        dv.setUint16(t, kind ? 80 : 443);
        dv.setUint16(t + 2, 1024 + (rnd() % 60000));
        dv.setUint32(t + 4, rnd());
        block[t + 12] = 0x50;
        block[t + 13] = kind ? 0x12 : 0x04;
      }
    } else if (roll < 870) { // ICMP echo sweeps
      src = (0x2e000000 + (rnd() % 300)) >>> 0;
      proto = 1;
      block[t] = 8;
    } else if (roll < 950 || oneOffs === 0) { // UDP probes
      src = (0x59000000 + (rnd() % 5000) * 13) >>> 0;
      proto = 17;
      dv.setUint16(t, 40000 + (rnd() % 20000));
      dv.setUint16(t + 2, [53, 123, 161, 1900, 5060, 11211][rnd() % 6]);
      dv.setUint16(t + 4, 26);
    } else { // one-off sources: each sends one SYN
      src = (0x60000000 + (rnd() % oneOffs) * 2654435761) >>> 0;
      dv.setUint16(t, 50000);
      dv.setUint16(t + 2, 1 + (rnd() % 1024));
      dv.setUint32(t + 4, rnd());
      block[t + 12] = 0x50;
      block[t + 13] = 0x02;
    }
    dv.setUint16(ip + 4, id);
    block[ip + 9] = proto;
    dv.setUint32(ip + 12, src);
    dv.setUint32(ip + 16, dst);
    if (++k === blockPackets) {
      write(block);
      bytes += block.length;
      k = 0;
    }
  }
  if (k > 0) {
    write(block.subarray(0, k * REC));
    bytes += k * REC;
  }
  return { packets: n, bytes, scanners };
}

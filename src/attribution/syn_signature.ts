/**
 * The SYN signature of an event (its `SynSignature`): JA4T's form of the first TCP SYN —
 * `window_options_mss_wscale`, the option kinds in their order joined by `-` ("00" for none),
 * the MSS and the window-scale shift ("00" when the option is absent). ZMap 4.1's default SYN is
 * `65535_2-1-3-1-1-4_1460_8`, masscan master's `1025_2_1460_00`, nmap's `1024_2_1460_00`.
 * Kinds above 13 (rare: MPTCP, TCP Fast Open) show as `x` (the decoder keeps four bits a kind),
 * and at most the first eight kinds are listed.
 *
 * @module
 */

/**
 * The signature from a SYN's window, option layout (`PacketBatch.tcpOpts`: kind + 1 per four
 * bits from the top; 0 when the SYN has no options), MSS and window-scale shift (255: none).
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { synSignature } from "./syn_signature.ts";
 * equal(synSignature(65535, 0x32422500, 1460, 8), "65535_2-1-3-1-1-4_1460_8");
 * equal(synSignature(1024, 0, 0, 255), "1024_00_00_00");
 * equal(synSignature(1025, 0x30000000, 1460, 255), "1025_2_1460_00");
 * ```
 */
export function synSignature(window: number, opts: number, mss: number, wscale: number): string {
  let kinds = "";
  let hasMss = false;
  for (let n = 0; n < 8; n++) {
    const v = (opts >>> (28 - 4 * n)) & 15;
    if (v === 0) break;
    if (v === 3) hasMss = true;
    kinds += (n > 0 ? "-" : "") + (v === 15 ? "x" : String(v - 1));
  }
  return `${window}_${kinds || "00"}_${hasMss ? mss : "00"}_${wscale === 255 ? "00" : wscale}`;
}

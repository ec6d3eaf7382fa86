/**
 * Scanner fingerprints of a TCP packet over IPv4, tagged once when the packet is decoded (so the
 * aggregator only ANDs bits): ZMap sets the IP ID to 54321; Masscan sets it to
 * (destination ^ destination port ^ sequence number) & 0xffff; Mirai sets the sequence number
 * to the destination address. An event has a fingerprint only if every one of its packets does.
 *
 * @module
 */

/** ZMap's bit. */
export const FP_ZMAP = 1;
/** Masscan's bit. */
export const FP_MASSCAN = 2;
/** Mirai's bit. */
export const FP_MIRAI = 4;

/**
 * The fingerprint bits a TCP packet matches, from its IP ID, sequence number, destination
 * address and port (all unsigned). Without branches: which scanner a packet comes from is
 * unpredictable, and mispredicted tests cost ~13 ns a packet. A non-zero x of at most 31 bits
 * gives a mask of ones as -x >> 31 (no int32 overflow).
 *
 * @example
 * ```ts
 * import { FP_MIRAI, FP_ZMAP, fingerprintBits } from "./fingerprint.ts";
 * console.assert(fingerprintBits(54321, 0x0a000001, 0x0a000001, 23) === (FP_ZMAP | FP_MIRAI));
 * console.assert(fingerprintBits(1, 2, 3, 4) === 0);
 * ```
 */
export function fingerprintBits(id: number, seq: number, dst: number, dport: number): number {
  const zx = id ^ 54321;
  const mx = id ^ ((dst ^ dport ^ seq) & 0xffff);
  const rx = seq ^ dst;
  const r31 = (rx >>> 1) | (rx & 1);
  return ~(((-zx >> 31) & FP_ZMAP) | ((-mx >> 31) & FP_MASSCAN) | ((-r31 >> 31) & FP_MIRAI)) &
    (FP_ZMAP | FP_MASSCAN | FP_MIRAI);
}

// Exact conversion of a 64-bit pcapng timestamp (hi, lo words) into seconds and nanoseconds,
// without losing precision above 2^53 (decimal units without BigInt: they are the common case).

/** Seconds and nanoseconds, written by {@link splitTimestamp} into an object the caller owns. */
export interface SecNsec {
  sec: number;
  nsec: number;
}

const POW10 = [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9];

/**
 * Splits `hi * 2^32 + lo` units into `ts.sec` / `ts.nsec` (reused by the caller: no allocation
 * per packet). A unit is 10^-pow10 seconds when `pow2` is 0, else 2^-pow2 seconds.
 */
export function splitTimestamp(
  ts: SecNsec,
  hi: number,
  lo: number,
  pow10: number,
  pow2: number,
): void {
  if (pow2 > 0) {
    // Units of 2^-pow2 s (pow2 at most 63 by construction), exactly and with the fraction
    // truncated to nanoseconds as libpcap does. BigInt: binary resolutions are rare, and a
    // float product would be off by one nanosecond now and then.
    const units = (BigInt(hi) << 32n) | BigInt(lo >>> 0);
    const p = BigInt(pow2);
    ts.sec = Number(units >> p);
    ts.nsec = Number(((units & ((1n << p) - 1n)) * 1000000000n) >> p);
    return;
  }
  if (pow10 > 9) {
    // Finer than a nanosecond (e.g. picoseconds), truncated to nanoseconds. BigInt, as for
    // binary units: the nanosecond count passes 2^53, where a float division loses digits.
    const units = (BigInt(hi) << 32n) | BigInt(lo >>> 0);
    const ns = units / 10n ** BigInt(pow10 - 9);
    ts.sec = Number(ns / 1000000000n);
    ts.nsec = Number(ns % 1000000000n);
    return;
  }
  longDiv(ts, hi, lo, POW10[pow10], POW10[9 - pow10]);
}

// (hi * 2^32 + lo) / d for d < 2^30, exact: the quotient into ts.sec, the remainder times
// `scale` into ts.nsec.
function longDiv(ts: SecNsec, hi: number, lo: number, d: number, scale: number): void {
  const qh = Math.floor(hi / d);
  const rh = hi - qh * d;
  const x = rh * 65536 + (lo >>> 16);
  const q2 = Math.floor(x / d);
  const r2 = x - q2 * d;
  const y = r2 * 65536 + (lo & 0xffff);
  const q3 = Math.floor(y / d);
  ts.nsec = (y - q3 * d) * scale;
  ts.sec = qh * 4294967296 + q2 * 65536 + q3;
}

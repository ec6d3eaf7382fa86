import { deepEqual, equal } from "node:assert/strict";
import { splitTimestamp } from "../../src/capture/_timestamp.ts";
import { formatTime } from "../../src/stats/packet_stats.ts";

const split = (hi: number, lo: number, pow10: number, pow2: number) => {
  const ts = { sec: -1, nsec: -1 };
  splitTimestamp(ts, hi, lo, pow10, pow2);
  return [ts.sec, ts.nsec];
};

Deno.test("binary if_tsresol: exact seconds, nanoseconds truncated as libpcap does", () => {
  deepEqual(split(0, 3, 0, 1), [1, 500000000]);
  deepEqual(split(0, 1, 0, 3), [0, 125000000]);
  deepEqual(split(0, 2, 0, 30), [0, 1]); // 1.86 ns: truncated, not rounded to 2
  deepEqual(split(0, 0x3fffffff, 0, 30), [0, 999999999]);
  // 2^63 - 1 units of 2^-32 s: beyond 2^53, still exact.
  deepEqual(split(0x7fffffff, 0xffffffff, 0, 32), [0x7fffffff, 999999999]);
  deepEqual(split(0x5f8f5a00, 0x80000000, 0, 32), [0x5f8f5a00, 500000000]);
});

Deno.test("decimal if_tsresol: micro, nano and pico seconds", () => {
  const us = 1603296000123456;
  deepEqual(split(Math.floor(us / 2 ** 32), us % 2 ** 32, 6, 0), [1603296000, 123456000]);
  const ps = 1603296000123456789012n; // picoseconds: truncated to nanoseconds
  deepEqual(split(Number(ps >> 32n), Number(ps & 0xffffffffn), 12, 0), [1603296000, 123456789]);
});

Deno.test("times after 9999 print as the last RFC 3339 time, not with a six-digit year", () => {
  equal(formatTime(253402300799, 999999999), "9999-12-31T23:59:59.999999999Z");
  equal(formatTime(0xffffffff * 1000, 0), "9999-12-31T23:59:59.999999999Z");
  equal(formatTime(0, 0), "1970-01-01T00:00:00.000000000Z");
});

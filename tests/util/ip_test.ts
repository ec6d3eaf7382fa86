import { deepEqual, equal } from "node:assert/strict";
import {
  formatIpv4,
  formatIpv6,
  formatIpv6Words,
  parseIpv4,
  parseIpv6,
} from "../../src/util/ip.ts";
import { xorshift } from "../_helpers.ts";

Deno.test("IPv4: format and parse are inverse over the whole range; malformed quads are -1", () => {
  for (const a of [0, 1, 0x7f000001, 0xc0000201, 0xffffffff, 0x80000000]) {
    equal(parseIpv4(formatIpv4(a)), a >>> 0);
  }
  const rnd = xorshift(5);
  for (let i = 0; i < 10000; i++) {
    const a = rnd(2 ** 32);
    equal(parseIpv4(formatIpv4(a)), a);
  }
  equal(formatIpv4(0xffffffff), "255.255.255.255");
  for (
    const bad of [
      "",
      "1.2.3",
      "1.2.3.4.5",
      "256.0.0.1",
      "1.2.3.-4",
      "a.b.c.d",
      " 1.2.3.4",
      "1..3.4",
    ]
  ) {
    equal(parseIpv4(bad), -1, bad);
  }
});

Deno.test("IPv6: RFC 5952 text (longest zero run compressed, the first on a tie, lower case)", () => {
  const cases: [string, string][] = [
    ["2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"],
    ["0000:0000:0000:0000:0000:0000:0000:0000", "::"],
    ["0000:0000:0000:0000:0000:0000:0000:0001", "::1"],
    ["2001:0db8:0000:0001:0000:0000:0000:0001", "2001:db8:0:1::1"], // the longer run wins
    ["2001:0db8:0000:0000:0001:0000:0000:0001", "2001:db8::1:0:0:1"], // first of two equal runs
    ["2001:0db8:0001:0001:0001:0001:0001:0001", "2001:db8:1:1:1:1:1:1"],
    ["2001:0db8:0000:0001:0001:0001:0001:0001", "2001:db8:0:1:1:1:1:1"], // one zero: not "::"
    ["FE80:0000:0000:0000:ABCD:0000:0000:0000", "fe80::abcd:0:0:0"],
  ];
  for (const [full, want] of cases) {
    const b = parseIpv6(full)!;
    equal(formatIpv6(b), want, full);
    const words = new Uint32Array(4);
    const dv = new DataView(b.buffer);
    for (let i = 0; i < 4; i++) words[i] = dv.getUint32(i * 4);
    equal(formatIpv6Words(words), want, full);
    deepEqual(parseIpv6(want), b, want);
  }
  // Offsets into a larger buffer.
  const two = new Uint8Array(32);
  two.set(parseIpv6("2001:db8::2")!, 16);
  equal(formatIpv6(two, 16), "2001:db8::2");
});

Deno.test("IPv6: embedded IPv4, and malformed text is null", () => {
  deepEqual(
    parseIpv6("::ffff:192.0.2.1"),
    Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1),
  );
  for (
    const bad of [
      "",
      ":",
      "1:2:3:4:5:6:7",
      "1:2:3:4:5:6:7:8:9",
      "1::2::3",
      "12345::",
      "g::1",
      "::1.2.3",
      "::256.0.0.1",
      "1:2:3:4:5:6:7::8:9",
    ]
  ) {
    equal(parseIpv6(bad), null, bad);
  }
});

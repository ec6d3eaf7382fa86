import { deepEqual, equal, match, ok } from "node:assert/strict";
import { gunzipSync } from "node:zlib";
import { PrefixTable } from "../../src/enrich/prefix_table.ts";
import { DataError } from "../../src/errors.ts";
import { formatIpv6, parseIpv4, parseIpv6 } from "../../src/util/ip.ts";

const hand = await PrefixTable.load(["testdata/pfx2as/handmade.pfx2as"]);
const at = (ip: string) =>
  ip.includes(":") ? hand.lookup6(parseIpv6(ip)!) : hand.lookup4(parseIpv4(ip));

Deno.test("longest-prefix match over nested prefixes; MOAS and AS sets give the first origin", () => {
  deepEqual(at("10.9.9.9"), { prefix: "10.0.0.0/8", asn: 64500 });
  deepEqual(at("10.1.200.1"), { prefix: "10.1.0.0/16", asn: 64501 });
  deepEqual(at("10.1.2.3"), { prefix: "10.1.2.0/24", asn: 64504 });
  deepEqual(at("10.1.2.200"), { prefix: "10.1.2.128/25", asn: 64506 });
  deepEqual(at("10.1.3.0"), { prefix: "10.1.0.0/16", asn: 64501 }); // just past a nested prefix
  deepEqual(at("10.2.255.255"), { prefix: "10.2.0.0/16", asn: 4200000000 }); // 32-bit ASN
  deepEqual(at("198.51.100.7"), { prefix: "198.51.100.0/24", asn: 64512 }); // CIDR "simple" form
  equal(at("192.0.2.1")!.prefix, "192.0.2.0/24"); // duplicate prefix: one answer
  deepEqual(at("8.8.8.8"), { prefix: "0.0.0.0/0", asn: 64499 }); // default route
  deepEqual(at("255.255.255.255"), { prefix: "0.0.0.0/0", asn: 64499 });
  deepEqual(at("2001:db8:1:2::5"), { prefix: "2001:db8:1:2::/64", asn: 64523 });
  deepEqual(at("2001:db8:1:3::5"), { prefix: "2001:db8:1::/48", asn: 64521 });
  deepEqual(at("2001:db8:ffff::1"), { prefix: "2001:db8::/32", asn: 64520 });
  equal(at("2001:db9::1"), null);
  equal(PrefixTable.fromText("10.0.0.0\t8\t1\n", "x").lookup4(parseIpv4("11.0.0.0")), null);
});

Deno.test("the real file excerpt agrees with a brute-force longest-prefix match", async () => {
  const path = "testdata/pfx2as/routeviews-rv2-20160202-1200-excerpt.pfx2as.gz";
  const t = await PrefixTable.load([
    path,
    "testdata/pfx2as/routeviews-rv6-20160202-1200-excerpt.pfx2as.gz",
  ]);
  const lines = new TextDecoder().decode(gunzipSync(Deno.readFileSync(path))).trim().split("\n");
  const byLen = new Map<number, Map<number, [string, number]>>();
  for (const l of lines) {
    const [a, len, origin] = l.split("\t");
    const m = byLen.get(+len) ?? new Map();
    byLen.set(+len, m);
    if (!m.has(parseIpv4(a))) m.set(parseIpv4(a), [`${a}/${len}`, Number(origin.split(/[_,]/)[0])]);
  }
  let x = 12345;
  let hits = 0;
  for (let i = 0; i < 20000; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    // Half the probes inside prefixes of the file, half anywhere.
    const ip = i % 2 ? x : (parseIpv4(lines[x % lines.length].split("\t")[0]) + (x & 255)) >>> 0;
    let want: { prefix: string; asn: number } | null = null;
    for (let len = 32; len >= 0 && !want; len--) {
      const net = len === 0 ? 0 : (ip & (~0 << (32 - len))) >>> 0;
      const m = byLen.get(len)?.get(net);
      if (m) want = { prefix: m[0], asn: m[1] };
    }
    deepEqual(t.lookup4(ip), want);
    if (want) hits++;
  }
  ok(hits > 9000);
  deepEqual(t.lookup6(parseIpv6("2001:200::1")!), { prefix: "2001:200::/32", asn: 2500 });
});

Deno.test("malformed lines fail with file and line; gzip is detected from the content", async () => {
  const bad = async (text: string, re: RegExp) => {
    const p = Deno.makeTempFileSync({ suffix: ".pfx2as" });
    Deno.writeTextFileSync(p, text);
    let err: unknown;
    try {
      await PrefixTable.load([p]);
    } catch (e) {
      err = e;
    }
    ok(err instanceof DataError, String(err));
    match(err.message, new RegExp(`^${p.replace(/[.]/g, "\\.")}: line \\d+: `));
    match(err.message, re);
  };
  await bad("10.0.0.0\t8\t1\nnonsense\n", /line 2: expected "prefix<TAB>length<TAB>origin AS"/);
  await bad("10.0.0.0\t33\t1\n", /line 1: bad prefix length 33 for an IPv4 prefix/);
  await bad("10.0.0.0\tx\t1\n", /bad prefix length "x"/);
  await bad("10.0.0.1\t8\t1\n", /has host bits set/);
  await bad("10.0.0.0\t8\t1_x\n", /bad origin AS "1_x"/);
  await bad("10.0.0.0\t8\t4294967296\n", /bad origin AS/);
  await bad("2001:db8::\t129\t1\n", /bad prefix length 129 for an IPv6 prefix/);
  await bad("300.0.0.0\t8\t1\n", /bad prefix address "300.0.0.0"/);
  const gz = Deno.makeTempFileSync();
  Deno.writeFileSync(gz, new Uint8Array([0x1f, 0x8b, 8, 0, 1, 2, 3]));
  let err: unknown;
  try {
    await PrefixTable.load([gz]);
  } catch (e) {
    err = e;
  }
  ok(err instanceof DataError && /corrupt gzip data/.test(err.message));
});

Deno.test("IPv6 lines in every textual form agree with a brute-force match; bad ones are named", () => {
  let x = 77;
  const rnd = () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0);
  const hex = (v: number, upper: boolean, pad: boolean) => {
    const h = v.toString(16).padStart(pad ? 4 : 1, "0");
    return upper ? h.toUpperCase() : h;
  };
  // Writes 8 groups in a random form: full, zero-padded, upper case, "::" at the longest zero run.
  const write = (g: number[]) => {
    const upper = rnd() % 4 === 0;
    const pad = rnd() % 3 === 0;
    const parts = g.map((v) => hex(v, upper, pad));
    let best = -1;
    let bestLen = 0;
    for (let i = 0; i < 8;) {
      let j = i;
      while (j < 8 && g[j] === 0) j++;
      if (j - i > bestLen) [best, bestLen] = [i, j - i];
      i = j === i ? i + 1 : j;
    }
    if (bestLen < 1 || rnd() % 4 === 0) return parts.join(":");
    return parts.slice(0, best).join(":") + "::" + parts.slice(best + bestLen).join(":");
  };
  const prefixes: { net: bigint; len: number; asn: number }[] = [];
  const lines: string[] = [];
  for (let i = 0; i < 400; i++) {
    const len = [0, 16, 29, 32, 33, 48, 64, 65, 96, 127, 128][rnd() % 11];
    const g = Array.from({ length: 8 }, () => (rnd() % 5 === 0 ? 0 : rnd() & 0xffff));
    if (i % 7 === 0) g.fill(0, 2, 6); // long zero runs
    let net = 0n;
    for (const v of g) net = (net << 16n) | BigInt(v);
    net &= ~((1n << BigInt(128 - len)) - 1n);
    const ng = Array.from({ length: 8 }, (_, k) => Number((net >> BigInt(112 - 16 * k)) & 0xffffn));
    if (prefixes.some((c) => c.net === net && c.len === len)) continue;
    const asn = 1 + (rnd() % 4000000000);
    prefixes.push({ net, len, asn });
    lines.push(`${write(ng)}\t${len}\t${asn}${rnd() % 5 === 0 ? "_7" : ""}`);
  }
  const t = PrefixTable.fromText(lines.join("\n") + "\n", "v6");
  for (let q = 0; q < 3000; q++) {
    const p = prefixes[rnd() % prefixes.length];
    const host = (BigInt(rnd()) << 64n | BigInt(rnd()) << 32n | BigInt(rnd())) &
      ((1n << BigInt(128 - p.len)) - 1n);
    const a = p.net | host;
    let want: (typeof prefixes)[0] | null = null;
    for (const c of prefixes) {
      const m = c.len === 0 ? 0n : ((1n << BigInt(c.len)) - 1n) << BigInt(128 - c.len);
      if ((a & m) === c.net && (!want || c.len > want.len)) want = c;
    }
    const bytes = new Uint8Array(16);
    for (let k = 0; k < 16; k++) bytes[k] = Number((a >> BigInt(120 - 8 * k)) & 0xffn);
    const netBytes = new Uint8Array(16);
    for (let k = 0; k < 16; k++) netBytes[k] = Number((want!.net >> BigInt(120 - 8 * k)) & 0xffn);
    deepEqual(t.lookup6(bytes), { prefix: `${formatIpv6(netBytes)}/${want!.len}`, asn: want!.asn });
  }
  const bad: [string, RegExp][] = [
    ["2001:db8::1\t32\t1", /v6: line 1: prefix 2001:db8::1\/32 has host bits set/],
    ["2001:db8:::1\t48\t1", /v6: line 1: bad prefix address/],
    ["2001:db8::\t129\t1", /v6: line 1: bad prefix length 129 for an IPv6 prefix/],
    ["1:2:3:4:5:6:7:8:9\t64\t1", /v6: line 1: bad prefix address/],
  ];
  for (const [line, re] of bad) {
    let msg = "";
    try {
      PrefixTable.fromText(line + "\n", "v6");
    } catch (e) {
      ok(e instanceof DataError);
      msg = (e as Error).message;
    }
    match(msg, re);
  }
  // Embedded IPv4 and the CIDR form go through the general parser.
  equal(
    PrefixTable.fromText("::ffff:10.0.0.0\t104\t9\n", "v6").lookup6(parseIpv6("::ffff:10.1.2.3")!)!
      .asn,
    9,
  );
  equal(
    PrefixTable.fromText("2001:db8::/32 64500\n", "v6").lookup6(parseIpv6("2001:db8::9")!)!.asn,
    64500,
  );
});

Deno.test("fast and general line parsers agree on every line shape, and line numbers count both", async () => {
  // Each prefix in a canonical line and in an odd-but-valid form (CRLF, MOAS, AS set, slash form,
  // spaces, comments and blank lines between): both tables must answer alike.
  const canonical: string[] = [];
  const mixed: string[] = [];
  for (let i = 0; i < 3000; i++) {
    const net = `${1 + (i >> 8)}.${i & 255}.0.0`;
    const asn = 64500 + i;
    canonical.push(`${net}\t16\t${asn}`);
    const shape = i % 7;
    mixed.push(
      shape === 0
        ? `${net}\t16\t${asn}\r`
        : shape === 1
        ? `${net}\t16\t${asn}_${asn + 1}`
        : shape === 2
        ? `${net}\t16\t${asn},${asn + 1},7`
        : shape === 3
        ? `${net}/16 ${asn}`
        : shape === 4
        ? `  ${net}   16  ${asn}  `
        : shape === 5
        ? `# comment\n\n${net}\t16\t${asn}`
        : `${net}\t16\t${asn}`,
    );
  }
  const a = PrefixTable.fromText(canonical.join("\n") + "\n", "a");
  const b = PrefixTable.fromText(mixed.join("\n"), "b"); // no final newline
  equal(a.size, b.size);
  for (let i = 0; i < 3000; i++) {
    const ip = (((1 + (i >> 8)) << 24) | ((i & 255) << 16) | 0x1234) >>> 0;
    deepEqual(b.lookup4(ip), a.lookup4(ip));
    equal(b.lookup4(ip)!.asn, 64500 + i);
  }
  // An error after thousands of fast lines names the right line.
  const p = Deno.makeTempFileSync({ suffix: ".pfx2as" });
  Deno.writeTextFileSync(p, canonical.join("\n") + "\n10.0.0.1\t8\t1\n");
  let err: unknown;
  try {
    await PrefixTable.load([p]);
  } catch (e) {
    err = e;
  }
  match(String((err as Error).message), /: line 3001: prefix 10\.0\.0\.1\/8 has host bits set/);
});

Deno.test("a chain of all 33 nested lengths, listed twice, matches brute force (a later copy wins)", () => {
  // 10.1.2.3 is inside one prefix of every length /0 … /32; each is listed twice (as when two
  // files overlap), in shuffled order, with different origins: the later line must win.
  const ip = parseIpv4("10.1.2.3");
  const lines: string[] = [];
  const want = new Map<number, number>(); // length -> origin of the later copy
  for (let copy = 0; copy < 2; copy++) {
    for (let k = 0; k <= 32; k++) {
      const len = (k * 7) % 33;
      const net = len === 0 ? 0 : (ip & (~0 << (32 - len))) >>> 0;
      const asn = 1000 * (copy + 1) + len;
      lines.push(
        `${(net >>> 24)}.${(net >>> 16) & 255}.${(net >>> 8) & 255}.${net & 255}\t${len}\t${asn}`,
      );
      want.set(len, asn);
    }
  }
  const t = PrefixTable.fromText(lines.join("\n") + "\n", "chain");
  for (let i = 0; i < 3300; i++) {
    // A probe sharing exactly `len` leading bits with ip (random bits after the first difference).
    const len = i % 33;
    const low = len >= 31 ? 0 : (Math.imul(i, 2654435761) >>> 0) % 2 ** (31 - len);
    const probe = len === 32 ? ip : ((ip >>> (31 - len)) ^ 1) * 2 ** (31 - len) + low;
    const net = len === 0 ? 0 : (ip & (~0 << (32 - len))) >>> 0;
    const m = t.lookup4(probe)!;
    equal(m.asn, want.get(len), `probe ${probe >>> 0}`);
    equal(m.prefix.endsWith(`/${len}`), true);
    equal(parseIpv4(m.prefix.split("/")[0]), net);
  }
});

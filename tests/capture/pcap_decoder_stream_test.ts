import { deepEqual, match, ok } from "node:assert/strict";
import { DataError } from "../../src/errors.ts";
import { Traffic } from "../../src/decode/traffic.ts";
import { ethernet, ipv4Packet, ipv6Packet, sll } from "../../src/synth/frames.ts";
import { concat, pcapFile, pcapngSection, type WritePacket } from "../../src/synth/pcap_writer.ts";
import { decode } from "../_helpers.ts";

const A = 0xc6336401; // 198.51.100.1
const B = 0x0a000001;

function packets(n: number): WritePacket[] {
  const out: WritePacket[] = [];
  for (let i = 0; i < n; i++) {
    out.push({
      sec: 1600000000 + i,
      nsec: i * 1000 + 7000,
      data: ethernet(
        ipv4Packet({ src: A + i, dst: B + i, proto: 6, dport: 23 + i, flags: 0x02, id: i }),
      ),
    });
  }
  return out;
}

Deno.test("classic pcap: all four variants and the modified magic decode identically", async () => {
  const pk = packets(5);
  const base = await decode(pcapFile(pk, { linkType: 1 }));
  deepEqual(base.rows.length, 5);
  deepEqual(base.rows[2].src, A + 2);
  deepEqual(base.rows[2].traffic, Traffic.TCPSYN);
  deepEqual(base.rows[2].port, 25);
  deepEqual(base.rows[3].sec, 1600000003);
  deepEqual(base.rows[3].nsec, 10000);
  for (
    const o of [
      { littleEndian: false },
      { nanosecond: true },
      { nanosecond: true, littleEndian: false },
      { modified: true },
      { modified: true, littleEndian: false },
    ]
  ) {
    const r = await decode(pcapFile(pk, { linkType: 1, ...o }));
    deepEqual(r.error, undefined, JSON.stringify(o));
    deepEqual(r.rows, base.rows, JSON.stringify(o));
  }
});

Deno.test("nanosecond pcap keeps nanoseconds", async () => {
  const r = await decode(
    pcapFile([{
      sec: 5,
      nsec: 123456789,
      data: ethernet(ipv4Packet({ src: A, dst: B, proto: 17 })),
    }], {
      linkType: 1,
      nanosecond: true,
    }),
  );
  deepEqual([r.rows[0].sec, r.rows[0].nsec], [5, 123456789]);
});

Deno.test("every chunk size gives the same rows (records split across any boundary)", async () => {
  const pk = packets(40);
  const files = [
    pcapFile(pk, { linkType: 1 }),
    pcapFile(pk, { linkType: 1, littleEndian: false, nanosecond: true }),
    pcapngSection([{ linkType: 1 }], pk),
    pcapngSection([{ linkType: 1, tsresol: 9 }], pk, false),
  ];
  for (const f of files) {
    const whole = await decode(f);
    deepEqual(whole.rows.length, 40);
    deepEqual(whole.batches, 1);
    for (const size of [1, 2, 3, 5, 7, 11, 16, 23, 24, 25, 64, 100, 1000]) {
      const r = await decode(f, size);
      deepEqual(r.error, undefined, `chunk ${size}`);
      deepEqual(r.rows, whole.rows, `chunk ${size}`);
    }
  }
});

Deno.test("pcapng: several sections of both byte orders, interfaces with own link type and resolution", async () => {
  const ip = ipv4Packet({ src: A, dst: B, proto: 17, dport: 53 });
  const s1 = pcapngSection(
    [{ linkType: 1 }, { linkType: 113, tsresol: 9 }, { linkType: 101, tsresol: 0x80 | 20 }],
    [
      { sec: 100, nsec: 5000, data: ethernet(ip), iface: 0 },
      { sec: 101, nsec: 123456789, data: sll(ip), iface: 1 },
      { sec: 102, nsec: 500000000, data: ip, iface: 2 },
    ],
  );
  const s2 = pcapngSection([{ linkType: 228, tsresol: 3, tsoffset: 1000 }], [
    { sec: 2000, nsec: 250000000, data: ip },
  ], false);
  const r = await decode(concat([s1, s2]));
  deepEqual(r.error, undefined);
  deepEqual(r.rows.map((x) => x.linkType), [1, 113, 101, 228]);
  deepEqual(r.rows.map((x) => [x.sec, x.nsec]), [[100, 5000], [101, 123456789], [102, 500000000], [
    2000,
    250000000,
  ]]);
  ok(r.rows.every((x) => x.traffic === Traffic.UDP && x.port === 53 && x.src === A));
});

Deno.test("pcapng conformance corpus: packet counts match the block counts, both byte orders agree", async () => {
  const root = "testdata/pcap-formats/pcapng-test-generator";
  let files = 0;
  for (const group of ["basic", "advanced", "difficult"]) {
    for (const e of Deno.readDirSync(`${root}/output_le/${group}`)) {
      if (!e.name.endsWith(".pcapng")) continue;
      const txt = Deno.readTextFileSync(
        `${root}/output_le/${group}/${e.name.replace(".pcapng", ".txt")}`,
      );
      let expected = 0;
      for (const m of txt.matchAll(/^\s*(EPB|SPB|PB):\s*(\d+)/gm)) expected += Number(m[2]);
      const le = await decode(Deno.readFileSync(`${root}/output_le/${group}/${e.name}`));
      const be = await decode(Deno.readFileSync(`${root}/output_be/${group}/${e.name}`));
      deepEqual(le.error, undefined, e.name);
      deepEqual(le.rows.length, expected, e.name);
      deepEqual(be.rows, le.rows, e.name);
      files++;
    }
  }
  ok(files >= 20);
});

Deno.test("truncated record: error names file and offset, earlier packets are kept", async () => {
  const f = pcapFile(packets(10), { linkType: 1 });
  const cut = f.subarray(0, f.length - 10);
  for (const size of [7, 64, cut.length]) {
    const r = await decode(cut, size, "cut.pcap");
    deepEqual(r.rows.length, 9);
    ok(r.error instanceof DataError);
    const recStart = 24 + 9 * (16 + 54);
    deepEqual(
      r.error!.message,
      `cut.pcap: byte ${recStart}: truncated record: 60 of 70 bytes present`,
    );
  }
});

Deno.test("absurd captured length is rejected without allocating it", async () => {
  const f = pcapFile(packets(3), { linkType: 1 });
  new DataView(f.buffer).setUint32(24 + 70 + 8, 0x7fffffff, true);
  const r = await decode(f, 1 << 20, "big.pcap");
  deepEqual(r.rows.length, 1);
  match(r.error!.message, /^big\.pcap: byte 94: record captured length 2147483647 exceeds 262144/);
});

Deno.test("header errors: bad version, empty input, not a capture", async () => {
  const f = pcapFile(packets(1), { linkType: 1 });
  new DataView(f.buffer).setUint16(4, 3, true);
  match((await decode(f)).error!.message, /byte 4: unsupported pcap version 3\.4/);
  match((await decode(new Uint8Array(0))).error!.message, /empty input/);
  const text = new TextEncoder().encode("hello, this is not a capture file at all\n");
  match((await decode(text)).error!.message, /byte 0: a text file/);
  match((await decode(f.subarray(0, 10))).error!.message, /truncated file header/);
});

Deno.test("pcapng errors: packet naming a missing interface, trailing length mismatch", async () => {
  const ok = pcapngSection([{ linkType: 1 }], packets(2));
  const bad = ok.slice();
  // First EPB starts after SHB (28) and IDB (20): its interface id is at +8.
  new DataView(bad.buffer).setUint32(28 + 20 + 8, 5, true);
  match(
    (await decode(bad)).error!.message,
    /byte 48: packet block names interface 5, but the section defines 1/,
  );
  const bad2 = ok.slice();
  new DataView(bad2.buffer).setUint32(28 + 20 - 4, 99, true);
  match(
    (await decode(bad2)).error!.message,
    /byte 28: pcapng block's trailing length does not match/,
  );
});

Deno.test("IPv6 source addresses are carried as 16 bytes", async () => {
  const src = new Uint8Array(16);
  src.set([0x20, 0x01, 0x0d, 0xb8], 0);
  src[15] = 7;
  const dst = new Uint8Array(16);
  dst[0] = 0xfe;
  const f = pcapFile([{
    sec: 1,
    nsec: 0,
    data: ethernet(ipv6Packet({ src, dst, proto: 6, dport: 443, flags: 0x02 })),
  }], {
    linkType: 1,
  });
  const r = await decode(f);
  deepEqual(r.rows[0].ipVersion, 6);
  deepEqual(r.rows[0].src6, "20010db8000000000000000000000007");
  deepEqual([r.rows[0].traffic, r.rows[0].port, r.rows[0].src], [Traffic.TCPSYN, 443, 0]);
});

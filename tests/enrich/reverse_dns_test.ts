import { deepEqual, equal, ok } from "node:assert/strict";
import { DNS_FAILED, dnsEnricher, ptrName, ReverseDns } from "../../src/enrich/reverse_dns.ts";
import { EnrichStream } from "../../src/enrich/enrich_stream.ts";
import { DarknetEvent } from "../../src/model/darknet_event.ts";
import { freePort, garbageServer, silentServer, startDnsmasq } from "./_dnsmasq.ts";
import { testWith } from "../_programs.ts";

const PTR = {
  "4.3.2.1.in-addr.arpa": ["two.example.org", "one.example.org"],
  "5.120.78.214.in-addr.arpa": ["scanner.example.net"],
  [ptrName("2001:db8::7")]: ["v6.example.org"],
};

Deno.test("PTR names", () => {
  equal(ptrName("1.2.3.4"), "4.3.2.1.in-addr.arpa");
  equal(
    ptrName("2001:db8::7"),
    "7.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa",
  );
});

testWith(
  ["dnsmasq"],
  "reverse DNS against a real dnsmasq: names, NXDOMAIN, IPv6, cache, dead and silent servers",
  async () => {
    const dns = await startDnsmasq(PTR);
    const silent = await silentServer(); // receives queries, never answers
    const silentPort = silent.port;
    try {
      const ok1 = new ReverseDns({
        servers: [{ ipAddr: "127.0.0.1", port: dns.port }],
        timeoutMs: 2000,
      });
      deepEqual(await ok1.lookup("1.2.3.4"), ["one.example.org.", "two.example.org."]);
      deepEqual(await ok1.lookup("1.2.3.5"), []);
      deepEqual(await ok1.lookup("2001:db8::7"), ["v6.example.org."]);
      deepEqual(await ok1.lookup("1.2.3.4"), ["one.example.org.", "two.example.org."]);
      deepEqual(ok1.stats, { lookups: 3, answered: 2, nxdomain: 1, failed: 0, timeouts: 0 });

      const dead = new ReverseDns({
        servers: [{ ipAddr: "127.0.0.1", port: await freePort() }],
        timeoutMs: 300,
        retries: 1,
      });
      deepEqual(await dead.lookup("1.2.3.4"), [DNS_FAILED]);
      equal(dead.stats.failed, 1);

      const t0 = performance.now();
      const slow = new ReverseDns({
        servers: [{ ipAddr: "127.0.0.1", port: silentPort }],
        timeoutMs: 200,
        retries: 2,
      });
      deepEqual(await slow.lookup("1.2.3.4"), [DNS_FAILED]);
      deepEqual([slow.stats.failed, slow.stats.timeouts], [1, 3]);
      // 3 × 200 ms when applied; 3 × 5 s (the default) when not: 10 s leaves room for a load.
      ok(performance.now() - t0 < 10_000, "the timeout was not applied");

      // Several servers: a silent one and a working one; every lookup ends up answered.
      const both = new ReverseDns({
        servers: [{ ipAddr: "127.0.0.1", port: silentPort }, {
          ipAddr: "127.0.0.1",
          port: dns.port,
        }],
        timeoutMs: 200,
        retries: 1,
      });
      const ips = ["1.2.3.4", "214.78.120.5", "1.2.3.5", "1.2.3.6", "1.2.3.7", "1.2.3.8"];
      const res = await Promise.all(ips.map((ip) => both.lookup(ip)));
      deepEqual(res.slice(0, 3), [
        ["one.example.org.", "two.example.org."],
        ["scanner.example.net."],
        [],
      ]);
      equal(both.stats.failed, 0);
      ok(both.stats.timeouts > 0, "no lookup went to the silent server first");
    } finally {
      await silent.close();
      await dns.stop();
    }
  },
);

testWith(
  ["dnsmasq"],
  "EnrichStream keeps the order of chunks although later lookups finish first",
  async () => {
    const dns = await startDnsmasq(PTR);
    const silent = await silentServer();
    try {
      // 9.9.9.9 is asked of the silent server first (times out, then retried on dnsmasq).
      const r = new ReverseDns({
        servers: [{ ipAddr: "127.0.0.1", port: silent.port }, {
          ipAddr: "127.0.0.1",
          port: dns.port,
        }],
        timeoutMs: 300,
        retries: 1,
      });
      const ev = (a: number) => {
        const e = new DarknetEvent();
        e.src = a;
        return e;
      };
      const chunks = [0x09090909, 0x01020304, 0x01020305, 0x0a0b0c0d].map((a, i) => ({
        events: [ev(a)],
        open: i === 3,
      }));
      const out: string[] = [];
      for await (
        const c of ReadableStream.from(chunks).pipeThrough(new EnrichStream([dnsEnricher(r)]))
      ) {
        out.push(`${c.events[0].sourceIP} ${JSON.stringify(c.events[0].rdns)} ${c.open}`);
      }
      deepEqual(out, [
        `9.9.9.9 [] false`,
        `1.2.3.4 ["one.example.org.","two.example.org."] false`,
        `1.2.3.5 [] false`,
        `10.11.12.13 [] true`,
      ]);
    } finally {
      await silent.close();
      await dns.stop();
    }
  },
);

Deno.test("a server that answers garbage: every lookup ends with the failure marker, quickly", async () => {
  const g = await garbageServer();
  try {
    const r = new ReverseDns({
      servers: [{ ipAddr: "127.0.0.1", port: g.port }],
      timeoutMs: 500,
      retries: 1,
    });
    const res = await Promise.all(["1.2.3.4", "5.6.7.8", "2001:db8::1"].map((ip) => r.lookup(ip)));
    deepEqual(res, [[DNS_FAILED], [DNS_FAILED], [DNS_FAILED]]);
    deepEqual([r.stats.lookups, r.stats.failed, r.stats.answered], [3, 3, 0]);
  } finally {
    await g.close();
  }
});

Deno.test("the answer cache is bounded (cacheSize to twice that) and keeps recent addresses", async () => {
  const r = new ReverseDns({
    servers: [{ ipAddr: "127.0.0.1", port: 9 }],
    timeoutMs: 50,
    retries: 0,
    concurrency: 400,
    cacheSize: 50,
  });
  const all: Promise<string[]>[] = [];
  for (let i = 0; i < 300; i++) all.push(r.lookup(`10.0.${i >> 8}.${i & 255}`));
  ok(r.cached <= 100, `${r.cached} cached`);
  const again = r.lookup("10.0.1.43"); // the last one asked: from the cache
  await Promise.all([...all, again]);
  equal(r.stats.lookups, 300);
});

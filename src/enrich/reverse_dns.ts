/**
 * Reverse DNS (PTR) lookups of event sources with `Deno.resolveDns`: several servers (the
 * first try goes to a server picked pseudo-randomly per address, retries rotate through the
 * others), a per-query timeout through an `AbortSignal` (without one a dead server blocks for
 * 15 s), a bounded number of queries in flight, and one lookup per distinct address per run.
 *
 * Results follow Merit's darknet-events: the PTR names (as the server returns them, sorted so
 * output is reproducible); `[]` for NXDOMAIN; `["FAILED (ERR)"]` when every attempt failed.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { parseDnsServer } from "./reverse_dns.ts";
 * ok(parseDnsServer("127.0.0.1:5353").port === 5353);
 * ok(parseDnsServer("[::1]").port === 53);
 * ```
 * @module
 */

import { UsageError } from "../errors.ts";
import { parseIpv4, parseIpv6 } from "../util/ip.ts";
import type { Enricher } from "./enricher.ts";
import { BoundedCache } from "../util/bounded_cache.ts";

/** A DNS server address. */
export interface DnsServer {
  /** Server address. */
  ipAddr: string;
  /** Server port (53 by default). */
  port: number;
}

/** Options of {@link ReverseDns}. */
export interface ReverseDnsOptions {
  /** Servers to ask. */
  servers: DnsServer[];
  /** Per-query timeout in milliseconds (default 5000). */
  timeoutMs?: number;
  /** Retries after a failed or timed-out query (default 2). */
  retries?: number;
  /** Queries in flight at most (default 64). */
  concurrency?: number;
  /** Addresses whose answers are kept: `cacheSize` to twice that many (default 65536). */
  cacheSize?: number;
}

/** Counters of a run. */
export interface DnsStats {
  /** Distinct addresses looked up. */
  lookups: number;
  /** Lookups that returned names. */
  answered: number;
  /** Lookups answered with NXDOMAIN (no name). */
  nxdomain: number;
  /** Lookups that failed after every retry. */
  failed: number;
  /** Individual queries that timed out (retries included). */
  timeouts: number;
}

/**
 * The failure marker of Merit's tool.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { DNS_FAILED } from "./reverse_dns.ts";
 * ok(DNS_FAILED === "FAILED (ERR)");
 * ```
 */
export const DNS_FAILED = "FAILED (ERR)";

/**
 * Parses `host` or `host:port` (`[v6]:port` for IPv6). Throws a `UsageError` naming the value.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { parseDnsServer } from "./reverse_dns.ts";
 * ok(parseDnsServer("192.0.2.53").port === 53);
 * ok(parseDnsServer("[2001:db8::53]:5353").ipAddr === "2001:db8::53");
 * ```
 */
export function parseDnsServer(s: string): DnsServer {
  let host = s;
  let port = 53;
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(s);
  if (v6) {
    host = v6[1];
    if (v6[2]) port = Number(v6[2]);
  } else if (/^[^:]+:\d+$/.test(s)) {
    const i = s.lastIndexOf(":");
    host = s.slice(0, i);
    port = Number(s.slice(i + 1));
  }
  if ((parseIpv4(host) < 0 && parseIpv6(host) === null) || port < 1 || port > 65535) {
    throw new UsageError(`--dns: "${s}" is not an IP address or address:port`);
  }
  return { ipAddr: host, port };
}

/**
 * The PTR query name of an IPv4 or IPv6 address.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { ptrName } from "./reverse_dns.ts";
 * ok(ptrName("192.0.2.1") === "1.2.0.192.in-addr.arpa");
 * ```
 */
export function ptrName(ip: string): string {
  const v4 = parseIpv4(ip);
  if (v4 >= 0) {
    return `${v4 & 255}.${(v4 >>> 8) & 255}.${(v4 >>> 16) & 255}.${v4 >>> 24}.in-addr.arpa`;
  }
  const b = parseIpv6(ip);
  if (!b) throw new Error(`not an IP address: ${ip}`);
  const nibbles: string[] = [];
  for (let i = 15; i >= 0; i--) nibbles.push((b[i] & 15).toString(16), (b[i] >> 4).toString(16));
  return `${nibbles.join(".")}.ip6.arpa`;
}

/**
 * A reverse-DNS resolver with a per-run cache.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { ReverseDns } from "./reverse_dns.ts";
 * const dns = new ReverseDns({ servers: [{ ipAddr: "127.0.0.1", port: 9 }], timeoutMs: 100, retries: 0 });
 * ok((await dns.lookup("192.0.2.1"))[0] === "FAILED (ERR)" && dns.stats.failed === 1);
 * ```
 */
export class ReverseDns {
  /** Servers asked. */
  readonly servers: DnsServer[];
  /** Per-query timeout, ms. */
  readonly timeoutMs: number;
  /** Retries after a failed query. */
  readonly retries: number;
  /** Queries in flight at most. */
  readonly concurrency: number;
  /** Counters of the run. */
  readonly stats: DnsStats = { lookups: 0, answered: 0, nxdomain: 0, failed: 0, timeouts: 0 };
  readonly #cache: BoundedCache<Promise<string[]>>;
  #inFlight = 0;
  readonly #waiting: (() => void)[] = [];

  /** Creates a resolver (no query is sent until {@link lookup}). */
  constructor(o: ReverseDnsOptions) {
    if (o.servers.length === 0) throw new UsageError("--dns needs at least one server");
    this.servers = o.servers;
    this.timeoutMs = o.timeoutMs ?? 5000;
    this.retries = o.retries ?? 2;
    this.concurrency = o.concurrency ?? 64;
    this.#cache = new BoundedCache(o.cacheSize ?? 65536);
  }

  /** Addresses whose answers are cached now (at most twice the cache size). */
  get cached(): number {
    return this.#cache.size;
  }

  /** PTR names of `ip` (cached: an address seen again recently is not asked again). */
  lookup(ip: string): Promise<string[]> {
    let p = this.#cache.get(ip);
    if (!p) {
      p = this.#resolve(ip);
      this.#cache.set(ip, p);
    }
    return p;
  }

  async #slot(): Promise<void> {
    if (this.#inFlight < this.concurrency) {
      this.#inFlight++;
      return;
    }
    await new Promise<void>((r) => this.#waiting.push(r));
  }

  #release(): void {
    const next = this.#waiting.shift();
    if (next) next();
    else this.#inFlight--;
  }

  async #resolve(ip: string): Promise<string[]> {
    this.stats.lookups++;
    const name = ptrName(ip);
    let h = 2166136261;
    for (let i = 0; i < ip.length; i++) h = Math.imul(h ^ ip.charCodeAt(i), 16777619);
    const first = (h >>> 0) % this.servers.length;
    await this.#slot();
    try {
      for (let attempt = 0; attempt <= this.retries; attempt++) {
        const server = this.servers[(first + attempt) % this.servers.length];
        try {
          const names = await Deno.resolveDns(name, "PTR", {
            nameServer: server,
            signal: AbortSignal.timeout(this.timeoutMs),
          });
          this.stats.answered++;
          return names.sort();
        } catch (e) {
          if (e instanceof Deno.errors.NotFound) {
            this.stats.nxdomain++;
            return [];
          }
          if (e instanceof DOMException && (e.name === "TimeoutError" || e.name === "AbortError")) {
            this.stats.timeouts++;
          }
        }
      }
      this.stats.failed++;
      return [DNS_FAILED];
    } finally {
      this.#release();
    }
  }
}

/**
 * `RDNS` by reverse DNS lookups (in the background; see {@link ReverseDns}).
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { dnsEnricher, ReverseDns } from "./reverse_dns.ts";
 * const x = dnsEnricher(new ReverseDns({ servers: [{ ipAddr: "127.0.0.1", port: 9 }] }));
 * deepEqual(x.fields, ["rdns"]);
 * ```
 */
export function dnsEnricher(dns: ReverseDns): Enricher {
  return {
    name: "rdns",
    fields: ["rdns"],
    async annotateAsync(e) {
      e.rdns = await dns.lookup(e.sourceIP);
    },
  };
}

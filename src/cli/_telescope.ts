// Telescope size from --telescope CIDR,... (IPv4 prefixes; overlaps are an error).

import { UsageError } from "../errors.ts";
import { parseIpv4 } from "../util/ip.ts";

/** Number of addresses covered by comma-separated IPv4 prefixes. */
export function telescopeSize(spec: string): number {
  const ranges: [number, number][] = [];
  for (const part of spec.split(",").map((s) => s.trim()).filter((s) => s !== "")) {
    const m = /^([\d.]+)\/(\d{1,2})$/.exec(part);
    const addr = m ? parseIpv4(m[1]) : -1;
    const len = m ? Number(m[2]) : -1;
    if (addr < 0 || len < 0 || len > 32) {
      throw new UsageError(`--telescope: "${part}" is not an IPv4 prefix a.b.c.d/len`);
    }
    const size = 2 ** (32 - len);
    if (addr % size !== 0) throw new UsageError(`--telescope: "${part}" has host bits set`);
    ranges.push([addr, addr + size]);
  }
  if (ranges.length === 0) throw new UsageError("--telescope: no prefix given");
  ranges.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < ranges.length; i++) {
    if (ranges[i][0] < ranges[i - 1][1]) throw new UsageError("--telescope: prefixes overlap");
  }
  return ranges.reduce((n, [a, b]) => n + (b - a), 0);
}

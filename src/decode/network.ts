/**
 * The network layer: IPv4 and IPv6 headers (with IPv6 extension headers and fragments) into a
 * row of a batch, then the transport layer. IPv4 total length 0 (TCP segmentation offload)
 * means "the rest of the frame"; non-first fragments stay Unknown with their addresses.
 *
 * @module
 */

import type { PacketBatch } from "./packet_batch.ts";
import { Problem } from "./problem.ts";
import { decodeTransport, truncated } from "./transport.ts";

/** Decodes the IPv4 header at `d[p ..]` (frame up to `end`) into row `i`, then its transport. */
export function decodeIpv4(d: Uint8Array, p: number, end: number, b: PacketBatch, i: number): void {
  if (end - p < 20) {
    b.problem[i] = Problem.TruncatedIp;
    return;
  }
  if (d[p] >> 4 !== 4) {
    b.problem[i] = Problem.BadIpVersion;
    return;
  }
  const ihl = (d[p] & 15) << 2;
  const total = (d[p + 2] << 8) | d[p + 3];
  if (ihl < 20 || (total !== 0 && total < ihl)) {
    b.problem[i] = Problem.BadIpHeader;
    return;
  }
  if (p + ihl > end) {
    b.problem[i] = Problem.TruncatedIp;
    return;
  }
  const ipEnd = total === 0 || p + total > end ? end : p + total;
  b.ipVersion[i] = 4;
  b.ipFlags[i] = d[p + 6] >> 5;
  b.ipLen[i] = total;
  b.ttl[i] = d[p + 8];
  b.ipId[i] = (d[p + 4] << 8) | d[p + 5];
  const proto = d[p + 9];
  b.proto[i] = proto;
  b.src[i] = ((d[p + 12] << 24) | (d[p + 13] << 16) | (d[p + 14] << 8) | d[p + 15]) >>> 0;
  b.dst[i] = ((d[p + 16] << 24) | (d[p + 17] << 16) | (d[p + 18] << 8) | d[p + 19]) >>> 0;
  if ((((d[p + 6] & 0x1f) << 8) | d[p + 7]) !== 0) { // non-first fragment: Unknown
    b.ipFlags[i] |= 8;
    return;
  }
  decodeTransport(d, p + ihl, ipEnd, proto, 4, b, i);
}

/** Decodes the IPv6 header at `d[p ..]` (frame up to `end`) into row `i`, then its transport. */
export function decodeIpv6(d: Uint8Array, p: number, end: number, b: PacketBatch, i: number): void {
  if (end - p < 40) {
    b.problem[i] = Problem.TruncatedIp;
    return;
  }
  if (d[p] >> 4 !== 6) {
    b.problem[i] = Problem.BadIpVersion;
    return;
  }
  const payload = (d[p + 4] << 8) | d[p + 5];
  const ipEnd = payload === 0 || p + 40 + payload > end ? end : p + 40 + payload;
  b.ipVersion[i] = 6;
  b.ttl[i] = d[p + 7];
  b.ipLen[i] = payload < 65495 ? 40 + payload : 65535;
  if (b.src6.length === 0) b.allocV6();
  const o = i << 4;
  for (let k = 0; k < 16; k++) {
    b.src6[o + k] = d[p + 8 + k];
    b.dst6[o + k] = d[p + 24 + k];
  }
  let nh = d[p + 6];
  let q = p + 40;
  for (let hops = 0; hops < 16; hops++) {
    if (nh === 0 || nh === 43 || nh === 60 || nh === 135 || nh === 139 || nh === 140) {
      if (q + 2 > ipEnd) return truncated(b, i, nh);
      const next = d[q];
      q += (d[q + 1] + 1) << 3;
      nh = next;
    } else if (nh === 51) { // AH
      if (q + 2 > ipEnd) return truncated(b, i, nh);
      const next = d[q];
      q += (d[q + 1] + 2) << 2;
      nh = next;
    } else if (nh === 44) { // Fragment
      if (q + 8 > ipEnd) return truncated(b, i, nh);
      const next = d[q];
      const fragOff = ((d[q + 2] << 8) | d[q + 3]) >> 3;
      b.ipFlags[i] = (d[q + 3] & 1) | (fragOff !== 0 ? 8 : 0);
      b.ipId[i] = ((d[q + 4] << 24) | (d[q + 5] << 16) | (d[q + 6] << 8) | d[q + 7]) >>> 0;
      q += 8;
      nh = next;
      if (fragOff !== 0) {
        b.proto[i] = nh;
        return;
      }
    } else break;
  }
  b.proto[i] = nh;
  if (q > ipEnd) return truncated(b, i, nh);
  decodeTransport(d, q, ipEnd, nh, 6, b, i);
}

// What a per-source roll-up takes from an event (`SourceRollup.add`), as bytes: a split run's map
// step writes one record per event it writes (`sources.bin`, in the order of its events.ndjson)
// so that the merge can roll up the run's events — the block's own, minus the first events a join
// replaces, plus the joined ones — without the destinations the lines do not hold.
//
// A record: u32 length of a JSON header (source, times, counts, traffic and port, /24s, tool and
// tag counts, annotations), the header, u32 number of destinations, the destinations (u32 each;
// IPv6: their 32-bit hashes, as the aggregator gives them).

import { DataError } from "../errors.ts";
import { DarknetEvent } from "../model/darknet_event.ts";

const te = new TextEncoder();
const td = new TextDecoder("utf-8", { fatal: true });

/** An event's record. */
export function encodeSourceRecord(e: DarknetEvent): Uint8Array {
  const head = te.encode(JSON.stringify([
    e.version,
    e.version === 6 ? Array.from(e.src6) : e.src,
    e.firstSec,
    e.firstNsec,
    e.lastSec,
    e.lastNsec,
    e.packets,
    e.bytes,
    e.traffic,
    e.port,
    e.uniqueDest24s,
    e.tools,
    e.tags,
    e.scanner,
    e.country,
    e.asn,
    e.org,
  ]));
  const d = e.destinations ?? new Uint32Array(0);
  const out = new Uint8Array(8 + head.length + 4 * d.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, head.length, true);
  out.set(head, 4);
  dv.setUint32(4 + head.length, d.length, true);
  for (let i = 0; i < d.length; i++) dv.setUint32(8 + head.length + 4 * i, d[i], true);
  return out;
}

/** Reads a file of records, one event at a time (a `DataError` naming `path` if damaged). */
export async function* readSourceRecords(path: string): AsyncGenerator<DarknetEvent> {
  const bytes = await Deno.readFile(path);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let p = 0;
  const bad = () => new DataError("a damaged source record", { file: path, offset: p });
  while (p < bytes.length) {
    if (p + 4 > bytes.length) throw bad();
    const hl = dv.getUint32(p, true);
    if (p + 8 + hl > bytes.length) throw bad();
    let h: unknown[];
    try {
      h = JSON.parse(td.decode(bytes.subarray(p + 4, p + 4 + hl)));
    } catch {
      throw bad();
    }
    const n = dv.getUint32(p + 4 + hl, true);
    const at = p + 8 + hl;
    if (!Array.isArray(h) || h.length !== 17 || at + 4 * n > bytes.length) throw bad();
    const e = new DarknetEvent();
    const [v, src, fs, fn, ls, ln, pk, by, traffic, port, d24, tools, tags, sc, co, asn, org] = h;
    const num = (x: unknown) => typeof x === "number" && Number.isFinite(x);
    if (
      (v !== 4 && v !== 6) || ![fs, fn, ls, ln, pk, by, traffic, port, d24, asn].every(num) ||
      !Array.isArray(tools) || !Array.isArray(tags) || typeof sc !== "string" ||
      typeof co !== "string" || typeof org !== "string" ||
      (v === 4 ? !num(src) : !Array.isArray(src) || src.length !== 16)
    ) throw bad();
    e.version = v;
    if (v === 6) e.src6 = Uint8Array.from(src as number[]);
    else e.src = src as number;
    e.firstSec = fs as number;
    e.firstNsec = fn as number;
    e.lastSec = ls as number;
    e.lastNsec = ln as number;
    e.packets = pk as number;
    e.bytes = by as number;
    e.traffic = traffic as number;
    e.port = port as number;
    e.uniqueDest24s = d24 as number;
    e.tools = tools as number[];
    e.tags = tags as number[];
    e.scanner = sc;
    e.country = co;
    e.asn = asn as number;
    e.org = org;
    const d = new Uint32Array(n);
    for (let i = 0; i < n; i++) d[i] = dv.getUint32(at + 4 * i, true);
    e.destinations = d;
    p = at + 4 * n;
    yield e;
  }
}

// `parse --merge BLOCK...`: the merge step of a split run (src/split/). Reads the block results
// of `parse --map` (checked: version, checksums, the same settings as this run's flags), stitches
// them with SplitMerger — each block's own events copied as they are, the events joined across
// boundaries made, enriched and put in their place — and writes the events of one sequential run.

import { DarknetError, DataError, UsageError } from "../errors.ts";
import { EventAggregator } from "../aggregation/event_aggregator.ts";
import { compareEventOrder, type DarknetEvent } from "../model/darknet_event.ts";
import type { EventChunk } from "../aggregation/event_aggregator_stream.ts";
import { EnrichStream } from "../enrich/enrich_stream.ts";
import type { EventEncoder, EventFormat } from "../outputs/event_encoder.ts";
import { EventWriter } from "../outputs/event_writer.ts";
import { parquetFromJson } from "../outputs/parquet.ts";
import {
  type Block,
  BLOCK_FILES,
  INDEX_ENTRY,
  readBlock,
  readBlockDos,
} from "../split/block_result.ts";
import { compareDosReports, type DosReport, DosVictims } from "../dos/dos_victims.ts";
import { recordFormat } from "../outputs/record_format.ts";
import { PacketStats } from "../stats/packet_stats.ts";
import { SOURCE_COLUMNS, SourceRollup } from "../sources/source_rollup.ts";
import { readSourceRecords } from "../sources/_source_record.ts";
import { ioError } from "../errors.ts";
import { eventKey, keyString, SplitMerger } from "../split/split_merger.ts";
import { loadState, saveState } from "../state/state_file.ts";
import {
  annotateDos,
  blockSettings,
  dosColumns,
  openEnrichers,
  type ParseConfig,
  type ParseResult,
} from "./run_parse.ts";
import { checkPaths } from "./_output_paths.ts";

const te = new TextEncoder();
const CLOSE = te.encode("\n]\n");
const CLOSE_EMPTY = te.encode("]\n");
const NONE = new Uint8Array(0);

// The event file's format, taking a block's lines (bytes, one event's JSON) or events.
function stitched(f: EventFormat): EventFormat {
  const lines = f.name === "ndjson";
  return {
    name: f.name,
    description: f.description,
    create(): EventEncoder {
      let count = 0;
      return {
        open: (out) => {
          if (!lines) out.ascii("[");
        },
        add(out, e) {
          if (!lines) out.ascii(count === 0 ? "\n" : ",\n");
          if (e instanceof Uint8Array) out.raw(e);
          else out.event(e);
          if (lines) out.ascii("\n");
          count++;
        },
        closing: () => lines ? NONE : count === 0 ? CLOSE_EMPTY : CLOSE,
      };
    },
  };
}

// Index entry i of a block against an event: Last, then key (as compareEventOrder).
function compareEntry(ix: DataView, i: number, e: DarknetEvent): number {
  const p = i * INDEX_ENTRY;
  const d = ix.getFloat64(p, true) - e.lastSec || ix.getUint32(p + 8, true) - e.lastNsec;
  if (d !== 0) return d;
  const v = ix.getUint8(p + 13);
  if (v !== e.version) return v - e.version;
  const k = eventKey(e);
  for (let w = 0; w < k.length; w++) {
    const a = ix.getUint32(p + 16 + 4 * w, true);
    if (a !== k[w]) return a < k[w] ? -1 : 1;
  }
  return 0;
}

function entryKey(ix: DataView, i: number): string {
  const p = i * INDEX_ENTRY;
  const n = ix.getUint8(p + 13) === 6 ? 5 : 2;
  const k = new Uint32Array(n);
  for (let w = 0; w < n; w++) k[w] = ix.getUint32(p + 16 + 4 * w, true);
  return keyString(k);
}

// A block's events.ndjson, line by line (lengths from its index), without the newline: the lines
// read so far at a time (one await per MiB, not per line), valid until the next step.
async function* lines(b: Block): AsyncGenerator<Uint8Array[]> {
  const f = await Deno.open(b.events);
  try {
    let buf = new Uint8Array(1 << 20);
    let have = 0;
    let at = 0;
    let ready: Uint8Array[] = [];
    for (let i = 0; i < b.header.events; i++) {
      const len = b.index.getUint32(i * INDEX_ENTRY + 36, true);
      if (have - at < len && ready.length > 0) {
        yield ready; // before the buffer moves
        ready = [];
      }
      while (have - at < len) {
        if (at > 0) {
          buf.copyWithin(0, at, have);
          have -= at;
          at = 0;
        }
        if (have + (1 << 16) > buf.length || len > buf.length) {
          const grown = new Uint8Array(Math.max(buf.length * 2, len + (1 << 16)));
          grown.set(buf.subarray(0, have));
          buf = grown;
        }
        const n = await f.read(buf.subarray(have));
        if (n === null) throw new DataError("events end before the index", { file: b.events });
        have += n;
      }
      ready.push(buf.subarray(at, at + len - 1));
      at += len;
    }
    if (ready.length > 0) yield ready;
  } finally {
    f.close();
  }
}

async function enriched(events: DarknetEvent[], cfg: Enr): Promise<DarknetEvent[]> {
  if (!cfg || events.length === 0) return events;
  const out: DarknetEvent[] = [];
  const s = ReadableStream.from<EventChunk>([{ events, open: false }])
    .pipeThrough(new EnrichStream(cfg.enrichers));
  for await (const c of s) out.push(...c.events);
  return out;
}
type Enr = Awaited<ReturnType<typeof openEnrichers>>;

// A block made with other settings than the merge's is refused (exit 2).
function checkSettings(cfg: ParseConfig, b: Block): void {
  if (JSON.stringify(b.header.settings) !== JSON.stringify(blockSettings(cfg))) {
    throw new UsageError(
      `${b.dir}: made with other settings than this merge's flags (${
        JSON.stringify(b.header.settings)
      }); give --merge the flags --map had`,
    );
  }
}

/** Merges `cfg.pcaps` (block result folders, in any order) into `cfg.eventout`. */
export async function runMerge(cfg: ParseConfig): Promise<ParseResult> {
  await checkMergePaths(cfg, cfg.pcaps);
  const blocks = await Promise.all(cfg.pcaps.map(readBlock));
  for (const b of blocks) checkSettings(cfg, b);
  // In time order, whatever order the scheduler listed them in; empty blocks add nothing.
  const ordered = blocks.filter((b) => b.header.first !== null).sort((a, b) =>
    a.header.first![0] - b.header.first![0] || a.header.first![1] - b.header.first![1]
  );
  return await mergeBlocks(cfg, ordered);
}

/** The merge's inputs and outputs checked apart (`inputs`: block folders, if known yet). */
export async function checkMergePaths(cfg: ParseConfig, inputs: string[]): Promise<void> {
  await checkPaths(
    // The folders and the files in them: an output over a block's own file is refused too.
    [
      ...inputs.flatMap((path) => [
        { flag: "--merge", path },
        ...BLOCK_FILES.map((f) => ({ flag: "--merge", path: `${path}/${f}` })),
      ]),
      ...(cfg.cachein ? [{ flag: "--cachein", path: cfg.cachein }] : []),
    ],
    [
      { flag: "--eventout", path: cfg.eventout! },
      ...(cfg.cacheout ? [{ flag: "--cacheout", path: cfg.cacheout }] : []),
      ...(cfg.dosout !== undefined ? [{ flag: "--dosout", path: cfg.dosout }] : []),
      ...(cfg.statsout !== undefined ? [{ flag: "--statsout", path: cfg.statsout }] : []),
      ...(cfg.sourceout !== undefined ? [{ flag: "--sourceout", path: cfg.sourceout }] : []),
    ],
    [["--cachein", "--cacheout"]],
  );
}

/**
 * Merges blocks given in time order — a list, or as they arrive (a queue's results) — into
 * `cfg.eventout`; each block is checked (settings, overlap) when it comes.
 */
export async function mergeBlocks(
  cfg: ParseConfig,
  blocks: Iterable<Block> | AsyncIterable<Block>,
): Promise<ParseResult> {
  const t0 = performance.now();
  const enrich = await openEnrichers(cfg);
  // With --sourceout the events the merge makes carry their destinations, for the roll-up.
  const settings = {
    ...cfg,
    excludeTags: cfg.excludeTags ?? 0,
    destinations: cfg.sourceout !== undefined,
  };
  // Per-source roll-up (--sourceout) of the events written, in their order: the blocks' own from
  // their records (sources.bin), the joined and carried ones as the merge makes them.
  const rollup = cfg.sourceout !== undefined
    ? new SourceRollup({ telescopeSize: cfg.telescopeSize })
    : undefined;
  const merger = new SplitMerger(settings);
  // DoS vectors (--dosout): the blocks' own reports, and their first and open vectors joined in
  // order (DosVictims.joinBlock); all written at the end in the canonical order, as one run.
  const dos = cfg.dosout !== undefined ? new DosVictims(cfg.dos) : undefined;
  const dosReports: DosReport[] = [];
  // Packet statistics (--statsout): the blocks' united (sums, sets of sources and destinations).
  const stats = cfg.statsout !== undefined ? new PacketStats() : undefined;
  if (cfg.cachein) {
    // The open events of a run before these blocks, carried into the first of them.
    const earlier = new EventAggregator(settings);
    await loadState(earlier, cfg.cachein, { dos });
    merger.resume(earlier);
  }
  // Parquet is made from the events' JSON (a block's lines parsed): the same bytes as one run's.
  const pq = cfg.format.name === "parquet";
  const out = await EventWriter.create(cfg.eventout!, {
    format: pq ? parquetFromJson : stitched(cfg.format),
  });
  let dosOut: EventWriter | undefined;
  let sourceOut: EventWriter | undefined;
  try {
    dosOut = dos
      ? await EventWriter.create(cfg.dosout!, {
        format: recordFormat(cfg.format, dosColumns(enrich)),
      })
      : undefined;
    sourceOut = rollup
      ? await EventWriter.create(cfg.sourceout!, {
        format: recordFormat(cfg.format, SOURCE_COLUMNS),
      })
      : undefined;
  } catch (e) {
    out.close();
    dosOut?.close();
    throw e;
  }
  const td = new TextDecoder();
  const put = (x: Uint8Array | DarknetEvent) =>
    out.write(
      (pq ? JSON.parse(x instanceof Uint8Array ? td.decode(x) : JSON.stringify(x)) : x) as never,
    );
  const tLoaded = performance.now();
  let error: DarknetError | undefined;
  let packets = 0;
  let filtered = 0;
  let outOfOrder = 0;
  let excluded = 0;
  let implausible = 0;
  try {
    let before: Block | undefined;
    for await (const b of blocks) {
      checkSettings(cfg, b);
      const h = b.header;
      if (h.first === null) continue;
      const prevBlock = before;
      before = b;
      if (prevBlock?.header.clock) {
        const prev = prevBlock.header.clock;
        if (
          h.first[0] < prev.latestSec ||
          (h.first[0] === prev.latestSec && h.first[1] < prev.latestNsec)
        ) {
          throw new DataError(
            `starts before ${prevBlock.dir} ends: blocks must not overlap in time`,
            { file: b.dir },
          );
        }
      }
      packets += h.stats.packets;
      filtered += h.stats.eventsFiltered;
      outOfOrder += h.stats.outOfOrder;
      excluded += h.stats.excludedByTags;
      implausible += h.stats.implausibleTime;
      const heads = new EventAggregator(settings);
      // Only the first events that can join a carried one (none when nothing is carried).
      if (merger.carrying > 0) {
        await loadState(heads, b.heads, { keep: (k) => merger.isCarried(k) });
      }
      const tails = new EventAggregator(settings);
      await loadState(tails, b.tails);
      const m = merger.block({
        heads,
        tails,
        clock: h.clock!,
        earliest: h.first!,
        headLimit: h.headLimit!,
      });
      // The settings said so; a block that lost the file is damaged.
      const missing = dos && !b.dos ? "dos.json" : stats && !b.stats ? "stats.bin" : "";
      if (missing) throw new DataError(`${missing} is missing`, { file: b.dir });
      if (dos) {
        const d = await readBlockDos(b);
        for (const r of d.reports) dosReports.push(r); // (a spread of 10^5 overflows the stack)
        dos.addCounts(d);
        try {
          dos.joinBlock(d.state, [h.clock!.latestSec, h.clock!.latestNsec]);
        } catch (e) {
          throw new DataError(`dos.json: ${(e as Error).message}`, { file: b.dos });
        }
        for (const r of dos.take()) dosReports.push(r);
      }
      if (stats) {
        let bytes: Uint8Array;
        try {
          bytes = await Deno.readFile(b.stats!);
        } catch (e) {
          throw ioError(e, b.stats!);
        }
        if (stats.packets === 0) stats.load(bytes, b.stats!); // the first: nothing to merge into
        else {
          const one = new PacketStats();
          one.load(bytes, b.stats!);
          stats.merge(one);
        }
      }
      const joined = await enriched(m.events, enrich);
      // The block's own events, a replaced first event left out, the joined ones in between.
      let j = 0;
      let i = 0;
      const dropped = new Set<string>();
      const recs = rollup && b.sources ? readSourceRecords(b.sources) : undefined;
      const putEvent = (e: DarknetEvent) => {
        put(e);
        rollup?.add(e);
      };
      for await (const ready of lines(b)) {
        for (const line of ready) {
          while (j < joined.length && compareEntry(b.index, i, joined[j]) > 0) {
            putEvent(joined[j++]);
          }
          const rec = rollup ? (await recs?.next())?.value : undefined;
          if (rollup && !rec) {
            throw new DataError("fewer source records than events", { file: b.sources ?? b.dir });
          }
          const key = b.index.getUint8(i * INDEX_ENTRY + 12) === 1 ? entryKey(b.index, i) : "";
          if (key && m.replaced.has(key)) dropped.add(key);
          else {
            put(line);
            if (rec) rollup!.add(rec);
          }
          i++;
        }
      }
      while (j < joined.length) putEvent(joined[j++]);
      // A replaced first event was counted by its block as filtered if it was not written; the
      // joined event is counted by the merge.
      filtered -= m.replaced.size - dropped.size;
      out.flush();
    }
    const carried = cfg.cacheout ? merger.carried() : undefined;
    const last = carried ? carried.sweepIdle() : merger.finish();
    for (const e of (await enriched(last, enrich)).sort(compareEventOrder)) {
      put(e);
      rollup?.add(e);
    }
    if (carried) await saveState(carried, cfg.cacheout!, { dos });
    out.close();
    if (rollup) {
      for (const r of rollup.endWindow(null)) sourceOut!.write(r as never);
      sourceOut!.close();
    }
    if (stats) {
      const { writeAtomic } = await import("../state/state_container.ts");
      await writeAtomic(
        new TextEncoder().encode(`${JSON.stringify(stats.result(), null, 2)}\n`),
        cfg.statsout!,
      );
    }
    if (dos) {
      // Open vectors end with the input, unless a state keeps them.
      for (const r of carried ? dos.take() : dos.finish()) dosReports.push(r);
      dosReports.sort(compareDosReports);
      for (const r of dosReports) dosOut!.write(annotateDos(r, enrich) as never);
      dosOut!.close();
    }
  } catch (e) {
    for (const w of [out, dosOut, sourceOut]) {
      try {
        w?.close();
      } catch { /* failing already */ }
    }
    if (!(e instanceof DarknetError)) throw e;
    error = e;
  }
  filtered += merger.stats.eventsFiltered;
  return {
    packets,
    eventsWritten: out.saved,
    eventsFiltered: filtered,
    openSaved: cfg.cacheout ? merger.carried().openCount : 0,
    dos: dos ? { reported: dos.reported, openSaved: cfg.cacheout ? dos.open : 0 } : undefined,
    outOfOrder,
    implausibleTime: implausible,
    excludedByTags: excluded,
    notAfter: cfg.notAfter ?? 0,
    openAtFailure: 0,
    seconds: (performance.now() - tLoaded) / 1000,
    loadSeconds: (tLoaded - t0) / 1000,
    dns: enrich?.dns?.stats,
    error,
  };
}

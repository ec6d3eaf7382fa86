/**
 * Streaming reader of event files: any layout of valid JSON holding event objects — a JSON
 * array (as `parse` and Merit's tool write it, indented, or all on one line as `jq -c`,
 * `json.dumps` and Go's `json.Marshal` write it), newline-delimited JSON, or objects one after
 * another — plain or gzip (detected from the content), several files in one run.
 *
 * Objects are cut out of the bytes by a scanner that knows strings and nesting, in time linear
 * in the input and with memory bounded by the largest event (`maxEventBuffer`, default 64 MiB):
 * a file is never held whole, whatever its line lengths. Every event is checked with
 * {@link checkEvent}; a bad one stops the reading with one line naming file and line (exit 65),
 * or with `skipInvalid` is counted and passed over. A file that ends inside an event — what a
 * writer killed outright (`kill -9`, power loss) can leave — is reported with the byte where
 * that event starts; with `skipInvalid` the events before it are used.
 *
 * @module
 */

import { DataError, ioError } from "../errors.ts";
import type { EventJson } from "../model/darknet_event.ts";
import { checkEvent } from "./check_event.ts";

export type { ReadEvent, ReadEventsOptions } from "./read_event.ts";
import type { ReadEvent, ReadEventsOptions } from "./read_event.ts";

/** Events passed over with `skipInvalid`: how many, and the first problem. */
export interface InvalidEvents {
  /** Events passed over. */
  count: number;
  /** The first one's problem (file and line), if any. */
  first?: string;
}

/**
 * Reader options that pass over bad events and tally them in `tally`.
 *
 * @example
 * ```ts
 * import { type InvalidEvents, readEvents, skipping } from "./event_reader.ts";
 * import { equal } from "node:assert/strict";
 * const path = Deno.makeTempFileSync();
 * Deno.writeTextFileSync(path, '{"SourceIP":"192.0.2.1"}\n');
 * const tally: InvalidEvents = { count: 0 };
 * for await (const _ of readEvents([path], skipping(tally))) equal(true, false);
 * equal(tally.count, 1);
 * ```
 */
export function skipping(tally: InvalidEvents, maxEventBuffer?: number): ReadEventsOptions {
  return {
    skipInvalid: true,
    maxEventBuffer,
    onInvalid: (e) => {
      tally.count++;
      tally.first ??= e.message;
    },
  };
}

/** Reader settings as the CLI takes them and hands them to its workers. */
export interface ReaderSettings {
  /** Pass over invalid events instead of stopping. */
  skipInvalid?: boolean;
  /** The largest event accepted, in bytes. */
  maxEventBuffer?: number;
}

/**
 * Reader options for `settings`, tallying skipped events in `tally`.
 *
 * @example
 * ```ts
 * import { readerOptions } from "./event_reader.ts";
 * import { equal } from "node:assert/strict";
 * equal(readerOptions({ maxEventBuffer: 10 }, { count: 0 }).skipInvalid, undefined);
 * equal(readerOptions({ skipInvalid: true }, { count: 0 }).skipInvalid, true);
 * ```
 */
export function readerOptions(settings: ReaderSettings, tally: InvalidEvents): ReadEventsOptions {
  return settings.skipInvalid
    ? skipping(tally, settings.maxEventBuffer)
    : { maxEventBuffer: settings.maxEventBuffer };
}

/** Default bound of one event's JSON (255 samples of 64 KiB frames, in base64, fit in it). */
export const MAX_EVENT_BYTES = 64 << 20;

const PCAP_MAGICS = new Set([
  0xa1b2c3d4,
  0xd4c3b2a1,
  0xa1b23c4d,
  0x4d3cb2a1,
  0xa1b2cd34,
  0x34cdb2a1,
]);

async function* bytesOf(path: string): AsyncGenerator<Uint8Array> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path);
    if ((await file.stat()).isDirectory) {
      file.close();
      throw new Deno.errors.IsADirectory();
    }
  } catch (e) {
    throw ioError(e, path);
  }
  const head = new Uint8Array(4);
  let n = 0;
  try {
    for (let k; n < 4 && (k = await file.read(head.subarray(n))) !== null;) n += k;
    await file.seek(0, Deno.SeekMode.Start);
  } catch (e) {
    file.close();
    throw ioError(e, path);
  }
  const magic = new DataView(head.buffer).getUint32(0, false);
  if (n === 4 && (PCAP_MAGICS.has(magic) || magic === 0x0a0d0d0a)) {
    file.close();
    throw new DataError(
      `a ${magic === 0x0a0d0d0a ? "pcapng" : "pcap"} capture, not an event file ` +
        `(count --pcap reads captures)`,
      { file: path, offset: 0 },
    );
  }
  if (n < 2 || head[0] !== 0x1f || head[1] !== 0x8b) {
    try {
      yield* file.readable;
    } catch (e) {
      throw ioError(e, path);
    }
    return;
  }
  // Imported only for gzip input: node:zlib starts Deno's Node layer.
  const { createGunzip } = await import("node:zlib");
  const { Readable } = await import("node:stream");
  const z = Readable.from(file.readable).pipe(createGunzip());
  try {
    for await (const c of z) yield c as Uint8Array;
  } catch (e) {
    throw new DataError(`corrupt gzip data (${(e as Error).message.split("\n")[0]})`, {
      file: path,
    });
  }
}

/**
 * Every event of the files, in order.
 *
 * @example
 * ```ts
 * import { readEvents } from "./event_reader.ts";
 * import { equal } from "node:assert/strict";
 * const ev = (ip: string, n: number) => ({ SourceIP: ip, Traffic: 11, Port: 23, Packets: n,
 *   Bytes: 60 * n, UniqueDests: 1, First: "2020-10-21T16:00:00Z", Last: "2020-10-21T16:00:00Z" });
 * const path = Deno.makeTempFileSync();
 * Deno.writeTextFileSync(path, JSON.stringify([ev("192.0.2.1", 3), ev("192.0.2.2", 1)]));
 * let n = 0;
 * for await (const r of readEvents([path])) n += r.event.Packets;
 * equal(n, 4);
 * ```
 */
export async function* readEvents(
  paths: string[],
  options: ReadEventsOptions = {},
): AsyncGenerator<ReadEvent> {
  for (const file of paths) yield* readFile(file, options);
}

const dec = new TextDecoder();

async function* readFile(file: string, o: ReadEventsOptions): AsyncGenerator<ReadEvent> {
  // Parquet event files (parse --format parquet), by their magic; the reader loads its library
  // only for them.
  const pq = await import("./_parquet_events.ts");
  if (await pq.isParquet(file)) yield* pq.readParquetEvents(file, o);
  else yield* readEventBuffer(bytesOf(file), file, o);
}

/**
 * The events in a stream of bytes, however it is cut into chunks, named `file` in messages:
 * the scanner under {@link readEvents}.
 *
 * @example
 * ```ts
 * import { readEventBuffer } from "./event_reader.ts";
 * import { equal } from "node:assert/strict";
 * const ev = { SourceIP: "192.0.2.1", Traffic: 11, Port: 23, Packets: 2, Bytes: 120,
 *   UniqueDests: 1, First: "2020-10-21T16:00:00Z", Last: "2020-10-21T16:00:00Z" };
 * const bytes = new TextEncoder().encode(JSON.stringify([ev, ev]));
 * const oneByteChunks = ReadableStream.from(bytes.values().map((b) => Uint8Array.of(b)));
 * let n = 0;
 * for await (const r of readEventBuffer(oneByteChunks, "x.json")) n += r.event.Packets;
 * equal(n, 4);
 * ```
 */
export async function* readEventBuffer(
  chunks: AsyncIterable<Uint8Array>,
  file: string,
  o: ReadEventsOptions = {},
): AsyncGenerator<ReadEvent> {
  const max = o.maxEventBuffer ?? MAX_EVENT_BYTES;
  let line = 1;
  let offset = 0; // bytes before the current chunk
  let depth = 0; // nesting inside the current event
  let arrays = 0; // open top-level arrays
  let inString = false;
  let escaped = false; // a string's last byte so far was an unpaired backslash
  let parts: Uint8Array[] = [];
  let partLen = 0;
  let oversized = false;
  let startLine = 0;
  let startOffset = 0;
  const bad = (msg: string, at: { line?: number; offset?: number }): DataError =>
    new DataError(msg, { file, ...at });
  // A whole event's bytes: parsed, checked, and returned, or a problem.
  const finish = (bytes: Uint8Array | null): ReadEvent | DataError => {
    if (bytes === null) {
      return bad(`event larger than ${max} bytes (--max-event-bytes)`, { line: startLine });
    }
    let v: unknown;
    try {
      v = JSON.parse(dec.decode(bytes));
    } catch (e) {
      return bad(`malformed event (${(e as Error).message.split("\n")[0]})`, { line: startLine });
    }
    return checked(v);
  };
  const checked = (v: unknown): ReadEvent | DataError => {
    const why = (o.check ?? checkEvent)(v);
    if (why !== undefined) return bad(why, { line: startLine });
    return { event: v as EventJson, file, line: startLine };
  };
  const deliver = function* (r: ReadEvent | DataError): Generator<ReadEvent> {
    if (!(r instanceof DataError)) {
      yield r;
      return;
    }
    if (!o.skipInvalid) throw r;
    o.onInvalid?.(r);
  };

  // The general scanner: bytes [from, to) of `chunk` (at stream offset `base`), whatever the
  // layout — strings and nesting known, objects cut out as they close.
  const scan = function* (chunk: Uint8Array, from: number, to: number, base: number) {
    let i = from;
    let objStart = depth > 0 ? from : -1;
    let segStart = from; // where the current string's bytes in this range begin
    if (inString && escaped && i < to) {
      escaped = false;
      i++; // the escaped byte
      segStart = i;
    }
    while (i < to) {
      if (inString) {
        const q = chunk.indexOf(34, i);
        if (q < 0 || q >= to) {
          let bs = 0;
          for (let k = to - 1; k >= segStart && chunk[k] === 92; k--) bs++;
          escaped = (bs & 1) === 1;
          i = to;
          break;
        }
        let bs = 0;
        for (let k = q - 1; k >= segStart && chunk[k] === 92; k--) bs++;
        i = q + 1;
        if ((bs & 1) === 0) inString = false;
        continue;
      }
      const c = chunk[i];
      if (depth > 0) {
        if (c === 34) {
          inString = true;
          segStart = i + 1;
        } else if (c === 123 || c === 91) depth++;
        else if (c === 125 || c === 93) {
          if (--depth === 0) {
            let bytes: Uint8Array | null = null;
            if (!oversized) {
              const tail = chunk.subarray(objStart, i + 1);
              if (partLen + tail.length > max) bytes = null;
              else if (parts.length === 0) bytes = tail;
              else {
                bytes = new Uint8Array(partLen + tail.length);
                let p = 0;
                for (const part of parts) {
                  bytes.set(part, p);
                  p += part.length;
                }
                bytes.set(tail, p);
              }
            }
            parts = [];
            partLen = 0;
            oversized = false;
            objStart = -1;
            yield* deliver(finish(bytes));
          }
        } else if (c === 10) line++;
        i++;
        continue;
      }
      // Between events: white space, commas and the brackets of top-level arrays.
      if (c === 123) {
        depth = 1;
        objStart = i;
        startLine = line;
        startOffset = base + i;
      } else if (c === 10) line++;
      else if (c === 91) {
        if (++arrays > 1) throw bad("an array inside the array of events", { line });
      } else if (c === 93) {
        if (--arrays < 0) throw bad('unexpected "]" between events', { line });
      } else if (c !== 44 && c !== 32 && c !== 13 && c !== 9) {
        const what = c >= 32 && c < 127
          ? `"${String.fromCharCode(c)}"`
          : `byte 0x${c.toString(16)}`;
        throw bad(`unexpected ${what} between events (expected an event object)`, {
          offset: base + i,
          line,
        });
      }
      i++;
    }
    if (depth > 0 && !oversized) {
      const part = chunk.slice(objStart < 0 ? from : objStart, to);
      if (partLen + part.length > max) {
        oversized = true; // read on to its end, keeping nothing
        parts = [];
        partLen = 0;
      } else {
        parts.push(part);
        partLen += part.length;
      }
    }
  };

  // The fast path, for the layout parse and Merit's tool write (an event per line, in an array
  // or not): a whole line at a time, found with indexOf and given to JSON.parse at once. A line
  // that is anything else (an indented event, several events, a bad one) goes to the scanner,
  // which also takes over while it is inside an event, and for a line longer than FAST_LINE.
  let pending: Uint8Array[] = []; // the start of a line that began in an earlier chunk
  let pendingLen = 0;
  let pendingBase = 0;
  let longLine = false; // the scanner has the rest of this line
  const isWs = (c: number) => c === 32 || c === 9 || c === 13;
  // One whole line (without its newline) at stream offset `base`; false if the scanner must
  // read it.
  const fast = (b: Uint8Array, base: number): ReadEvent | DataError | null | false => {
    let a = 0;
    let z = b.length;
    let da = 0;
    while (a < z && isWs(b[a])) a++;
    if (a < z && b[a] === 91 && arrays === 0) {
      da = 1;
      a++;
      while (a < z && isWs(b[a])) a++;
    }
    while (z > a && (isWs(b[z - 1]) || b[z - 1] === 44)) z--;
    if (z > a && b[z - 1] === 93 && arrays + da === 1) {
      da -= 1;
      z--;
      while (z > a && (isWs(b[z - 1]) || b[z - 1] === 44)) z--;
    }
    if (a === z) {
      if (da === 0 && b.length > 0 && (b.includes(91) || b.includes(93))) return false;
      arrays += da;
      return null; // nothing but white space and brackets
    }
    if (b[a] !== 123 || b[z - 1] !== 125) return false;
    let v: unknown;
    try {
      v = JSON.parse(dec.decode(b.subarray(a, z)));
    } catch {
      return false; // several events, a string holding "}", a bad one: the scanner decides
    }
    arrays += da;
    startLine = line;
    startOffset = base + a;
    return checked(v);
  };
  for await (const chunk of chunks) {
    const n = chunk.length;
    let pos = 0;
    while (pos < n) {
      const nl = chunk.indexOf(10, pos);
      const end = nl < 0 ? n : nl + 1;
      if (longLine || depth > 0 || inString) {
        yield* scan(chunk, pos, end, offset);
        if (nl >= 0) longLine = false;
        pos = end;
        continue;
      }
      if (nl < 0) { // the line goes on in the next chunk
        const rest = chunk.subarray(pos);
        if (pendingLen === 0) pendingBase = offset + pos;
        if (pendingLen + rest.length > FAST_LINE) {
          longLine = true; // the scanner takes the line from its start
          const from = pendingBase;
          for (const p of pending) yield* scan(p, 0, p.length, from);
          pending = [];
          pendingLen = 0;
          yield* scan(chunk, pos, n, offset);
        } else {
          pending.push(chunk.slice(pos));
          pendingLen += rest.length;
        }
        pos = n;
        continue;
      }
      let bytes = chunk.subarray(pos, nl);
      let base = offset + pos;
      if (pendingLen > 0) {
        const all = new Uint8Array(pendingLen + bytes.length);
        let p = 0;
        for (const part of pending) {
          all.set(part, p);
          p += part.length;
        }
        all.set(bytes, p);
        bytes = all;
        base = pendingBase;
        pending = [];
        pendingLen = 0;
      }
      const r = fast(bytes, base);
      if (r === false) {
        // The scanner reads the line, its newline included.
        const withNl = new Uint8Array(bytes.length + 1);
        withNl.set(bytes);
        withNl[bytes.length] = 10;
        yield* scan(withNl, 0, withNl.length, base);
      } else {
        line++;
        if (r === null) { /* a blank or bracket line */ }
        else if (r instanceof DataError) yield* deliver(r);
        else yield r; // the usual case, without a generator of its own
      }
      pos = end;
    }
    offset += n;
  }
  if (pendingLen > 0) { // a last line without a newline
    const all = new Uint8Array(pendingLen);
    let p = 0;
    for (const part of pending) {
      all.set(part, p);
      p += part.length;
    }
    const r = fast(all, pendingBase);
    if (r === false) yield* scan(all, 0, all.length, pendingBase);
    else if (r !== null) yield* deliver(r);
  }
  if (depth > 0) {
    yield* deliver(bad(
      `the file ends inside the event starting at line ${startLine} (a writer killed ` +
        `outright, by kill -9 or a power loss, leaves this; --skip-invalid reads the events ` +
        `before it)`,
      { offset: startOffset },
    ));
  }
}

// Lines up to this long are tried whole with JSON.parse; longer ones go to the scanner, so that
// a file on one line (a whole array) is never held as one string.
const FAST_LINE = 1 << 20;

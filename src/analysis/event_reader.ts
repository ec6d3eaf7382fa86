/**
 * Streaming reader of event files: JSON arrays (as `parse` writes by default and as Merit's
 * tool wrote them) and newline-delimited JSON, optionally gzip-compressed (detected from the
 * content), several files in one run. Top-level objects are cut out of the byte stream by a
 * small scanner (strings and nesting aware), so memory holds one event at a time, never a file.
 *
 * @module
 */

import { createGunzip } from "node:zlib";
import { Readable } from "node:stream";
import { DataError, ioError } from "../errors.ts";
import type { EventJson } from "../events/darknet_event.ts";

/** One event read from a file. */
export interface ReadEvent {
  /** The event's fields (Merit's keys). */
  event: EventJson;
  /** The file it came from. */
  file: string;
  /** The 1-based line its object starts on. */
  line: number;
}

async function* chunksOf(path: string): AsyncGenerator<string> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path);
  } catch (e) {
    throw ioError(e, path);
  }
  const head = new Uint8Array(2);
  const n = await file.read(head);
  await file.seek(0, Deno.SeekMode.Start);
  const gz = n === 2 && head[0] === 0x1f && head[1] === 0x8b;
  const dec = new TextDecoder();
  if (!gz) {
    for await (const c of file.readable) yield dec.decode(c, { stream: true });
    yield dec.decode();
    return;
  }
  const z = Readable.from(file.readable).pipe(createGunzip());
  try {
    for await (const c of z) yield dec.decode(c as Uint8Array, { stream: true });
  } catch (e) {
    throw new DataError(`corrupt gzip data (${(e as Error).message.split("\n")[0]})`, {
      file: path,
    });
  }
  yield dec.decode();
}

/**
 * Every event of the files, in order.
 *
 * @example
 * ```ts
 * import { readEvents } from "./event_reader.ts";
 * const path = Deno.makeTempFileSync();
 * Deno.writeTextFileSync(path, '[\n{"SourceIP":"192.0.2.1","Packets":3},\n{"SourceIP":"192.0.2.2","Packets":1}\n]\n');
 * let n = 0;
 * for await (const r of readEvents([path])) n += r.event.Packets;
 * console.assert(n === 4);
 * ```
 */
export async function* readEvents(paths: string[]): AsyncGenerator<ReadEvent> {
  for (const file of paths) yield* readFile(file);
}

// Whether a line holds exactly one whole event (NDJSON, or an array with one event per line
// as parse writes it), after dropping the array's brackets and separating comma.
function lineObject(raw: string): string | null {
  let a = 0;
  let b = raw.length;
  while (
    a < b && (raw.charCodeAt(a) <= 32 || raw.charCodeAt(a) === 91 || raw.charCodeAt(a) === 44)
  ) a++;
  while (
    b > a &&
    (raw.charCodeAt(b - 1) <= 32 || raw.charCodeAt(b - 1) === 44 || raw.charCodeAt(b - 1) === 93)
  ) b--;
  if (a === b) return "";
  return raw.charCodeAt(a) === 123 && raw.charCodeAt(b - 1) === 125 ? raw.slice(a, b) : null;
}

async function* readFile(file: string): AsyncGenerator<ReadEvent> {
  // Fast path: one event per line. If a line turns out not to be a whole object (an indented
  // array, say), the file is read again with the character scanner.
  let line = 0;
  let rest = "";
  let lineMode = true;
  let yielded = 0;
  outer: for await (const text of chunksOf(file)) {
    const data = rest + text;
    let start = 0;
    for (;;) {
      const nl = data.indexOf("\n", start);
      if (nl < 0) break;
      line++;
      const obj = lineObject(data.slice(start, nl));
      start = nl + 1;
      if (obj === "") continue;
      if (obj === null) {
        lineMode = false;
        break outer;
      }
      let event: EventJson;
      try {
        event = JSON.parse(obj);
      } catch (e) {
        throw new DataError(`malformed event (${(e as Error).message.split("\n")[0]})`, {
          file,
          line,
        });
      }
      yielded++;
      yield { event, file, line };
    }
    rest = data.slice(start);
  }
  if (lineMode) {
    if (rest.trim() !== "") {
      line++;
      const obj = lineObject(rest);
      if (obj === null) lineMode = false;
      else if (obj !== "") {
        let event: EventJson;
        try {
          event = JSON.parse(obj);
        } catch {
          throw new DataError("the file ends inside an event (truncated?)", { file, line });
        }
        yield { event, file, line };
      }
    }
    if (lineMode) return;
  }
  yield* scanFile(file, yielded);
}

// The general reader: cuts top-level objects out of the text whatever its layout. `skip`
// events were already delivered by the fast path.
async function* scanFile(file: string, skip: number): AsyncGenerator<ReadEvent> {
  let depth = 0;
  let inString = false;
  let escape = false;
  let buf = "";
  let line = 1;
  let startLine = 0;
  let seenArray = false;
  let n = 0;
  for await (const text of chunksOf(file)) {
    let objStart = depth > 0 ? 0 : -1;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 10) line++;
      if (inString) {
        if (escape) escape = false;
        else if (c === 92) escape = true;
        else if (c === 34) inString = false;
        continue;
      }
      if (depth > 0) {
        if (c === 34) inString = true;
        else if (c === 123 || c === 91) depth++;
        else if (c === 125 || c === 93) {
          depth--;
          if (depth === 0) {
            const json = buf + text.slice(objStart, i + 1);
            buf = "";
            objStart = -1;
            let event: EventJson;
            try {
              event = JSON.parse(json);
            } catch (e) {
              throw new DataError(`malformed event (${(e as Error).message.split("\n")[0]})`, {
                file,
                line: startLine,
              });
            }
            if (n++ >= skip) yield { event, file, line: startLine };
          }
        }
        continue;
      }
      // Between objects: whitespace, the array's brackets and commas only.
      if (c === 123) {
        depth = 1;
        objStart = i;
        startLine = line;
      } else if (c === 91 && !seenArray) seenArray = true;
      else if (c === 93 || c === 44 || c === 32 || c === 10 || c === 13 || c === 9) continue;
      else {throw new DataError(`unexpected "${String.fromCharCode(c)}" between events`, {
          file,
          line,
        });}
    }
    if (depth > 0) buf += text.slice(objStart < 0 ? 0 : objStart);
  }
  if (depth > 0) {
    throw new DataError("the file ends inside an event (truncated?)", { file, line: startLine });
  }
}

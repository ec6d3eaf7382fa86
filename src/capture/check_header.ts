/**
 * Checks that a file starts with a pcap or pcapng header (after gunzip, if it is gzip), so that
 * a run can refuse a wrong input before it creates or overwrites any output.
 *
 * @example
 * ```ts
 * import { checkCaptureHeader } from "./check_header.ts";
 * import { rejects } from "node:assert/strict";
 * await checkCaptureHeader("testdata/pcap-formats/libtrace/sll.pcap.gz");
 * await rejects(checkCaptureHeader("README.md"), /README.md: byte 0: a text file/);
 * ```
 * @module
 */

import { DataError, ioError } from "../errors.ts";
import { CaptureParser } from "./_capture_parser.ts";

// The longest header checked: a classic pcap header, or the start of a pcapng section header
// (its magic, length and byte-order magic).
const HEAD = 24;

/** Throws the `DataError` the decoder would give for a file that is not a capture. */
export async function checkCaptureHeader(path: string): Promise<void> {
  let raw: Uint8Array;
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch (e) {
    throw ioError(e, path);
  }
  try {
    const buf = new Uint8Array(4096);
    let n = 0;
    for (;;) {
      const k = await file.read(buf.subarray(n));
      if (k === null || k === 0) break;
      n += k;
      if (n === buf.length) break;
    }
    raw = buf.subarray(0, n);
  } catch (e) {
    throw ioError(e, path);
  } finally {
    file.close();
  }
  let head = raw;
  if (raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b) {
    head = await gunzipStart(raw, path);
  }
  const parser = new CaptureParser(path);
  parser.push(head.subarray(0, HEAD));
  if (head.length < HEAD) parser.end(); // a file shorter than any header: its own error
}

// The first bytes gzip data inflates to (a truncated or corrupt start is reported by the
// reader later, with its offset; here only the header is wanted).
async function gunzipStart(bytes: Uint8Array, path: string): Promise<Uint8Array> {
  const reader = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream()
    .pipeThrough(new DecompressionStream("gzip")).getReader();
  const parts: Uint8Array[] = [];
  let n = 0;
  try {
    while (n < HEAD) {
      const r = await reader.read();
      if (r.done) break;
      parts.push(r.value);
      n += r.value.length;
    }
  } catch {
    if (n === 0) {
      throw new DataError("corrupt gzip data where a capture header was expected", {
        file: path,
        offset: 0,
      });
    }
  } finally {
    reader.cancel().catch(() => {});
  }
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

// Worker side of WorkerCaptureSet: reads, decompresses and decodes captures off the main
// thread and posts each batch with its arrays transferred (no copy). Flow control: it keeps at
// most `window` batches unacknowledged.

/// <reference lib="deno.worker" />

import { DarknetError } from "../errors.ts";
import { BatchPool } from "./batch_pool.ts";
import { CaptureSet } from "./capture_set.ts";
import { PacketBatch } from "../decode/packet_batch.ts";
import { tagPackets, tagTraffic } from "../attribution/tag_packets.ts";
import type { DosOptions, DosVictims } from "../dos/dos_victims.ts";
import type { SeriesDim, SignalSeries } from "../series/signal_series.ts";
import type { PlaceSources } from "../series/place_lookup.ts";

interface Start {
  paths: string[];
  window: number;
  tagPackets: boolean | "traffic";
  /** DoS victims found here (`WorkerCaptureSetOptions.dos`). */
  dos?: DosOptions & { keepOpen: boolean };
  /** Signal series made here (`WorkerCaptureSetOptions.series`). */
  series?: { binSeconds: number; dims: SeriesDim[]; places: PlaceSources };
}

// The DoS analysis's state from the main thread (a state file's, or null), before its first batch.
let dosStateGiven: (s: unknown) => void = () => {};
const dosState = new Promise<unknown>((r) => dosStateGiven = r);

let credit = 0;
let current: CaptureSet | undefined;
let stopRequested = false;
const pool = new BatchPool();
let wake: (() => void) | null = null;

self.onmessage = async (ev: MessageEvent) => {
  const msg = ev.data as { type: string } & Partial<Start>;
  if (msg.type === "release") {
    // The main thread is done with a batch: its arrays and read buffers come back for reuse.
    const m = ev.data as {
      capacity: number;
      cols: Record<string, Uint8Array>;
      buffers: Uint8Array[];
    };
    pool.giveBatch(PacketBatch.fromColumns(0, "", [], m.cols as never));
    for (const b of m.buffers) pool.giveChunk(b);
    return;
  }
  if (msg.type === "stop") {
    stopRequested = true;
    current?.stop();
    credit++; // wake the loop if it waits for credit
    wake?.();
    wake = null;
    return;
  }
  if (msg.type === "dos-state") {
    dosStateGiven((ev.data as { state: unknown }).state);
    return;
  }
  if (msg.type === "ack") {
    credit++;
    wake?.();
    wake = null;
    return;
  }
  if (msg.type !== "start") return;
  credit = msg.window!;
  try {
    const set = await CaptureSet.open(msg.paths!, { pool });
    current = set;
    // The analyses are loaded only when asked for: every module the worker loads delays the
    // first batch (the worker starts after the main thread has loaded its own).
    let dos: DosVictims | undefined;
    if (msg.dos) {
      dos = new (await import("../dos/dos_victims.ts")).DosVictims(msg.dos);
      const state = await dosState;
      if (state !== null) dos.loadState(state);
    }
    let series: SignalSeries | undefined;
    if (msg.series) {
      const { SignalSeries } = await import("../series/signal_series.ts");
      const { openPlaceLookup } = await import("../series/place_lookup.ts");
      series = new SignalSeries({
        binSeconds: msg.series.binSeconds,
        dims: msg.series.dims,
        lookup: await openPlaceLookup(msg.series.places),
      });
    }
    if (stopRequested) set.stop();
    for await (const b of set.readable) {
      if (msg.tagPackets === "traffic") tagTraffic(b);
      else if (msg.tagPackets) tagPackets(b);
      dos?.add(b, 0, b.length);
      series?.add(b, 0, b.length);
      const reports = dos?.take();
      while (credit === 0) await new Promise<void>((r) => wake = r);
      credit--;
      const cols = b.columns();
      const transfer: ArrayBuffer[] = [];
      for (const a of Object.values(cols)) {
        if (a.buffer.byteLength > 0 && !transfer.includes(a.buffer as ArrayBuffer)) {
          transfer.push(a.buffer as ArrayBuffer); // the core columns share one buffer
        }
      }
      // Buffers the pool lent are ours to give away (they come back on release); other
      // views (zlib's output, shared buffers) are copied.
      const lent = b.buffers.map((x) => pool.lent(x));
      const buffers = b.buffers.map((x, i) => lent[i] ? x : x.slice());
      for (const x of buffers) {
        if (!transfer.includes(x.buffer as ArrayBuffer)) transfer.push(x.buffer as ArrayBuffer);
      }
      self.postMessage(
        {
          type: "batch",
          length: b.length,
          source: b.source,
          tagged: b.tagged,
          trafficTagged: b.trafficTagged,
          cols,
          buffers,
          lent,
          bytesRead: set.bytesRead,
          dos: reports?.length ? reports : undefined,
        },
        transfer,
      );
    }
    const e = set.error;
    // Every bin seen, closed and packed (after an input error too: the file stays valid).
    series?.endInterval(Infinity);
    const seriesBytes = series?.save();
    self.postMessage({
      type: "end",
      bytesRead: set.bytesRead,
      error: e ? { message: e.message, exitCode: e.exitCode } : undefined,
      // The vectors open at the end: reported now, or their state kept for a state file.
      dos: dos && {
        reports: msg.dos!.keepOpen ? dos.take() : dos.finish(),
        state: msg.dos!.keepOpen ? dos.saveState() : undefined,
        open: dos.open,
        backscatter: dos.backscatter,
        reported: dos.reported,
        belowThresholds: dos.belowThresholds,
      },
      series: seriesBytes,
    }, seriesBytes ? [seriesBytes.buffer as ArrayBuffer] : []);
  } catch (e) {
    const err = e instanceof DarknetError
      ? { message: e.message, exitCode: e.exitCode }
      : { message: `internal error: ${(e as Error).message}`, exitCode: 70 };
    self.postMessage({ type: "end", bytesRead: 0, error: err, fatal: true });
  }
};

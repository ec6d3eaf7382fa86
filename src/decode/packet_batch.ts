/**
 * A batch of decoded packets in struct-of-arrays form: the unit that flows between stream
 * stages. One stream chunk carries thousands of packets so that the per-chunk cost of Web
 * Streams (~0.5 µs) is paid once per batch, never per packet.
 *
 * Ownership: a batch owns its arrays and the frame buffers it references. The producer never
 * writes to a batch after enqueueing it, so a consumer may keep it (or views into its buffers)
 * for as long as it likes; a consumer that keeps a single frame should `slice()` it so the
 * whole buffer is not retained.
 *
 * @module
 */

const EMPTY = new Uint8Array(0);
const EMPTY16 = new Uint16Array(0);
const EMPTY32 = new Uint32Array(0);

/**
 * A row's tag word before the tagger has seen it (no real word has every bit: a source cannot end
 * in both .0 and .255).
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { TAGS_PENDING } from "./packet_batch.ts";
 * equal(TAGS_PENDING, 0xffffffff);
 * ```
 */
export const TAGS_PENDING = 0xffffffff;

// The columns every batch has share one ArrayBuffer, widest elements first (every view
// aligned): a batch crosses to another thread as one transfer, not one per column.
const CORE_F64 = ["tsSec"] as const;
const CORE_U32 = [
  "tsNsec",
  "capLen",
  "origLen",
  "offset",
  "src",
  "dst",
  "ipId",
  "tcpSeq",
  "tags",
] as const;
const CORE_U16 = [
  "linkType",
  "port",
  "srcPort",
  "dstPort",
  "tcpFlags",
  "tcpWindow",
  "ipLen",
] as const;
const CORE_U8 = [
  "buf",
  "ipVersion",
  "problem",
  "proto",
  "traffic",
  "ttl",
  "tcpOptLen",
  "ipFlags",
] as const;
const CORE = [...CORE_F64, ...CORE_U32, ...CORE_U16, ...CORE_U8] as const;
type Core =
  & {
    [K in typeof CORE_F64[number]]: Float64Array;
  }
  & { [K in typeof CORE_U32[number]]: Uint32Array }
  & {
    [K in typeof CORE_U16[number]]: Uint16Array;
  }
  & { [K in typeof CORE_U8[number]]: Uint8Array };

// The core columns of `capacity` rows, as views of one buffer.
function carve(capacity: number): Core {
  const ab = new ArrayBuffer(
    capacity * (8 * CORE_F64.length + 4 * CORE_U32.length + 2 * CORE_U16.length + CORE_U8.length),
  );
  const c: Record<string, Float64Array | Uint32Array | Uint16Array | Uint8Array> = {};
  let at = 0;
  for (const k of CORE_F64) (c[k] = new Float64Array(ab, at, capacity), at += 8 * capacity);
  for (const k of CORE_U32) (c[k] = new Uint32Array(ab, at, capacity), at += 4 * capacity);
  for (const k of CORE_U16) (c[k] = new Uint16Array(ab, at, capacity), at += 2 * capacity);
  for (const k of CORE_U8) (c[k] = new Uint8Array(ab, at, capacity), at += capacity);
  return c as Core;
}

const COLUMNS = [
  "tsSec",
  "tsNsec",
  "capLen",
  "origLen",
  "buf",
  "offset",
  "linkType",
  "ipVersion",
  "problem",
  "src",
  "dst",
  "src6",
  "dst6",
  "proto",
  "traffic",
  "port",
  "srcPort",
  "dstPort",
  "ttl",
  "ipId",
  "tcpSeq",
  "tcpFlags",
  "tcpWindow",
  "tcpOptLen",
  "ipFlags",
  "ipLen",
  "tcpOpts",
  "tcpMss",
  "tcpWscale",
  "tcpTsval",
  "icmpIdSeq",
  "icmpPayload",
  "udpHead",
  "l4At",
  "tools",
  "fingerprints",
  "tags",
] as const;

/**
 * Default number of packets per batch.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { DEFAULT_BATCH_SIZE, PacketBatch } from "./packet_batch.ts";
 * ok(new PacketBatch().capacity === DEFAULT_BATCH_SIZE);
 * ```
 */
export const DEFAULT_BATCH_SIZE = 8192;

/**
 * Decoded packets, one row per index `0 .. length-1`.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { PacketBatch } from "./packet_batch.ts";
 * const b = new PacketBatch(4);
 * ok(b.capacity === 4 && b.length === 0);
 * ```
 */
export class PacketBatch {
  /** Maximum number of rows. */
  capacity: number;
  /** Number of valid rows. */
  length = 0;
  /** Name of the input the packets came from (a path or `-`). */
  source = "";
  /**
   * Hands the batch's memory back to its producer for reuse, if the producer offers that.
   * Call it once you are done with the batch and every view into it; afterwards its arrays and
   * frames may be overwritten or detached.
   */
  release?: () => void;
  /** Buffers holding the captured frames; `buf[i]` indexes into this list. */
  readonly buffers: Uint8Array[] = [];

  /** Timestamp, whole seconds since the Unix epoch. */
  tsSec: Float64Array;
  /** Timestamp, nanoseconds within the second (0–999,999,999). */
  tsNsec: Uint32Array;
  /** Captured frame length in bytes (link header included). */
  capLen: Uint32Array;
  /** Original length on the wire. */
  origLen: Uint32Array;
  /** Index into {@link buffers} of the buffer holding the frame. */
  buf: Uint8Array;
  /** Offset of the frame within its buffer. */
  offset: Uint32Array;
  /** Link type (LINKTYPE_* value) of the frame's interface. */
  linkType: Uint16Array;
  /** 4 or 6 for IP packets, 0 when no IP header was decoded. */
  ipVersion: Uint8Array;
  /** A {@link Problem} code; 0 for a cleanly decoded packet. */
  problem: Uint8Array;
  /** IPv4 source address as an unsigned 32-bit integer (0 for IPv6). */
  src: Uint32Array;
  /** IPv4 destination address as an unsigned 32-bit integer (0 for IPv6). */
  dst: Uint32Array;
  /**
   * IPv6 source addresses, 16 bytes per row (rows of IPv4 packets are untouched). Empty until
   * the batch holds its first IPv6 packet (see {@link allocV6}).
   */
  src6: Uint8Array = EMPTY;
  /** IPv6 destination addresses, 16 bytes per row; allocated with {@link src6}. */
  dst6: Uint8Array = EMPTY;
  /** Transport protocol number after IPv6 extension headers (6 TCP, 17 UDP, …). */
  proto: Uint8Array;
  /** A {@link Traffic} code. */
  traffic: Uint8Array;
  /** The event port: destination port, or source port for TCPSYNACK and TCPRST, else 0. */
  port: Uint16Array;
  /** TCP/UDP source port (0 otherwise). */
  srcPort: Uint16Array;
  /** TCP/UDP destination port (0 otherwise). */
  dstPort: Uint16Array;
  /** IPv4 TTL or IPv6 hop limit. */
  ttl: Uint8Array;
  /** IPv4 identification, or the IPv6 fragment header's identification (0 if none). */
  ipId: Uint32Array;
  /** TCP sequence number. */
  tcpSeq: Uint32Array;
  /** TCP flags, 9 bits: NS CWR ECE URG ACK PSH RST SYN FIN. */
  tcpFlags: Uint16Array;
  /** TCP window. */
  tcpWindow: Uint16Array;
  /** Bytes of TCP options present in the header. */
  tcpOptLen: Uint8Array;
  /**
   * IPv4 flags (4 = reserved, 2 = don't fragment, 1 = more fragments) and 8 for a fragment
   * other than the first; for IPv6, 1 and 8 from a fragment header (0 without one).
   */
  ipFlags: Uint8Array;
  /** IP length from the header: IPv4 total length, IPv6 40 + payload length (0 if not IP). */
  ipLen: Uint16Array;
  /**
   * The TCP option kinds in the order they come, 4 bits each from the top (kind + 1 for kinds
   * 0–13, 15 for any other; 0 = no more options), at most 8: the option layout scanners differ
   * by (ZMap 4.1's default SYN: MSS, NOP, WS, NOP, NOP, SACK-permitted = 0x32422500). This and
   * the next three are written only for rows with `tcpOptLen > 0` (reading them is for those
   * rows only: the decoder's common path then stores nothing for them).
   */
  tcpOpts: Uint32Array = EMPTY32;
  /** TCP MSS option value (0 if none). Rows with options only. */
  tcpMss: Uint16Array = EMPTY16;
  /** TCP window-scale shift (255 if no such option). Rows with options only. */
  tcpWscale: Uint8Array = EMPTY;
  /** TCP timestamp option's value (0 if none). Rows with options only. */
  tcpTsval: Uint32Array = EMPTY32;
  /**
   * ICMP/ICMPv6 echo request or reply: identifier << 16 | sequence. Written for those only.
   * The option columns and this one stay empty until a row needs them ({@link allocExtras}):
   * most batches of a telescope have neither.
   */
  icmpIdSeq: Uint32Array = EMPTY32;
  /**
   * ICMP/ICMPv6 echo request or reply: the payload's captured length (low 16 bits) and, in bit
   * 16, whether its first 64 bytes (or all, if fewer) are zero (ZMap's echo probe carries 20
   * zero bytes). Written for echo rows only, with {@link icmpIdSeq}.
   */
  icmpPayload: Uint32Array = EMPTY32;
  /**
   * UDP: the payload's captured length (high 16 bits, at most 65,535) and its first two bytes
   * (low 16 bits; a DNS query's transaction id, which masscan ties to the IP ID). Written for UDP
   * rows only.
   */
  udpHead: Uint32Array = EMPTY32;
  /**
   * UDP, ICMP and ICMPv6: where the transport header starts, from the start of the frame (the
   * payload rules of the traffic tags, the quoted header of an ICMP error). Written for those
   * rows only.
   */
  l4At: Uint32Array = EMPTY32;
  /**
   * The bits of the scanning tools whose rules each row matches, among those tested on its
   * traffic (`attribution/tools.ts`): computed once per packet by `tagPackets`, on the capture
   * worker for `parse`. Valid only while {@link tagged}.
   */
  tools: Uint8Array = EMPTY;
  /**
   * The bits of the Merit fingerprints (`fingerprints/registry.ts`) each IPv4 row matches,
   * whatever its traffic (an event arms the bits its traffic allows); with {@link tools}.
   */
  fingerprints: Uint8Array = EMPTY;
  /**
   * The traffic tags and the rules behind them (`tags/traffic_tags.ts`) of each row; with
   * {@link tools}.
   */
  tags: Uint32Array;
  /**
   * Whether the decoder wrote {@link tags}: the tag word of a plain IPv4 TCP row (TTL below 200)
   * as it decoded it, {@link TAGS_PENDING} for every other row (the tagger finishes them).
   */
  tagsDecoded = false;
  /** Whether {@link tools} and {@link fingerprints} hold this batch's rows (producers that refill a batch reset it). */
  tagged = false;
  /** Whether {@link tags} holds this batch's rows (set with {@link tagged}, or alone). */
  trafficTagged = false;

  /** Allocates a batch with room for `capacity` packets. */
  constructor(capacity: number = DEFAULT_BATCH_SIZE) {
    this.capacity = capacity;
    const c = carve(capacity);
    this.tsSec = c.tsSec;
    this.tsNsec = c.tsNsec;
    this.capLen = c.capLen;
    this.origLen = c.origLen;
    this.buf = c.buf;
    this.offset = c.offset;
    this.linkType = c.linkType;
    this.ipVersion = c.ipVersion;
    this.problem = c.problem;
    this.src = c.src;
    this.dst = c.dst;
    this.proto = c.proto;
    this.traffic = c.traffic;
    this.port = c.port;
    this.srcPort = c.srcPort;
    this.dstPort = c.dstPort;
    this.ttl = c.ttl;
    this.ipId = c.ipId;
    this.tcpSeq = c.tcpSeq;
    this.tcpFlags = c.tcpFlags;
    this.tcpWindow = c.tcpWindow;
    this.tcpOptLen = c.tcpOptLen;
    this.ipFlags = c.ipFlags;
    this.ipLen = c.ipLen;
    this.tags = c.tags;
  }

  /** The arrays of the batch, by field name: what a Worker transfers. */
  columns(): Record<string, Float64Array | Uint32Array | Uint16Array | Uint8Array> {
    const out: Record<string, Float64Array | Uint32Array | Uint16Array | Uint8Array> = {};
    for (const k of COLUMNS) out[k] = this[k];
    return out;
  }

  /** Rebuilds a batch from {@link columns} output (no copy), e.g. after a Worker transfer. */
  static fromColumns(
    length: number,
    source: string,
    buffers: Uint8Array[],
    cols: Record<string, Float64Array | Uint32Array | Uint16Array | Uint8Array>,
  ): PacketBatch {
    const b = new PacketBatch(0);
    Object.assign(b, cols);
    b.capacity = cols.capLen.length;
    b.length = length;
    b.source = source;
    b.buffers.push(...buffers);
    return b;
  }

  /** Grows every array to hold `capacity` rows, keeping the rows already filled. */
  grow(capacity: number): void {
    if (capacity <= this.capacity) return;
    const g = <T extends Float64Array | Uint32Array | Uint16Array | Uint8Array>(a: T, k = 1): T => {
      const out = new (a.constructor as new (n: number) => T)(capacity * k);
      out.set(a as never);
      return out;
    };
    const c = carve(capacity);
    // Each core column copied into its view of the new buffer, which then replaces it.
    const self = this as unknown as Record<string, unknown>;
    for (const k of CORE) {
      c[k].set(this[k] as never);
      self[k] = c[k];
    }
    if (this.src6.length) {
      this.src6 = g(this.src6, 16);
      this.dst6 = g(this.dst6, 16);
    }
    if (this.tcpOpts.length) {
      this.tcpOpts = g(this.tcpOpts);
      this.tcpMss = g(this.tcpMss);
      this.tcpWscale = g(this.tcpWscale);
      this.tcpTsval = g(this.tcpTsval);
      this.icmpIdSeq = g(this.icmpIdSeq);
      this.icmpPayload = g(this.icmpPayload);
      this.udpHead = g(this.udpHead);
      this.l4At = g(this.l4At);
    }
    if (this.tools.length) {
      this.tools = g(this.tools);
      this.fingerprints = g(this.fingerprints);
    }
    this.capacity = capacity;
  }

  /** Allocates {@link src6} and {@link dst6}; the decoder calls it on the first IPv6 row. */
  allocV6(): void {
    if (this.src6.length === 0) {
      this.src6 = new Uint8Array(this.capacity * 16);
      this.dst6 = new Uint8Array(this.capacity * 16);
    }
  }

  /**
   * Allocates the TCP option columns, {@link icmpIdSeq} and {@link icmpPayload}; the decoder calls it on the first row
   * with TCP options or an ICMP echo.
   */
  allocExtras(): void {
    if (this.tcpOpts.length === 0) {
      this.tcpOpts = new Uint32Array(this.capacity);
      this.tcpMss = new Uint16Array(this.capacity);
      this.tcpWscale = new Uint8Array(this.capacity);
      this.tcpTsval = new Uint32Array(this.capacity);
      this.icmpIdSeq = new Uint32Array(this.capacity);
      this.icmpPayload = new Uint32Array(this.capacity);
      this.udpHead = new Uint32Array(this.capacity);
      this.l4At = new Uint32Array(this.capacity);
    }
  }

  /** A view of row `i`'s captured frame (no copy; `slice()` it to keep it). */
  frame(i: number): Uint8Array {
    const off = this.offset[i];
    return this.buffers[this.buf[i]].subarray(off, off + this.capLen[i]);
  }
}

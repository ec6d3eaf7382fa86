// A minimal MaxMind DB (format 2.0) writer for tests, from the published specification: an
// IPv4 search tree with 24-bit records, a data section and the metadata map. It writes any
// value type the format has, so tests can build databases whose fields hold what a real one
// should not (a number where a string belongs, a map, bytes…).

/** A value in the data section. */
export type MmdbValue =
  | string
  | number // written as uint32 if a whole number in range, else double
  | boolean
  | Uint8Array
  | MmdbValue[]
  | { [k: string]: MmdbValue }
  | { double: number }
  | { int32: number }
  | { uint16: number };

const enc = new TextEncoder();

function control(type: number, size: number): number[] {
  const head: number[] = [];
  let sizeBits: number;
  const extra: number[] = [];
  if (size < 29) sizeBits = size;
  else if (size < 29 + 256) {
    sizeBits = 29;
    extra.push(size - 29);
  } else if (size < 285 + 65536) {
    sizeBits = 30;
    const s = size - 285;
    extra.push(s >> 8, s & 255);
  } else {
    sizeBits = 31;
    const s = size - 65821;
    extra.push((s >> 16) & 255, (s >> 8) & 255, s & 255);
  }
  if (type <= 7) head.push((type << 5) | sizeBits);
  else head.push(sizeBits, type - 7);
  return [...head, ...extra];
}

function uintBytes(v: number, max: number): number[] {
  const out: number[] = [];
  for (let x = v; x > 0; x = Math.floor(x / 256)) out.unshift(x % 256);
  if (out.length > max) throw new Error("too large");
  return out;
}

function encode(v: MmdbValue): number[] {
  if (typeof v === "string") {
    const b = enc.encode(v);
    return [...control(2, b.length), ...b];
  }
  if (typeof v === "boolean") return control(14, v ? 1 : 0);
  if (typeof v === "number") {
    if (Number.isInteger(v) && v >= 0 && v < 2 ** 32) {
      const b = uintBytes(v, 4);
      return [...control(6, b.length), ...b];
    }
    return encode({ double: v });
  }
  if (v instanceof Uint8Array) return [...control(4, v.length), ...v];
  if (Array.isArray(v)) return [...control(11, v.length), ...v.flatMap(encode)];
  if ("double" in v && Object.keys(v).length === 1 && typeof v.double === "number") {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, v.double);
    return [...control(3, 8), ...b];
  }
  if ("uint16" in v && Object.keys(v).length === 1 && typeof v.uint16 === "number") {
    const b = uintBytes(v.uint16, 2);
    return [...control(5, b.length), ...b];
  }
  if ("int32" in v && Object.keys(v).length === 1 && typeof v.int32 === "number") {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setInt32(0, v.int32);
    return [...control(8, 4), ...b];
  }
  const entries = Object.entries(v);
  return [
    ...control(7, entries.length),
    ...entries.flatMap(([k, x]) => [...encode(k), ...encode(x)]),
  ];
}

interface Node {
  kids: [Node | number | null, Node | number | null]; // number: data offset
}

/** Builds a database: `networks` maps IPv4 CIDRs to their records. */
export function writeMmdb(
  databaseType: string,
  networks: [string, MmdbValue][],
): Uint8Array {
  const data: number[] = [];
  const root: Node = { kids: [null, null] };
  for (const [cidr, value] of networks) {
    const [ip, len] = cidr.split("/");
    const addr = ip.split(".").reduce((a, o) => a * 256 + Number(o), 0);
    const offset = data.length;
    data.push(...encode(value));
    let n = root;
    const bits = Number(len);
    for (let i = 0; i < bits; i++) {
      const bit = Math.floor(addr / 2 ** (31 - i)) & 1;
      if (i === bits - 1) n.kids[bit] = offset;
      else {
        let next = n.kids[bit];
        if (next === null || typeof next === "number") n.kids[bit] = next = { kids: [null, null] };
        n = next as Node;
      }
    }
  }
  // Number the nodes breadth-first, then write each as two 24-bit records.
  const nodes: Node[] = [root];
  for (let i = 0; i < nodes.length; i++) {
    for (const k of nodes[i].kids) if (k !== null && typeof k !== "number") nodes.push(k);
  }
  const count = nodes.length;
  const index = new Map(nodes.map((n, i) => [n, i]));
  const tree: number[] = [];
  for (const n of nodes) {
    for (const k of n.kids) {
      const r = k === null ? count : typeof k === "number" ? count + 16 + k : index.get(k)!;
      tree.push((r >> 16) & 255, (r >> 8) & 255, r & 255);
    }
  }
  const meta = encode({
    node_count: count,
    record_size: 24,
    ip_version: 4,
    database_type: databaseType,
    languages: ["en"],
    binary_format_major_version: { uint16: 2 },
    binary_format_minor_version: 0,
    build_epoch: 1600000000,
    description: { en: "test database" },
  });
  return Uint8Array.from([
    ...tree,
    ...new Array(16).fill(0),
    ...data,
    ...[0xab, 0xcd, 0xef],
    ...enc.encode("MaxMind.com"),
    ...meta,
  ]);
}

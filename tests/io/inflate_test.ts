import { deepEqual, equal, ok } from "node:assert/strict";
import { gzipSync } from "node:zlib";
import { hasZlibInternals, Inflate } from "../../src/io/_inflate.ts";
import { xorshift } from "../_helpers.ts";

Deno.test("node:zlib still has the internals the fast inflate path drives (a Deno upgrade that removes them must fail here, not slow down quietly)", () => {
  ok(
    hasZlibInternals(),
    "createGunzip()._handle.writeSync / _writeState are gone: see _inflate.ts",
  );
  // The default path is the fast one.
  const z = new Inflate();
  const outs: number[] = [];
  const input = gzipSync(new Uint8Array(100_000).fill(7));
  ok(z.write(input, () => new Uint8Array(65536), (_b, n) => outs.push(n)));
  deepEqual(outs, [65536]); // a full buffer leaves before finish: only the streaming path does that
  ok(z.finish(() => new Uint8Array(65536), (_b, n) => outs.push(n)));
  deepEqual(outs, [65536, 100_000 - 65536]);
  z.close();
});

Deno.test("the public-API fallback inflates the same bytes; truncated and corrupt input fail as on the fast path", () => {
  const rnd = xorshift(3);
  const raw = Uint8Array.from({ length: 300_000 }, (_, i) => (i % 97 === 0 ? rnd(256) : i & 15));
  const gz = new Uint8Array([
    ...gzipSync(raw.subarray(0, 120_000)),
    ...gzipSync(raw.subarray(120_000)),
  ]);
  const run = (publicApi: boolean, input: Uint8Array, piece: number) => {
    const z = new Inflate(publicApi);
    const parts: Uint8Array[] = [];
    const take = () => new Uint8Array(40_000);
    const emit = (b: Uint8Array, n: number) => parts.push(b.slice(0, n));
    let good = true;
    for (let o = 0; o < input.length && good; o += piece) {
      good = z.write(input.subarray(o, o + piece), take, emit);
    }
    good = good && z.finish(take, emit);
    z.close();
    const all = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
    let o = 0;
    for (const p of parts) (all.set(p, o), o += p.length);
    return { good, all, failure: z.failure };
  };
  for (const piece of [1000, 65536, gz.length]) {
    const fast = run(false, gz, piece);
    const slow = run(true, gz, piece);
    ok(fast.good && slow.good);
    deepEqual(slow.all, raw);
    deepEqual(fast.all, raw);
  }
  const cut = gz.subarray(0, gz.length - 1000);
  const [fc, sc] = [run(false, cut, 4096), run(true, cut, 4096)];
  ok(!fc.good && !sc.good);
  equal(sc.failure, fc.failure);
  const bad = gz.slice();
  bad[30] ^= 0xff;
  bad[31] ^= 0xff;
  const [fb, sb] = [run(false, bad, 4096), run(true, bad, 4096)];
  ok(!fb.good && !sb.good, `${fb.failure} / ${sb.failure}`);
});

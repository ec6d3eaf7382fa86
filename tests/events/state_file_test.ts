import { deepEqual, equal, match, ok, rejects } from "node:assert/strict";
import { PcapDecoderStream } from "../../src/capture/pcap_decoder_stream.ts";
import { DataError } from "../../src/errors.ts";
import { EventAggregator, type EventAggregatorOptions } from "../../src/events/event_aggregator.ts";
import { loadState, saveState } from "../../src/events/state_file.ts";
import { generateScenario } from "../../src/synth/scenario.ts";
import { concat, pcapFile } from "../../src/synth/pcap_writer.ts";
import { ethernet, ipv6Packet } from "../../src/synth/frames.ts";

const dir = Deno.makeTempDirSync({ prefix: "state-test-" });
const OPTS: EventAggregatorOptions = { timeout: 300, samples: 2, seed: 3, uniques: 2 };

// Two "hours" of one scenario: the generator's output split at a record boundary in the middle.
function hours(): [Uint8Array, Uint8Array] {
  const parts: Uint8Array[] = [];
  generateScenario(
    { packets: 40000, seed: 5, oneOffs: 300, duration: 7200 },
    (b) => parts.push(b.slice()),
  );
  const all = concat(parts);
  const half = 24 + 20000 * 76;
  const h2 = concat([all.subarray(0, 24), all.subarray(half)]);
  return [all.subarray(0, half), h2];
}

async function feed(agg: EventAggregator, bytes: Uint8Array): Promise<string[]> {
  const out: string[] = [];
  for await (const b of ReadableStream.from([bytes]).pipeThrough(new PcapDecoderStream())) {
    for (const e of agg.add(b)) out.push(JSON.stringify(e));
  }
  return out;
}

Deno.test("hour 1 with --cacheout then hour 2 with --cachein equals one run over both", async () => {
  const [h1, h2] = hours();
  const one = new EventAggregator(OPTS);
  const whole = [
    ...await feed(one, h1),
    ...await feed(one, h2),
    ...one.openEvents().map((e) => JSON.stringify(e)),
  ];
  const a = new EventAggregator(OPTS);
  const first = await feed(a, h1);
  ok(a.openCount > 100);
  await saveState(a, `${dir}/h1.state`);
  const b = new EventAggregator(OPTS);
  await loadState(b, `${dir}/h1.state`);
  equal(b.openCount, a.openCount);
  const second = [...await feed(b, h2), ...b.openEvents().map((e) => JSON.stringify(e))];
  equal(first.length + second.length, whole.length);
  deepEqual([...first, ...second], whole);
  ok(whole.some((e) => e.includes('"Zmap":true')));
});

Deno.test("state keeps IPv6 events, samples and an empty clock", async () => {
  const src = new Uint8Array(16).fill(0x20);
  const pk = [1, 2, 3].map((i) => {
    const dst = new Uint8Array(16).fill(0xfe);
    dst[15] = i;
    return {
      sec: 1000 + i,
      nsec: 0,
      data: ethernet(ipv6Packet({ src, dst, proto: 6, dport: 22, flags: 0x02 })),
    };
  });
  const a = new EventAggregator({ samples: 2 });
  await feed(a, pcapFile(pk, { linkType: 1 }));
  await saveState(a, `${dir}/v6.state`);
  const b = new EventAggregator({ samples: 2 });
  await loadState(b, `${dir}/v6.state`);
  const [e] = b.openEvents();
  deepEqual([e.version, e.packets, e.uniqueDests, e.uniqueDest24s, e.samples.length], [
    6,
    3,
    3,
    1,
    2,
  ]);
  equal(e.sourceIP, "2020:2020:2020:2020:2020:2020:2020:2020");
  await saveState(new EventAggregator(), `${dir}/empty.state`);
  const c = new EventAggregator();
  await loadState(c, `${dir}/empty.state`);
  equal(c.clock, null);
});

Deno.test("corrupt, truncated, foreign and mismatched state files fail with one clear line", async () => {
  const a = new EventAggregator(OPTS);
  await feed(a, hours()[0]);
  const path = `${dir}/good.state`;
  await saveState(a, path);
  const good = Deno.readFileSync(path);
  const tryLoad = async (bytes: Uint8Array, opts = OPTS) => {
    const p = `${dir}/bad.state`;
    Deno.writeFileSync(p, bytes);
    let err: unknown;
    try {
      await loadState(new EventAggregator(opts), p);
    } catch (e) {
      err = e;
    }
    ok(err instanceof DataError, String(err));
    ok(!(err as Error).message.includes("\n"));
    return (err as Error).message;
  };
  match(
    await tryLoad(good.subarray(0, good.length - 100)),
    /bad\.state: byte 16: state file is truncated/,
  );
  const flipped = good.slice();
  flipped[good.length - 50] ^= 0x55;
  match(await tryLoad(flipped), /checksum mismatch/);
  match(await tryLoad(new TextEncoder().encode('{"not": "a state"}\n........')), /bad magic/);
  match(await tryLoad(new Uint8Array(3)), /only 3 bytes/);
  const v2 = good.slice();
  new DataView(v2.buffer).setUint32(8, 99, true);
  match(await tryLoad(v2), /version 99 is not supported/);
  match(
    await tryLoad(good, { ...OPTS, timeout: 624 }),
    /written with --timeout 300, this run uses 624/,
  );
  match(await tryLoad(good, { ...OPTS, samples: 3 }), /written with --samples 2, this run uses 3/);
  await rejects(
    loadState(new EventAggregator(), `${dir}/missing.state`),
    /missing\.state: no such file/,
  );
  // The temporary file never remains under the final name's neighbour.
  ok(!Deno.readDirSync(dir).some((e) => e.name.endsWith(".tmp")));
});

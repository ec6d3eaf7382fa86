/**
 * ZMap up to 4.0: every probe carries IP ID 54321 (Merit's `Zmap`).
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { PacketBatch } from "../decode/packet_batch.ts";
 * import { zmap } from "./zmap.ts";
 * const b = new PacketBatch(2);
 * b.ipId[0] = 54321;
 * b.ipId[1] = 54320;
 * equal(zmap.test(b, 0), 1);
 * equal(zmap.test(b, 1), 0);
 * ```
 * @module
 */

import { Traffic } from "../decode/traffic.ts";
import { type Fingerprint, isZero } from "./fingerprint.ts";

/** IP ID 54321 on every TCP SYN. */
export const zmap: Fingerprint = {
  name: "zmap",
  label: "ZMap",
  key: "Zmap",
  traffic: [Traffic.TCPSYN],
  test: (b, i) => isZero(b.ipId[i] ^ 54321),
};

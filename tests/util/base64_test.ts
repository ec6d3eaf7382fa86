import { equal } from "node:assert/strict";
import { base64 } from "../../src/util/base64.ts";

Deno.test("base64 equals btoa for every length 0–300 and all byte values", () => {
  let x = 12345;
  for (let n = 0; n <= 300; n++) {
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      b[i] = n === 256 ? i : x >>> 24;
    }
    equal(base64(b), btoa(String.fromCharCode(...b)), `length ${n}`);
  }
  equal(base64(new Uint8Array([0xff, 0xfe])), "//4=");
});

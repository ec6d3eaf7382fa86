// Decodes an 8-bit RGB/RGBA PNG (as Chromium writes screenshots) into pixels, for tests that
// check a rendered chart is really there.

import { inflateSync } from "node:zlib";

/** Width, height, channels and raw pixel bytes. */
export function decodePng(
  png: Uint8Array,
): { width: number; height: number; channels: number; pixels: Uint8Array } {
  const dv = new DataView(png.buffer, png.byteOffset, png.byteLength);
  let p = 8;
  let width = 0;
  let height = 0;
  let channels = 0;
  const idat: Uint8Array[] = [];
  while (p < png.length) {
    const len = dv.getUint32(p);
    const type = new TextDecoder().decode(png.subarray(p + 4, p + 8));
    const data = png.subarray(p + 8, p + 8 + len);
    if (type === "IHDR") {
      width = dv.getUint32(p + 8);
      height = dv.getUint32(p + 12);
      if (data[8] !== 8) throw new Error("only 8-bit PNGs");
      channels = data[9] === 6 ? 4 : data[9] === 2 ? 3 : 0;
      if (!channels) throw new Error("only RGB/RGBA PNGs");
    } else if (type === "IDAT") idat.push(data);
    p += 12 + len;
  }
  const raw = new Uint8Array(
    inflateSync(new Uint8Array(idat.reduce((a, b) => [...a, ...b], [] as number[]))),
  );
  const stride = width * channels;
  const pixels = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const f = raw[y * (stride + 1)];
    for (let x = 0; x < stride; x++) {
      const v = raw[y * (stride + 1) + 1 + x];
      const a = x >= channels ? pixels[y * stride + x - channels] : 0;
      const b = y > 0 ? pixels[(y - 1) * stride + x] : 0;
      const c = x >= channels && y > 0 ? pixels[(y - 1) * stride + x - channels] : 0;
      let pred = 0;
      if (f === 1) pred = a;
      else if (f === 2) pred = b;
      else if (f === 3) pred = (a + b) >> 1;
      else if (f === 4) {
        const pa = Math.abs(b - c);
        const pb = Math.abs(a - c);
        const pc = Math.abs(a + b - 2 * c);
        pred = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      pixels[y * stride + x] = (v + pred) & 255;
    }
  }
  return { width, height, channels, pixels };
}

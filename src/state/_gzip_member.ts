// One piece of a state payload as one gzip member: the one compression every writer of state
// files uses (here, in GzipPieces' worker, in packMembers), so that a piece compressed on either
// core is the same bytes.

import { zlib } from "../util/_zlib.ts";

/**
 * The piece as one gzip member, level 1 (0: stored, for files read back soon, such as a split
 * run's block results), in an array of its own (transferable).
 */
export function gzipMember(piece: Uint8Array, level = 1): Uint8Array<ArrayBuffer> {
  // A copy: gzipSync may return a view of a shared pool, which must not be transferred.
  return new Uint8Array(zlib().gzipSync(piece, { level }));
}

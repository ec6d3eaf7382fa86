// The layout of an event row (see `_event_table.ts`): which number of the row holds what.

/** Float64 fields (index into `rowF` at `e * ROW_F64`). */
export const FIRST_SEC = 0;
export const LAST_SEC = 1;
export const PACKETS = 2;
export const BYTES = 3;
/**
 * The rank a packet must be below to be sampled: 2^32 while slots are free, then the highest kept
 * rank (see _sampler.ts); 0 without samples.
 */
export const NEXT = 4;
/** Uint32 fields (index into `rowU` at `e * ROW_U32`). */
export const FIRST_NSEC = 10;
export const LAST_NSEC = 11;
/**
 * Fingerprint bits (rule k of the registry is bit k, bits 0-7), kept while every packet matched;
 * bit 8 set until the attribution has seen a packet; the traffic tags every packet so far had
 * (bits 9-12) or, bit 13, that they differed (then counted beside the row: `_attribution.ts`);
 * the last IP ID (bits 16-31).
 */
export const FP = 12;
/** The event's sampling seed (see _sampler.ts). */
export const RNG = 13;
/** Consecutive IP ID pairs equal, and a small step apart (see attribution/ipid_class.ts). */
export const IPID_EQUAL = 14;
export const IPID_STEP = 15;
/** FP's bit: the next packet is the first the attribution sees. */
export const FIRST_ID = 0x100;
/** Where FP keeps the tags every packet so far had. */
export const TAGS_SHIFT = 9;
/** FP's bit: the event's packets had different tags (counted per tag). */
export const TAGS_MIXED = 0x2000;
/** Where the IPv4 destination set's row (header + inline addresses) starts. */
export const DESTS = 16;
/** Numbers per event row in each view. */
export const ROW_F64 = 16;
export const ROW_U32 = 32;

/**
 * Synthetic event records for tests, benchmarks and example data: what `parse` would write,
 * with every field a caller does not set at its zero value.
 *
 * @module
 */

import type { EventJson } from "../model/darknet_event.ts";

/**
 * An event record with Merit's keys in Merit's order, then the attribution's; `fields` override the zero values (an
 * IPv4 TCP SYN event of one packet from 192.0.2.1 to port 0 at the Unix epoch).
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { eventJson } from "./event_json.ts";
 * const e = eventJson({ SourceIP: "198.51.100.7", Port: 23, Packets: 5 });
 * ok(e.Traffic === 11 && e.RDNS === null && Object.keys(e)[0] === "SourceIP");
 * ```
 */
export function eventJson(fields: Partial<EventJson>): EventJson {
  return {
    SourceIP: "192.0.2.1",
    Port: 0,
    Traffic: 11,
    First: "1970-01-01T00:00:00.000000000Z",
    Last: "1970-01-01T00:00:00.000000000Z",
    Packets: 1,
    Bytes: 0,
    UniqueDests: 1,
    UniqueDest24s: 1,
    Lat: 0,
    Long: 0,
    Country: "",
    City: "",
    ASN: 0,
    Org: "",
    Prefix: "",
    RDNS: null,
    Zmap: false,
    Masscan: false,
    Mirai: false,
    Samples: [],
    TCP: "",
    ICMP: "",
    Tools: {},
    Tool: "",
    SynSignature: "",
    IPIDClass: "",
    Tags: {},
    Scanner: "",
    ...fields,
  };
}

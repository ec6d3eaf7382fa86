/**
 * darknet-events as a library: the stream stages behind the `parse`, `count` and `timeseries`
 * tools, for building your own network-telescope pipelines. Nothing runs at import time.
 *
 * Data flows one way: bytes → {@link PacketBatch}es → events → annotated events → outputs.
 *
 * @example Count SYN packets per destination port of a capture
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { captureBatches, Traffic } from "./mod.ts";
 * const perPort = new Float64Array(65536);
 * for await (const b of await captureBatches(["testdata/demo/scan.pcap.gz"])) {
 *   for (let i = 0; i < b.length; i++) if (b.traffic[i] === Traffic.TCPSYN) perPort[b.port[i]]++;
 * }
 * ok(perPort[23] > 0);
 * ```
 * @module
 */

export {
  type Capture,
  captureBatches,
  openCapture,
  type OpenCaptureOptions,
} from "./src/capture/open_capture.ts";
export { DEFAULT_BATCH_SIZE, PacketBatch } from "./src/decode/packet_batch.ts";
export { BatchPool } from "./src/capture/batch_pool.ts";
export {
  type CaptureInfo,
  PcapDecoderStream,
  type PcapDecoderStreamOptions,
} from "./src/capture/pcap_decoder_stream.ts";
export { decodeFrame, decodeRows } from "./src/decode/decode_frame.ts";
export { isSupportedLinkType, LinkType, linkTypeName } from "./src/decode/link_type.ts";
export { Problem, problemName } from "./src/decode/problem.ts";
export {
  isIcmp,
  isTcp,
  Traffic,
  TRAFFIC_NAMES,
  type TrafficCode,
  trafficCode,
  trafficName,
} from "./src/decode/traffic.ts";
export {
  DarknetError,
  DataError,
  EXIT_DATA,
  EXIT_IO,
  EXIT_USAGE,
  IoError,
  UsageError,
} from "./src/errors.ts";
export { FileSource } from "./src/io/file_source.ts";
export { GunzipStream, type GunzipStreamOptions } from "./src/io/gunzip_stream.ts";
export {
  type CountRow,
  formatTime,
  PacketStats,
  type PacketSummary,
} from "./src/stats/packet_stats.ts";
export { formatIpv4, formatIpv6, parseIpv4, parseIpv6 } from "./src/util/ip.ts";
export { KeyTable } from "./src/util/key_table.ts";
export { CaptureSet } from "./src/capture/capture_set.ts";
export {
  compareEventKeys,
  compareEventOrder,
  DarknetEvent,
  type EventJson,
} from "./src/model/darknet_event.ts";
export { EVENT_FIELDS, type EventField, type FieldKind } from "./src/model/event_schema.ts";
export { DestSets } from "./src/aggregation/dest_set.ts";
export { type Fingerprint, isZero } from "./src/fingerprints/fingerprint.ts";
export { ATTRIBUTION_BOUND, minMatches, type Tool } from "./src/attribution/tool.ts";
export {
  armedTools,
  attribute,
  matchTools,
  MIN_MATCHES,
  SEQUENCE_TOOLS,
  TOOLS,
} from "./src/attribution/tools.ts";
export { synSignature } from "./src/attribution/syn_signature.ts";
export { tagPackets } from "./src/attribution/tag_packets.ts";
export { IPID_SMALL_STEP, ipIdClass } from "./src/attribution/ipid_class.ts";
export {
  parseTagList,
  Tag,
  TAG_BITS,
  TAG_RULES,
  type TagName,
  type TagRule,
  TAGS,
  tagsOfRules,
  trafficTags,
} from "./src/tags/traffic_tags.ts";
export {
  compareDosReports,
  type DosOptions,
  type DosReport,
  type DosState,
  DosVictims,
} from "./src/dos/dos_victims.ts";
export { Backscatter, backscatterOf } from "./src/dos/backscatter.ts";
export { DistinctCounter, EXACT_LIMIT } from "./src/dos/distinct_counter.ts";
export {
  SHAPE_FEW,
  SHAPE_MANY,
  type SourceRecord,
  SourceRollup,
  type SourceRollupOptions,
} from "./src/sources/source_rollup.ts";
export {
  DEFAULT_SERIES_DIMS,
  SERIES_DIMS,
  type SeriesDim,
  SignalSeries,
  type SignalSeriesOptions,
  type SourceLookup,
  type SourcePlace,
} from "./src/series/signal_series.ts";
export {
  readSeriesFile,
  type SeriesBin,
  type SeriesCell,
  type SeriesFile,
  SeriesFileWriter,
  type SeriesHeader,
  type SeriesRun,
  writeSeriesFile,
} from "./src/series/series_file.ts";
export { keyOf4, keyOf6, SKETCH_EXACT_LIMIT, SourceSketch } from "./src/series/source_sketch.ts";
export { iso, SignalTable } from "./src/series/signal_table.ts";
export {
  detect,
  DETECT_DEFAULTS,
  type Detection,
  type DetectOptions,
  type Episode,
  episodes,
  type Level,
} from "./src/series/outage_detector.ts";
export {
  analyzeSignals,
  type DataGap,
  type SignalAlert,
  type SignalEpisode,
  signalFiles,
  type SignalOptions,
  signalReport,
  type SignalResult,
} from "./src/series/signal_analysis.ts";
export { type TimeChart, timeChart, type TimeLine } from "./src/series/time_chart.ts";
export { openPlaceLookup, placeLookup, type PlaceSources } from "./src/series/place_lookup.ts";
export {
  ALL_FINGERPRINTS,
  armedFingerprints,
  fingerprintBit,
  FINGERPRINTS,
  matchFingerprints,
} from "./src/fingerprints/registry.ts";
export {
  type AggregatorClock,
  type AggregatorStats,
  DEFAULT_TELESCOPE_SIZE,
  DEFAULT_TIMEOUT,
  EventAggregator,
  type EventAggregatorOptions,
} from "./src/aggregation/event_aggregator.ts";
export {
  EventAggregatorStream,
  type EventAggregatorStreamOptions,
  type EventChunk,
} from "./src/aggregation/event_aggregator_stream.ts";
export { EventSink, type EventSinkOptions } from "./src/outputs/event_sink.ts";
export { EventWriter, type EventWriterOptions } from "./src/outputs/event_writer.ts";
export { EventBuffer } from "./src/outputs/event_buffer.ts";
export type { EventEncoder, EventFormat } from "./src/outputs/event_encoder.ts";
export { EVENT_FORMATS, eventFormat } from "./src/outputs/formats.ts";
export { jsonArray } from "./src/outputs/json_array.ts";
export { ndjson } from "./src/outputs/ndjson.ts";
export { loadState, saveState, STATE_VERSION, type StateExtras } from "./src/state/state_file.ts";
export {
  type BlockEnds,
  type BlockMerge,
  eventKey,
  keyString,
  SplitMerger,
} from "./src/split/split_merger.ts";
export {
  type Block,
  BLOCK_VERSION,
  type BlockDos,
  type BlockHeader,
  type BlockSettings,
  BlockWriter,
  readBlock,
  readBlockDos,
} from "./src/split/block_result.ts";
export {
  type CaptureStats,
  LiveCapture,
  type LiveCaptureOptions,
} from "./src/capture/live_capture.ts";
export {
  type DosEnd,
  WorkerCaptureSet,
  type WorkerCaptureSetOptions,
} from "./src/capture/worker_capture_set.ts";
export {
  RotatingEventSink,
  type RotatingEventSinkOptions,
  windowName,
} from "./src/outputs/rotating_event_sink.ts";
export { encodeState, writeState } from "./src/state/state_file.ts";
export { annotate, EnrichStream } from "./src/enrich/enrich_stream.ts";
export { knownScannerEnricher, KnownScanners } from "./src/enrich/known_scanners.ts";
export type { EnrichedField, Enricher } from "./src/enrich/enricher.ts";
export {
  asnEnricher,
  type AsnInfo,
  cityEnricher,
  type CityInfo,
  MaxMindDb,
  type MaxMindKind,
} from "./src/enrich/maxmind_db.ts";
export { prefixEnricher, type PrefixMatch, PrefixTable } from "./src/enrich/prefix_table.ts";
export {
  DNS_FAILED,
  dnsEnricher,
  type DnsServer,
  type DnsStats,
  parseDnsServer,
  ptrName,
  ReverseDns,
  type ReverseDnsOptions,
} from "./src/enrich/reverse_dns.ts";
export {
  type InvalidEvents,
  MAX_EVENT_BYTES,
  type ReadEvent,
  readEventBuffer,
  readEvents,
  type ReadEventsOptions,
  skipping,
} from "./src/analysis/event_reader.ts";
export { checkEvent, checkEventFields } from "./src/analysis/check_event.ts";
export {
  EventStats,
  type EventStatsOptions,
  type EventSummary,
  type RankBy,
} from "./src/analysis/event_stats.ts";
export {
  type Alert,
  robustZ,
  SERIES_HEADER,
  type SeriesBy,
  seriesCsv,
  type SeriesResult,
  TimeSeries,
  type TimeSeriesOptions,
} from "./src/analysis/timeseries.ts";
export { type PacketSeriesRow, PacketTimeSeries } from "./src/analysis/packet_timeseries.ts";
export { type Analyzer, runAnalyzers } from "./src/analysis/analyzer.ts";
export { type Chart, type ChartLine, lineChart } from "./src/analysis/svg_chart.ts";

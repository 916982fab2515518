/**
 * Prometheus metrics. The 15 names of SPEC §6 carry no labels and keep their exact names; labelled
 * series (per peer, per kind, queue bytes) live beside them. Each Syncer owns its own registry so
 * several can run in one process (tests, multi-chain hosts) without name clashes.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'

/** Request and write latencies span ~1 ms (local LMDB) to tens of seconds (stalled peers). */
const DURATION_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]

export const SPEC_METRIC_NAMES = [
  'syncer_current_block',
  'syncer_target_block',
  'syncer_progress_percent',
  'syncer_blocks_per_second',
  'syncer_downloaded_headers_total',
  'syncer_downloaded_bodies_total',
  'syncer_downloaded_receipts_total',
  'syncer_validated_blocks_total',
  'syncer_validation_errors_total',
  'syncer_written_blocks_total',
  'syncer_reorgs_total',
  'syncer_errors_total',
  'syncer_download_duration_seconds',
  'syncer_validation_duration_seconds',
  'syncer_write_duration_seconds',
] as const

export class SyncMetrics {
  readonly registry = new Registry()

  readonly currentBlock = new Gauge({ name: 'syncer_current_block', help: 'Highest block committed to the store', registers: [this.registry] })
  readonly targetBlock = new Gauge({ name: 'syncer_target_block', help: 'Block the sync is heading for', registers: [this.registry] })
  readonly progressPercent = new Gauge({ name: 'syncer_progress_percent', help: 'Committed share of the start..target range, 0-100', registers: [this.registry] })
  readonly blocksPerSecond = new Gauge({ name: 'syncer_blocks_per_second', help: 'Commit rate over the recent window', registers: [this.registry] })
  readonly downloadedHeaders = new Counter({ name: 'syncer_downloaded_headers_total', help: 'Headers received from sources', registers: [this.registry] })
  readonly downloadedBodies = new Counter({ name: 'syncer_downloaded_bodies_total', help: 'Block bodies received from sources', registers: [this.registry] })
  readonly downloadedReceipts = new Counter({ name: 'syncer_downloaded_receipts_total', help: 'Block receipt lists received from sources', registers: [this.registry] })
  readonly validatedBlocks = new Counter({ name: 'syncer_validated_blocks_total', help: 'Blocks that passed validation', registers: [this.registry] })
  readonly validationErrors = new Counter({ name: 'syncer_validation_errors_total', help: 'Blocks, bodies or receipts rejected by validation', registers: [this.registry] })
  readonly writtenBlocks = new Counter({ name: 'syncer_written_blocks_total', help: 'Blocks committed to the store', registers: [this.registry] })
  readonly reorgs = new Counter({ name: 'syncer_reorgs_total', help: 'Chain reorganisations handled', registers: [this.registry] })
  readonly errors = new Counter({ name: 'syncer_errors_total', help: 'Errors of any kind (requests, validation, storage)', registers: [this.registry] })
  readonly downloadDuration = new Histogram({ name: 'syncer_download_duration_seconds', help: 'Duration of one source request', buckets: DURATION_BUCKETS, registers: [this.registry] })
  readonly validationDuration = new Histogram({ name: 'syncer_validation_duration_seconds', help: 'Duration of validating one block', buckets: DURATION_BUCKETS, registers: [this.registry] })
  readonly writeDuration = new Histogram({ name: 'syncer_write_duration_seconds', help: 'Duration of writing one batch', buckets: DURATION_BUCKETS, registers: [this.registry] })

  // Labelled series beside the spec's.
  readonly errorsByKind = new Counter({ name: 'syncer_errors_by_kind_total', help: 'Errors by component and code', labelNames: ['component', 'code'], registers: [this.registry] })
  readonly reorgDepth = new Histogram({ name: 'syncer_reorg_depth_blocks', help: 'Blocks rolled back per reorg', buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256], registers: [this.registry] })
  readonly lastReorgDepth = new Gauge({ name: 'syncer_last_reorg_depth', help: 'Depth of the most recent reorg', registers: [this.registry] })
  readonly peers = new Gauge({ name: 'syncer_peers', help: 'Connected sources by kind', labelNames: ['kind'], registers: [this.registry] })
  readonly inFlightRequests = new Gauge({ name: 'syncer_inflight_requests', help: 'Requests in flight by kind', labelNames: ['kind'], registers: [this.registry] })
  readonly queueBytes = new Gauge({ name: 'syncer_queue_bytes', help: 'Bytes held by each pipeline stage', labelNames: ['stage'], registers: [this.registry] })
  readonly peerBytes = new Counter({ name: 'syncer_peer_bytes_total', help: 'Useful bytes received per source', labelNames: ['peer'], registers: [this.registry] })
  readonly peerFaults = new Counter({ name: 'syncer_peer_faults_total', help: 'Faults per source and kind', labelNames: ['peer', 'fault'], registers: [this.registry] })

  constructor(opts: { processMetrics?: boolean } = {}) {
    if (opts.processMetrics ?? true) collectDefaultMetrics({ register: this.registry })
  }

  /** Counts an error in the unlabelled spec total and in the labelled breakdown. */
  countError(component: string, code: string): void {
    this.errors.inc()
    this.errorsByKind.inc({ component, code })
  }

  async render(): Promise<string> {
    return this.registry.metrics()
  }
}

// The processor's outputs: one sink and one batcher per output, opened at start-up (retried until
// the database answers or the processor is stopped), instrumented, and closed within a bound.
import type { Logger } from '../common/logger.js';
import type { FastPaths } from '../internals/fast-paths.js';
import { retry, sleep } from '../common/backoff.js';
import { parseDuration as durationMs } from '../../api/units.js';
import {
  Batcher,
  isRowRejectedError,
  isSinkConfigError,
  openSink,
  readCredentials,
  type RowResult,
  type Sink,
} from '../sinks/index.js';
import type { OutputConfig, ProcessConfig } from './config.js';
import type { ProcessorMetrics } from './metrics.js';

/** How long closing one sink may take before the processor gives up on it. */
const CLOSE_TIMEOUT_MS = 5000;

export class Outputs {
  readonly sinks: Sink[] = [];
  readonly batchers = new Map<string, Batcher<unknown>>();
  /** Each output's batch.maxRows, checked against the in-flight limit once the consumers are bound. */
  readonly batchRows = new Map<string, number>();
  /** output → '' while its writes succeed, else the last error (readiness reports it). */
  readonly health = new Map<string, string>();

  constructor(
    private readonly metrics: ProcessorMetrics,
    private readonly log: Logger,
    private readonly fastPaths: FastPaths,
  ) {}

  /** Opens every output's sink; false when the signal aborted first. */
  async open(config: ProcessConfig, pipeline: string, signal: AbortSignal): Promise<boolean> {
    for (const o of config.outputs) {
      const credentials = o.credentials ? await readCredentials(o.credentials) : undefined;
      const sink = await retry(
        () =>
          openSink(o.sink, credentials, {
            concurrency: o.writeConcurrency,
            applicationName: `eventrunner-process ${pipeline}`,
            fastPaths: this.fastPaths,
          }),
        { what: `Open sink for output ${o.name}`, log: this.log, signal },
      );
      if (!sink) return false;
      this.sinks.push(sink);
      // The validated config holds exactly one backend, its batch defaulted by the Sink schema.
      const batch = (o.sink.scylla ?? o.sink.clickhouse)!.batch;
      this.batchRows.set(o.name, batch.maxRows);
      this.batchers.set(
        o.name,
        new Batcher(this.instrumented(o, sink), {
          prepare: (e) => sink.prepare(e),
          maxRows: batch.maxRows,
          maxDelayMs: durationMs(batch.maxDelay),
          // Cassandra rows run concurrently inside a batch already (writeConcurrency); ClickHouse
          // takes a few inserts at once, each a new part, so keep it small.
          maxConcurrent: o.maxConcurrentBatches ?? (o.sink.scylla ? 8 : 2),
        }),
      );
      this.log.info({ output: o.name, kind: sink.kind, target: sink.target }, 'Opened sink');
    }
    return true;
  }

  /** Writes every partial batch now. */
  flushAll(): void {
    for (const b of this.batchers.values()) b.flush();
  }

  /** Waits for every batch in progress. */
  async drain(): Promise<void> {
    await Promise.all([...this.batchers.values()].map((b) => b.drain()));
  }

  /** Closes every sink; a driver stuck reconnecting must not keep a drained process alive. */
  async close(): Promise<void> {
    await Promise.all(
      this.sinks.map(async (s) => {
        const timer = new AbortController();
        const closed = await Promise.race([
          s.close().then(
            () => true,
            () => true,
          ),
          sleep(CLOSE_TIMEOUT_MS, timer.signal).then(() => false),
        ]);
        timer.abort();
        if (!closed) this.log.warn({ target: s.target }, 'Closing the sink timed out');
      }),
    );
  }

  private instrumented(o: OutputConfig, sink: Sink) {
    const m = this.metrics;
    return async (rows: unknown[]): Promise<RowResult[]> => {
      const start = performance.now();
      const results = await sink.writeRows(rows);
      let failed: RowResult;
      for (const r of results) {
        if (!r) continue;
        const kind = isRowRejectedError(r) ? 'rejected' : isSinkConfigError(r) ? 'config' : 'transient';
        m.sinkErrors.inc({ output: o.name, kind });
        if (kind !== 'rejected') failed ??= r;
      }
      m.sinkBatchSeconds.observe(
        { output: o.name, result: failed ? 'error' : 'ok' },
        (performance.now() - start) / 1000,
      );
      m.sinkBatchRows.observe({ output: o.name }, rows.length);
      this.recordHealth(o.name, sink.target, failed);
      return results;
    };
  }

  private recordHealth(output: string, target: string, failed: RowResult): void {
    const was = this.health.get(output);
    if (failed) {
      if (was !== failed.message)
        this.log.warn({ output, target, err: failed.message }, 'Sink write failed; events will be retried');
      this.health.set(output, failed.message);
    } else if (was !== '') {
      if (was !== undefined) this.log.info({ output, target }, 'Sink writes succeed again');
      this.health.set(output, '');
    }
  }
}

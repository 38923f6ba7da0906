// The processor's outputs: one sink and one batcher per output, opened at start-up (retried until
// the database answers or the processor is stopped), instrumented, and closed within a bound.
// Webhook and EventSource outputs also count each request by outcome and time it.
import type { NatsConnection } from '@nats-io/nats-core';
import { SpanStatusCode, type Tracer } from '@opentelemetry/api';
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
  type RequestObserver,
  type RowResult,
  type BatchEntry,
  type Sink,
  type SinkSpec,
} from '../sinks/index.js';
import type { OutputConfig, ProcessConfig } from './config.js';
import type { ProcessorMetrics } from './metrics.js';
import { startBatchSpan } from './spans.js';

/** How long closing one sink may take before the processor gives up on it. */
const CLOSE_TIMEOUT_MS = 5000;
/** Events per publish round of an EventSource output; each is acknowledged by the stream. */
const PUBLISH_BATCH = 256;

/** How an output's events are grouped into writes, from its Sink's kind and settings. */
export function batchingOf(o: { sink: SinkSpec; maxConcurrentBatches?: number }): {
  maxRows: number;
  maxDelayMs: number;
  maxConcurrent: number;
} {
  const { scylla, clickhouse, http } = o.sink;
  if (scylla ?? clickhouse) {
    // The validated config holds exactly one backend, its batch defaulted by the Sink schema.
    const batch = (scylla ?? clickhouse)!.batch!;
    return {
      maxRows: batch.maxRows!,
      maxDelayMs: durationMs(batch.maxDelay!),
      // Cassandra rows run concurrently inside a batch already (writeConcurrency); ClickHouse
      // takes a few inserts at once, each a new part, so keep it small.
      maxConcurrent: o.maxConcurrentBatches ?? (scylla ? 8 : 2),
    };
  }
  if (http) {
    // One request per event unless the Sink asks for batch mode; maxConcurrency requests at once.
    const batched = http.mode === 'batch';
    return {
      maxRows: batched ? (http.batch?.maxEvents ?? 100) : 1,
      maxDelayMs: batched ? durationMs(http.batch?.maxDelay ?? '50ms') : 0,
      maxConcurrent: http.maxConcurrency ?? 16,
    };
  }
  // An EventSource: what arrived in one turn of the event loop is published together.
  return { maxRows: PUBLISH_BATCH, maxDelayMs: 0, maxConcurrent: o.maxConcurrentBatches ?? 8 };
}

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
    /** Set when tracing is on: each batch gets a span linking its events' process spans. */
    private readonly tracer?: Tracer,
  ) {}

  /**
   * Opens every output's sink; false when the signal aborted first. `nc` is the NATS connection
   * eventSource outputs publish on.
   */
  async open(
    config: Pick<ProcessConfig, 'outputs'> & { nats?: { inboxPrefix?: string | undefined } },
    pipeline: string,
    signal: AbortSignal,
    nc?: NatsConnection,
  ): Promise<boolean> {
    for (const o of config.outputs) {
      const credentials = o.credentials ? await readCredentials(o.credentials) : undefined;
      const sink = await retry(
        async () =>
          openSink(o.sink, credentials, {
            concurrency: o.writeConcurrency,
            applicationName: `eventrunner-process ${pipeline}`,
            fastPaths: this.fastPaths,
            observe: this.requestObserver(o),
            ...(nc && o.eventSource
              ? { nats: { nc, target: o.eventSource, inboxPrefix: config.nats?.inboxPrefix } }
              : {}),
          }),
        { what: `Open sink for output ${o.name}`, log: this.log, signal },
      );
      if (!sink) return false;
      this.sinks.push(sink);
      const batching = batchingOf(o);
      this.batchRows.set(o.name, batching.maxRows);
      this.batchers.set(
        o.name,
        new Batcher(this.instrumented(o, sink), { prepare: (e) => sink.prepare(e), ...batching }),
      );
      // Every error kind's series exists from the start, so rates and alerts read 0, not nothing.
      for (const kind of ['transient', 'rejected', 'config'])
        this.metrics.sinkErrors.inc({ output: o.name, kind }, 0);
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

  /** Per-request metrics of an output, with the label children looked up once per outcome. */
  private requestObserver(o: OutputConfig): RequestObserver {
    const kind = o.sink.http
      ? 'http'
      : o.sink.eventSource
        ? 'eventSource'
        : o.sink.scylla
          ? 'scylla'
          : 'clickhouse';
    const counters = new Map<string, { inc(): void }>();
    const seconds = this.metrics.outputRequestSeconds.labels({ output: o.name, kind });
    return (outcome, s) => {
      let c = counters.get(outcome);
      if (!c)
        counters.set(outcome, (c = this.metrics.outputRequests.labels({ output: o.name, kind, outcome })));
      c.inc();
      seconds.observe(s);
    };
  }

  private instrumented(o: OutputConfig, sink: Sink) {
    const m = this.metrics;
    const tracer = this.tracer;
    // The table or stream only: a webhook URL may carry credentials.
    const spanAttributes = {
      'eventrunner.output': o.name,
      'eventrunner.sink.kind': sink.kind,
      ...(o.sink.scylla ? { 'db.system.name': 'cassandra', 'db.collection.name': sink.target } : {}),
      ...(o.sink.clickhouse ? { 'db.system.name': 'clickhouse', 'db.collection.name': sink.target } : {}),
    };
    return async (rows: unknown[], entries?: readonly BatchEntry[]): Promise<RowResult[]> => {
      const start = performance.now();
      const span =
        tracer && entries
          ? startBatchSpan(tracer, o.name, entries, {
              ...spanAttributes,
              'eventrunner.batch.rows': rows.length,
            })
          : undefined;
      let results: RowResult[];
      try {
        results = await sink.writeRows(rows);
      } catch (err) {
        span?.setStatus({ code: SpanStatusCode.ERROR, message: errorText(err) });
        span?.end();
        throw err;
      }
      let failed: RowResult;
      let errors = 0;
      for (const r of results) {
        if (!r) continue;
        errors++;
        const kind = isRowRejectedError(r) ? 'rejected' : isSinkConfigError(r) ? 'config' : 'transient';
        m.sinkErrors.inc({ output: o.name, kind });
        if (kind !== 'rejected') failed ??= r;
      }
      if (span) {
        span.setAttribute('eventrunner.batch.failed_rows', errors);
        if (failed) span.setStatus({ code: SpanStatusCode.ERROR, message: failed.message });
        span.end();
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

const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err));

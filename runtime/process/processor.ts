// The processor: connects to NATS, opens the sinks, binds each source's durable consumer and runs
// the pull loops until the signal aborts, then drains — stops pulling, writes and acks what it
// holds, within the grace period — and closes everything.
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { Subscription } from '@nats-io/nats-core';
import { jetstream, jetstreamManager, type Consumer, type JetStreamManager } from '@nats-io/jetstream';
import { readFile } from 'node:fs/promises';
import type { Registry } from 'prom-client';
import type { Logger } from '../common/logger.js';
import type { ReadinessCheck } from '../common/ops-server.js';
import { parseDuration as durationMs } from '../../api/units.js';
import {
  Batcher,
  errorMessage,
  isRowRejectedError,
  isSinkConfigError,
  openSink,
  readCredentials,
  type RowResult,
  type Sink,
} from '../sinks/index.js';
import type { OutputConfig, ProcessConfig } from './config.js';
import { SourceLoop } from './consume.js';
import { DeadLetterPublisher } from './deadletter.js';
import { InFlight } from './inflight.js';
import { Replies } from './replies.js';
import { processorMetrics, type ProcessorMetrics } from './metrics.js';
import { watchMaxDeliveries } from './max-deliveries.js';

export interface ProcessorOptions {
  config: ProcessConfig;
  log: Logger;
  registry: Registry;
}

export interface RunningProcessor {
  readiness: ReadinessCheck[];
  /** Resolves when the processor stopped (after a drain); true when the drain finished in time. */
  done: Promise<boolean>;
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
  });

/** Retries `fn` with capped backoff until it succeeds or the signal aborts (then undefined). */
async function untilReady<T>(
  what: string,
  log: Logger,
  signal: AbortSignal,
  fn: () => Promise<T>,
): Promise<T | undefined> {
  for (let attempt = 0; !signal.aborted; attempt++) {
    try {
      // A connect that hangs must not hold up a shutdown: stop waiting when the signal aborts.
      const aborted = new Promise<undefined>((resolve) =>
        signal.addEventListener('abort', () => resolve(undefined), { once: true }),
      );
      return await Promise.race([fn(), aborted]);
    } catch (err) {
      log.warn({ err: errorMessage(err), attempt }, `${what} failed; retrying`);
      await sleep(Math.min(10_000, 500 * 2 ** attempt), signal);
    }
  }
  return undefined;
}

async function natsAuth(c: ProcessConfig['nats']): Promise<{ token?: string; user?: string; pass?: string }> {
  const read = async (f: string) => (await readFile(f, 'utf8')).replace(/\r?\n$/, '');
  if (c.tokenFile) return { token: await read(c.tokenFile) };
  if (c.userFile && c.passwordFile) return { user: await read(c.userFile), pass: await read(c.passwordFile) };
  return {};
}

function instrumented(
  o: OutputConfig,
  sink: Sink,
  m: ProcessorMetrics,
  log: Logger,
  health: Map<string, string>,
) {
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
    const was = health.get(o.name);
    if (failed) {
      if (was !== failed.message)
        log.warn(
          { output: o.name, target: sink.target, err: failed.message },
          'Sink write failed; events will be retried',
        );
      health.set(o.name, failed.message);
    } else if (was !== '') {
      if (was !== undefined) log.info({ output: o.name, target: sink.target }, 'Sink writes succeed again');
      health.set(o.name, '');
    }
    return results;
  };
}

export function startProcessor(opts: ProcessorOptions, signal: AbortSignal): RunningProcessor {
  const { config, log, registry } = opts;
  const metrics = processorMetrics(registry);
  const pipeline = `${config.pipeline.namespace}/${config.pipeline.name}`;
  const sinkHealth = new Map<string, string>(); // output → '' when healthy, else the last error
  const consumerHealth = new Map<string, string>();
  let nc: NatsConnection | undefined;
  let started = false;
  const readiness: ReadinessCheck[] = [
    { name: 'nats', check: () => (!nc ? 'connecting' : nc.isClosed() ? 'connection closed' : undefined) },
    { name: 'started', check: () => (started ? undefined : 'opening sinks and consumers') },
    {
      name: 'sinks',
      check: () =>
        [...sinkHealth]
          .filter(([, e]) => e)
          .map(([o, e]) => `${o}: ${e}`)
          .join('; ') || undefined,
    },
    {
      name: 'consumers',
      check: () =>
        [...consumerHealth]
          .filter(([, e]) => e)
          .map(([c, e]) => `${c}: ${e}`)
          .join('; ') || undefined,
    },
  ];

  const done = (async (): Promise<boolean> => {
    const sinks: Sink[] = [];
    const batchers = new Map<string, Batcher<unknown>>();
    /** Each output's batch.maxRows, checked against the in-flight limit once the consumers are bound. */
    const batchRows = new Map<string, number>();
    const flushAll = () => batchers.forEach((b) => b.flush());
    const inFlight = new InFlight(config.maxInFlight, flushAll);
    const loops: Promise<void>[] = [];
    const advisories: Subscription[] = [];
    let lagTimer: NodeJS.Timeout | undefined;
    const run = async (): Promise<void> => {
      const auth = await natsAuth(config.nats);
      nc = await untilReady('Connect to NATS', log, signal, () =>
        connect({
          servers: config.nats.url,
          name: `eventrunner-process ${pipeline}`,
          maxReconnectAttempts: -1,
          ...auth,
        }),
      );
      if (!nc) return;
      log.info({ url: config.nats.url }, 'Connected to NATS');
      const js = jetstream(nc);
      const replies = new Replies(nc);
      const jsm: JetStreamManager = await jetstreamManager(nc);

      for (const o of config.outputs) {
        const credentials = o.credentials ? await readCredentials(o.credentials) : undefined;
        const sink = await untilReady(`Open sink for output ${o.name}`, log, signal, () =>
          openSink(o.sink, credentials, {
            concurrency: o.writeConcurrency,
            applicationName: `eventrunner-process ${pipeline}`,
          }),
        );
        if (!sink) return;
        sinks.push(sink);
        const batch = o.sink.scylla?.batch ?? o.sink.clickhouse?.batch ?? {};
        const maxRows = batch.maxRows ?? (o.sink.scylla ? 100 : 10000);
        batchRows.set(o.name, maxRows);
        batchers.set(
          o.name,
          new Batcher(instrumented(o, sink, metrics, log, sinkHealth), {
            prepare: (e) => sink.prepare(e),
            maxRows,
            maxDelayMs: durationMs(batch.maxDelay ?? (o.sink.scylla ? '50ms' : '1s')),
            // Cassandra rows run concurrently inside a batch already (writeConcurrency); ClickHouse
            // takes a few inserts at once, each a new part, so keep it small.
            maxConcurrent: o.maxConcurrentBatches ?? (o.sink.scylla ? 8 : 2),
          }),
        );
        log.info({ output: o.name, kind: sink.kind, target: sink.target }, 'Opened sink');
      }

      const consumers: {
        loop: SourceLoop;
        consumer: Consumer;
        name: string;
        source: ProcessConfig['sources'][number];
      }[] = [];
      for (const source of config.sources) {
        const name = `${source.stream}/${source.consumer}`;
        const consumer = await untilReady(`Bind consumer ${name}`, log, signal, async () => {
          const c = await js.consumers.get(source.stream, source.consumer);
          const info = await c.info();
          // MaxAckPending is what the server lets out; holding more than that could only stall.
          if (
            info.config.max_ack_pending &&
            info.config.max_ack_pending > 0 &&
            info.config.max_ack_pending < inFlight.limit
          )
            inFlight.setLimit(info.config.max_ack_pending);
          return c;
        });
        if (!consumer) return;
        consumerHealth.set(name, '');
        const deadLetter = new DeadLetterPublisher(
          js,
          config.deadLetter.subject,
          config.deadLetter.stream,
          pipeline,
        );
        const sourceLog = log.child({ stream: source.stream, consumer: source.consumer });
        advisories.push(
          watchMaxDeliveries({
            nc,
            jsm,
            stream: source.stream,
            consumer: source.consumer,
            deadLetter,
            metrics,
            log: sourceLog,
          }),
        );
        const loop = new SourceLoop({
          source,
          consumer,
          rules: config.rulesCompiled,
          outputs: batchers,
          deadLetter: new DeadLetterPublisher(
            js,
            config.deadLetter.subject,
            config.deadLetter.stream,
            pipeline,
          ),
          replies,
          readBack: (seq) => jsm.streams.getMessage(source.stream, { seq }),
          inFlight,
          delivery: { maxDeliver: config.delivery.maxDeliver, backoffMs: config.backoffMs },
          pullBatch: Math.min(config.processing.pullBatch, inFlight.limit),
          metrics,
          log: sourceLog,
        });
        consumers.push({ loop, consumer, name, source });
      }

      const pollLag = async () => {
        for (const c of consumers) {
          try {
            const info = await jsm.consumers.info(c.source.stream, c.source.consumer);
            const label = { source: c.source.eventSource ?? c.source.stream };
            metrics.consumerPending.set(label, info.num_pending);
            metrics.consumerAckPending.set(label, info.num_ack_pending);
            consumerHealth.set(c.name, '');
            // Other replicas can hold MaxAckPending between them; then nothing more arrives here,
            // and partial batches must go out now rather than after their maxDelay.
            if (info.num_ack_pending >= (info.config.max_ack_pending ?? Infinity)) flushAll();
          } catch (err) {
            consumerHealth.set(c.name, errorMessage(err));
          }
        }
        metrics.inFlight.set(inFlight.size);
      };
      lagTimer = setInterval(() => void pollLag(), config.lagIntervalMs);
      void pollLag();

      // A batch larger than what this processor may hold never fills: it is written when the
      // in-flight limit is reached, at that size, and the pipeline waits for it each time.
      for (const [output, maxRows] of batchRows) {
        if (maxRows > inFlight.limit)
          log.warn(
            { output, maxRows, maxInFlight: inFlight.limit },
            `Output ${output}: batch.maxRows (${maxRows}) is above the ${inFlight.limit} events this ` +
              `processor may hold (delivery.maxAckPending), so its batches are written at ${inFlight.limit} ` +
              "rows; raise the Pipeline's delivery.maxAckPending above the Sink's batch.maxRows, or lower it",
          );
      }
      for (const c of consumers) loops.push(c.loop.run(signal));
      started = true;
      log.info({ sources: consumers.map((c) => c.name), maxInFlight: inFlight.limit }, 'Processing events');
      await Promise.all(loops);
    };
    let failure: unknown;
    try {
      await run();
    } catch (err) {
      failure = err;
    }
    // Drain: the loops have stopped pulling; write and ack what is held, bounded by the grace period.
    clearInterval(lagTimer);
    for (const a of advisories) a.unsubscribe();
    const drained = (async () => {
      flushAll();
      await Promise.all(loops);
      await inFlight.idle();
      await Promise.all([...batchers.values()].map((b) => b.drain()));
      await nc?.flush();
      return true;
    })();
    const timer = new Promise<false>((resolve) =>
      setTimeout(() => resolve(false), config.gracePeriodMs).unref(),
    );
    const inTime = await Promise.race([drained.catch(() => false), timer]);
    if (!inTime)
      log.warn(
        { inFlight: inFlight.size },
        'Grace period ended before the drain finished; unacked events will be redelivered',
      );
    else if (started) log.info('Drained in-flight events');
    // A driver stuck reconnecting must not keep a drained process alive: bound each close.
    await Promise.all(
      sinks.map((s) =>
        Promise.race([
          s.close().catch(() => undefined),
          new Promise<void>((resolve) =>
            setTimeout(() => {
              log.warn({ target: s.target }, 'Closing the sink timed out');
              resolve();
            }, 5000).unref(),
          ),
        ]),
      ),
    );
    await nc?.close().catch(() => undefined);
    if (failure) throw failure;
    return inTime;
  })();
  return { readiness, done };
}

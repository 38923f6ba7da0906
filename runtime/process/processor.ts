// The processor: serves its operations endpoint, connects to NATS, opens the outputs, binds each
// source's durable consumer and runs the pull loops until the signal aborts, then drains — stops
// pulling, writes and acks what it holds, within the grace period — and closes everything.
import type { NatsConnection } from '@nats-io/nats-core';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { sleep } from '../common/backoff.js';
import type { Logger } from '../common/logger.js';
import { connectNats } from '../common/nats.js';
import { FastPaths } from '../internals/fast-paths.js';
import type { ReadinessCheck } from '../common/ops-server.js';
import { serveOps, type Service } from '../common/service.js';
import type { Telemetry } from '../common/tracing.js';
import type { ProcessConfig } from './config.js';
import { InFlight } from './inflight.js';
import { processorMetrics } from './metrics.js';
import { Outputs } from './outputs.js';
import { Replies } from './replies.js';
import { Shuffle } from './shuffle.js';
import { Sources } from './sources.js';

/** A readiness check that lists the entries of a health map that carry an error. */
function unhealthy(name: string, health: () => ReadonlyMap<string, string> | undefined): ReadinessCheck {
  return {
    name,
    check: () =>
      [...(health() ?? [])]
        .filter(([, e]) => e)
        .map(([k, e]) => `${k}: ${e}`)
        .join('; ') || undefined,
  };
}

export async function startProcessor(
  config: ProcessConfig,
  log: Logger,
  signal: AbortSignal,
  telemetry: Telemetry = {},
): Promise<Service> {
  const pipeline = `${config.pipeline.namespace}/${config.pipeline.name}`;
  const state: { nc?: NatsConnection; outputs?: Outputs; sources?: Sources; started: boolean } = {
    started: false,
  };
  const { registry, server: ops } = await serveOps(
    'processor',
    config.ops,
    [
      {
        name: 'nats',
        check: () => (!state.nc ? 'connecting' : state.nc.isClosed() ? 'connection closed' : undefined),
      },
      { name: 'started', check: () => (state.started ? undefined : 'opening sinks and consumers') },
      unhealthy('sinks', () => state.outputs?.health),
      unhealthy('consumers', () => state.sources?.health),
    ],
    log,
  );
  const metrics = processorMetrics(registry);
  const fastPaths = new FastPaths({ enabled: config.fastPaths, log, registry });
  const outputs = (state.outputs = new Outputs(metrics, log, fastPaths, telemetry.tracer));
  const inFlight = new InFlight(config.maxInFlight, () => outputs.flushAll());
  let loops: Promise<void>[] = [];
  let replies: Replies | undefined;

  const run = async (): Promise<void> => {
    const nc = (state.nc = await connectNats(config.nats, {
      name: `eventrunner-process ${pipeline}`,
      log,
      signal,
    }));
    if (!nc) return;
    replies = new Replies(nc);
    if (!(await outputs.open(config, pipeline, signal, nc))) return;
    const js = jetstream(nc);
    const sources = (state.sources = new Sources({
      config,
      nc,
      js,
      // No account-wide information request: a pod's user may touch only its own streams.
      jsm: await jetstreamManager(nc, { checkAPI: false }),
      replies,
      outputs,
      inFlight,
      metrics,
      log,
      pipeline,
      fastPaths,
      ...(telemetry.tracer ? { tracer: telemetry.tracer } : {}),
      ...(config.shuffle && config.queriesCompiled.length
        ? {
            shuffle: new Shuffle(js, config.shuffle, config.queriesCompiled, {
              nc,
              inboxPrefix: config.nats.inboxPrefix,
            }),
          }
        : {}),
    }));
    if (!(await sources.bind(signal))) return;
    sources.startLagPolling();
    warnUnfillableBatches(outputs, inFlight, log);
    loops = sources.run(signal);
    state.started = true;
    log.info({ sources: sources.names, maxInFlight: inFlight.limit }, 'Processing events');
    await Promise.all(loops);
  };

  const done = (async (): Promise<boolean> => {
    let failure: unknown;
    try {
      await run();
    } catch (err) {
      failure = err;
    }
    // Drain: the loops have stopped pulling; write and ack what is held, bounded by the grace period.
    state.sources?.stop();
    const drained = (async () => {
      outputs.flushAll();
      await Promise.all(loops);
      await inFlight.idle();
      await outputs.drain();
      replies?.flush();
      await state.nc?.flush();
      return true;
    })();
    const timer = new AbortController();
    const inTime = await Promise.race([
      drained.catch(() => false),
      sleep(config.gracePeriodMs, timer.signal).then(() => false),
    ]);
    timer.abort();
    if (!inTime)
      log.warn(
        { inFlight: inFlight.size },
        'Grace period ended before the drain finished; unacked events will be redelivered',
      );
    else if (state.started) log.info('Drained in-flight events');
    await outputs.close();
    await state.nc?.close().catch(() => undefined);
    await ops.close();
    if (failure) throw failure;
    return inTime;
  })();
  return { ports: { ops: ops.port }, done };
}

/**
 * A batch larger than what this processor may hold never fills: it is written when the in-flight
 * limit is reached, at that size, and the pipeline waits for it each time.
 */
function warnUnfillableBatches(outputs: Outputs, inFlight: InFlight, log: Logger): void {
  for (const [output, maxRows] of outputs.batchRows) {
    if (maxRows > inFlight.limit)
      log.warn(
        { output, maxRows, maxInFlight: inFlight.limit },
        `Output ${output}: batch.maxRows (${maxRows}) is above the ${inFlight.limit} events this ` +
          `processor may hold (delivery.maxAckPending), so its batches are written at ${inFlight.limit} ` +
          "rows; raise the Pipeline's delivery.maxAckPending above the Sink's batch.maxRows, or lower it",
      );
  }
}

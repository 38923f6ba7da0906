// The query worker: serves its operations endpoint, connects to NATS, opens the outputs, and every
// quarter of a lease duration renews the leases it holds (all at once, on a loop of their own),
// records itself alive, and takes free or abandoned partitions up to its fair share (all
// partitions ÷ live workers, rounded up), giving back the ones above it so a scaled-up
// Deployment spreads out. Each owned partition runs in a
// PartitionRunner. SIGTERM stops taking partitions, lets each runner finish its step and write a
// last checkpoint, and releases the leases so successors start at once.
import type { NatsConnection } from '@nats-io/nats-core';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { sleep } from '../common/backoff.js';
import type { Logger } from '../common/logger.js';
import { connectNats } from '../common/nats.js';
import { serveOps, type Service } from '../common/service.js';
import { FastPaths } from '../internals/fast-paths.js';
import { DeadLetterPublisher } from '../process/deadletter.js';
import { processorMetrics } from '../process/metrics.js';
import { queryWorkerMetrics } from './metrics.js';
import { Outputs } from '../process/outputs.js';
import type { Batcher } from '../sinks/index.js';
import { errorMessage } from '../sinks/index.js';
import type { WorkerConfig } from './config.js';
import { Leases, type Lease } from './leases.js';
import { FencedError, PartitionRunner } from './partition.js';
import { WindowTracer } from './tracing.js';
import type { Telemetry } from '../common/tracing.js';
import { LookupTable, lookupMetrics } from './lookup.js';
import { openTableReader } from './table-readers.js';
import { readCredentials } from '../sinks/credentials.js';
import { openBucket } from '../common/kv.js';

interface Owned {
  lease: Lease;
  runner: PartitionRunner;
  done: Promise<void>;
}

export async function startQueryWorker(
  config: WorkerConfig,
  log: Logger,
  signal: AbortSignal,
  telemetry: Telemetry = {},
): Promise<Service> {
  const pipeline = `${config.pipeline.namespace}/${config.pipeline.name}`;
  const state: { nc?: NatsConnection; started: boolean } = { started: false };
  const { registry, server: ops } = await serveOps(
    'query-worker',
    config.ops,
    [
      {
        name: 'nats',
        check: () => (!state.nc ? 'connecting' : state.nc.isClosed() ? 'connection closed' : undefined),
      },
      { name: 'started', check: () => (state.started ? undefined : 'opening sinks and state') },
    ],
    log,
  );
  const fastPaths = new FastPaths({ enabled: config.fastPaths, log, registry });
  const outputs = new Outputs(processorMetrics(registry), log, fastPaths);
  const owned = new Map<string, Owned>();
  const counters = queryWorkerMetrics(
    registry,
    () => [...owned.values()].map((o) => ({ query: o.lease.query, runner: o.runner })),
    config.compiled.map((q) => q.name),
  );
  const all = config.compiled.flatMap((q) =>
    Array.from({ length: q.partitions }, (_, p) => ({ query: q, partition: p })),
  );

  let closeTables: () => Promise<unknown> = () => Promise.resolve();
  const run = async (): Promise<void> => {
    const nc = (state.nc = await connectNats(config.nats, {
      name: `eventrunner-query-worker ${pipeline}`,
      log,
      signal,
    }));
    if (!nc) return;
    // nc: eventSource outputs publish query results on the worker's connection.
    if (!(await outputs.open(config, pipeline, signal, nc))) return;
    const js = jetstream(nc);
    const jsm = await jetstreamManager(nc, { checkAPI: false });
    const kv = await openBucket(new Kvm(nc), config.state.bucket);
    const leases = new Leases(kv, config.workerId, config.leaseMs);
    const deadLetter = new DeadLetterPublisher(
      js,
      config.deadLetter.subject,
      config.deadLetter.stream,
      pipeline,
    );
    // Lookup tables: one reader and cache per table, shared by the partitions of every query that
    // joins it. Connections open lazily, at the first read.
    const tables = new Map<string, LookupTable>();
    const metricsOfLookups = config.tables?.length ? lookupMetrics(registry) : undefined;
    for (const t of config.tables ?? []) {
      const credentials = t.credentials ? await readCredentials(t.credentials) : undefined;
      const reader = openTableReader(t.sink, credentials, {
        key: t.key,
        concurrency: t.concurrency,
        applicationName: `eventrunner-query-worker ${pipeline}`,
      });
      tables.set(
        t.name,
        new LookupTable(
          t.name,
          reader,
          { ttlMs: config.tableTtlMs.get(t.name)!, maxEntries: t.cache.maxEntries },
          metricsOfLookups,
        ),
      );
    }
    closeTables = () => Promise.all([...tables.values()].map((t) => t.close().catch(() => undefined)));
    const outputsOf = new Map(
      config.queries.map((q) => [
        q.name,
        new Map(q.outputs.map((o) => [o, outputs.batchers.get(o)!] as [string, Batcher<unknown>])),
      ]),
    );
    state.started = true;
    log.info({ worker: config.workerId, partitions: all.length }, 'Query worker running');

    const startRunner = (lease: Lease) => {
      const q = config.compiled.find((c) => c.name === lease.query)!;
      const runner = new PartitionRunner({
        query: q,
        lease,
        leases,
        kv,
        js,
        jsm,
        shuffle: config.shuffle,
        outputs: outputsOf.get(q.name)!,
        deadLetter,
        pullBatch: config.processing.pullBatch,
        checkpointEvery: config.state.checkpointEvery,
        checkpointIntervalMs: config.checkpointIntervalMs,
        tickMs: config.tickMs,
        counters: counters.of(q.name),
        partitionsRunning: () => owned.size,
        ...(q.lookup ? { lookup: tables.get(q.lookup.table)! } : {}),
        ...(telemetry.tracer ? { traces: new WindowTracer(telemetry.tracer, q, lease.partition) } : {}),
        log,
      });
      const done = runner.run().then(
        () => {
          // The runner stops by itself once its lease is no longer valid (paused past it).
          if (!leases.valid(lease) && !signal.aborted)
            log.warn({ partition: runner.name }, 'Partition lost to another owner');
        },
        (err: unknown) => {
          if (err instanceof FencedError || lease.lost)
            log.warn({ partition: runner.name, err: errorMessage(err) }, 'Partition lost to another owner');
          else
            log.error({ partition: runner.name, err: errorMessage(err) }, 'Partition failed; giving it up');
        },
      );
      const entry: Owned = { lease, runner, done };
      owned.set(lease.key, entry);
      void done.then(async () => {
        if (owned.get(lease.key) === entry) owned.delete(lease.key);
        await leases.release(lease);
      });
    };

    // Renewals run on their own clock, all leases at once, so that taking partitions (or a slow
    // KV answer for one of them) never delays them past the lease's validity.
    const renewAll = async () => {
      await Promise.all(
        [...owned.values()].map(async (o) => {
          if (!(await leases.renew(o.lease)) && o.lease.lost) {
            log.warn({ partition: o.runner.name }, 'Lease taken over; stopping partition');
            o.runner.stop();
          }
        }),
      );
    };
    const every = Math.max(200, Math.floor(config.leaseMs / 4));
    const renewing = (async () => {
      while (!signal.aborted) {
        await renewAll().catch((err: unknown) =>
          log.warn({ err: errorMessage(err) }, 'Renewing leases failed; retrying'),
        );
        await sleep(every, signal);
      }
    })();

    const balance = async () => {
      const members = await leases.heartbeat();
      const share = Math.ceil(all.length / members);
      // Give back what is above the fair share, so that new workers get partitions.
      const extra = [...owned.values()].slice(share);
      for (const o of extra) o.runner.stop();
      for (const { query, partition } of rotate(all, config.workerId)) {
        if (owned.size >= share || signal.aborted) break;
        const key = `lease.${query.name}.${partition}`;
        if (owned.has(key)) continue;
        const lease = await leases.tryAcquire(query.name, partition);
        if (lease) startRunner(lease);
      }
    };

    while (!signal.aborted) {
      try {
        await balance();
      } catch (err) {
        log.warn({ err: errorMessage(err) }, 'Managing partitions failed; retrying');
      }
      await sleep(every, signal);
    }
    await renewing;
    // Drain: every runner finishes its step, writes a last checkpoint and releases its lease.
    for (const o of owned.values()) o.runner.stop();
    const renewals = setInterval(
      () => {
        for (const o of owned.values()) void leases.renew(o.lease);
      },
      Math.max(200, Math.floor(config.leaseMs / 3)),
    );
    await Promise.all([...owned.values()].map((o) => o.done));
    clearInterval(renewals);
    await leases.leave();
  };

  const done = (async (): Promise<boolean> => {
    let failure: unknown;
    const timer = new AbortController();
    const inTime = await Promise.race([
      run().then(
        () => true,
        (err: unknown) => {
          failure = err;
          return true;
        },
      ),
      new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }))
        .then(() => sleep(config.gracePeriodMs, timer.signal))
        .then(() => false),
    ]);
    timer.abort();
    if (!inTime)
      log.warn('Grace period ended before the drain finished; partitions resume from their checkpoints');
    await outputs.drain().catch(() => undefined);
    await outputs.close();
    await closeTables();
    await state.nc?.close().catch(() => undefined);
    await ops.close();
    if (failure) throw failure;
    return inTime;
  })();
  return { ports: { ops: ops.port }, done };
}

/** The partitions in an order that starts at a place of this worker's own, so workers contend less. */
function rotate<T>(list: readonly T[], id: string): T[] {
  let h = 2166136261;
  for (const c of id) h = Math.imul(h ^ c.charCodeAt(0), 16777619) >>> 0;
  const at = list.length ? h % list.length : 0;
  return [...list.slice(at), ...list.slice(0, at)];
}

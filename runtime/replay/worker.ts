// The replay worker: what a Replay's pod runs, with the Pipeline's own processor config. It copies
// the selected events into the Replay's work stream (select.ts, at ratePerSecond when set) and,
// as they land there, runs them through the processor's own pull loop, rules and outputs
// (runtime/process) from one consumer per source on that stream — nothing is published where
// other Pipelines read. Writes are idempotent by event id, as the processor's are; an event that
// fails is dead-lettered with its new reason as the processor would. Progress goes to the
// Pipeline's replay bucket, where the operator reads it; once finished the worker idles until the
// operator removes it.
import { AckPolicy, jetstream, jetstreamManager, RetentionPolicy, StorageType } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import { parseDuration as durationMs } from '../../api/units.js';
import { sleep } from '../common/backoff.js';
import type { Logger } from '../common/logger.js';
import { connectNats } from '../common/nats.js';
import { serveOps, type Service } from '../common/service.js';
import { FastPaths } from '../internals/fast-paths.js';
import type { ProcessConfig } from '../process/config.js';
import { SourceLoop } from '../process/consume.js';
import { DeadLetterPublisher } from '../process/deadletter.js';
import { InFlight } from '../process/inflight.js';
import { processorMetrics } from '../process/metrics.js';
import { Outputs } from '../process/outputs.js';
import { Replies } from '../process/replies.js';
import { errorMessage } from '../sinks/index.js';
import {
  progressKey,
  replayBucketName,
  replayInboxPrefix,
  workConsumerName,
  workResultsConsumer,
  workResultsSubject,
  workStreamName,
  workSubject,
  workSubjectPrefix,
  type ReplayPlan,
  type ReplayProgress,
} from './plan.js';
import { ResultLoop } from './results.js';
import { selectEvents } from './select.js';
import { openBucket } from '../common/kv.js';

/** Replies that count terminations: each one is an event dead-lettered again. */
class CountingReplies extends Replies {
  terms = 0;
  override term(reply: string, reason?: string): void {
    this.terms++;
    super.term(reply, reason);
  }
}

export interface ReplayWorkerConfig {
  logLevel: string;
  config: ProcessConfig;
  plan: ReplayPlan;
}

const PROGRESS_EVERY_MS = 500;

export async function startReplayWorker(
  { config, plan }: ReplayWorkerConfig,
  log: Logger,
  signal: AbortSignal,
): Promise<Service> {
  const pipeline = `${config.pipeline.namespace}/${config.pipeline.name}`;
  const state: { nc?: NatsConnection; finished: boolean } = { finished: false };
  const { registry, server: ops } = await serveOps(
    'replay',
    config.ops,
    [{ name: 'nats', check: () => (!state.nc ? 'connecting' : undefined) }],
    log,
  );
  const metrics = processorMetrics(registry);
  const fastPaths = new FastPaths({ enabled: config.fastPaths, log, registry });
  const outputs = new Outputs(metrics, log, fastPaths);
  const inFlight = new InFlight(config.maxInFlight, () => outputs.flushAll());
  const stopLoops = new AbortController();
  signal.addEventListener('abort', () => stopLoops.abort(), { once: true });
  let loops: Promise<void>[] = [];
  let replies: CountingReplies | undefined;

  const run = async (): Promise<void> => {
    // Under per-workload NATS users the pod has a user of its own, with its own inbox.
    const nats = config.nats.inboxPrefix
      ? { ...config.nats, inboxPrefix: replayInboxPrefix(config.nats.inboxPrefix) }
      : config.nats;
    const nc = (state.nc = await connectNats(nats, {
      name: `eventrunner-replay ${plan.namespace}/${plan.name}`,
      log,
      signal,
    }));
    if (!nc) return;
    const js = jetstream(nc);
    const jsm = await jetstreamManager(nc, { checkAPI: false });
    const kv = await openBucket(new Kvm(nc), replayBucketName(plan.namespace, plan.pipeline));
    const key = progressKey(plan);
    const progress: ReplayProgress = (await readProgress(kv, key)) ?? {
      total: 0,
      done: 0,
      failed: 0,
      selected: false,
      finished: false,
    };
    const save = () => kv.put(key, JSON.stringify(progress));
    if (progress.finished) {
      state.finished = true;
      return;
    }
    const stream = workStreamName(plan);
    await ensureWorkStream(jsm, stream, workSubjectPrefix(plan));
    replies = new CountingReplies(nc);
    // Chained outputs wait for acknowledgements on the pod's own inbox too.
    if (!(await outputs.open({ ...config, nats }, pipeline, signal, nc))) return;
    const failedBefore = progress.failed;
    const consumers: string[] = [];
    for (const [i, source] of config.sources.entries()) {
      const name = workConsumerName(i);
      await jsm.consumers.add(stream, {
        durable_name: name,
        filter_subject: workSubject(plan, i),
        ack_policy: AckPolicy.Explicit,
        max_ack_pending: config.delivery.maxAckPending,
        max_deliver: config.delivery.maxDeliver,
        ack_wait: durationMs(config.delivery.ackWait) * 1e6,
      });
      consumers.push(name);
      const loop = new SourceLoop({
        // The source as the Pipeline reads it (its conversion and name), on the work stream.
        source: { ...source, stream, consumer: name },
        consumer: await js.consumers.get(stream, name),
        rules: config.rulesCompiled,
        outputs: outputs.batchers,
        deadLetter: new DeadLetterPublisher(
          js,
          config.deadLetter.subject,
          config.deadLetter.stream,
          pipeline,
        ),
        replies,
        readBack: (seq) => jsm.streams.getMessage(stream, { seq }),
        inFlight,
        delivery: { maxDeliver: config.delivery.maxDeliver, backoffMs: config.backoffMs },
        pullBatch: Math.min(config.processing.pullBatch, inFlight.limit),
        metrics,
        log: log.child({ source: source.eventSource ?? source.stream }),
        fastPaths,
        ackWaitMs: durationMs(config.delivery.ackWait),
      });
      loops.push(loop.run(stopLoops.signal));
    }
    // Redriven query results go straight to their outputs (results.ts).
    await jsm.consumers.add(stream, {
      durable_name: workResultsConsumer,
      filter_subject: workResultsSubject(plan),
      ack_policy: AckPolicy.Explicit,
      ack_wait: durationMs(config.delivery.ackWait) * 1e6,
    });
    consumers.push(workResultsConsumer);
    const results = new ResultLoop({
      consumer: await js.consumers.get(stream, workResultsConsumer),
      outputs: outputs.batchers,
      deadLetter: new DeadLetterPublisher(js, config.deadLetter.subject, config.deadLetter.stream, pipeline),
      maxDeliver: config.delivery.maxDeliver,
      log,
    });
    loops.push(results.run(stopLoops.signal));
    // The loops take each copy as it lands in the work stream, so that the outputs see the events
    // at the pace they are copied (ratePerSecond), not in one burst once the copying is over.
    let selectionFailure: unknown;
    const selecting = progress.selected
      ? undefined
      : (async () => {
          try {
            progress.total = await selectEvents({
              plan,
              config,
              js,
              jsm,
              kv,
              log,
              signal,
              onCopied: (n) => {
                progress.total = n;
              },
            });
            progress.selected = true;
            await save();
          } catch (err) {
            if (!signal.aborted) selectionFailure = err;
          }
        })();
    log.info({ stream }, 'Replaying events');
    // Settled when every event is copied and no consumer has anything pending or unacknowledged.
    while (!signal.aborted) {
      if (selectionFailure !== undefined) {
        stopLoops.abort();
        progress.error = `selecting the events failed: ${errorMessage(selectionFailure)}`;
        progress.finished = true;
        await save();
        state.finished = true;
        throw selectionFailure;
      }
      let left = 0;
      for (const c of consumers) {
        const info = await jsm.consumers.info(stream, c);
        left += info.num_pending + info.num_ack_pending;
      }
      outputs.flushAll();
      replies.flush();
      progress.failed = failedBefore + replies.terms + results.failed;
      progress.done = Math.max(0, progress.total - left - progress.failed);
      if (progress.selected && left === 0) {
        progress.finished = true;
        await save();
        break;
      }
      await save();
      await sleep(PROGRESS_EVERY_MS, signal);
    }
    await selecting;
    if (signal.aborted) return;
    stopLoops.abort();
    await Promise.all(loops);
    loops = [];
    state.finished = progress.finished;
    log.info({ total: progress.total, done: progress.done, failed: progress.failed }, 'Replay finished');
  };

  const done = (async (): Promise<boolean> => {
    let failure: unknown;
    try {
      await run();
    } catch (err) {
      failure = err;
    }
    if (failure && !signal.aborted) log.error({ err: errorMessage(failure) }, 'Replay failed');
    // Finished (or failed, and said so): nothing more to do until the operator removes this pod.
    while (state.finished && !signal.aborted) await sleep(60_000, signal);
    stopLoops.abort();
    outputs.flushAll();
    await Promise.all(loops);
    await inFlight.idle();
    await outputs.drain();
    replies?.flush();
    await state.nc?.flush().catch(() => undefined);
    await outputs.close();
    await state.nc?.close().catch(() => undefined);
    await ops.close();
    // A failure not recorded as the Replay's outcome: the pod restarts and the replay resumes.
    if (failure && !state.finished && !signal.aborted) throw failure;
    return true;
  })();
  return { ports: { ops: ops.port }, done };
}

async function readProgress(kv: KV, key: string): Promise<ReplayProgress | undefined> {
  const e = await kv.get(key);
  return e && e.operation === 'PUT' ? (e.json() as ReplayProgress) : undefined;
}

async function ensureWorkStream(
  jsm: Awaited<ReturnType<typeof jetstreamManager>>,
  name: string,
  prefix: string,
): Promise<void> {
  try {
    await jsm.streams.info(name);
  } catch {
    await jsm.streams.add({
      name,
      subjects: [`${prefix}.>`],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      // Copies carry their event's first stream and sequence as id: a copy repeated after a
      // crash is dropped for as long as the replay may take.
      duplicate_window: 24 * 3600 * 1e9,
      description: 'eventrunner replay work stream',
    });
  }
}

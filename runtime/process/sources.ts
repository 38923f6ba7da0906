// The processor's sources: each source stream's durable consumer bound (retried until it exists),
// its pull loop, the reader of the Pipeline's max-deliveries advisories (runtime/process/
// max-deliveries.ts), and the lag read from JetStream on a timer.
import type { Subscription } from '@nats-io/nats-core';
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import type { Tracer } from '@opentelemetry/api';
import type { NatsConnection } from '@nats-io/nats-core';
import { retry } from '../common/backoff.js';
import type { Logger } from '../common/logger.js';
import type { FastPaths } from '../internals/fast-paths.js';
import { errorMessage } from '../sinks/index.js';
import type { ProcessConfig, SourceConfig } from './config.js';
import { SourceLoop } from './consume.js';
import { DeadLetterPublisher } from './deadletter.js';
import type { InFlight } from './inflight.js';
import { AdvisoryLoop, watchMaxDeliveries } from './max-deliveries.js';
import type { ProcessorMetrics } from './metrics.js';
import type { Outputs } from './outputs.js';
import type { Replies } from './replies.js';
import type { Shuffle } from './shuffle.js';

export interface SourcesDeps {
  config: ProcessConfig;
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  replies: Replies;
  outputs: Outputs;
  inFlight: InFlight;
  metrics: ProcessorMetrics;
  log: Logger;
  /** namespace/name of the Pipeline, for dead-letter headers. */
  pipeline: string;
  fastPaths: FastPaths;
  /** Publishes kept events for the Pipeline's queries, when it has any. */
  shuffle?: Shuffle;
  /** Set when tracing is on. */
  tracer?: Tracer;
}

export class Sources {
  /** stream/consumer → '' while its lag reads, else the last error (readiness reports it). */
  readonly health = new Map<string, string>();
  private readonly bound: { loop: SourceLoop; name: string; source: SourceConfig }[] = [];
  private readonly advisories: Subscription[] = [];
  private advisoryLoop: AdvisoryLoop | undefined;
  private lagTimer: NodeJS.Timeout | undefined;

  constructor(private readonly d: SourcesDeps) {}

  /** Binds every source's consumer; false when the signal aborted first. */
  async bind(signal: AbortSignal): Promise<boolean> {
    const { config, js, jsm, inFlight, log } = this.d;
    for (const source of config.sources) {
      const name = `${source.stream}/${source.consumer}`;
      let ackWaitNs = 0;
      const consumer = await retry(
        async () => {
          const c = await js.consumers.get(source.stream, source.consumer);
          const { config: cc } = await c.info();
          ackWaitNs = cc.ack_wait ?? 0;
          const max = cc.max_ack_pending;
          // MaxAckPending is what the server lets out; holding more than that could only stall.
          if (max && max > 0 && max < inFlight.limit) inFlight.setLimit(max);
          return c;
        },
        { what: `Bind consumer ${name}`, log, signal },
      );
      if (!consumer) return false;
      this.health.set(name, '');
      const deadLetter = () =>
        new DeadLetterPublisher(js, config.deadLetter.subject, config.deadLetter.stream, this.d.pipeline);
      const sourceLog = log.child({ stream: source.stream, consumer: source.consumer });
      if (!config.advisories)
        this.advisories.push(
          watchMaxDeliveries({
            nc: this.d.nc,
            jsm,
            stream: source.stream,
            consumer: source.consumer,
            deadLetter: deadLetter(),
            metrics: this.d.metrics,
            log: sourceLog,
          }),
        );
      const loop = new SourceLoop({
        source,
        consumer,
        rules: config.rulesCompiled,
        outputs: this.d.outputs.batchers,
        deadLetter: deadLetter(),
        replies: this.d.replies,
        readBack: (seq) => jsm.streams.getMessage(source.stream, { seq }),
        inFlight,
        delivery: { maxDeliver: config.delivery.maxDeliver, backoffMs: config.backoffMs },
        pullBatch: Math.min(config.processing.pullBatch, inFlight.limit),
        metrics: this.d.metrics,
        log: sourceLog,
        fastPaths: this.d.fastPaths,
        ackWaitMs: ackWaitNs / 1e6,
        ...this.shuffleFor(source),
        ...(this.d.tracer
          ? {
              tracing: {
                tracer: this.d.tracer,
                pipeline: this.d.pipeline,
                deadLetterStream: config.deadLetter.stream,
              },
            }
          : {}),
      });
      this.bound.push({ loop, name, source });
    }
    return this.bindAdvisories(signal);
  }

  /** The durable consumer on the Pipeline's advisory stream, when the config names one. */
  private async bindAdvisories(signal: AbortSignal): Promise<boolean> {
    const { config, js, jsm, log } = this.d;
    const adv = config.advisories;
    if (!adv) return true;
    const consumer = await retry(
      async () => {
        const c = await js.consumers.get(adv.stream, adv.consumer);
        await c.info();
        return c;
      },
      { what: `Bind consumer ${adv.stream}/${adv.consumer}`, log, signal },
    );
    if (!consumer) return false;
    this.advisoryLoop = new AdvisoryLoop({
      consumer,
      sources: new Set(config.sources.map((s) => `${s.stream}/${s.consumer}`)),
      jsm,
      deadLetter: new DeadLetterPublisher(
        js,
        config.deadLetter.subject,
        config.deadLetter.stream,
        this.d.pipeline,
      ),
      metrics: this.d.metrics,
      log: log.child({ stream: adv.stream, consumer: adv.consumer }),
    });
    return true;
  }

  private shuffleFor(source: SourceConfig): { shuffle?: { to: Shuffle; source: string } } {
    const name = source.as ?? source.eventSource ?? source.stream;
    const to = this.d.shuffle;
    return to?.reads(name) ? { shuffle: { to, source: name } } : {};
  }

  /** Names of the bound consumers, stream/consumer. */
  get names(): string[] {
    return this.bound.map((b) => b.name);
  }

  /** Reads consumer lag now and every lagInterval, into the metrics. */
  startLagPolling(): void {
    this.lagTimer = setInterval(() => void this.pollLag(), this.d.config.lagIntervalMs);
    void this.pollLag();
  }

  /** Runs every pull loop, and the advisory reader, until the signal aborts. */
  run(signal: AbortSignal): Promise<void>[] {
    const loops = this.bound.map((b) => b.loop.run(signal));
    if (this.advisoryLoop) loops.push(this.advisoryLoop.run(signal));
    return loops;
  }

  /** Stops the lag timer and the advisory watchers. */
  stop(): void {
    clearInterval(this.lagTimer);
    for (const a of this.advisories) a.unsubscribe();
  }

  private async pollLag(): Promise<void> {
    const { jsm, metrics, outputs, inFlight } = this.d;
    for (const b of this.bound) {
      try {
        const info = await jsm.consumers.info(b.source.stream, b.source.consumer);
        const label = { source: b.source.eventSource ?? b.source.stream };
        metrics.consumerPending.set(label, info.num_pending);
        metrics.consumerAckPending.set(label, info.num_ack_pending);
        this.health.set(b.name, '');
        // Other replicas can hold MaxAckPending between them; then nothing more arrives here,
        // and partial batches must go out now rather than after their maxDelay.
        if (info.num_ack_pending >= (info.config.max_ack_pending ?? Infinity)) outputs.flushAll();
      } catch (err) {
        this.health.set(b.name, errorMessage(err));
      }
    }
    metrics.inFlight.set(inFlight.size);
  }
}

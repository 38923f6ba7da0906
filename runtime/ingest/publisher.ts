// Publishes events to JetStream and resolves only when the stream acknowledged them, with a
// bounded window of unacknowledged publishes: past `maxInFlight`, publishes wait in a FIFO queue
// of at most `maxQueued`; past that, or after waiting `timeoutMs`, they are refused (503) instead
// of buffering without bound. While NATS is disconnected every publish is refused at once.
import type { NatsConnection } from '@nats-io/nats-core';
import { toNatsMessage, type CloudEvent, type NatsMessage } from '../events/index.js';
import {
  JetStreamAsyncPublisher,
  JetStreamPublishError,
  PublishErrorCode,
  type PubAck,
} from './jetstream-async.js';
import { IngestRejection, Reason, type Accepted } from './outcome.js';
import { eventHeaders } from './publish-headers.js';
import type { TraceHeaders } from '../common/trace-context.js';

export interface PublisherOptions {
  stream: string;
  subjectPrefix: string;
  maxInFlight: number;
  maxQueued: number;
  timeoutMs: number;
  /** The connection's inbox prefix, where acknowledgements arrive (nats.inboxPrefix). */
  inboxPrefix?: string;
  /** Observes the seconds from publish to acknowledgement. */
  observeLatency?: (seconds: number) => void;
}

interface Waiter {
  resolve: () => void;
  reject: (err: Error) => void;
  deadline: number;
}

const RETRY_AFTER_UNAVAILABLE = 2;

export class Publisher {
  private readonly js: JetStreamAsyncPublisher;
  private inFlightCount = 0;
  private queue: (Waiter | undefined)[] = [];
  private head = 0;
  private sweeper: NodeJS.Timeout | undefined;
  private idleWaiters: (() => void)[] = [];
  private up = true;

  constructor(
    private readonly nc: NatsConnection,
    private readonly opts: PublisherOptions,
  ) {
    this.js = new JetStreamAsyncPublisher(nc, opts.timeoutMs, opts.inboxPrefix);
  }

  /** Called on connection status changes; a disconnect fails every queued publish at once. */
  setConnected(up: boolean): void {
    this.up = up;
    if (!up)
      this.failQueued(
        new IngestRejection(Reason.Unavailable, 'NATS is unreachable', RETRY_AFTER_UNAVAILABLE),
      );
  }

  get connected(): boolean {
    return this.up && !this.nc.isClosed();
  }

  inFlight(): number {
    return this.inFlightCount;
  }

  queued(): number {
    return this.queue.length - this.head;
  }

  /**
   * Publishes one event; resolves after JetStream acknowledged it, rejects with IngestRejection.
   * `trace` goes into the message headers, for the processors' spans.
   */
  publish(event: CloudEvent, trace?: TraceHeaders): Promise<Accepted> {
    if (!this.connected) {
      return Promise.reject(
        new IngestRejection(Reason.Unavailable, 'NATS is unreachable; retry later', RETRY_AFTER_UNAVAILABLE),
      );
    }
    let msg: NatsMessage;
    try {
      msg = toNatsMessage(event, this.opts.subjectPrefix);
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    const maxPayload = this.nc.info?.max_payload;
    if (maxPayload !== undefined && msg.body.length > maxPayload) {
      return Promise.reject(
        new IngestRejection(
          Reason.TooLarge,
          `event ${JSON.stringify(event.id)} is ${msg.body.length} bytes encoded; NATS accepts at most ${maxPayload}`,
        ),
      );
    }
    // Plain promise chains rather than an async function: this runs per event, and each await
    // costs a promise and a turn of the microtask queue.
    if (this.inFlightCount >= this.opts.maxInFlight)
      return this.waitForSlot().then(() => this.send(msg, event.id, trace));
    this.inFlightCount++;
    return this.send(msg, event.id, trace);
  }

  /** Publishes with a slot taken; the slot is released when JetStream answered or failed. */
  private send(msg: NatsMessage, id: string, trace: TraceHeaders | undefined): Promise<Accepted> {
    const started = performance.now();
    let sent: Promise<PubAck>;
    try {
      // Nats-Expected-Stream: the server refuses the message unless this stream is the one that
      // captures the subject.
      sent = this.js.publish(msg.subject, msg.body, eventHeaders(msg.msgId, this.opts.stream, trace));
    } catch (err) {
      this.release();
      return Promise.reject(this.classify(err, msg.subject));
    }
    return sent.then(
      (ack) => {
        this.release();
        this.opts.observeLatency?.((performance.now() - started) / 1000);
        return { ok: true, id, duplicate: ack.duplicate };
      },
      (err: unknown) => {
        this.release();
        throw this.classify(err, msg.subject);
      },
    );
  }

  /** Resolves when nothing is in flight or queued. */
  idle(): Promise<void> {
    if (this.inFlightCount === 0 && this.queued() === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  close(): void {
    this.js.close();
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = undefined;
    this.failQueued(new IngestRejection(Reason.Draining, 'ingest is shutting down; retry', 1));
  }

  private classify(err: unknown, subject: string): IngestRejection {
    if (err instanceof IngestRejection) return err;
    const message = err instanceof Error ? err.message : String(err);
    const unavailable = (why: string) =>
      new IngestRejection(Reason.Unavailable, why, RETRY_AFTER_UNAVAILABLE, { cause: err });
    if (!(err instanceof JetStreamPublishError))
      return unavailable(`publishing to JetStream failed: ${message}`);
    switch (err.code) {
      case PublishErrorCode.Refused:
        // Another stream captures the subject, limits with discard-new, storage trouble: the
        // event is not stored, and an operator has to look.
        return unavailable(`stream ${this.opts.stream} refused the event: ${message}`);
      case PublishErrorCode.NoResponders:
        return unavailable(
          `no JetStream stream answers on ${subject} (stream ${this.opts.stream} missing or JetStream unavailable)`,
        );
      case PublishErrorCode.Timeout:
        return unavailable(
          `JetStream did not acknowledge within ${this.opts.timeoutMs}ms; the event may or may not be stored, retry with the same id`,
        );
      case PublishErrorCode.Closed:
        return new IngestRejection(Reason.Draining, `ingest is shutting down (${message}); retry`, 1, {
          cause: err,
        });
    }
  }

  private waitForSlot(): Promise<void> {
    if (this.queued() >= this.opts.maxQueued) {
      return Promise.reject(
        new IngestRejection(
          Reason.Overloaded,
          'too many events are waiting for JetStream acknowledgements; retry',
          1,
        ),
      );
    }
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ resolve, reject, deadline: performance.now() + this.opts.timeoutMs });
      this.sweeper ??= setInterval(() => this.expire(), Math.min(100, this.opts.timeoutMs)).unref();
    });
  }

  // The slot passes straight to the next waiter, so the in-flight count never exceeds the window.
  private release(): void {
    while (this.head < this.queue.length) {
      const w = this.queue[this.head];
      this.queue[this.head++] = undefined;
      if (w !== undefined) {
        this.compact();
        w.resolve();
        return;
      }
    }
    this.inFlightCount--;
    this.compact();
    if (this.inFlightCount === 0 && this.idleWaiters.length) {
      const ws = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of ws) w();
    }
  }

  private compact(): void {
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
      if (this.sweeper) clearInterval(this.sweeper);
      this.sweeper = undefined;
    } else if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }

  private expire(): void {
    const now = performance.now();
    while (this.head < this.queue.length) {
      const w = this.queue[this.head];
      if (w !== undefined && w.deadline > now) break;
      this.queue[this.head++] = undefined;
      w?.reject(
        new IngestRejection(
          Reason.Unavailable,
          `JetStream acknowledgements are too slow: no publish slot within ${this.opts.timeoutMs}ms; retry`,
          RETRY_AFTER_UNAVAILABLE,
        ),
      );
    }
    this.compact();
  }

  private failQueued(err: IngestRejection): void {
    while (this.head < this.queue.length) {
      const w = this.queue[this.head];
      this.queue[this.head++] = undefined;
      w?.reject(err);
    }
    this.compact();
  }
}

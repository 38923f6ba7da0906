// JetStream async publish: messages go out with a reply subject under one wildcard inbox
// subscription, and acknowledgements are matched by token, with a single sweep timer for
// timeouts. Publishes are handed to the connection once per event-loop turn, so messages that
// arrive one per callback (gRPC streams, concurrent HTTP requests) still leave in one socket write
// instead of one write each. `JetStreamClient.publish` does the same over a request per message, which on every
// call builds a timer, a Promise.race and a discarded Error with a stack; at ingest's rates that
// was a quarter of its CPU.
import {
  createInbox,
  type MsgHdrs,
  type NatsConnection,
  type Subscription,
  type Msg,
} from '@nats-io/nats-core';

export interface PubAck {
  stream: string;
  seq: number;
  duplicate: boolean;
}

export const PublishErrorCode = {
  /** No stream listens on the subject (or JetStream is off): the server answered 503. */
  NoResponders: 'NO_RESPONDERS',
  /** No acknowledgement within the timeout; the message may or may not be stored. */
  Timeout: 'TIMEOUT',
  /** The stream refused the message (JetStream API error in the ack). */
  Refused: 'REFUSED',
  /** The publisher or its connection closed before the acknowledgement. */
  Closed: 'CLOSED',
} as const;
export type PublishErrorCode = (typeof PublishErrorCode)[keyof typeof PublishErrorCode];

export class JetStreamPublishError extends Error {
  constructor(
    readonly code: PublishErrorCode,
    message: string,
    /** JetStream's err_code for Refused. */
    readonly apiErrorCode?: number,
  ) {
    super(message);
    this.name = 'JetStreamPublishError';
  }
}

interface Outgoing {
  subject: string;
  body: Uint8Array;
  headers: MsgHdrs;
  token: string;
}

interface Pending {
  resolve: (ack: PubAck) => void;
  reject: (err: Error) => void;
  deadline: number;
}

const decoder = new TextDecoder();

export class JetStreamAsyncPublisher {
  private readonly prefix: string;
  private readonly sub: Subscription;
  // Insertion-ordered; with one timeout for all, deadlines are ordered too, so the sweep stops at
  // the first pending entry that has not expired.
  private readonly pending = new Map<string, Pending>();
  private next = 0;
  private outgoing: Outgoing[] = [];
  private flushScheduled = false;
  private sweeper: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly nc: NatsConnection,
    private readonly timeoutMs: number,
    /** The connection's inbox prefix (nats.inboxPrefix), when its user may subscribe only there. */
    inboxPrefix?: string,
  ) {
    this.prefix = `${createInbox(inboxPrefix)}.`;
    this.sub = nc.subscribe(`${this.prefix}*`, { callback: (err, msg) => this.onAck(err, msg) });
  }

  get outstanding(): number {
    return this.pending.size;
  }

  /** Publishes and resolves with JetStream's acknowledgement. `headers` is consumed. */
  publish(subject: string, body: Uint8Array, headers: MsgHdrs): Promise<PubAck> {
    if (this.closed)
      return Promise.reject(new JetStreamPublishError(PublishErrorCode.Closed, 'publisher is closed'));
    const token = (this.next++).toString(36);
    return new Promise<PubAck>((resolve, reject) => {
      this.pending.set(token, { resolve, reject, deadline: performance.now() + this.timeoutMs });
      this.outgoing.push({ subject, body, headers, token });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
      this.sweeper ??= setInterval(() => this.sweep(), Math.min(250, this.timeoutMs)).unref();
    });
  }

  private flush(): void {
    this.flushScheduled = false;
    const batch = this.outgoing;
    this.outgoing = [];
    for (const m of batch) {
      const p = this.pending.get(m.token);
      if (p === undefined) continue; // failed or timed out while waiting
      try {
        this.nc.publish(m.subject, m.body, { reply: this.prefix + m.token, headers: m.headers });
      } catch (err) {
        this.pending.delete(m.token);
        p.reject(err instanceof Error ? err : new Error(String(err)));
      }
    }
  }

  /** Fails everything outstanding and stops listening for acknowledgements. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.sub.unsubscribe();
    this.failAll(
      new JetStreamPublishError(PublishErrorCode.Closed, 'publisher closed before the acknowledgement'),
    );
  }

  private onAck(err: Error | null, msg: Msg): void {
    if (err) {
      this.failAll(
        new JetStreamPublishError(
          PublishErrorCode.Closed,
          `acknowledgement subscription failed: ${err.message}`,
        ),
      );
      return;
    }
    const token = msg.subject.slice(this.prefix.length);
    const p = this.pending.get(token);
    if (p === undefined) return; // already timed out
    this.pending.delete(token);
    if (msg.data.length === 0 && msg.headers?.code === 503) {
      p.reject(new JetStreamPublishError(PublishErrorCode.NoResponders, 'no responders'));
      return;
    }
    let ack: {
      stream?: string;
      seq?: number;
      duplicate?: boolean;
      error?: { err_code?: number; description?: string };
    };
    try {
      ack = JSON.parse(decoder.decode(msg.data)) as typeof ack;
    } catch {
      p.reject(new JetStreamPublishError(PublishErrorCode.Refused, 'unreadable acknowledgement'));
      return;
    }
    if (ack.error || typeof ack.stream !== 'string') {
      p.reject(
        new JetStreamPublishError(
          PublishErrorCode.Refused,
          ack.error?.description ?? 'acknowledgement without a stream',
          ack.error?.err_code,
        ),
      );
      return;
    }
    p.resolve({ stream: ack.stream, seq: ack.seq ?? 0, duplicate: ack.duplicate === true });
  }

  private sweep(): void {
    const now = performance.now();
    for (const [token, p] of this.pending) {
      if (p.deadline > now) break;
      this.pending.delete(token);
      p.reject(
        new JetStreamPublishError(PublishErrorCode.Timeout, `no acknowledgement within ${this.timeoutMs}ms`),
      );
    }
    if (this.pending.size === 0 && this.sweeper) {
      clearInterval(this.sweeper);
      this.sweeper = undefined;
    }
  }

  private failAll(err: JetStreamPublishError): void {
    this.outgoing = [];
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const p of all) p.reject(err);
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = undefined;
  }
}

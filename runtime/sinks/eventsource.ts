// The EventSource sink: each event is published to another EventSource's stream as ingest would
// publish it (subject <subjectPrefix>.<type>, the structured JSON body, Nats-Msg-Id = event id), so
// the Pipelines reading that EventSource get it like any other event. The stream acknowledges every
// publish before the event counts as written, and its duplicate window drops a repeat of the same
// id, which is what makes a redelivered event (a processor killed mid-batch) arrive once.
import { headers as natsHeaders, type NatsConnection } from '@nats-io/nats-core';
import {
  JetStreamApiError,
  jetstream,
  type JetStreamClient,
  type JetStreamManager,
} from '@nats-io/jetstream';
import { CONTENT_TYPE_HEADER, STRUCTURED_CONTENT_TYPE, subjectTypeProblem } from '../events/index.js';
import { writeEvents } from './batcher.js';
import {
  RowRejectedError,
  SinkConfigError,
  SinkProbeError,
  SinkProbeErrorCode,
  TransientSinkError,
  errorMessage,
  isSinkProbeError,
  type SinkError,
} from './errors.js';
import type { RequestObserver, RowResult, Sink, SinkEvent } from './types.js';

/** Where the events go: the target EventSource's stream and subject prefix. */
export interface EventSourceTarget {
  stream: string;
  subjectPrefix: string;
}

export interface EventSourceSinkOptions {
  /** Told each publish's outcome (ok, error) and how long its acknowledgement took. */
  observe?: RequestObserver;
  /** How long a publish waits for the stream's acknowledgement. */
  timeoutMs?: number;
}

export interface PublishRow {
  subject: string;
  id: string;
  body: Buffer;
}

// JetStream API error codes that no retry fixes: another stream captures the subject
// (expected stream mismatch), or the stream refuses what it is sent.
const CONFIG_CODES = new Set([10060]);
/** JetStream's err_code for a stream that does not exist. */
const STREAM_NOT_FOUND = 10059;

export function classifyPublishError(stream: string, err: unknown): SinkError {
  if (err instanceof JetStreamApiError && CONFIG_CODES.has(err.code))
    return new SinkConfigError(
      `stream ${stream} does not take the subject: ${err.message} (is spec.eventSource.name right?)`,
      { cause: err },
    );
  return new TransientSinkError(`publish to stream ${stream} failed: ${errorMessage(err)}`, { cause: err });
}

export class EventSourceSink implements Sink<PublishRow> {
  readonly kind = 'eventSource' as const;
  readonly target: string;
  private readonly js: JetStreamClient;
  private readonly timeoutMs: number;

  constructor(
    private readonly nc: NatsConnection,
    private readonly to: EventSourceTarget,
    private readonly opts: EventSourceSinkOptions = {},
  ) {
    this.target = to.stream;
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.js = jetstream(nc, { timeout: this.timeoutMs });
  }

  /** The message for an event; an event whose type cannot be a subject, or too large, is rejected. */
  prepare(event: SinkEvent): PublishRow {
    const problem = subjectTypeProblem(event.type);
    if (problem !== undefined)
      throw new RowRejectedError(
        `type ${JSON.stringify(event.type)} cannot be part of a NATS subject (${problem}), so the event cannot be published to stream ${this.to.stream}`,
      );
    const body = Buffer.from(JSON.stringify(event), 'utf8');
    const max = this.nc.info?.max_payload;
    if (max !== undefined && body.length > max)
      throw new RowRejectedError(`the event is ${body.length} bytes encoded; NATS accepts at most ${max}`);
    return { subject: `${this.to.subjectPrefix}.${event.type}`, id: event.id, body };
  }

  writeRows(rows: readonly PublishRow[]): Promise<RowResult[]> {
    return Promise.all(rows.map((r) => this.publish(r)));
  }

  private async publish(row: PublishRow): Promise<RowResult> {
    const start = performance.now();
    const h = natsHeaders();
    h.set(CONTENT_TYPE_HEADER, STRUCTURED_CONTENT_TYPE);
    try {
      await this.js.publish(row.subject, row.body, {
        headers: h,
        msgID: row.id,
        expect: { streamName: this.to.stream },
        timeout: this.timeoutMs,
      });
      this.opts.observe?.('ok', (performance.now() - start) / 1000);
      return undefined;
    } catch (err) {
      this.opts.observe?.('error', (performance.now() - start) / 1000);
      return classifyPublishError(this.to.stream, err);
    }
  }

  write(events: readonly SinkEvent[]): Promise<RowResult[]> {
    return writeEvents(this, events);
  }

  /** The connection belongs to the processor, which closes it. */
  async close(): Promise<void> {}
}

/** Checks that the target stream exists; resolves with a description, or throws a SinkProbeError. */
export async function probeEventSourceStream(jsm: JetStreamManager, to: EventSourceTarget): Promise<string> {
  try {
    const info = await jsm.streams.info(to.stream);
    const captures = info.config.subjects?.some((s) => s === `${to.subjectPrefix}.>`) ?? false;
    if (!captures)
      throw new SinkProbeError(
        SinkProbeErrorCode.StreamNotFound,
        `stream ${to.stream} does not capture ${to.subjectPrefix}.> (its subjects: ${(info.config.subjects ?? []).join(', ')})`,
      );
    // Nothing that changes with traffic: the Sink's status is written only when this does.
    return `stream ${to.stream}`;
  } catch (err) {
    if (isSinkProbeError(err)) throw err;
    if (err instanceof JetStreamApiError && err.code === STREAM_NOT_FOUND)
      throw new SinkProbeError(
        SinkProbeErrorCode.StreamNotFound,
        `stream ${to.stream} does not exist yet: its EventSource creates it`,
        { cause: err },
      );
    throw new SinkProbeError(SinkProbeErrorCode.ConnectionFailed, `NATS: ${errorMessage(err)}`, {
      cause: err,
    });
  }
}

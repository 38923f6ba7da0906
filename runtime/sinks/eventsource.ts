// The EventSource sink: each event is published to another EventSource's stream as ingest would
// publish it (subject <subjectPrefix>.<type>, the structured JSON body, Nats-Msg-Id = event id), so
// the Pipelines reading that EventSource get it like any other event. The stream acknowledges every
// publish before the event counts as written, and its duplicate window drops a repeat of the same
// id, which is what makes a redelivered event (a processor killed mid-batch) arrive once.
import { headers as natsHeaders, type NatsConnection } from '@nats-io/nats-core';
import { JetStreamApiError, type JetStreamManager } from '@nats-io/jetstream';
import {
  CONTENT_TYPE_HEADER,
  MSG_ID_HEADER,
  STRUCTURED_CONTENT_TYPE,
  subjectTypeProblem,
} from '../events/index.js';
// Ingest's publisher: acknowledgements matched by token under one inbox subscription, no request
// (timer, promise race, error object) per message. JetStreamClient.publish builds an error with a
// stack for every publish that succeeds, a third of this sink's CPU.
import {
  JetStreamAsyncPublisher,
  JetStreamPublishError,
  PublishErrorCode,
} from '../ingest/jetstream-async.js';
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
  /** How long a publish waits for the stream's acknowledgement (default 10s). */
  timeoutMs?: number;
  /** The connection's inbox prefix, where acknowledgements arrive (nats.inboxPrefix). */
  inboxPrefix?: string;
}

export interface PublishRow {
  subject: string;
  id: string;
  body: Buffer;
}

// JetStream API error codes that no retry fixes: another stream captures the subject (expected
// stream mismatch).
const CONFIG_CODES = new Set([10060]);
/** The header that makes JetStream refuse a message another stream would capture. */
const EXPECTED_STREAM_HEADER = 'Nats-Expected-Stream';
/** JetStream's err_code for a stream that does not exist. */
const STREAM_NOT_FOUND = 10059;

export function classifyPublishError(stream: string, err: unknown): SinkError {
  const apiCode =
    err instanceof JetStreamPublishError
      ? err.apiErrorCode
      : err instanceof JetStreamApiError
        ? err.code
        : undefined;
  if (apiCode !== undefined && CONFIG_CODES.has(apiCode))
    return new SinkConfigError(
      `stream ${stream} does not take the subject: ${errorMessage(err)} (is spec.eventSource.name right?)`,
      { cause: err },
    );
  const why =
    err instanceof JetStreamPublishError && err.code === PublishErrorCode.NoResponders
      ? 'no stream answers (is NATS reachable, does the EventSource exist?)'
      : errorMessage(err);
  return new TransientSinkError(`publish to stream ${stream} failed: ${why}`, { cause: err });
}

export class EventSourceSink implements Sink<PublishRow> {
  readonly kind = 'eventSource' as const;
  readonly target: string;
  private readonly publisher: JetStreamAsyncPublisher;

  constructor(
    private readonly nc: NatsConnection,
    private readonly to: EventSourceTarget,
    private readonly opts: EventSourceSinkOptions = {},
  ) {
    this.target = to.stream;
    this.publisher = new JetStreamAsyncPublisher(nc, opts.timeoutMs ?? 10_000, opts.inboxPrefix);
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
    h.set(MSG_ID_HEADER, row.id);
    h.set(CONTENT_TYPE_HEADER, STRUCTURED_CONTENT_TYPE);
    // The server refuses the message unless this stream is the one that captures the subject.
    h.set(EXPECTED_STREAM_HEADER, this.to.stream);
    try {
      await this.publisher.publish(row.subject, row.body, h);
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

  /** Stops listening for acknowledgements; the connection belongs to the processor, which closes it. */
  async close(): Promise<void> {
    this.publisher.close();
  }
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

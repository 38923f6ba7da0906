// The processor's side of queries: every event the rules kept is published, once per query whose
// WHERE accepts it, to the Pipeline's shuffle stream under `<prefix>.<query>.<partition>`, where
// the partition's owner (a query worker) reads it. The message is the query input as JSON (source
// name, source stream sequence, stream time and what the query reads of the structured event
// after the rules: its `project`); its
// Nats-Msg-Id is `<query>:<source>:<seq>`, so a redelivered event published again is dropped by
// the stream's duplicate window. The source event is acked only once every route and every
// shuffle publish was accepted: a publish reports to the same waiter the sinks report to.
// Publishes go through one JetStream async publisher (one inbox subscription for every
// acknowledgement, one timer for all timeouts): `JetStreamClient.publish` makes a request per
// message, and the client builds a discarded Error with a stack for each one it completes, which
// was an eighth of the processor's CPU.
import type { JetStreamClient } from '@nats-io/jetstream';
import { headers as natsHeaders, type NatsConnection } from '@nats-io/nats-core';
import type { ProcessorShuffle } from '../../api/generated/types.js';
import { MSG_ID_HEADER } from '../events/index.js';
import { JetStreamAsyncPublisher } from '../ingest/jetstream-async.js';
import type { CompiledQuery, QueryInput } from '../queries/index.js';
import { errorMessage, TransientSinkError, type RowWaiter } from '../sinks/index.js';
import { shuffleTraceHeaders } from './shuffle-trace.js';

/** The shuffle subject of a query's partition. */
export function shuffleSubject(prefix: string, query: string, partition: number): string {
  return `${prefix}.${query}.${partition}`;
}

/** The message id of an input of a query: unique per (query, source event). */
export function shuffleMsgId(query: string, source: string, seq: number): string {
  return `${query}:${source}:${seq}`;
}

/** One publish an event needs: the query it is for, its subject and message id. */
export interface ShuffleRoute {
  query: string;
  subject: string;
  msgId: string;
  /** What the query reads of an event. */
  project: CompiledQuery['project'];
}

const EXPECTED_STREAM_HEADER = 'Nats-Expected-Stream';
const NONE: readonly ShuffleRoute[] = Object.freeze([]);

/** The connection publishes go out on directly; without it, through `JetStreamClient.publish`. */
export interface ShuffleConnection {
  nc: NatsConnection;
  /** The connection's inbox prefix (nats.inboxPrefix), when its user may subscribe only there. */
  inboxPrefix?: string | undefined;
  /** How long a publish waits for its acknowledgement; default the JetStream client's timeout. */
  timeoutMs?: number;
}

export class Shuffle {
  private readonly bySource = new Map<string, CompiledQuery[]>();
  private readonly publisher: JetStreamAsyncPublisher | undefined;

  constructor(
    private readonly js: JetStreamClient,
    private readonly target: ProcessorShuffle,
    queries: readonly CompiledQuery[],
    direct?: ShuffleConnection,
  ) {
    if (direct)
      this.publisher = new JetStreamAsyncPublisher(
        direct.nc,
        direct.timeoutMs ?? js.getOptions().timeout ?? 5000,
        direct.inboxPrefix,
      );
    // A query may read several sources (an interval join both sides, a pattern each of its
    // variables' sources): it is registered under each, once.
    for (const q of queries)
      for (const source of new Set(q.sources.length ? q.sources : [q.source])) {
        const list = this.bySource.get(source) ?? [];
        list.push(q);
        this.bySource.set(source, list);
      }
  }

  /** True when some query reads the source (by its name in queries). */
  reads(source: string): boolean {
    return this.bySource.has(source);
  }

  /** The publishes an input needs: one per query of its source whose WHERE accepts it. */
  routes(input: QueryInput): readonly ShuffleRoute[] {
    const queries = this.bySource.get(input.source);
    if (!queries) return NONE;
    let out: ShuffleRoute[] | undefined;
    for (const q of queries) {
      const key = q.keyOf(input);
      if (key === undefined) continue;
      (out ??= []).push({
        query: q.name,
        subject: shuffleSubject(this.target.subjectPrefix, q.name, q.partitionOf(key, q.partitions)),
        msgId: shuffleMsgId(q.name, input.source, input.seq),
        project: q.project,
      });
    }
    return out ?? NONE;
  }

  /**
   * Publishes the input on each route; the waiter hears `index + i` for route i: undefined once
   * the stream stored it (or already had it), a transient error otherwise (the event is retried).
   */
  publish(input: QueryInput, routes: readonly ShuffleRoute[], waiter: RowWaiter, index: number): void {
    for (let i = 0; i < routes.length; i++) {
      const r = routes[i]!;
      // Buffer.from: small strings go into Node's buffer pool, cheaper than a TextEncoder's array.
      const payload = Buffer.from(JSON.stringify({ ...input, event: r.project(input.event) }), 'utf8');
      // A traced event's context goes along (shuffle-trace.ts): the results it feeds link back to it.
      const headers = shuffleTraceHeaders(waiter);
      let sent: Promise<unknown>;
      if (this.publisher) {
        const h = headers ?? natsHeaders();
        h.set(MSG_ID_HEADER, r.msgId);
        // The server refuses the message unless this stream is the one that captures the subject.
        h.set(EXPECTED_STREAM_HEADER, this.target.stream);
        sent = this.publisher.publish(r.subject, payload, h);
      } else {
        const opts = { msgID: r.msgId, expect: { streamName: this.target.stream } };
        sent = this.js.publish(r.subject, payload, headers ? { ...opts, headers } : opts);
      }
      sent.then(
        () => waiter.rowDone(index + i, undefined),
        (err: unknown) =>
          waiter.rowDone(
            index + i,
            new TransientSinkError(`shuffle publish for query ${r.query}: ${errorMessage(err)}`, {
              cause: err,
            }),
          ),
      );
    }
  }
}

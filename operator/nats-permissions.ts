// What each eventrunner pod may do on NATS, derived from the very config file the operator renders
// for it: the subjects it publishes to, the JetStream API calls it makes (named per stream and
// consumer — NATS permissions match whole subject tokens, so a stream-name prefix cannot stand for
// a namespace), the acknowledgements it sends and the inbox it receives replies on. Anything not
// listed is refused by the server, so a pod of one namespace can neither read nor write another
// namespace's streams, consumers, buckets or dead letters. Pure; the user credentials carrying these
// are minted in nats-credentials.ts.
import type {
  IngestConfigInput,
  ProcessorConfigInput,
  QueryWorkerConfigInput,
} from '../api/generated/types.js';
import { maxDeliveriesSubject } from '../runtime/process/max-deliveries.js';
import {
  replayBucketName,
  replayInboxPrefix,
  workStreamName,
  workSubjectPrefix,
  type ReplayPlan,
} from '../runtime/replay/plan.js';

export interface NatsPermissions {
  /** Subjects the user may publish to. */
  pub: string[];
  /** Subjects the user may subscribe to. */
  sub: string[];
  /** The inbox prefix the pod's client uses (its config's nats.inboxPrefix): replies arrive under it. */
  inboxPrefix: string;
}

/**
 * A per-workload inbox prefix: the client's replies (JetStream API answers, publish
 * acknowledgements, pulled messages) go to `<prefix>.>`, which no other workload may subscribe to.
 */
export function inboxPrefixFor(namespace: string, workload: string): string {
  return `_INBOX_${namespace}_${workload.replaceAll('.', '__')}`;
}

/** The inbox prefix the config gives its client (the client's default otherwise). */
const inboxOf = (config: { nats: { inboxPrefix?: string } }) => config.nats.inboxPrefix ?? '_INBOX';

const api = (...tokens: string[]) => `$JS.API.${tokens.join('.')}`;

/** Publishing into a stream through its subjects and reading its configuration. */
function publishTo(stream: string, subjects: string[]): string[] {
  return [...subjects, api('STREAM', 'INFO', stream)];
}

/** A durable pull consumer the pod reads from and acknowledges, but does not create or delete. */
function consume(stream: string, consumer: string): string[] {
  return [
    api('CONSUMER', 'INFO', stream, consumer),
    api('CONSUMER', 'MSG', 'NEXT', stream, consumer),
    `$JS.ACK.${stream}.${consumer}.>`,
  ];
}

/** Consumers the pod creates and deletes itself on a stream (query workers, one per partition). */
function ownConsumers(stream: string): string[] {
  return [
    api('STREAM', 'INFO', stream),
    api('CONSUMER', 'CREATE', stream),
    api('CONSUMER', 'CREATE', stream, '>'),
    api('CONSUMER', 'DURABLE', 'CREATE', stream, '>'),
    api('CONSUMER', 'DELETE', stream, '>'),
    api('CONSUMER', 'INFO', stream, '>'),
    api('CONSUMER', 'MSG', 'NEXT', stream, '>'),
    `$JS.ACK.${stream}.>`,
    `$JS.FC.${stream}.>`,
  ];
}

/** A key-value bucket read, written and watched (its stream is KV_<bucket>), not created. */
function kvBucket(bucket: string): string[] {
  const stream = `KV_${bucket}`;
  return [
    `$KV.${bucket}.>`,
    api('STREAM', 'INFO', stream),
    api('STREAM', 'MSG', 'GET', stream),
    api('DIRECT', 'GET', stream),
    api('DIRECT', 'GET', stream, '>'),
    api('CONSUMER', 'CREATE', stream),
    api('CONSUMER', 'CREATE', stream, '>'),
    api('CONSUMER', 'DELETE', stream, '>'),
    api('CONSUMER', 'INFO', stream, '>'),
    api('CONSUMER', 'MSG', 'NEXT', stream, '>'),
    `$JS.ACK.${stream}.>`,
    `$JS.FC.${stream}.>`,
  ];
}

/** Reading a stream through ordered consumers (created, read and deleted by the pod, no acks). */
function readThroughOrderedConsumers(stream: string): string[] {
  return [
    api('STREAM', 'INFO', stream),
    api('CONSUMER', 'CREATE', stream),
    api('CONSUMER', 'CREATE', stream, '>'),
    api('CONSUMER', 'DELETE', stream, '>'),
    api('CONSUMER', 'MSG', 'NEXT', stream, '>'),
  ];
}

function permissions(inboxPrefix: string, pub: string[], sub: string[] = []): NatsPermissions {
  // JetStream's account information ($JS.API.INFO) is not granted: it describes every tenant's
  // usage of the account; the pods' clients do not ask for it.
  return {
    pub: [...new Set(pub)].sort(),
    sub: [...new Set([`${inboxPrefix}.>`, ...sub])].sort(),
    inboxPrefix,
  };
}

/** Outputs that publish to another EventSource's stream (eventSource Sinks). */
function outputStreams(outputs: ProcessorConfigInput['outputs']): string[] {
  return outputs.flatMap((o) =>
    o.eventSource ? publishTo(o.eventSource.stream, [`${o.eventSource.subjectPrefix}.>`]) : [],
  );
}

/** An ingest pod: publishes into its EventSource's stream and reads that stream's configuration. */
export function ingestPermissions(config: IngestConfigInput): NatsPermissions {
  return permissions(inboxOf(config), publishTo(config.stream.name, [`${config.stream.subjectPrefix}.>`]));
}

/**
 * A processor: reads and acknowledges its durable consumer on each source stream, reads back
 * stored events (max-deliveries advisories name them by sequence) and reads those advisories from
 * the Pipeline's advisory stream (or listens for them, without one), publishes dead letters,
 * chained events and query inputs.
 */
export function processorPermissions(config: ProcessorConfigInput): NatsPermissions {
  const pub = [
    ...config.sources.flatMap((s) => [
      ...consume(s.stream, s.consumer),
      api('STREAM', 'MSG', 'GET', s.stream),
    ]),
    ...publishTo(config.deadLetter.stream, [config.deadLetter.subject]),
    ...(config.advisories ? consume(config.advisories.stream, config.advisories.consumer) : []),
    ...outputStreams(config.outputs),
    ...(config.shuffle ? publishTo(config.shuffle.stream, [`${config.shuffle.subjectPrefix}.>`]) : []),
  ];
  const sub = config.advisories ? [] : config.sources.map((s) => maxDeliveriesSubject(s.stream, s.consumer));
  return permissions(inboxOf(config), pub, sub);
}

/**
 * A query worker: owns consumers on its shuffle stream (one per partition it holds), keeps leases
 * and checkpoints in its bucket, writes results to chained outputs and late events to the dead
 * letters.
 */
export function queryWorkerPermissions(config: QueryWorkerConfigInput): NatsPermissions {
  const pub = [
    ...ownConsumers(config.shuffle.stream),
    ...kvBucket(config.state.bucket),
    ...publishTo(config.deadLetter.stream, [config.deadLetter.subject]),
    ...outputStreams(config.outputs),
  ];
  return permissions(inboxOf(config), pub);
}

/**
 * A Replay's pod (runtime/replay): the Pipeline's processor config with the Replay's plan. It
 * creates its own work stream and its consumers there, and reads and writes progress and redriven
 * marks in the Pipeline's replay bucket (the operator creates the bucket). It reads what it
 * replays: the source streams from a point (and the Pipeline's consumers, for their filters), or
 * the dead-letter stream for a redrive, never both. It writes as a processor does: dead letters
 * and chained outputs. Not granted: the Pipeline's durable consumers' deliveries and acks, its
 * advisories and its shuffle stream (a replay sends nothing to the queries).
 */
export function replayPermissions(config: ProcessorConfigInput, plan: ReplayPlan): NatsPermissions {
  const work = workStreamName(plan);
  const pub = [
    api('STREAM', 'CREATE', work),
    api('STREAM', 'MSG', 'GET', work),
    ...publishTo(work, [`${workSubjectPrefix(plan)}.>`]),
    ...ownConsumers(work),
    ...kvBucket(replayBucketName(plan.namespace, plan.pipeline)),
    ...(plan.deadLetters
      ? readThroughOrderedConsumers(config.deadLetter.stream)
      : config.sources.flatMap((s) => [
          ...readThroughOrderedConsumers(s.stream),
          api('CONSUMER', 'INFO', s.stream, s.consumer),
        ])),
    ...publishTo(config.deadLetter.stream, [config.deadLetter.subject]),
    ...outputStreams(config.outputs),
  ];
  return permissions(replayInboxPrefix(inboxOf(config)), pub);
}

// A fault run on the cluster pipeline (harness.ts) and its per-id account: what ingest acknowledged
// against what the Cassandra table and the dead-letter stream hold at the end.
import { randomUUID } from 'node:crypto';
import type cassandra from 'cassandra-driver';
import { expect } from 'vitest';
import { clusterControl } from '../../stack/cluster-control.js';
import { readDeadLetters } from '../processor/support.js';
import { POISON_EVERY, produce, retried, settled, whole, type ClusterPipeline } from './harness.js';

export interface Account {
  /** Acknowledged by ingest, but neither written nor dead-lettered. */
  lost: string[];
  /** Written or dead-lettered without ingest having acknowledged them. */
  unacknowledged: string[];
  /** Dead-lettered more than once. */
  deadLetteredTwice: string[];
  /** Both written and dead-lettered. */
  writtenAndDeadLettered: string[];
  /** Poison events that were written, or clean ones that were dead-lettered. */
  misrouted: string[];
  /** Stream messages beyond one per acknowledged id (repeats the duplicate window did not drop). */
  streamDuplicates: number;
  written: number;
  deadLettered: number;
}

export async function cassandraIds(cql: cassandra.Client, keyspace: string): Promise<Set<string>> {
  const ids = new Set<string>();
  let pageState: string | undefined;
  do {
    const from = pageState;
    const rs = await retried(
      'reading the table',
      () =>
        cql.execute(`SELECT id FROM ${keyspace}.orders`, [], {
          prepare: true,
          fetchSize: 10_000,
          ...(from ? { pageState: from } : {}),
        }),
      300_000,
    );
    for (const row of rs.rows) ids.add(row.get('id') as string);
    pageState = rs.pageState ?? undefined;
  } while (pageState);
  return ids;
}

/**
 * The per-id account of a run (ids `<run>-<i>`): what ingest acknowledged against what the table
 * and the streams hold. `streamBefore` is the stream's message count before the run.
 */
export async function account(
  p: ClusterPipeline,
  accepted: Set<string>,
  where: { run: string; streamBefore: number },
): Promise<Account> {
  const mine = (id: string) => id.startsWith(`${where.run}-`);
  const written = new Set([...(await cassandraIds(p.cql, p.keyspace))].filter(mine));
  const dead = (await readDeadLetters(p.nc, p.dlqStream)).map((d) => d.id!).filter(mine);
  const deadSet = new Set(dead);
  const seen = new Set<string>();
  const twice = new Set<string>();
  for (const id of dead) (seen.has(id) ? twice : seen).add(id);
  const poison = (id: string) => Number(id.slice(id.lastIndexOf('-') + 1)) % POISON_EVERY === 0;
  const info = await p.jsm.streams.info(p.stream);
  return {
    lost: [...accepted].filter((id) => !written.has(id) && !deadSet.has(id)),
    unacknowledged: [...written, ...deadSet].filter((id) => !accepted.has(id)),
    deadLetteredTwice: [...twice],
    writtenAndDeadLettered: [...deadSet].filter((id) => written.has(id)),
    misrouted: [...[...written].filter(poison), ...[...deadSet].filter((id) => !poison(id))],
    streamDuplicates: info.state.messages - where.streamBefore - accepted.size,
    written: written.size,
    deadLettered: dead.length,
  };
}

/** Every event ingest acknowledged written or dead-lettered, exactly once; nothing else. */
export function expectClean(a: Account, events: number): void {
  expect({
    lost: a.lost.slice(0, 5),
    unacknowledged: a.unacknowledged.slice(0, 5),
    deadLetteredTwice: a.deadLetteredTwice.slice(0, 5),
    writtenAndDeadLettered: a.writtenAndDeadLettered.slice(0, 5),
    misrouted: a.misrouted.slice(0, 5),
    streamDuplicates: a.streamDuplicates,
  }).toEqual({
    lost: [],
    unacknowledged: [],
    deadLetteredTwice: [],
    writtenAndDeadLettered: [],
    misrouted: [],
    streamDuplicates: 0,
  });
  expect(a.written + a.deadLettered).toBe(events);
}

/** Resumes every paused node and restarts every killed one, then waits until the pipeline is whole. */
export async function restoreNodes(p: ClusterPipeline, controlUrls: string[]): Promise<void> {
  for (const url of controlUrls) {
    const control = clusterControl(url);
    for (const n of await control.nodes()) {
      if (n.state === 'paused') await control.resume(n.name);
      if (n.state === 'down') await control.restart(n.name);
    }
  }
  await whole(p);
}

export type Producer = ReturnType<typeof produce>;

/** Seconds from the start of a fault run to each named point of it. */
export type FaultTimings = Record<string, number>;

/**
 * A run of `events` events (ids `<run>-<i>`) through the pipeline: production starts, `fault`
 * waits for its moment and does its harm (calling `mark` at the points worth timing), production
 * ends, the pipeline catches up, and the per-id account of the run is returned with the seconds
 * from the start to each point.
 */
export async function faultRun(
  p: ClusterPipeline,
  events: number,
  fault: (prod: Producer, mark: (point: string) => void) => Promise<void>,
): Promise<{ account: Account; timings: FaultTimings }> {
  const t = Date.now();
  const timings: FaultTimings = {};
  const mark = (point: string) => (timings[point] = Math.round((Date.now() - t) / 100) / 10);
  const run = randomUUID().slice(0, 8);
  // The account keeps this run's ids; earlier runs' rows would only lengthen its table scan.
  await retried('truncating the table', () => p.cql.execute(`TRUNCATE ${p.keyspace}.orders`), 300_000);
  const before = (await retried('stream info', () => p.jsm.streams.info(p.stream))).state.messages;
  const prod = produce(p.ingestUrl, run, events);
  await fault(prod, mark);
  mark('fault over');
  await prod.done;
  mark('all acknowledged');
  await settled(p);
  mark('caught up');
  const a = await account(p, prod.accepted, { run, streamBefore: before });
  mark('accounted');
  return { account: a, timings };
}

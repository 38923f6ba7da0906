// The Pipeline every end-to-end test runs: rules that dead-letter, drop and route, two outputs
// (Cassandra "store", ClickHouse "analytics"), and generated shop events whose fate is known in
// advance, so each test can check produced = rows written + dropped by rule + dead-lettered.
import { randomUUID } from 'node:crypto';
import type { CloudEvent } from '../../../runtime/events/index.js';

export const RULES = `
rule Poison "payloads flagged as poison are dead-lettered" salience 100 {
  when event.data.poison == true
  then DeadLetter("poison payload");
}
rule DropTests "test orders are dropped" salience 50 {
  when event.type == "com.shop.order.test"
  then Drop();
}
rule BigOrder "large orders go to both outputs" salience 10 {
  when event.data.amount >= 1000
  then event.data.tier = "gold"; Route("store"); Route("analytics");
}
`;

export type Fate = 'store' | 'both' | 'dropped' | 'rule-deadletter' | 'sink-deadletter';

export interface ShopEvent {
  event: CloudEvent;
  fate: Fate;
}

/** A deterministic mix: mostly small orders (store), some big (both), tests (dropped), poison. */
export function shopEvents(n: number, opts: { poison?: boolean; runId?: string } = {}): ShopEvent[] {
  const run = opts.runId ?? randomUUID().slice(0, 8);
  return Array.from({ length: n }, (_, i) => {
    let fate: Fate = i % 5 === 0 ? 'both' : 'store';
    let type = 'com.shop.order.created';
    const data: Record<string, unknown> = {
      amount: fate === 'both' ? 1000 + i : (i % 900) + 1,
      qty: (i % 7) + 1,
      country: i % 2 ? 'DE' : 'FR',
    };
    if (i % 11 === 3) {
      type = 'com.shop.order.test';
      fate = 'dropped';
    }
    if (opts.poison && i % 13 === 7) {
      data.poison = true;
      fate = 'rule-deadletter';
    } else if (opts.poison && i % 17 === 5) {
      // qty is an int column in Cassandra: the sink rejects this event, the others flow.
      data.qty = 'many';
      data.amount = 5;
      type = 'com.shop.order.created';
      fate = 'sink-deadletter';
    }
    return {
      fate,
      event: {
        specversion: '1.0',
        id: `${run}-${i}`,
        source: '/shop/web',
        type,
        subject: `order/${i}`,
        time: new Date(Date.UTC(2024, 2, 1, 0, 0, i % 60)).toISOString(),
        datacontenttype: 'application/json',
        data,
      },
    };
  });
}

export function expected(events: ShopEvent[]) {
  const ids = (f: (e: ShopEvent) => boolean) => new Set(events.filter(f).map((e) => e.event.id));
  return {
    store: ids((e) => e.fate === 'store' || e.fate === 'both'),
    analytics: ids((e) => e.fate === 'both'),
    dropped: ids((e) => e.fate === 'dropped'),
    deadLettered: ids((e) => e.fate === 'rule-deadletter' || e.fate === 'sink-deadletter'),
  };
}

export const SINK_COLUMNS = [
  { name: 'amount', type: 'double', from: '/data/amount' },
  { name: 'qty', type: 'int', from: '/data/qty' },
  { name: 'tier', type: 'text', from: '/data/tier' },
];

export interface Targets {
  nats: string;
  cassandra: {
    contactPoint: string;
    localDataCenter: string;
    keyspace: string;
    table: string;
    usernameFile: string;
    passwordFile: string;
  };
  clickhouse: { url: string; database: string; table: string };
}

export function processConfig(
  t: Targets,
  n: { stream: string; consumer: string; dlqStream: string; dlqSubject: string },
  extra: {
    maxDeliver?: number;
    backoff?: string[];
    maxAckPending?: number;
    grace?: string;
    chBatch?: object;
  } = {},
): object {
  return {
    pipeline: { namespace: 'test', name: n.consumer },
    nats: { url: t.nats },
    sources: [{ eventSource: 'shop', stream: n.stream, consumer: n.consumer }],
    rules: { source: RULES },
    outputs: [
      {
        name: 'store',
        sink: {
          scylla: {
            contactPoints: [t.cassandra.contactPoint],
            localDataCenter: t.cassandra.localDataCenter,
            keyspace: t.cassandra.keyspace,
            table: t.cassandra.table,
            consistency: 'LOCAL_ONE',
            manageSchema: true,
            replicationFactor: 1,
          },
          columns: SINK_COLUMNS,
        },
        credentials: { usernameFile: t.cassandra.usernameFile, passwordFile: t.cassandra.passwordFile },
      },
      {
        name: 'analytics',
        sink: {
          clickhouse: {
            url: t.clickhouse.url,
            database: t.clickhouse.database,
            table: t.clickhouse.table,
            manageSchema: true,
            batch: extra.chBatch ?? { maxRows: 500, maxDelay: '200ms' },
          },
          columns: SINK_COLUMNS,
        },
      },
    ],
    defaultOutputs: ['store'],
    delivery: {
      maxDeliver: extra.maxDeliver ?? 5,
      backoff: extra.backoff ?? ['200ms'],
      maxAckPending: extra.maxAckPending ?? 1000,
    },
    deadLetter: { stream: n.dlqStream, subject: n.dlqSubject },
    ops: { port: 0, host: '127.0.0.1' },
    shutdownGracePeriod: extra.grace ?? '20s',
    logLevel: 'info',
  };
}

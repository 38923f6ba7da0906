// The ScyllaDB/Cassandra sink: one prepared, idempotent single-partition upsert per event, run
// concurrently under a limit. No logged batches: a batch spanning partitions costs the coordinator
// more than the same writes sent in parallel, and each upsert is already atomic and idempotent.
import cassandra from 'cassandra-driver';
import { parseDuration as durationMs } from '../../api/units.js';
import { cassandraClient, classifyCassandraError } from './cassandra-client.js';
import { compileColumns, type ColumnValue, type CompiledColumns } from './columns.js';
import {
  addColumnCql,
  compareColumns,
  cqlColumns,
  createKeyspaceCql,
  createTableCql,
  insertCql,
} from './cql.js';
import { writeEvents } from './batcher.js';
import { preparedExecutor, type PreparedExecutor } from '../internals/cassandra-execute.js';
import type { FastPaths } from '../internals/fast-paths.js';
import { useFastMurmur3 } from '../internals/murmur3.js';
import { SinkConfigError } from './errors.js';
import type {
  ColumnSpec,
  ColumnType,
  RowResult,
  ScyllaSpec,
  Sink,
  SinkCredentials,
  SinkEvent,
} from './types.js';

const { Long, BigDecimal, LocalDate, Uuid } = cassandra.types;

function encode(type: ColumnType, v: ColumnValue): unknown {
  if (v === null) return null;
  switch (type) {
    case 'bigint':
      return Long.fromString(v as string);
    case 'decimal':
      return BigDecimal.fromString(v as string);
    case 'date':
      return LocalDate.fromString(v as string);
    case 'uuid':
      return Uuid.fromString(v as string);
    default:
      return v;
  }
}

/** The live table's columns (lower-cased name → CQL type); empty when the table does not exist. */
export async function liveCqlColumns(
  client: cassandra.Client,
  spec: ScyllaSpec,
): Promise<Map<string, string>> {
  const rs = await client.execute(
    'SELECT column_name, type FROM system_schema.columns WHERE keyspace_name = ? AND table_name = ?',
    [spec.keyspace.toLowerCase(), spec.table.toLowerCase()],
    { prepare: true, consistency: cassandra.types.consistencies.localOne },
  );
  return new Map(rs.rows.map((r) => [String(r.get('column_name')), String(r.get('type'))]));
}

/** Throws SinkConfigError naming what the live table lacks. */
export async function checkCassandraSchema(
  client: cassandra.Client,
  spec: ScyllaSpec,
  columns: readonly ColumnSpec[] = [],
): Promise<void> {
  const live = await liveCqlColumns(client, spec);
  if (live.size === 0)
    throw new SinkConfigError(
      `table ${spec.keyspace}.${spec.table} does not exist (set manageSchema to create it)`,
    );
  const { missing, mismatched } = compareColumns(cqlColumns(columns), live);
  const problems = [
    ...missing.map(([n, t]) => `column ${n} ${t} is missing`),
    ...mismatched.map((m) => `column ${m.name} is ${m.have}, want ${m.want}`),
  ];
  if (problems.length)
    throw new SinkConfigError(`table ${spec.keyspace}.${spec.table}: ${problems.join('; ')}`);
}

/** Creates the keyspace and table when missing and adds missing typed columns; returns what it did. */
export async function ensureCassandraSchema(
  client: cassandra.Client,
  spec: ScyllaSpec,
  columns: readonly ColumnSpec[] = [],
): Promise<string[]> {
  const actions: string[] = [];
  const ks = await client.execute(
    'SELECT keyspace_name FROM system_schema.keyspaces WHERE keyspace_name = ?',
    [spec.keyspace.toLowerCase()],
  );
  if (ks.rowLength === 0) {
    await client.execute(createKeyspaceCql(spec));
    actions.push(`created keyspace ${spec.keyspace}`);
  }
  let live = await liveCqlColumns(client, spec);
  if (live.size === 0) {
    await client.execute(createTableCql(spec, columns));
    actions.push(`created table ${spec.keyspace}.${spec.table}`);
    live = await liveCqlColumns(client, spec);
  }
  const { missing, mismatched } = compareColumns(cqlColumns(columns), live);
  for (const [name, type] of missing) {
    await client.execute(addColumnCql(spec, name, type));
    actions.push(`added column ${name} ${type}`);
  }
  if (mismatched.length)
    throw new SinkConfigError(
      `table ${spec.keyspace}.${spec.table}: ` +
        mismatched.map((m) => `column ${m.name} is ${m.have}, want ${m.want}`).join('; ') +
        ' (a column type cannot be changed in place)',
    );
  return actions;
}

export interface CassandraSinkOptions {
  /** Upserts in flight at once for this sink. */
  concurrency?: number;
  applicationName?: string;
  /** The library fast paths this sink may use (runtime/internals); the default FastPaths when unset. */
  fastPaths?: FastPaths;
}

/** One writeRows call: its rows, their results so far, and where the next write starts. */
interface WriteJob {
  rows: readonly unknown[][];
  results: RowResult[];
  next: number;
  done: number;
  resolve: (results: RowResult[]) => void;
}

export class CassandraSink implements Sink {
  readonly kind = 'scylla' as const;
  readonly target: string;
  private readonly columns: CompiledColumns;
  /** The upsert, prepared once and then sent without Client.execute's per-call layers. */
  readonly execute: PreparedExecutor;
  private readonly concurrency: number;
  private active = 0;
  private readonly queue: WriteJob[] = [];

  constructor(
    private readonly client: cassandra.Client,
    readonly spec: ScyllaSpec,
    columns: readonly ColumnSpec[],
    opts: CassandraSinkOptions,
  ) {
    this.target = `${spec.keyspace}.${spec.table}`;
    this.columns = compileColumns(columns);
    this.concurrency = Math.max(1, opts.concurrency ?? 64);
    this.execute = preparedExecutor(
      client,
      insertCql(spec, columns, durationMs(spec.ttl ?? '0s') / 1000),
      opts.fastPaths,
    );
  }

  prepare(event: SinkEvent): unknown[] {
    const r = this.columns.convert(event);
    const specs = this.columns.specs;
    const params: unknown[] = [r.id, r.type, r.source, r.subject, r.time, r.data];
    for (let i = 0; i < specs.length; i++) params.push(encode(specs[i]!.type, r.typed[i]!));
    return params;
  }

  /**
   * Writes run from one queue of batches, at most `concurrency` at a time for the whole sink (not
   * per batch): a row costs one driver call and its two callbacks, no promise of its own while it
   * waits for a slot.
   */
  writeRows(rows: readonly unknown[][]): Promise<RowResult[]> {
    if (rows.length === 0) return Promise.resolve([]);
    return new Promise<RowResult[]>((resolve) => {
      this.queue.push({ rows, results: new Array<RowResult>(rows.length), next: 0, done: 0, resolve });
      this.pump();
    });
  }

  private pump(): void {
    while (this.active < this.concurrency && this.queue.length > 0) {
      const job = this.queue[0]!;
      const i = job.next++;
      if (job.next === job.rows.length) this.queue.shift();
      this.active++;
      this.execute(job.rows[i]!).then(
        () => this.finish(job, i, undefined),
        (err: unknown) => this.finish(job, i, classifyCassandraError(err)),
      );
    }
  }

  private finish(job: WriteJob, i: number, result: RowResult): void {
    this.active--;
    job.results[i] = result;
    if (++job.done === job.rows.length) job.resolve(job.results);
    this.pump();
  }

  write(events: readonly SinkEvent[]): Promise<RowResult[]> {
    return writeEvents(this, events);
  }

  async close(): Promise<void> {
    await this.client.shutdown();
  }
}

/**
 * Connects and creates or checks the schema, so a misconfigured Sink fails start-up before any
 * event is taken. The driver prepares the upsert on first use and reuses it.
 */
export async function openCassandraSink(
  spec: ScyllaSpec,
  columns: readonly ColumnSpec[] = [],
  credentials: SinkCredentials | undefined,
  opts: CassandraSinkOptions = {},
): Promise<CassandraSink> {
  const client = cassandraClient(spec, credentials, opts);
  try {
    await client.connect();
    useFastMurmur3(client, opts.fastPaths);
    if (spec.manageSchema) await ensureCassandraSchema(client, spec, columns);
    else await checkCassandraSchema(client, spec, columns);
    return new CassandraSink(client, spec, columns, opts);
  } catch (err) {
    await client.shutdown().catch(() => undefined);
    throw err instanceof SinkConfigError ? err : classifyCassandraError(err);
  }
}

// The ClickHouse sink: one JSONEachRow INSERT per batch over HTTP. An INSERT of one block is
// all-or-nothing, so when the server rejects a batch for a bad value the batch is split in halves
// until the bad rows are isolated; they are rejected (dead-lettered) and the rest are written.
import { Readable } from 'node:stream';
import { createClient, ClickHouseError, ClickHouseLogLevel, type ClickHouseClient } from '@clickhouse/client';
import { compileColumns, type CompiledColumns } from './columns.js';
import {
  addColumnSql,
  chColumns,
  chIdent,
  chTable,
  createDatabaseSql,
  createTableSql,
  encodeRow,
  encodeTsvRow,
  liveColumnsSql,
  parseVersion,
  tsvEncodable,
  type ServerVersion,
} from './clickhouse-sql.js';
import {
  RowRejectedError,
  SinkConfigError,
  TransientSinkError,
  errorMessage,
  isRowRejectedError,
  type SinkError,
} from './errors.js';
import { writeEvents } from './batcher.js';
import { HandshakeTimeoutAgent, clickhouseAgentOptions, tlsConfigError } from './tls.js';
import type { ClickHouseSpec, ColumnSpec, RowResult, Sink, SinkCredentials, SinkEvent } from './types.js';

// Server error codes (ErrorCodes.cpp) meaning "this data cannot be parsed or stored".
const ROW_CODES = new Set([6, 25, 26, 27, 32, 38, 41, 53, 69, 70, 72, 117, 131, 349, 376, 407, 417]);
// ... and "this sink is configured wrong": unknown table/database/column, auth, read-only, syntax.
const CONFIG_CODES = new Set([16, 47, 60, 62, 81, 164, 192, 193, 194, 195, 497, 516]);

/**
 * The server's error code: ClickHouseError carries it, but the client does not recognise the
 * error text of old servers (18.16: "Code: 69, e.displayText() = ..."), so read it from the text.
 */
export function clickhouseErrorCode(err: unknown): number | undefined {
  if (err instanceof ClickHouseError && /^\d+$/.test(err.code)) return Number(err.code);
  const m = /^Code: (\d+)[,.]/.exec(errorMessage(err));
  if (m) return Number(m[1]);
  return err instanceof Error && err.cause !== undefined && err.cause !== err
    ? clickhouseErrorCode(err.cause)
    : undefined;
}

export function classifyClickHouseError(err: unknown): SinkError {
  const tls = tlsConfigError('clickhouse', err);
  if (tls) return tls;
  const message = errorMessage(err);
  const code = clickhouseErrorCode(err);
  if (code !== undefined) {
    if (ROW_CODES.has(code))
      return new RowRejectedError(`clickhouse rejected the data: ${message}`, { cause: err });
    if (CONFIG_CODES.has(code)) return new SinkConfigError(`clickhouse: ${message}`, { cause: err });
  }
  return new TransientSinkError(`clickhouse: ${message}`, { cause: err });
}

export interface ClickHouseSinkOptions {
  applicationName?: string;
  requestTimeoutMs?: number;
  /** How long an https connection may take from TCP connect to a finished TLS handshake. */
  handshakeTimeoutMs?: number;
  /** HTTP connections kept open to the server. */
  maxOpenConnections?: number;
  /**
   * Send rows as TabSeparated when the Sink's columns allow it (tsvEncodable; the default), or
   * always as JSONEachRow (false). Both store the same rows.
   */
  tabSeparated?: boolean;
}

export function clickhouseClient(
  spec: ClickHouseSpec,
  credentials: SinkCredentials | undefined,
  opts: ClickHouseSinkOptions = {},
): ClickHouseClient {
  const maxOpenConnections = opts.maxOpenConnections ?? 4;
  const agent = clickhouseAgentOptions(spec, credentials?.ca, maxOpenConnections);
  return createClient({
    url: spec.url,
    application: opts.applicationName ?? 'eventrunner',
    ...(credentials ? { username: credentials.username, password: credentials.password } : {}),
    // https:// gets an agent with the Sink's TLS settings (CA bundle or system roots, skip-verify);
    // the client then takes its connection limit from the agent.
    ...(agent ? { http_agent: new HandshakeTimeoutAgent(agent, opts.handshakeTimeoutMs ?? 10_000) } : {}),
    request_timeout: opts.requestTimeoutMs ?? 30_000,
    max_open_connections: maxOpenConnections,
    compression: { request: false, response: false },
    // Failures reach the processor as classified errors and are logged there, once, as JSON.
    log: { level: ClickHouseLogLevel.OFF },
  });
}

export async function serverVersion(client: ClickHouseClient): Promise<ServerVersion> {
  const rs = await client.query({ query: 'SELECT version() AS v', format: 'JSONEachRow' });
  const [row] = await rs.json<{ v: string }>();
  return parseVersion(row?.v ?? '');
}

export async function liveChColumns(
  client: ClickHouseClient,
  spec: ClickHouseSpec,
): Promise<Map<string, string>> {
  const rs = await client.query({ query: liveColumnsSql(spec), format: 'JSONEachRow' });
  const rows = await rs.json<{ name: string; type: string }>();
  return new Map(rows.map((r) => [r.name, r.type]));
}

/** Compares ClickHouse types loosely on time columns: DateTime vs DateTime64 both work for writes. */
function sameChType(want: string, have: string): boolean {
  const norm = (t: string) => t.replace(/\s+/g, '').replace(/DateTime64\(3,'UTC'\)/, "DateTime('UTC')");
  return norm(want) === norm(have) || norm(want).replace("('UTC')", '') === norm(have).replace("('UTC')", '');
}

function schemaProblems(
  wanted: Map<string, string>,
  live: Map<string, string>,
): { missing: [string, string][]; bad: string[] } {
  const missing: [string, string][] = [];
  const bad: string[] = [];
  for (const [name, type] of wanted) {
    const have = live.get(name);
    if (have === undefined) missing.push([name, type]);
    else if (!sameChType(type, have)) bad.push(`column ${name} is ${have}, want ${type}`);
  }
  return { missing, bad };
}

export async function checkClickHouseSchema(
  client: ClickHouseClient,
  spec: ClickHouseSpec,
  columns: readonly ColumnSpec[],
  version: ServerVersion,
): Promise<Map<string, string>> {
  const live = await liveChColumns(client, spec);
  const target = `${spec.database ?? 'default'}.${spec.table}`;
  if (live.size === 0)
    throw new SinkConfigError(`table ${target} does not exist (set manageSchema to create it)`);
  const { missing, bad } = schemaProblems(chColumns(columns, version), live);
  const problems = [...missing.map(([n, t]) => `column ${n} ${t} is missing`), ...bad];
  if (problems.length) throw new SinkConfigError(`table ${target}: ${problems.join('; ')}`);
  return live;
}

export async function ensureClickHouseSchema(
  client: ClickHouseClient,
  spec: ClickHouseSpec,
  columns: readonly ColumnSpec[],
  version: ServerVersion,
): Promise<string[]> {
  const actions: string[] = [];
  const target = `${spec.database ?? 'default'}.${spec.table}`;
  await client.command({ query: createDatabaseSql(spec) });
  let live = await liveChColumns(client, spec);
  if (live.size === 0) {
    await client.command({ query: createTableSql(spec, columns, version) });
    actions.push(`created table ${target}`);
    live = await liveChColumns(client, spec);
  }
  const { missing, bad } = schemaProblems(chColumns(columns, version), live);
  for (const [name, type] of missing) {
    await client.command({ query: addColumnSql(spec, name, type) });
    actions.push(`added column ${name} ${type}`);
  }
  if (bad.length) throw new SinkConfigError(`table ${target}: ${bad.join('; ')} (change the column by hand)`);
  return actions;
}

export class ClickHouseSink implements Sink {
  readonly kind = 'clickhouse' as const;
  readonly target: string;
  private readonly columns: CompiledColumns;
  private readonly names: string[];
  private readonly insert: string;
  /** How rows are sent: TabSeparated when the columns allow it, else JSONEachRow. */
  readonly format: 'TabSeparated' | 'JSONEachRow';

  constructor(
    private readonly client: ClickHouseClient,
    readonly spec: ClickHouseSpec,
    private readonly columnSpecs: readonly ColumnSpec[],
    readonly version: ServerVersion,
    /** Whether the live table's time column is DateTime64 (write milliseconds). */
    private readonly millis: boolean,
    opts: Pick<ClickHouseSinkOptions, 'tabSeparated'> = {},
  ) {
    this.target = `${spec.database ?? 'default'}.${spec.table}`;
    this.columns = compileColumns(columnSpecs);
    this.names = columnSpecs.map((c) => c.name);
    this.format = opts.tabSeparated !== false && tsvEncodable(columnSpecs) ? 'TabSeparated' : 'JSONEachRow';
    const all = ['id', 'type', 'source', 'subject', 'time', 'time_text', 'data', ...this.names];
    this.insert = `INSERT INTO ${chTable(spec)} (${all.map(chIdent).join(', ')}) FORMAT ${this.format}`;
  }

  private async insertLines(lines: readonly Buffer[]): Promise<void> {
    const res = await this.client.exec({
      query: this.insert,
      values: Readable.from([Buffer.concat(lines)]),
      clickhouse_settings: { date_time_input_format: 'best_effort', input_format_skip_unknown_fields: 1 },
    });
    // Read the (empty) response to the end so the keep-alive socket is reused.
    for await (const _chunk of res.stream) void _chunk;
  }

  /** Inserts lines; on a data error splits them to find the rejected rows. */
  private async insertIsolating(
    lines: readonly Buffer[],
    idx: readonly number[],
    out: RowResult[],
  ): Promise<void> {
    try {
      await this.insertLines(lines);
    } catch (err) {
      const e = classifyClickHouseError(err);
      if (!isRowRejectedError(e) || lines.length === 1) {
        for (const i of idx) out[i] = e;
        return;
      }
      const mid = lines.length >> 1;
      await this.insertIsolating(lines.slice(0, mid), idx.slice(0, mid), out);
      await this.insertIsolating(lines.slice(mid), idx.slice(mid), out);
    }
  }

  /**
   * The event's line (TabSeparated or JSONEachRow), as UTF-8 bytes: a line waits in its batch for
   * up to maxDelay, and bytes outside the JavaScript heap cost the garbage collector nothing while
   * it waits.
   */
  prepare(event: SinkEvent): Buffer {
    const row = this.columns.convert(event);
    return Buffer.from(
      this.format === 'TabSeparated'
        ? encodeTsvRow(row, this.columnSpecs, this.millis)
        : encodeRow(row, this.columnSpecs, this.names, this.millis),
    );
  }

  async writeRows(lines: readonly Buffer[]): Promise<RowResult[]> {
    const out: RowResult[] = new Array<RowResult>(lines.length).fill(undefined);
    await this.insertIsolating(
      lines,
      lines.map((_, i) => i),
      out,
    );
    return out;
  }

  write(events: readonly SinkEvent[]): Promise<RowResult[]> {
    return writeEvents(this, events);
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}

export async function openClickHouseSink(
  spec: ClickHouseSpec,
  columns: readonly ColumnSpec[] = [],
  credentials: SinkCredentials | undefined,
  opts: ClickHouseSinkOptions = {},
): Promise<ClickHouseSink> {
  const client = clickhouseClient(spec, credentials, opts);
  try {
    const version = await serverVersion(client);
    if (spec.manageSchema) await ensureClickHouseSchema(client, spec, columns, version);
    const live = await checkClickHouseSchema(client, spec, columns, version);
    const millis = (live.get('time') ?? '').startsWith('DateTime64');
    return new ClickHouseSink(client, spec, columns, version, millis, opts);
  } catch (err) {
    await client.close().catch(() => undefined);
    throw err instanceof SinkConfigError ? err : classifyClickHouseError(err);
  }
}

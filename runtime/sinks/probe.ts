// What the operator calls for a Sink: `probeSink` checks connection, credentials and table (for
// a webhook: the host resolves and a connection opens; for an EventSource: its stream exists);
// `ensureSchema` creates what `manageSchema` asks for. Both open and close their own connection.
import cassandra from 'cassandra-driver';
import type { ClickHouseClient } from '@clickhouse/client';
import type { NatsConnection } from '@nats-io/nats-core';
import type { JetStreamManager } from '@nats-io/jetstream';
import { EventSourceSink, probeEventSourceStream, type EventSourceTarget } from './eventsource.js';
import { httpTarget, openHttpSink } from './http.js';
import { probeHttp } from './http-probe.js';
import { cassandraClient, classifyCassandraError } from './cassandra-client.js';
import {
  checkCassandraSchema,
  ensureCassandraSchema,
  liveCqlColumns,
  openCassandraSink,
  type CassandraSinkOptions,
} from './cassandra.js';
import {
  checkClickHouseSchema,
  classifyClickHouseError,
  clickhouseClient,
  clickhouseErrorCode,
  ensureClickHouseSchema,
  liveChColumns,
  openClickHouseSink,
  serverVersion,
  type ClickHouseSinkOptions,
} from './clickhouse.js';
import type { ServerVersion } from './clickhouse-sql.js';
import {
  SinkConfigError,
  SinkProbeError,
  SinkProbeErrorCode,
  errorMessage,
  isSinkConfigError,
  isSinkProbeError,
} from './errors.js';
import { cassandraKeyWarning, clickhouseKeyWarning } from './idempotency.js';
import { plaintextResetHint, tlsConfigError } from './tls.js';
import type { RequestObserver, Sink, SinkCredentials, SinkKind, SinkSpec } from './types.js';

/** The probe's outcome in a word; `code` says which part of the Sink a failure points at. */
export type ProbeReason = 'Reachable' | 'Unreachable' | 'Misconfigured' | 'InvalidSpec';

export interface ProbeResult {
  ok: boolean;
  kind: SinkKind;
  /** keyspace.table, database.table, the webhook URL or the stream. */
  target: string;
  reason: ProbeReason;
  /** Why the probe failed (absent when it passed): the code of its SinkProbeError. */
  code?: SinkProbeErrorCode;
  message: string;
  serverVersion?: string;
  /** A table whose writes are not idempotent by the event id (idempotency.ts): it works, but warns. */
  warning?: string;
}

type Backend = ProbeResult['kind'];

export function backendOf(spec: SinkSpec): Backend {
  const set = (['scylla', 'clickhouse', 'http', 'eventSource'] as const).filter((k) => spec[k] !== undefined);
  if (set.length === 1) return set[0]!;
  throw new SinkConfigError('a Sink needs exactly one of scylla, clickhouse, http or eventSource');
}

export function sinkTarget(spec: SinkSpec): string {
  if (spec.scylla) return `${spec.scylla.keyspace}.${spec.scylla.table}`;
  if (spec.clickhouse) return `${spec.clickhouse.database ?? 'default'}.${spec.clickhouse.table}`;
  if (spec.http) return httpTarget(spec.http.url);
  return spec.eventSource ? `EventSource ${spec.eventSource.name}` : '';
}

const { responseErrorCodes: rc } = cassandra.types;

// Server answers that name a cause, by the driver's response error code. `invalid` (0x2200) is
// not here: Cassandra answers it for a missing table and for any other bad query alike, so the
// probe reads system_schema to learn whether the table exists instead of querying the table.
const cassandraResponseCodes: ReadonlyMap<number, SinkProbeErrorCode> = new Map([
  [rc.badCredentials, SinkProbeErrorCode.AuthenticationFailed],
  [rc.unauthorized, SinkProbeErrorCode.AuthenticationFailed],
]);

// ClickHouse server error codes (src/Common/ErrorCodes.cpp) that name a cause.
const clickhouseCodes: ReadonlyMap<number, SinkProbeErrorCode> = new Map([
  [16, SinkProbeErrorCode.SchemaMismatch], // NO_SUCH_COLUMN_IN_TABLE
  [60, SinkProbeErrorCode.TableNotFound], // UNKNOWN_TABLE
  [81, SinkProbeErrorCode.TableNotFound], // UNKNOWN_DATABASE
  [192, SinkProbeErrorCode.AuthenticationFailed], // UNKNOWN_USER
  [193, SinkProbeErrorCode.AuthenticationFailed], // WRONG_PASSWORD
  [194, SinkProbeErrorCode.AuthenticationFailed], // REQUIRED_PASSWORD
  [195, SinkProbeErrorCode.AuthenticationFailed], // IP_ADDRESS_NOT_ALLOWED
  [497, SinkProbeErrorCode.AuthenticationFailed], // ACCESS_DENIED: the user lacks a grant
  [516, SinkProbeErrorCode.AuthenticationFailed], // AUTHENTICATION_FAILED
]);

/** `err` and the errors inside it: its cause, a Cassandra AuthenticationError's response, every host's error. */
function* errorsIn(err: unknown, depth = 0): Generator<unknown> {
  if (err === null || err === undefined || depth > 5) return;
  yield err;
  if (typeof err !== 'object') return;
  const { cause, additionalInfo, innerErrors } = err as {
    cause?: unknown;
    additionalInfo?: unknown;
    innerErrors?: unknown;
  };
  if (cause !== undefined && cause !== err) yield* errorsIn(cause, depth + 1);
  if (additionalInfo instanceof Error) yield* errorsIn(additionalInfo, depth + 1);
  if (innerErrors && typeof innerErrors === 'object')
    for (const inner of Object.values(innerErrors as Record<string, unknown>))
      yield* errorsIn(inner, depth + 1);
}

function cassandraProbeCode(err: unknown): SinkProbeErrorCode {
  for (const e of errorsIn(err)) {
    // What the driver raises when the server refuses the login (it wraps the server's
    // badCredentials answer) or asks for one the Sink does not give.
    if (e instanceof cassandra.errors.AuthenticationError) return SinkProbeErrorCode.AuthenticationFailed;
    if (e instanceof cassandra.errors.ResponseError) {
      const code = cassandraResponseCodes.get(e.code);
      if (code) return code;
    }
  }
  return SinkProbeErrorCode.ConnectionFailed;
}

function clickhouseProbeCode(err: unknown): SinkProbeErrorCode {
  // The client parses the server's code out of the error body for current servers only; for
  // servers whose body it does not recognise (18.16: "Code: 193, e.displayText() = ...") and which
  // send no X-ClickHouse-Exception-Code header, the code is read from the body's "Code: N" prefix,
  // the only place such a server states it (clickhouseErrorCode).
  const code = clickhouseErrorCode(err);
  return (code !== undefined && clickhouseCodes.get(code)) || SinkProbeErrorCode.ConnectionFailed;
}

/**
 * The SinkProbeError for what a probe step threw: which part of the Sink is wrong, decided by the
 * drivers' error classes and codes (a failed TLS handshake by Node's TLS codes, see tls.ts); any
 * other failure means the server could not be reached or could not answer.
 */
export function probeError(backend: 'scylla' | 'clickhouse', err: unknown): SinkProbeError {
  if (isSinkProbeError(err)) return err;
  const tls = tlsConfigError(backend, err);
  if (tls) return new SinkProbeError(SinkProbeErrorCode.TlsFailed, tls.message, { cause: err });
  // The classified error's message lists each host's answer on one line, without stack traces.
  if (backend === 'scylla')
    return new SinkProbeError(cassandraProbeCode(err), classifyCassandraError(err).message, { cause: err });
  return new SinkProbeError(clickhouseProbeCode(err), classifyClickHouseError(err).message, { cause: err });
}

function failure(kind: Backend, target: string, err: SinkProbeError, spec: SinkSpec): ProbeResult {
  const tlsOn = kind === 'scylla' ? !!spec.scylla?.tls?.enabled : /^https:/i.test(spec.clickhouse?.url ?? '');
  const unreachable = err.code === SinkProbeErrorCode.ConnectionFailed;
  // The webhook probe words its own hint; an EventSource's stream has no TLS of its own.
  const hint =
    unreachable && (kind === 'scylla' || kind === 'clickhouse')
      ? plaintextResetHint(kind, tlsOn, err.cause)
      : undefined;
  return {
    ok: false,
    kind,
    target,
    reason: unreachable ? 'Unreachable' : 'Misconfigured',
    code: err.code,
    // Server error texts end with a newline, which has no place in a condition's message.
    message: hint ? `${err.message.trim()} (${hint})` : err.message.trim(),
  };
}

/** Options that cannot work (TLS settings that contradict each other, a bad URL) are the spec's fault. */
function invalidSpec(err: unknown): SinkProbeError {
  return new SinkProbeError(SinkProbeErrorCode.InvalidSpec, errorMessage(err), { cause: err });
}

const tableNotFound = (target: string) =>
  new SinkProbeError(
    SinkProbeErrorCode.TableNotFound,
    `table ${target} does not exist (set manageSchema to create it)`,
  );

/** A column check that failed once the table is known to exist reports a column that differs. */
function schemaMismatch(err: unknown): unknown {
  return isSinkConfigError(err)
    ? new SinkProbeError(SinkProbeErrorCode.SchemaMismatch, err.message, { cause: err })
    : err;
}

async function checkCassandraTable(
  client: cassandra.Client,
  spec: NonNullable<SinkSpec['scylla']>,
  columns: NonNullable<SinkSpec['columns']>,
): Promise<void> {
  // A keyspace or table that does not exist has no rows in system_schema.columns.
  if ((await liveCqlColumns(client, spec)).size === 0) throw tableNotFound(`${spec.keyspace}.${spec.table}`);
  await checkCassandraSchema(client, spec, columns).catch((err: unknown) => {
    throw schemaMismatch(err);
  });
}

async function checkClickHouseTable(
  client: ClickHouseClient,
  spec: NonNullable<SinkSpec['clickhouse']>,
  columns: NonNullable<SinkSpec['columns']>,
  version: ServerVersion,
): Promise<void> {
  // A database or table that does not exist has no rows in system.columns.
  if ((await liveChColumns(client, spec)).size === 0)
    throw tableNotFound(`${spec.database ?? 'default'}.${spec.table}`);
  await checkClickHouseSchema(client, spec, columns, version).catch((err: unknown) => {
    throw schemaMismatch(err);
  });
}

/** What probing an eventSource Sink needs: the operator's JetStream manager and the target stream. */
export interface ProbeOptions {
  eventSource?: { jsm: JetStreamManager; target: EventSourceTarget };
}

/**
 * Connects with the credentials, reads the server version and checks the table's columns; for a
 * webhook, resolves and connects without sending; for an EventSource, checks its stream exists.
 */
export async function probeSink(
  spec: SinkSpec,
  credentials?: SinkCredentials,
  opts: ProbeOptions = {},
): Promise<ProbeResult> {
  let kind: Backend;
  try {
    kind = backendOf(spec);
  } catch (err) {
    return {
      ok: false,
      kind: 'scylla',
      target: '',
      reason: 'InvalidSpec',
      code: SinkProbeErrorCode.InvalidSpec,
      message: errorMessage(err),
    };
  }
  const target = sinkTarget(spec);
  const columns = spec.columns ?? [];
  if (kind === 'http' || kind === 'eventSource') {
    try {
      let message: string;
      if (kind === 'http') message = await probeHttp(spec.http!, credentials);
      else if (opts.eventSource)
        message = await probeEventSourceStream(opts.eventSource.jsm, opts.eventSource.target);
      else throw new SinkProbeError(SinkProbeErrorCode.InvalidSpec, 'probing an eventSource Sink needs NATS');
      return { ok: true, kind, target, reason: 'Reachable', message };
    } catch (err) {
      return failure(kind, target, isSinkProbeError(err) ? err : invalidSpec(err), spec);
    }
  }
  if (kind === 'scylla') {
    let client: cassandra.Client;
    try {
      client = cassandraClient(spec.scylla!, credentials, { applicationName: 'eventrunner-probe' });
    } catch (err) {
      return failure(kind, target, invalidSpec(err), spec);
    }
    try {
      await client.connect();
      const rs = await client.execute('SELECT release_version FROM system.local');
      const version = String(rs.first()?.get('release_version') ?? '');
      await checkCassandraTable(client, spec.scylla!, columns);
      const warning = await cassandraKeyWarning(client, spec.scylla!);
      return {
        ok: true,
        kind,
        target,
        reason: 'Reachable',
        message: `Cassandra ${version}`,
        serverVersion: version,
        ...(warning ? { warning } : {}),
      };
    } catch (err) {
      return failure(kind, target, probeError(kind, err), spec);
    } finally {
      await client.shutdown().catch(() => undefined);
    }
  }
  let client: ClickHouseClient;
  try {
    client = clickhouseClient(spec.clickhouse!, credentials, { applicationName: 'eventrunner-probe' });
  } catch (err) {
    return failure(kind, target, invalidSpec(err), spec);
  }
  try {
    const version = await serverVersion(client);
    await checkClickHouseTable(client, spec.clickhouse!, columns, version);
    const warning = await clickhouseKeyWarning(client, spec.clickhouse!);
    return {
      ok: true,
      kind,
      target,
      reason: 'Reachable',
      message: `ClickHouse ${version.text}`,
      serverVersion: version.text,
      ...(warning ? { warning } : {}),
    };
  } catch (err) {
    return failure(kind, target, probeError(kind, err), spec);
  } finally {
    await client.close().catch(() => undefined);
  }
}

/**
 * Creates the keyspace/database and table when missing and adds missing typed columns. Returns
 * the actions taken ([] when the schema already matched). Throws SinkError.
 */
export async function ensureSchema(spec: SinkSpec, credentials?: SinkCredentials): Promise<string[]> {
  const kind = backendOf(spec);
  const columns = spec.columns ?? [];
  if (kind === 'http' || kind === 'eventSource') return [];
  if (kind === 'scylla') {
    const client = cassandraClient(spec.scylla!, credentials, { applicationName: 'eventrunner-schema' });
    try {
      await client.connect();
      return await ensureCassandraSchema(client, spec.scylla!, columns);
    } catch (err) {
      throw isSinkConfigError(err) ? err : classifyCassandraError(err);
    } finally {
      await client.shutdown().catch(() => undefined);
    }
  }
  const client = clickhouseClient(spec.clickhouse!, credentials, { applicationName: 'eventrunner-schema' });
  try {
    return await ensureClickHouseSchema(client, spec.clickhouse!, columns, await serverVersion(client));
  } catch (err) {
    throw isSinkConfigError(err) ? err : classifyClickHouseError(err);
  } finally {
    await client.close().catch(() => undefined);
  }
}

export type OpenSinkOptions = CassandraSinkOptions &
  ClickHouseSinkOptions & {
    /** eventSource Sinks: the processor's NATS connection and where to publish. */
    /** eventSource Sinks: the connection, the target, and the inbox prefix acknowledgements come to. */
    nats?: { nc: NatsConnection; target: EventSourceTarget; inboxPrefix?: string | undefined };
    /** Webhook and eventSource Sinks: told every request's outcome and duration. */
    observe?: RequestObserver;
  };

/** Opens a writing sink (creating the schema first when the spec's manageSchema says so). */
export async function openSink(
  spec: SinkSpec,
  credentials?: SinkCredentials,
  opts: OpenSinkOptions = {},
): Promise<Sink> {
  switch (backendOf(spec)) {
    case 'scylla':
      return openCassandraSink(spec.scylla!, spec.columns ?? [], credentials, opts);
    case 'clickhouse':
      return openClickHouseSink(spec.clickhouse!, spec.columns ?? [], credentials, opts);
    case 'http':
      return openHttpSink(spec.http!, credentials, {
        ...(opts.observe ? { observe: opts.observe } : {}),
        ...(opts.applicationName ? { applicationName: opts.applicationName } : {}),
      });
    case 'eventSource':
      if (!opts.nats)
        throw new SinkConfigError(
          'an eventSource Sink needs the NATS connection and the target stream and subject prefix',
        );
      return new EventSourceSink(opts.nats.nc, opts.nats.target, {
        ...(opts.observe ? { observe: opts.observe } : {}),
        ...(opts.nats.inboxPrefix ? { inboxPrefix: opts.nats.inboxPrefix } : {}),
      });
  }
}

// What the operator calls for a Sink: `probeSink` checks connection, credentials and table;
// `ensureSchema` creates what `manageSchema` asks for. Both open and close their own connection.
import { cassandraClient, classifyCassandraError } from './cassandra-client.js';
import {
  checkCassandraSchema,
  ensureCassandraSchema,
  openCassandraSink,
  type CassandraSinkOptions,
} from './cassandra.js';
import {
  checkClickHouseSchema,
  classifyClickHouseError,
  clickhouseClient,
  ensureClickHouseSchema,
  openClickHouseSink,
  serverVersion,
  type ClickHouseSinkOptions,
} from './clickhouse.js';
import {
  SinkConfigError,
  errorMessage,
  isSinkConfigError,
  isSinkTlsError,
  type SinkError,
} from './errors.js';
import { plaintextResetHint } from './tls.js';
import type { Sink, SinkCredentials, SinkSpec } from './types.js';

export type ProbeReason = 'Reachable' | 'Unreachable' | 'Misconfigured' | 'InvalidSpec';

export interface ProbeResult {
  ok: boolean;
  kind: 'scylla' | 'clickhouse';
  /** keyspace.table or database.table. */
  target: string;
  /** CamelCase, for a condition's reason. */
  reason: ProbeReason;
  message: string;
  /** The failure was the TLS handshake (certificate, CA bundle, TLS on one side only). */
  tlsFailed?: boolean;
  serverVersion?: string;
}

function backendOf(spec: SinkSpec): 'scylla' | 'clickhouse' {
  if (spec.scylla && !spec.clickhouse) return 'scylla';
  if (spec.clickhouse && !spec.scylla) return 'clickhouse';
  throw new SinkConfigError('a Sink needs exactly one of scylla or clickhouse');
}

export function sinkTarget(spec: SinkSpec): string {
  return spec.scylla
    ? `${spec.scylla.keyspace}.${spec.scylla.table}`
    : `${spec.clickhouse?.database ?? 'default'}.${spec.clickhouse?.table ?? ''}`;
}

function failure(kind: ProbeResult['kind'], target: string, err: SinkError, spec: SinkSpec): ProbeResult {
  const tlsOn = kind === 'scylla' ? !!spec.scylla?.tls?.enabled : /^https:/i.test(spec.clickhouse?.url ?? '');
  const hint = isSinkConfigError(err) ? undefined : plaintextResetHint(kind, tlsOn, err);
  return {
    ok: false,
    kind,
    target,
    reason: isSinkConfigError(err) ? 'Misconfigured' : 'Unreachable',
    message: hint ? `${err.message} (${hint})` : err.message,
    ...(isSinkTlsError(err) ? { tlsFailed: true } : {}),
  };
}

/** Connects with the credentials, reads the server version and checks the table's columns. */
export async function probeSink(spec: SinkSpec, credentials?: SinkCredentials): Promise<ProbeResult> {
  let kind: ProbeResult['kind'];
  try {
    kind = backendOf(spec);
  } catch (err) {
    return { ok: false, kind: 'scylla', target: '', reason: 'InvalidSpec', message: errorMessage(err) };
  }
  const target = sinkTarget(spec);
  const columns = spec.columns ?? [];
  if (kind === 'scylla') {
    let client: ReturnType<typeof cassandraClient>;
    try {
      client = cassandraClient(spec.scylla!, credentials, { applicationName: 'eventrunner-probe' });
    } catch (err) {
      // Options that cannot work (TLS settings that contradict each other) are the spec's fault.
      return failure(kind, target, isSinkConfigError(err) ? err : classifyCassandraError(err), spec);
    }
    try {
      await client.connect();
      const rs = await client.execute('SELECT release_version FROM system.local');
      const version = String(rs.first()?.get('release_version') ?? '');
      await checkCassandraSchema(client, spec.scylla!, columns);
      return {
        ok: true,
        kind,
        target,
        reason: 'Reachable',
        message: `Cassandra ${version}`,
        serverVersion: version,
      };
    } catch (err) {
      return failure(kind, target, isSinkConfigError(err) ? err : classifyCassandraError(err), spec);
    } finally {
      await client.shutdown().catch(() => undefined);
    }
  }
  let client: ReturnType<typeof clickhouseClient>;
  try {
    client = clickhouseClient(spec.clickhouse!, credentials, { applicationName: 'eventrunner-probe' });
  } catch (err) {
    return failure(kind, target, isSinkConfigError(err) ? err : classifyClickHouseError(err), spec);
  }
  try {
    const version = await serverVersion(client);
    await checkClickHouseSchema(client, spec.clickhouse!, columns, version);
    return {
      ok: true,
      kind,
      target,
      reason: 'Reachable',
      message: `ClickHouse ${version.text}`,
      serverVersion: version.text,
    };
  } catch (err) {
    return failure(kind, target, isSinkConfigError(err) ? err : classifyClickHouseError(err), spec);
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

export type OpenSinkOptions = CassandraSinkOptions & ClickHouseSinkOptions;

/** Opens a writing sink (creating the schema first when the spec's manageSchema says so). */
export async function openSink(
  spec: SinkSpec,
  credentials?: SinkCredentials,
  opts: OpenSinkOptions = {},
): Promise<Sink> {
  return backendOf(spec) === 'scylla'
    ? openCassandraSink(spec.scylla!, spec.columns ?? [], credentials, opts)
    : openClickHouseSink(spec.clickhouse!, spec.columns ?? [], credentials, opts);
}

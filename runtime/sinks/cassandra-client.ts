// Building a cassandra-driver client from a Sink spec, and turning driver errors into sink errors.
import cassandra from 'cassandra-driver';
import {
  RowRejectedError,
  SinkConfigError,
  TransientSinkError,
  errorMessage,
  type SinkError,
} from './errors.js';
import { cassandraTlsOptions, tlsConfigError } from './tls.js';
import type { ScyllaSpec, SinkCredentials } from './types.js';

const { responseErrorCodes: rc } = cassandra.types;

export function consistencyOf(name: ScyllaSpec['consistency']): number {
  const key = (name ?? 'LOCAL_QUORUM')
    .toLowerCase()
    .replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()) as keyof typeof cassandra.types.consistencies;
  const value = cassandra.types.consistencies[key];
  if (value === undefined) throw new SinkConfigError(`unknown consistency level ${name}`);
  return value;
}

/**
 * The port the contact points share, if they name one: the driver reaches the peers it discovers
 * (system.peers has no port) on protocolOptions.port, 9042 unless set, so a cluster on another
 * port would be reached only through its contact points.
 */
export function sharedPort(contactPoints: readonly string[]): number | undefined {
  const ports = new Set(contactPoints.map((cp) => /^(?:\[[^\]]+\]|[^:[\]]+):(\d+)$/.exec(cp.trim())?.[1]));
  const [port] = ports;
  return ports.size === 1 && port !== undefined ? Number(port) : undefined;
}

export interface CassandraClientOptions {
  /** Application name the server shows for the connection. */
  applicationName?: string;
  connectTimeoutMs?: number;
}

export function cassandraClient(
  spec: ScyllaSpec,
  credentials: SinkCredentials | undefined,
  opts: CassandraClientOptions = {},
): cassandra.Client {
  const sslOptions = cassandraTlsOptions(spec, credentials?.ca);
  const port = sharedPort(spec.contactPoints);
  return new cassandra.Client({
    contactPoints: spec.contactPoints,
    ...(port !== undefined ? { protocolOptions: { port } } : {}),
    localDataCenter: spec.localDataCenter,
    applicationName: opts.applicationName ?? 'eventrunner',
    // Credentials may carry only a CA: no username, no authentication.
    ...(credentials?.username !== undefined
      ? {
          authProvider: new cassandra.auth.PlainTextAuthProvider(
            credentials.username,
            credentials.password ?? '',
          ),
        }
      : {}),
    ...(sslOptions ? { sslOptions } : {}),
    socketOptions: { connectTimeout: opts.connectTimeoutMs ?? 5000, readTimeout: 12_000 },
    // Reconnect quickly after an outage so the consumer's retries find the node back.
    policies: {
      reconnection: new cassandra.policies.reconnection.ExponentialReconnectionPolicy(200, 5000, false),
    },
    queryOptions: { consistency: consistencyOf(spec.consistency), prepare: true, isIdempotent: true },
  });
}

function isResponseError(err: unknown): err is Error & { code: number } {
  return err instanceof cassandra.errors.ResponseError;
}

const firstLine = (s: string) => s.split('\n', 1)[0]!.trim();

/**
 * What every host answered, one line each: the driver's own message formats the first host's
 * error with its stack trace, which has no place in a Sink's status or a log line.
 */
function noHostMessage(err: InstanceType<typeof cassandra.errors.NoHostAvailableError>): string {
  const inner = Object.entries((err.innerErrors ?? {}) as Record<string, unknown>);
  if (inner.length === 0) return firstLine(err.message);
  return `no host could be reached (${inner.map(([host, e]) => `${host}: ${firstLine(errorMessage(e))}`).join('; ')})`;
}

/**
 * One failed single-row upsert. Timeouts, unavailable replicas, overload and lost connections are
 * transient; a value the server calls invalid rejects the row; auth and schema faults are the
 * sink's configuration, and so is a failed TLS handshake. Driver-side encoding errors (TypeError)
 * are the row's fault too.
 */
export function classifyCassandraError(err: unknown): SinkError {
  const tls = tlsConfigError('scylla', err);
  if (tls) return tls;
  const message = errorMessage(err);
  if (isResponseError(err)) {
    switch (err.code) {
      case rc.invalid:
        // An unknown table/keyspace also reports `invalid`; that is the sink's problem, not the row's.
        if (
          /unconfigured table|keyspace .* does not exist|undefined column|unknown identifier/i.test(message)
        )
          return new SinkConfigError(`cassandra: ${message}`, { cause: err });
        return new RowRejectedError(`cassandra rejected the row: ${message}`, { cause: err });
      case rc.badCredentials:
      case rc.unauthorized:
      case rc.syntaxError:
      case rc.configError:
        return new SinkConfigError(`cassandra: ${message}`, { cause: err });
      default:
        return new TransientSinkError(`cassandra: ${message}`, { cause: err });
    }
  }
  if (err instanceof cassandra.errors.NoHostAvailableError) {
    const inner = Object.values(err.innerErrors ?? {}) as unknown[];
    const hosts = noHostMessage(err);
    // Every host refused the login: the driver's AuthenticationError, or the server's bad-credentials code.
    const refused = (e: unknown) =>
      e instanceof cassandra.errors.AuthenticationError ||
      (e instanceof cassandra.errors.ResponseError &&
        e.code === cassandra.types.responseErrorCodes.badCredentials);
    if (inner.length && inner.every(refused))
      return new SinkConfigError(`cassandra: ${hosts}`, { cause: err });
    return new TransientSinkError(`cassandra unreachable: ${hosts}`, { cause: err });
  }
  if (err instanceof TypeError || err instanceof RangeError)
    return new RowRejectedError(`cassandra cannot encode the row: ${message}`, { cause: err });
  return new TransientSinkError(`cassandra: ${message}`, { cause: err });
}

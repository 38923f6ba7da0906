// TLS towards the databases: what a Sink's `tls` block (and, for ClickHouse, the URL's scheme)
// means for each driver, and how a failed handshake reads to the user. Pure functions, so the
// mapping is tested without a server.
//
// Scylla/Cassandra: `tls.enabled` switches TLS on. ClickHouse: the URL's scheme does (https://),
// and `tls.enabled` must agree with it. Webhooks (http): the URL's scheme alone. Either way the server certificate is verified against
// `tls.caSecretRef` when given, else against the system roots, and `tls.insecureSkipVerify` turns
// verification (chain and host name) off.
import { Agent, type AgentOptions } from 'node:https';
import type { Duplex } from 'node:stream';
import type { ConnectionOptions } from 'node:tls';
import { SinkConfigError, SinkTlsError, errorMessage } from './errors.js';
import type { ClickHouseSpec, ScyllaSpec } from './types.js';

/** TLS options for cassandra-driver's `sslOptions`, or undefined for a plaintext connection. */
export function cassandraTlsOptions(spec: ScyllaSpec, ca: string | undefined): ConnectionOptions | undefined {
  const tls = spec.tls ?? {};
  if (!tls.enabled) {
    // A CA or skip-verify without enabled would silently connect in plaintext.
    if (ca !== undefined || tls.insecureSkipVerify)
      throw new SinkConfigError(
        `spec.scylla.tls.enabled is false, but tls.${ca !== undefined ? 'caSecretRef' : 'insecureSkipVerify'} is set: ` +
          'set spec.scylla.tls.enabled: true to connect with TLS, or remove the TLS settings',
      );
    return undefined;
  }
  return {
    // The driver's own default is not to verify; a Sink verifies unless told otherwise.
    rejectUnauthorized: !tls.insecureSkipVerify,
    ...(ca !== undefined ? { ca: [ca] } : {}),
  };
}

/**
 * Options of the https.Agent the ClickHouse client uses, or undefined for an http:// URL. The
 * agent (not the client's own `tls` option) carries the TLS settings so that skip-verify works and
 * credentials go as Basic auth over both schemes.
 */
export function clickhouseAgentOptions(
  spec: ClickHouseSpec,
  ca: string | undefined,
  maxSockets: number,
): AgentOptions | undefined {
  const tls = spec.tls ?? {};
  if (!/^https:/i.test(spec.url)) {
    const set = [
      tls.enabled && 'tls.enabled',
      ca !== undefined && 'tls.caSecretRef',
      tls.insecureSkipVerify && 'tls.insecureSkipVerify',
    ].filter(Boolean);
    if (set.length)
      throw new SinkConfigError(
        `spec.clickhouse.${set.join(', ')} ${set.length > 1 ? 'ask' : 'asks'} for TLS, but spec.clickhouse.url ` +
          `${spec.url} is http://: use https:// and the server's https_port (usually 8443)`,
      );
    return undefined;
  }
  return {
    keepAlive: true,
    maxSockets,
    rejectUnauthorized: !tls.insecureSkipVerify,
    ...(ca !== undefined ? { ca } : {}),
  };
}

/** Node's code for a TLS handshake that did not finish in time (its server side uses it too). */
export const HANDSHAKE_TIMEOUT = 'ERR_TLS_HANDSHAKE_TIMEOUT';

/**
 * An https.Agent whose connections fail when the TLS handshake has not finished `handshakeMs`
 * after the TCP connection opened. A plaintext HTTP port can take a ClientHello for the start of
 * a request line and wait for the rest (ClickHouse does so for some ClientHellos, until its
 * receive timeout): without this the request would only end at the client's request timeout, as
 * a timeout that names no cause.
 */
export class HandshakeTimeoutAgent extends Agent {
  constructor(
    options: AgentOptions,
    private readonly handshakeMs: number,
  ) {
    super(options);
  }

  override createConnection(...args: Parameters<Agent['createConnection']>): Duplex {
    const socket = super.createConnection(...args) as Duplex;
    let timer: NodeJS.Timeout | undefined;
    socket.once('connect', () => {
      timer = setTimeout(() => {
        const err = new Error(`the TLS handshake did not finish within ${this.handshakeMs / 1000}s`);
        socket.destroy(Object.assign(err, { code: HANDSHAKE_TIMEOUT }));
      }, this.handshakeMs);
      timer.unref();
    });
    const stop = () => clearTimeout(timer);
    socket.once('secureConnect', stop);
    socket.once('close', stop);
    return socket;
  }
}

// OpenSSL verification results Node reports as `code` when the chain is not trusted.
const UNTRUSTED = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_SIGNATURE_FAILURE',
  'INVALID_CA',
  'INVALID_PURPOSE',
  'PATH_LENGTH_EXCEEDED',
]);
const EXPIRED = new Set(['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID']);
const HOSTNAME = new Set(['ERR_TLS_CERT_ALTNAME_INVALID', 'HOSTNAME_MISMATCH']);

function codeOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** The errors inside `err`: itself, its causes, and a driver's per-host inner errors. */
function* errorTree(err: unknown, depth = 0): Generator<unknown> {
  if (err === null || err === undefined || depth > 5) return;
  yield err;
  if (typeof err !== 'object') return;
  const { cause, innerErrors } = err as { cause?: unknown; innerErrors?: unknown };
  if (cause !== undefined && cause !== err) yield* errorTree(cause, depth + 1);
  if (innerErrors && typeof innerErrors === 'object')
    for (const inner of Object.values(innerErrors as Record<string, unknown>))
      yield* errorTree(inner, depth + 1);
}

/** OpenSSL's own message is a long internal string ("...:SSL routines:func:reason:file:line:"). */
function readableReason(err: unknown): string {
  const reason = (err as { reason?: unknown }).reason;
  if (typeof reason === 'string') return reason;
  const message = errorMessage(err);
  return /SSL routines:[^:]*:([^:]+):/.exec(message)?.[1] ?? message.split('\n')[0]!.trim();
}

type Backend = 'scylla' | 'clickhouse' | 'http';
const where = (b: Backend) => (b === 'scylla' ? 'spec.scylla.contactPoints' : `spec.${b}.url`);
const label = { scylla: 'cassandra', clickhouse: 'clickhouse', http: 'http' } as const;

function advice(backend: Backend, code: string): string | undefined {
  const tls = `spec.${backend}.tls`;
  if (UNTRUSTED.has(code))
    return (
      `the server's certificate is not signed by a CA the Sink trusts: set ${tls}.caSecretRef to a ` +
      'Secret holding the CA that signed it (without caSecretRef the system roots are used)'
    );
  if (EXPIRED.has(code))
    return "the server's certificate is outside its validity period: renew it on the server";
  if (HOSTNAME.has(code))
    return `the server's certificate does not name the host in ${where(backend)}: connect by a name or IP address the certificate lists`;
  if (code.startsWith('ERR_SSL_') || code === 'EPROTO' || code === HANDSHAKE_TIMEOUT)
    return backend === 'scylla'
      ? `the server did not answer with TLS: point ${where(backend)} at its TLS port, or set ${tls}.enabled: false`
      : backend === 'http'
        ? `the server did not answer with TLS: point ${where(backend)} at its TLS port, or use http://`
        : `the server did not answer with TLS: point ${where(backend)} at its https_port, or use http://`;
  return undefined;
}

/**
 * A SinkConfigError naming the certificate problem and the Sink field that fixes it when `err`
 * (or one of its causes) is a failed TLS handshake; undefined for any other error.
 */
export function tlsConfigError(backend: Backend, err: unknown): SinkTlsError | undefined {
  for (const e of errorTree(err)) {
    const code = codeOf(e);
    const what = code && advice(backend, code);
    if (!what) continue;
    const kind =
      code.startsWith('ERR_SSL_') || code === 'EPROTO' || code === HANDSHAKE_TIMEOUT
        ? 'TLS handshake'
        : 'TLS certificate';
    const detail = readableReason(e);
    return new SinkTlsError(`${label[backend]}: ${kind} problem: ${what} (${detail}; ${code})`, {
      cause: err,
    });
  }
  return undefined;
}

const RESET = new Set(['ECONNRESET', 'EPIPE']);

/**
 * A TLS-only port resets a plaintext client without a word, which looks like any dropped
 * connection. For a plaintext Sink whose connection was reset this says what to check; it stays a
 * hint because a server going away mid-request reads the same.
 */
export function plaintextResetHint(backend: Backend, tlsOn: boolean, err: unknown): string | undefined {
  if (tlsOn) return undefined;
  for (const e of errorTree(err)) {
    const code = codeOf(e);
    if ((code && RESET.has(code)) || /socket hang up/i.test(errorMessage(e)))
      return backend === 'scylla'
        ? 'the server reset the connection: if this port only takes TLS, set spec.scylla.tls.enabled: true'
        : backend === 'http'
          ? 'the server reset the connection: if this port only takes TLS, use an https:// URL'
          : "the server reset the connection: if this is the server's https_port, use an https:// URL";
  }
  return undefined;
}

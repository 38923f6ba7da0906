// The probe of a webhook Sink: the URL's host resolves, a TCP connection opens and, for https://,
// the TLS handshake succeeds with the Sink's CA bundle — without sending a request, so no event
// and nothing the endpoint would count reaches it. Authentication cannot be checked this way; a
// rejected token shows up as 401/403 dead letters, whose reasons carry the status.
import { lookup } from 'node:dns/promises';
import { isIP, connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { parseDuration } from '../../api/units.js';
import { SinkProbeError, SinkProbeErrorCode, errorMessage } from './errors.js';
import { httpTarget } from './http.js';
import { HANDSHAKE_TIMEOUT, plaintextResetHint, tlsConfigError } from './tls.js';
import type { HttpSpec, SinkCredentials } from './types.js';

/** Longest a probe waits for the connection (and handshake). */
const PROBE_TIMEOUT_MS = 10_000;

function codeOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** Resolves with a description of the connection made, or throws a SinkProbeError. */
export async function probeHttp(spec: HttpSpec, credentials: SinkCredentials | undefined): Promise<string> {
  let url: URL;
  try {
    url = new URL(spec.url);
  } catch (err) {
    throw new SinkProbeError(
      SinkProbeErrorCode.InvalidSpec,
      `spec.http.url is not a URL: ${errorMessage(err)}`,
    );
  }
  const secure = url.protocol === 'https:';
  if (!secure && (credentials?.ca !== undefined || spec.tls?.insecureSkipVerify))
    throw new SinkProbeError(
      SinkProbeErrorCode.InvalidSpec,
      `spec.http.tls asks for TLS, but spec.http.url ${httpTarget(spec.url)} is http://: use an https:// URL`,
    );
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = Number(url.port || (secure ? 443 : 80));
  const where = `${url.hostname}:${port}`;
  let address = host;
  if (!isIP(host)) {
    try {
      address = (await lookup(host)).address;
    } catch (err) {
      throw new SinkProbeError(
        SinkProbeErrorCode.ConnectionFailed,
        `cannot resolve ${host} (spec.http.url): ${codeOf(err) ?? errorMessage(err)}`,
        { cause: err },
      );
    }
  }
  const timeoutMs = Math.min(parseDuration(spec.timeout ?? '10s'), PROBE_TIMEOUT_MS);
  try {
    const protocol = await connectOnce(address, port, timeoutMs, secure, {
      servername: isIP(host) ? undefined : host,
      ca: credentials?.ca,
      rejectUnauthorized: !spec.tls?.insecureSkipVerify,
    });
    return secure
      ? `connected to ${where} with ${protocol}${spec.tls?.insecureSkipVerify ? ' (certificate not verified)' : ', certificate verified'}; no event sent`
      : `connected to ${where}; no event sent`;
  } catch (err) {
    const tls = tlsConfigError('http', err);
    if (tls) throw new SinkProbeError(SinkProbeErrorCode.TlsFailed, tls.message, { cause: err });
    const hint = plaintextResetHint('http', secure, err);
    throw new SinkProbeError(
      SinkProbeErrorCode.ConnectionFailed,
      `cannot connect to ${where}: ${errorMessage(err)}${hint ? ` (${hint})` : ''}`,
      { cause: err },
    );
  }
}

/** Opens one connection (TLS when `secure`), closes it, and resolves with the protocol spoken. */
function connectOnce(
  address: string,
  port: number,
  timeoutMs: number,
  secure: boolean,
  tls: { servername: string | undefined; ca: string | undefined; rejectUnauthorized: boolean },
): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    let socket: Socket;
    let tcpUp = false;
    const done = (err?: Error) => {
      clearTimeout(timer);
      const protocol = secure
        ? ((socket as { getProtocol?: () => string | null }).getProtocol?.() ?? 'TLS')
        : 'tcp';
      socket.destroy();
      if (err) reject(err);
      else resolve(protocol);
    };
    const timer = setTimeout(
      () =>
        done(
          Object.assign(new Error(`no connection within ${timeoutMs / 1000}s`), {
            // Connected, but no handshake: a plaintext port waiting for more of a "request".
            code: secure && tcpUp ? HANDSHAKE_TIMEOUT : 'ETIMEDOUT',
          }),
        ),
      timeoutMs,
    );
    if (secure) {
      socket = tlsConnect({
        host: address,
        port,
        ...(tls.servername ? { servername: tls.servername } : {}),
        ...(tls.ca !== undefined ? { ca: tls.ca } : {}),
        rejectUnauthorized: tls.rejectUnauthorized,
        ALPNProtocols: ['http/1.1'],
      });
      socket.once('connect', () => (tcpUp = true));
      socket.once('secureConnect', () => done());
    } else {
      socket = netConnect({ host: address, port });
      socket.once('connect', () => done());
    }
    socket.once('error', (err) => done(err));
  });
}

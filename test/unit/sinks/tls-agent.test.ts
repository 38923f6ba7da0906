// HandshakeTimeoutAgent against plain TCP servers on loopback: one that takes the ClientHello and
// never answers (as a plaintext HTTP port can), one that answers with HTTP. The first ends with the
// handshake-timeout code the Sink error mapping reads; the second fails at once, as before.
import { once } from 'node:events';
import { request } from 'node:https';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { HANDSHAKE_TIMEOUT, HandshakeTimeoutAgent, tlsConfigError } from '../../../runtime/sinks/tls.js';

const servers: Server[] = [];
const sockets = new Set<Socket>();
afterEach(async () => {
  for (const s of sockets) s.destroy();
  sockets.clear();
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

async function tcpServer(onData: (socket: Socket) => void): Promise<number> {
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.once('data', () => onData(socket));
  });
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

/** GET / over https through the agent; resolves with the request's error and how long it took. */
function failedGet(port: number, agent: HandshakeTimeoutAgent): Promise<{ err: Error; ms: number }> {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/', agent }, () => reject(new Error('answered')));
    req.on('error', (err) => resolve({ err, ms: performance.now() - start }));
    req.end();
  });
}

describe('HandshakeTimeoutAgent', () => {
  it('fails a connection whose TLS handshake does not finish in time, with a code the mapping reads', async () => {
    const port = await tcpServer(() => undefined);
    const agent = new HandshakeTimeoutAgent({ keepAlive: true }, 300);
    const { err, ms } = await failedGet(port, agent);
    agent.destroy();
    expect((err as NodeJS.ErrnoException).code).toBe(HANDSHAKE_TIMEOUT);
    expect(err.message).toBe('the TLS handshake did not finish within 0.3s');
    expect(ms).toBeGreaterThanOrEqual(290);
    expect(tlsConfigError('clickhouse', new Error('request failed', { cause: err }))?.message).toBe(
      'clickhouse: TLS handshake problem: the server did not answer with TLS: point spec.clickhouse.url at ' +
        'its https_port, or use http:// (the TLS handshake did not finish within 0.3s; ERR_TLS_HANDSHAKE_TIMEOUT)',
    );
  });

  it('leaves a server that answers in plaintext to fail at once', async () => {
    const port = await tcpServer((socket) => socket.end('HTTP/1.1 400 Bad Request\r\n\r\n'));
    const agent = new HandshakeTimeoutAgent({ keepAlive: true }, 60_000);
    const { err } = await failedGet(port, agent);
    agent.destroy();
    expect((err as NodeJS.ErrnoException).code).not.toBe(HANDSHAKE_TIMEOUT);
    expect(tlsConfigError('clickhouse', err)?.message).toMatch(
      /TLS handshake problem: the server did not answer/,
    );
  });
});

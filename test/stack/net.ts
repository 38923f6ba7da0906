// Loopback ports and small probes shared by the server starters.
import { createServer } from 'node:net';
import http from 'node:http';
import https from 'node:https';

/**
 * Ports handed out by this process. A port is free only until its server binds it, and servers
 * start side by side: without this, two of them can be handed the same port (the kernel readily
 * gives a just-released ephemeral port out again) and the second fails to bind, or a Cassandra
 * node's peers talk to a NATS server that took its storage port.
 */
const handedOut = new Set<number>();

/** A port that was free on 127.0.0.1 a moment ago and that this process has not handed out before. */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const srv = createServer();
      srv.unref();
      srv.on('error', reject);
      srv.listen(0, '127.0.0.1', () => {
        const addr = srv.address();
        const port = typeof addr === 'object' && addr ? addr.port : 0;
        srv.close(() => resolve(port));
      });
    });
    if (handedOut.has(port)) continue;
    handedOut.add(port);
    return port;
  }
}

/**
 * GET a loopback URL; resolves status and body, rejects on connection (and, for https, TLS)
 * errors. An https URL trusts only `ca`.
 */
export async function httpGet(
  url: string,
  timeoutMs = 2000,
  ca?: Buffer,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const onResponse = (res: http.IncomingMessage) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    };
    const req = url.startsWith('https:')
      ? https.get(url, { ca, timeout: timeoutMs }, onResponse)
      : http.get(url, { timeout: timeoutMs }, onResponse);
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', reject);
  });
}

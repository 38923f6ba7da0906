// The webhook endpoint of the outputs benchmark, as a process of its own so that its CPU is not
// the bench's: a node `http` server that answers 204 at once and counts the events it got (one per
// binary-mode request, the array's length in batch mode). `GET /count` answers {"events": n}.
// Prints {"port": n} on its first stdout line.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

let events = 0;
const server = createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/count') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ events }));
    return;
  }
  const batch = (req.headers['content-type'] ?? '').startsWith('application/cloudevents-batch+json');
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => {
    if (batch) chunks.push(c);
  });
  req.on('end', () => {
    events += batch ? (JSON.parse(Buffer.concat(chunks).toString()) as unknown[]).length : 1;
    res.writeHead(204);
    res.end();
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));

// The reference for `http-single`: a bare node:http server that publishes each structured-mode
// event the way ingest does — the same async publisher, subject, headers and body, answered with
// 202 {id, duplicate} after JetStream's acknowledgement — and nothing else: no authentication, no
// attribute checks, no metrics, no publish window. bench/ingest/index.ts runs it as its own
// process; argv[2] is {natsUrl, stream, subjectPrefix, port} (JSON). It prints "ready" when
// listening and exits on SIGTERM.
import http from 'node:http';
import { connect } from '@nats-io/transport-node';
import { toNatsMessage, type CloudEvent } from '../../runtime/events/index.js';
import { JetStreamAsyncPublisher } from '../../runtime/ingest/jetstream-async.js';
import { eventHeaders } from '../../runtime/ingest/publish-headers.js';

const { natsUrl, stream, subjectPrefix, port } = JSON.parse(process.argv[2] ?? '{}') as {
  natsUrl: string;
  stream: string;
  subjectPrefix: string;
  port: number;
};
// The same client options as ingest's connection (runtime/common/nats.ts).
const nc = await connect({ servers: natsUrl, noAsyncTraces: true });
const publisher = new JetStreamAsyncPublisher(nc, 30_000);

function answer(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (d: Buffer) => chunks.push(d));
  req.on('end', () => {
    let event: CloudEvent;
    try {
      event = JSON.parse(Buffer.concat(chunks).toString('utf8')) as CloudEvent;
    } catch (err) {
      answer(res, 400, { error: 'invalid', message: (err as Error).message });
      return;
    }
    const m = toNatsMessage(event, subjectPrefix);
    publisher.publish(m.subject, m.body, eventHeaders(m.msgId, stream)).then(
      (ack) => answer(res, 202, { id: event.id, duplicate: ack.duplicate }),
      (err: unknown) => answer(res, 503, { error: 'unavailable', message: (err as Error).message }),
    );
  });
});
server.keepAliveTimeout = 65_000;
server.listen(port, '127.0.0.1', () => process.stdout.write('ready\n'));
process.once('SIGTERM', () => {
  server.closeAllConnections();
  server.close();
  publisher.close();
  void nc.close().then(() => process.exit(0));
});

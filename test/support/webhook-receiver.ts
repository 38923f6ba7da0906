// A real webhook endpoint for tests and benchmarks: a node `http` (or `https`) server that records
// every request it gets (the event ids in it, the headers, when it arrived) and answers as the
// test's `respond` says — 2xx, 404, 429 with Retry-After, 500, slowly, or by dropping the
// connection — per event id and attempt.
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';

export interface Delivery {
  /** Event ids in the request: ce-id in binary mode, `id` (or each element's) in the JSON. */
  ids: string[];
  /** Attempt number of the first id: 1 for the first request carrying it. */
  attempt: number;
  at: number;
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
  /** The status the receiver answered (0 when it dropped the connection). */
  status: number;
}

export interface Answer {
  status?: number;
  headers?: Record<string, string>;
  body?: string;
  /** Wait this long before answering. */
  delayMs?: number;
  /** Close the connection without answering. */
  drop?: boolean;
}

export type Respond = (ids: string[], attempt: number, req: IncomingMessage) => Answer;

export interface Receiver {
  url: string;
  deliveries: Delivery[];
  /** Requests per id, in arrival order. */
  attempts(id: string): Delivery[];
  /** Ids answered 2xx, with how many 2xx each got. */
  accepted(): Map<string, number>;
  setRespond(respond: Respond): void;
  /** Requests currently being answered. */
  inFlight(): number;
  maxInFlight(): number;
  close(): Promise<void>;
}

export interface ReceiverOptions {
  respond?: Respond;
  /** Serve TLS with this certificate and key (PEM files). */
  tls?: { certFile: string; keyFile: string };
  /** Keep no delivery records (benchmarks): only counts. */
  countOnly?: boolean;
}

function idsOf(req: IncomingMessage, body: Buffer): string[] {
  const ce = req.headers['ce-id'];
  if (typeof ce === 'string') return [ce];
  try {
    const v = JSON.parse(body.toString('utf8')) as unknown;
    const list = Array.isArray(v) ? v : [v];
    return list.map((e) => String((e as { id?: unknown }).id));
  } catch {
    return [];
  }
}

export async function startReceiver(opts: ReceiverOptions = {}): Promise<Receiver> {
  let respond: Respond = opts.respond ?? (() => ({ status: 200 }));
  const deliveries: Delivery[] = [];
  const byId = new Map<string, Delivery[]>();
  const okCount = new Map<string, number>();
  let inFlight = 0;
  let peak = 0;
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    inFlight++;
    peak = Math.max(peak, inFlight);
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
      const ids = idsOf(req, body);
      const attempt = (byId.get(ids[0] ?? '')?.length ?? 0) + 1;
      const answer = respond(ids, attempt, req);
      const status = answer.drop ? 0 : (answer.status ?? 200);
      if (!opts.countOnly) {
        const d: Delivery = {
          ids,
          attempt,
          at: Date.now(),
          method: req.method ?? '',
          path: req.url ?? '',
          headers: req.headers,
          body,
          status,
        };
        deliveries.push(d);
        for (const id of ids) {
          const list = byId.get(id) ?? [];
          list.push(d);
          byId.set(id, list);
        }
      }
      if (status >= 200 && status <= 299) for (const id of ids) okCount.set(id, (okCount.get(id) ?? 0) + 1);
      const send = () => {
        inFlight--;
        if (answer.drop) {
          req.socket.destroy();
          return;
        }
        res.writeHead(status, answer.headers ?? {});
        res.end(answer.body ?? '');
      };
      if (answer.delayMs) setTimeout(send, answer.delayMs);
      else send();
    });
  };
  const server = opts.tls
    ? createHttpsServer(
        { cert: readFileSync(opts.tls.certFile), key: readFileSync(opts.tls.keyFile) },
        handler,
      )
    : createHttpServer(handler);
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `${opts.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    deliveries,
    attempts: (id) => byId.get(id) ?? [],
    accepted: () => okCount,
    setRespond: (r) => (respond = r),
    inFlight: () => inFlight,
    maxInFlight: () => peak,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

// HTTP ingest: POST /events in CloudEvents binary, structured and batch mode, or raw JSON that is
// converted per the conversion settings. Answers only after JetStream acknowledged (or refused)
// every event; see README.md for the status codes.
import type { EventSourceConversion } from '../../api/generated/types.js';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { converterFor } from '../events/index.js';
import type { Logger } from '../common/logger.js';
import type { Authenticator } from './auth.js';
import { readBody } from './http-body.js';
import { eventsOf, modeOf } from './http-request.js';
import { batchResponse, sendJson, singleResponse } from './http-response.js';
import type { Ingestor, SubmitContext } from './ingestor.js';
import type { IngestMetrics } from './metrics.js';
import { httpStatusOf, IngestRejection, Reason } from './outcome.js';

export interface HttpIngestOptions {
  host: string;
  /** The OpenAPI and AsyncAPI documents (JSON text) of this ingest, as of the loaded schemas. */
  describe: () => { openapi: string; asyncapi: string };
  port: number;
  maxBodyBytes: number;
  maxBatchEvents: number;
  conversion: EventSourceConversion;
  ingestor: Ingestor;
  auth: Authenticator;
  metrics: IngestMetrics;
  logger: Logger;
  /** Serve HTTPS with this certificate and key (PEM). */
  tls?: { cert: Buffer; key: Buffer };
}

export interface HttpIngestServer {
  port: number;
  /** Stops accepting, lets requests in progress finish (up to timeoutMs), then closes. */
  drain(timeoutMs: number): Promise<void>;
}

export async function startHttpIngest(opts: HttpIngestOptions): Promise<HttpIngestServer> {
  const { ingestor, metrics, logger } = opts;
  const converter = converterFor(opts.conversion);
  let active = 0;
  let draining = false;
  let onIdle: (() => void) | undefined;

  const reject = (res: ServerResponse, err: IngestRejection, ctx: SubmitContext, n = 1): number => {
    ingestor.recordRejected(ctx, err.reason, n);
    const status = httpStatusOf[err.reason];
    const retry =
      err.retryAfterSeconds === undefined ? undefined : Math.max(1, Math.ceil(err.retryAfterSeconds));
    if (err.reason === Reason.Unauthenticated)
      res.setHeader('www-authenticate', 'Bearer realm="eventrunner"');
    sendJson(res, status, { error: err.reason, message: err.message }, retry);
    return status;
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<number> {
    const path = (req.url ?? '/').split('?')[0];
    if (
      (path === '/openapi.json' || path === '/asyncapi.json') &&
      (req.method === 'GET' || req.method === 'HEAD')
    ) {
      // The self-description holds no secrets (the EventSource's spec has it all), so no token.
      const docs = opts.describe();
      const text = path === '/openapi.json' ? docs.openapi : docs.asyncapi;
      res.writeHead(200, {
        'content-type': 'application/json; charset=utf-8',
        'content-length': Buffer.byteLength(text),
      });
      res.end(req.method === 'HEAD' ? undefined : text);
      return 200;
    }
    if (path !== '/events' && path !== '/') {
      sendJson(res, 404, { error: 'not_found', message: 'POST events to /events' });
      return 404;
    }
    if (req.method !== 'POST') {
      res.setHeader('allow', 'POST');
      sendJson(res, 405, { error: 'method_not_allowed', message: 'POST events to /events' });
      return 405;
    }
    const ctx: SubmitContext = { protocol: 'http', mode: 'unknown', client: 'unknown' };
    const client = opts.auth.authenticate(req.headers.authorization);
    if (client === undefined) {
      return reject(
        res,
        new IngestRejection(
          Reason.Unauthenticated,
          'missing or unknown bearer token: send Authorization: Bearer <token>',
        ),
        ctx,
      );
    }
    ctx.client = client;
    const traceparent = req.headers.traceparent;
    if (typeof traceparent === 'string') {
      const tracestate = req.headers.tracestate;
      ctx.trace = { traceparent, ...(typeof tracestate === 'string' ? { tracestate } : {}) };
    }
    if (draining) {
      res.setHeader('connection', 'close');
      return reject(res, new IngestRejection(Reason.Draining, 'ingest is shutting down; retry', 1), ctx);
    }
    let mode = modeOf(req);
    if (mode === undefined) {
      return reject(
        res,
        new IngestRejection(
          Reason.UnsupportedMediaType,
          `content type ${JSON.stringify(req.headers['content-type'])} is not accepted: send application/cloudevents+json, application/cloudevents-batch+json, application/json, or a binary-mode event with ce-* headers`,
        ),
        ctx,
      );
    }
    ctx.mode = mode;
    let body: Buffer;
    try {
      body = await readBody(req, opts.maxBodyBytes);
    } catch (err) {
      if (err instanceof IngestRejection) {
        res.setHeader('connection', 'close');
        return reject(res, err, ctx);
      }
      throw err;
    }
    const parsed = eventsOf(mode, req, body, {
      converter,
      now: new Date(),
      maxBatchEvents: opts.maxBatchEvents,
    });
    if ('rejection' in parsed) {
      if (parsed.mode) ctx.mode = parsed.mode;
      return reject(res, parsed.rejection, ctx, parsed.events);
    }
    const items = parsed.items;
    ctx.mode = mode = parsed.mode;
    try {
      ingestor.admit(ctx, items.length);
    } catch (err) {
      if (err instanceof IngestRejection) return reject(res, err, ctx, items.length);
      throw err;
    }
    const outcomes = await ingestor.submit(items, ctx);
    return mode === 'batch' || mode === 'raw-batch'
      ? batchResponse(res, outcomes)
      : singleResponse(res, outcomes[0]!);
  }

  const listener = (req: IncomingMessage, res: ServerResponse) => {
    active++;
    handle(req, res)
      .then(
        (status) => metrics.request('http', status),
        (err: unknown) => {
          // The path only: a query string could carry something a client should not have sent.
          logger.error(
            { err, method: req.method, path: req.url?.split('?')[0] },
            'Failed to handle ingest request',
          );
          if (!res.headersSent) sendJson(res, 500, { error: 'internal', message: 'internal error' });
          else res.destroy();
          metrics.request('http', 500);
        },
      )
      .finally(() => {
        active--;
        if (active === 0) onIdle?.();
      });
  };
  const server = opts.tls
    ? https.createServer({ cert: opts.tls.cert, key: opts.tls.key, minVersion: 'TLSv1.2' }, listener)
    : http.createServer(listener);
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });

  return {
    port: (server.address() as AddressInfo).port,
    async drain(timeoutMs: number): Promise<void> {
      draining = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      if (active > 0) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, timeoutMs);
          onIdle = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
      server.closeAllConnections();
      await closed;
    },
  };
}

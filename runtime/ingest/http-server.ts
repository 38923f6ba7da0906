// HTTP ingest: POST /events in CloudEvents binary, structured and batch mode, or raw JSON that is
// converted per the conversion settings. Answers only after JetStream acknowledged (or refused)
// every event; see README.md for the status codes.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  converterFor,
  EventError,
  fromHttpBinary,
  isHttpBinary,
  looksStructured,
  parseBatch,
  parseJsonBody,
  parseStructured,
  validateEvent,
  type ConversionSettings,
} from '../events/index.js';
import type { Logger } from '../common/logger.js';
import type { Authenticator } from './auth.js';
import { readBody } from './http-body.js';
import type { Ingestor, Parsed, SubmitContext } from './ingestor.js';
import type { IngestMetrics } from './metrics.js';
import {
  httpStatusOf,
  IngestRejection,
  Reason,
  retryAfterOf,
  worstReason,
  type EventOutcome,
} from './outcome.js';

export interface HttpIngestOptions {
  host: string;
  port: number;
  maxBodyBytes: number;
  maxBatchEvents: number;
  conversion: ConversionSettings;
  ingestor: Ingestor;
  auth: Authenticator;
  metrics: IngestMetrics;
  logger: Logger;
}

export interface HttpIngestServer {
  port: number;
  /** Stops accepting, lets requests in progress finish (up to timeoutMs), then closes. */
  drain(timeoutMs: number): Promise<void>;
}

type Mode = 'structured' | 'batch' | 'binary' | 'raw' | 'raw-batch';

function mediaType(req: IncomingMessage): string {
  const ct = req.headers['content-type'];
  if (ct === undefined) return '';
  const semi = ct.indexOf(';');
  return (semi < 0 ? ct : ct.slice(0, semi)).trim().toLowerCase();
}

function modeOf(req: IncomingMessage): Mode | undefined {
  const mt = mediaType(req);
  if (mt === 'application/cloudevents+json') return 'structured';
  if (mt === 'application/cloudevents-batch+json') return 'batch';
  if (isHttpBinary(req.headers)) return 'binary';
  if (mt === '' || mt === 'application/json' || mt === 'text/json' || mt.endsWith('+json')) return 'raw';
  return undefined;
}

function sendJson(res: ServerResponse, status: number, body: unknown, retryAfter?: number): void {
  const text = JSON.stringify(body);
  const headers: Record<string, string | number> = {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  };
  if (retryAfter !== undefined) headers['retry-after'] = retryAfter;
  res.writeHead(status, headers);
  res.end(text);
}

function singleResponse(res: ServerResponse, o: EventOutcome): number {
  if (o.ok) {
    sendJson(res, 202, { id: o.id, duplicate: o.duplicate });
    return 202;
  }
  const status = httpStatusOf[o.reason];
  sendJson(
    res,
    status,
    { error: o.reason, message: o.message, ...(o.id ? { id: o.id } : {}) },
    retryAfterOf([o]),
  );
  return status;
}

function batchResponse(res: ServerResponse, outcomes: EventOutcome[]): number {
  let accepted = 0;
  const results = outcomes.map((o, index) => {
    if (o.ok) {
      accepted++;
      return { index, id: o.id, status: 202, duplicate: o.duplicate };
    }
    return {
      index,
      ...(o.id ? { id: o.id } : {}),
      status: httpStatusOf[o.reason],
      error: o.reason,
      message: o.message,
    };
  });
  const worst = worstReason(outcomes);
  // 200: all stored. 207: some stored, retry only the failed ones. Otherwise the batch failed as a
  // whole and the status says why (503/429 retry later, 400 fix the events).
  const status = worst === undefined ? 200 : accepted > 0 ? 207 : httpStatusOf[worst.reason];
  sendJson(res, status, { accepted, rejected: outcomes.length - accepted, results }, retryAfterOf(outcomes));
  return status;
}

function parseOrError<T>(fn: () => T): T | EventError {
  try {
    return fn();
  } catch (err) {
    if (err instanceof EventError) return err;
    throw err;
  }
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

  const tooManyEvents = (res: ServerResponse, ctx: SubmitContext, n: number): number =>
    reject(
      res,
      new IngestRejection(
        Reason.TooMany,
        `batch has ${n} events, over the limit of ${opts.maxBatchEvents} (limits.maxBatchEvents); split it`,
      ),
      ctx,
      n,
    );

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<number> {
    const path = (req.url ?? '/').split('?')[0];
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
    const now = new Date();
    let items: Parsed[];
    if (mode === 'batch') {
      const parsed = parseOrError(() => parseBatch(body));
      if (parsed instanceof EventError)
        return reject(res, new IngestRejection(Reason.Invalid, parsed.message), ctx);
      if (parsed.length > opts.maxBatchEvents) return tooManyEvents(res, ctx, parsed.length);
      items = parsed;
    } else if (mode === 'structured') {
      items = [parseOrError(() => parseStructured(body))];
    } else if (mode === 'binary') {
      items = [parseOrError(() => fromHttpBinary(req.headers, body))];
    } else {
      // Raw JSON: an object is one event; a top-level array is a batch of raw events.
      let value: unknown;
      try {
        value = parseJsonBody(body, 'request body');
      } catch (err) {
        if (err instanceof EventError)
          return reject(res, new IngestRejection(Reason.Invalid, err.message), ctx);
        throw err;
      }
      const values = Array.isArray(value) ? value : [value];
      if (Array.isArray(value)) {
        ctx.mode = mode = 'raw-batch';
        if (value.length > opts.maxBatchEvents) return tooManyEvents(res, ctx, value.length);
      }
      items = values.map((v) =>
        parseOrError(() => (looksStructured(v) ? validateEvent(v) : converter.convert(v, now))),
      );
    }
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

  const server = http.createServer((req, res) => {
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
  });
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

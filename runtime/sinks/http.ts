// The webhook sink: each event (or, in batch mode, each batch of events) is one HTTP request to the
// Sink's URL, over keep-alive connections limited to maxConcurrency. The answer decides the events'
// fate (http-status.ts); a batch the endpoint rejects as invalid is split in halves until the
// rejected events are found, as the ClickHouse sink does, so one bad event does not take the others
// with it. The receiver sees each event's id (ce-id, or `id` in the JSON), so it can deduplicate
// the retries at-least-once delivery brings.
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { parseDuration } from '../../api/units.js';
import { writeEvents } from './batcher.js';
import { SinkConfigError, isRowRejectedError } from './errors.js';
import {
  BATCH_TYPE,
  STRUCTURED_TYPE,
  batchBody,
  binaryRow,
  structuredRow,
  type HttpRow,
} from './http-encode.js';
import { answerResult, excerptOf, requestFailure, type HttpAnswer } from './http-status.js';
import { HandshakeTimeoutAgent } from './tls.js';
import type { HttpSpec, RequestObserver, RowResult, Sink, SinkCredentials, SinkEvent } from './types.js';

export interface HttpSinkOptions {
  /** Told each request's outcome class and duration (per-output metrics). */
  observe?: RequestObserver;
  /** Sent as User-Agent. */
  applicationName?: string;
}

/** Body bytes of a non-2xx answer kept for the dead letter's reason. */
const EXCERPT_BYTES = 4096;
/** The code a request that outlived spec.http.timeout is destroyed with. */
const REQUEST_TIMEOUT = 'ETIMEDOUT_REQUEST';

/** The URL as status and logs may show it: no credentials, query or fragment. */
export function httpTarget(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return url.replace(/\/\/[^@/]*@/, '//').replace(/[?#].*$/, '');
  }
}

/** The Authorization header the Sink's auth and the Secret's content give, if any. */
export function authorization(spec: HttpSpec, credentials: SinkCredentials | undefined): string | undefined {
  if (spec.auth?.bearerTokenSecretRef) {
    if (credentials?.token === undefined)
      throw new SinkConfigError('spec.http.auth.bearerTokenSecretRef is set, but no token was mounted');
    return `Bearer ${credentials.token}`;
  }
  if (spec.auth?.basicSecretRef) {
    if (credentials?.username === undefined)
      throw new SinkConfigError('spec.http.auth.basicSecretRef is set, but no username was mounted');
    return `Basic ${Buffer.from(`${credentials.username}:${credentials.password ?? ''}`).toString('base64')}`;
  }
  return undefined;
}

/** The connection pool of a Sink: keep-alive, at most `maxSockets`, TLS settings for https://. */
export function httpAgent(
  spec: HttpSpec,
  ca: string | undefined,
  maxSockets: number,
  handshakeMs: number,
): HttpAgent {
  const base = { keepAlive: true, maxSockets, maxFreeSockets: maxSockets, scheduling: 'lifo' as const };
  if (!/^https:/i.test(spec.url)) {
    if (ca !== undefined || spec.tls?.insecureSkipVerify)
      throw new SinkConfigError(
        `spec.http.tls asks for TLS, but spec.http.url ${httpTarget(spec.url)} is http://: use an https:// URL`,
      );
    return new HttpAgent(base);
  }
  return new HandshakeTimeoutAgent(
    { ...base, rejectUnauthorized: !spec.tls?.insecureSkipVerify, ...(ca !== undefined ? { ca } : {}) },
    handshakeMs,
  );
}

/** An outcome class for metrics: 2xx … 5xx by status, or timeout/error without an answer. */
function statusClass(status: number): string {
  return status >= 100 && status <= 599 ? `${Math.floor(status / 100)}xx` : 'other';
}

export class HttpSink implements Sink<HttpRow> {
  readonly kind = 'http' as const;
  readonly target: string;
  private readonly url: URL;
  private readonly path: string;
  private readonly send: typeof httpRequest;
  private readonly agent: HttpAgent;
  /** Headers every request carries, as a flat [name, value, …] list. */
  private readonly fixed: string[];
  private readonly mode: NonNullable<HttpSpec['mode']>;
  private readonly method: string;
  private readonly timeoutMs: number;

  constructor(
    readonly spec: HttpSpec,
    credentials: SinkCredentials | undefined,
    private readonly opts: HttpSinkOptions = {},
  ) {
    this.url = new URL(spec.url);
    this.path = `${this.url.pathname}${this.url.search}`;
    this.target = httpTarget(spec.url);
    this.send = this.url.protocol === 'https:' ? httpsRequest : httpRequest;
    this.mode = spec.mode ?? 'binary';
    this.method = spec.method ?? 'POST';
    this.timeoutMs = parseDuration(spec.timeout ?? '10s');
    const concurrency = spec.maxConcurrency ?? 16;
    this.agent = httpAgent(spec, credentials?.ca, concurrency, Math.min(this.timeoutMs, 10_000));
    const auth =
      authorization(spec, credentials) ??
      (this.url.username
        ? `Basic ${Buffer.from(`${decodeURIComponent(this.url.username)}:${decodeURIComponent(this.url.password)}`).toString('base64')}`
        : undefined);
    // A list of headers is sent as it is: Host and keep-alive are not added for it.
    this.fixed = [
      'host',
      this.url.host,
      'connection',
      'keep-alive',
      'user-agent',
      opts.applicationName ?? 'eventrunner',
      ...Object.entries(spec.headers ?? {}).flat(),
      ...(auth ? ['authorization', auth] : []),
    ];
  }

  /**
   * The event's request, headers complete (in batch mode: its element of a batch), built once when
   * the event is handed over rather than when it is sent.
   */
  prepare(event: SinkEvent): HttpRow {
    if (this.mode === 'batch') return structuredRow(event);
    const row =
      this.mode === 'binary'
        ? binaryRow(event, this.fixed.slice())
        : { ...structuredRow(event), headers: [...this.fixed, 'content-type', STRUCTURED_TYPE] };
    row.headers!.push('content-length', String(row.body.length));
    return row;
  }

  async writeRows(rows: readonly HttpRow[]): Promise<RowResult[]> {
    if (this.mode !== 'batch') return Promise.all(rows.map((r) => this.call(r.headers!, r.body)));
    const out = new Array<RowResult>(rows.length).fill(undefined);
    await this.batchIsolating(
      rows,
      rows.map((_, i) => i),
      out,
    );
    return out;
  }

  write(events: readonly SinkEvent[]): Promise<RowResult[]> {
    return writeEvents(this, events);
  }

  async close(): Promise<void> {
    this.agent.destroy();
  }

  /** One batch request; on a rejection of several events, each half again, down to single events. */
  private async batchIsolating(
    rows: readonly HttpRow[],
    idx: readonly number[],
    out: RowResult[],
  ): Promise<void> {
    const body = batchBody(rows);
    const result = await this.call(
      [...this.fixed, 'content-type', BATCH_TYPE, 'content-length', String(body.length)],
      body,
    );
    if (!result || !isRowRejectedError(result) || rows.length === 1) {
      for (const i of idx) out[i] = result;
      return;
    }
    const mid = rows.length >> 1;
    await Promise.all([
      this.batchIsolating(rows.slice(0, mid), idx.slice(0, mid), out),
      this.batchIsolating(rows.slice(mid), idx.slice(mid), out),
    ]);
  }

  /** Sends one request and says what its answer means for the events in it. */
  private async call(headers: string[], body: Buffer): Promise<RowResult> {
    const start = performance.now();
    let outcome = 'error';
    try {
      const answer = await this.request(headers, body, true);
      outcome = statusClass(answer.status);
      return answerResult(answer);
    } catch (err) {
      if ((err as { code?: unknown }).code === REQUEST_TIMEOUT) outcome = 'timeout';
      return requestFailure(err, this.timeoutMs);
    } finally {
      this.opts.observe?.(outcome, (performance.now() - start) / 1000);
    }
  }

  private request(headers: string[], body: Buffer, mayRetry: boolean): Promise<HttpAnswer> {
    return new Promise<HttpAnswer>((resolve, rejectWith) => {
      let answered = false;
      let timedOut: Error | undefined;
      // After the timeout destroyed the request, whatever fails next fails because of it.
      const reject = (err: unknown) => rejectWith(timedOut ?? err);
      const req = this.send(
        {
          protocol: this.url.protocol,
          hostname: this.url.hostname,
          port: this.url.port,
          path: this.path,
          method: this.method,
          agent: this.agent,
          headers,
        },
        (res) => {
          answered = true;
          read(res).then(
            (answer) => {
              clearTimeout(timer);
              resolve(answer);
            },
            (err: unknown) => {
              clearTimeout(timer);
              reject(err);
            },
          );
        },
      );
      const timer = setTimeout(() => {
        timedOut = Object.assign(new Error(`no answer within ${this.timeoutMs / 1000}s`), {
          code: REQUEST_TIMEOUT,
        });
        req.destroy(timedOut);
      }, this.timeoutMs);
      req.once('error', (err: NodeJS.ErrnoException) => {
        if (answered) return; // the response stream reports it
        clearTimeout(timer);
        // A kept-alive connection the server closed just as it was reused: nothing reached the
        // endpoint, so sending again on a fresh connection is what any HTTP client does.
        if (mayRetry && req.reusedSocket && err.code === 'ECONNRESET')
          this.request(headers, body, false).then(resolve, reject);
        else reject(err);
      });
      req.end(body);
    });
  }
}

/** Reads an answer: drains a 2xx body, keeps the start of any other. */
function read(res: IncomingMessage): Promise<HttpAnswer> {
  return new Promise<HttpAnswer>((resolve, reject) => {
    const status = res.statusCode ?? 0;
    const ok = status >= 200 && status <= 299;
    let text = '';
    if (!ok) res.setEncoding('utf8');
    res.on('data', (chunk: string | Buffer) => {
      if (!ok && text.length < EXCERPT_BYTES) text += chunk as string;
    });
    let ended = false;
    res.once('error', reject);
    res.once('close', () => {
      if (!ended) reject(Object.assign(new Error('the answer was cut off'), { code: 'ECONNRESET' }));
    });
    res.once('end', () => {
      ended = true;
      if (ok) return resolve({ status });
      const retryAfter = res.headers['retry-after'];
      const location = res.headers.location;
      resolve({
        status,
        ...(retryAfter !== undefined ? { retryAfter } : {}),
        ...(location !== undefined ? { location } : {}),
        ...(text ? { excerpt: excerptOf(text) } : {}),
      });
    });
  });
}

export function openHttpSink(
  spec: HttpSpec,
  credentials: SinkCredentials | undefined,
  opts: HttpSinkOptions = {},
): HttpSink {
  try {
    return new HttpSink(spec, credentials, opts);
  } catch (err) {
    if (err instanceof SinkConfigError) throw err;
    throw new SinkConfigError(`spec.http: ${(err as Error).message}`, { cause: err });
  }
}

// One prepared statement executed many times, without the driver's general-purpose entry point.
// `Client.execute` runs every call through four async functions (option parsing, the prepared
// cache, routing-key setup, the request) that each await work already done, which at tens of
// thousands of writes a second is about a seventh of the processor's allocations. Once the statement is
// prepared, this builds the same request synchronously — the same execution options, routing key,
// and ExecuteRequest — and hands it to the driver's own RequestHandler, which keeps load balancing,
// retries, speculative executions, re-preparation and timeouts. Anything unusual (not connected,
// not prepared yet, a driver whose internals look different) takes `Client.execute`.
import { createRequire } from 'node:module';
import type cassandra from 'cassandra-driver';

const require = createRequire(import.meta.url);

interface PreparedInfo {
  queryId?: Buffer;
  meta?: { keyspace?: string; partitionKeys?: number[] };
}

interface DriverExecOptions {
  setKeyspace(keyspace: string): void;
  setRoutingIndexes(indexes: number[]): void;
}

/** The parts of the driver this path uses, typed as far as it uses them. */
interface Internals {
  RequestHandler: { send(request: unknown, options: DriverExecOptions, client: unknown): Promise<unknown> };
  ExecuteRequest: new (
    query: string,
    queryId: Buffer,
    params: unknown[],
    options: DriverExecOptions,
    meta: unknown,
  ) => unknown;
  DefaultExecutionOptions: { create(options: null, client: unknown): DriverExecOptions };
}

interface ClientInternals {
  connected: boolean;
  keyspace?: string;
  metadata: { getPreparedInfo(keyspace: string | undefined, query: string): PreparedInfo };
  _getEncoder(): {
    setRoutingKeyFromMeta(meta: unknown, params: unknown[], options: DriverExecOptions): void;
  };
}

function loadInternals(): Internals | null {
  try {
    const internals: Internals = {
      RequestHandler: require('cassandra-driver/lib/request-handler.js'),
      ExecuteRequest: require('cassandra-driver/lib/requests.js').ExecuteRequest,
      DefaultExecutionOptions: require('cassandra-driver/lib/execution-options.js').DefaultExecutionOptions,
    };
    const ok =
      typeof internals.RequestHandler?.send === 'function' &&
      typeof internals.ExecuteRequest === 'function' &&
      typeof internals.DefaultExecutionOptions?.create === 'function';
    return ok ? internals : null;
  } catch {
    return null;
  }
}

const internals = loadInternals();

/** Whether this driver has the internals the direct path needs (a test pins it for the driver in use). */
export function directPathAvailable(): boolean {
  return internals !== null;
}

function clientLooksKnown(c: ClientInternals): boolean {
  return typeof c.metadata?.getPreparedInfo === 'function' && typeof c._getEncoder === 'function';
}

export interface PreparedExecutor {
  (params: unknown[]): Promise<unknown>;
  /** Calls that took the direct path (the rest went through Client.execute). */
  readonly direct: number;
}

/**
 * Executes `query` (prepared, with the client's default query options) for each parameter array.
 * The first call prepares through Client.execute; later ones go straight to the request handler.
 */
export function preparedExecutor(client: cassandra.Client, query: string): PreparedExecutor {
  const c = client as unknown as ClientInternals;
  const slow = (params: unknown[]) => client.execute(query, params);
  let direct = 0;
  const usable = internals !== null && clientLooksKnown(c);
  const run = (params: unknown[]): Promise<unknown> => {
    if (!usable || !c.connected) return slow(params);
    const { RequestHandler, ExecuteRequest, DefaultExecutionOptions } = internals!;
    // Keyed as Client._execute keys it: by the client's keyspace, as no call names its own.
    const info = c.metadata.getPreparedInfo(c.keyspace, query);
    const meta = info.meta;
    if (!info.queryId || !meta || !Array.isArray(meta.partitionKeys)) return slow(params);
    try {
      const options = DefaultExecutionOptions.create(null, client);
      if (meta.keyspace) options.setKeyspace(meta.keyspace);
      options.setRoutingIndexes(meta.partitionKeys);
      c._getEncoder().setRoutingKeyFromMeta(meta, params, options);
      const request = new ExecuteRequest(query, info.queryId, params, options, meta);
      direct++;
      return RequestHandler.send(request, options, client);
    } catch (err) {
      return Promise.reject(err);
    }
  };
  return Object.defineProperty(run, 'direct', { get: () => direct }) as PreparedExecutor;
}

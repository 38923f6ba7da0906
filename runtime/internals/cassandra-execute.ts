// One prepared statement executed many times, without the driver's general-purpose entry point.
// `Client.execute` runs every call through four async functions (option parsing, the prepared
// cache, routing-key setup, the request) that each await work already done, which at tens of
// thousands of writes a second is about a seventh of the processor's allocations. Once the statement is
// prepared, this builds the same request synchronously — the same execution options, routing key,
// and ExecuteRequest — and hands it to the driver's own RequestHandler, which keeps load balancing,
// retries, speculative executions, re-preparation and timeouts. Anything unusual (fast paths off,
// a driver whose version or internals differ, not connected, not prepared yet) takes `Client.execute`.
import cassandra from 'cassandra-driver';
import { defaultFastPaths, type FastPaths } from './fast-paths.js';
import { FastPathName, lacksFunction, type FastPathSite } from './guard.js';

interface PreparedInfo {
  queryId?: Buffer;
  meta?: { keyspace?: string; partitionKeys?: number[] };
}

interface DriverExecOptions {
  setKeyspace(keyspace: string): void;
  setRoutingIndexes(indexes: number[]): void;
}

/** The parts of the driver this path uses, typed as far as it uses them. */
export interface DirectExecuteInternals {
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

/** cassandra-driver's RequestHandler, ExecuteRequest and DefaultExecutionOptions, checked. */
export const cassandraDirectExecute: FastPathSite<DirectExecuteInternals> = {
  path: FastPathName.CassandraDirectExecute,
  pins: [{ name: 'cassandra-driver', version: '4.10.0' }],
  load(ctx) {
    const RequestHandler = ctx.require('cassandra-driver/lib/request-handler.js');
    const { ExecuteRequest } = ctx.require('cassandra-driver/lib/requests.js') as {
      ExecuteRequest?: unknown;
    };
    const { DefaultExecutionOptions } = ctx.require('cassandra-driver/lib/execution-options.js') as {
      DefaultExecutionOptions?: { prototype?: unknown };
    };
    const problem =
      lacksFunction(RequestHandler, 'send', 'lib/request-handler.js') ??
      (typeof ExecuteRequest === 'function' ? undefined : 'lib/requests.js has no class ExecuteRequest') ??
      lacksFunction(DefaultExecutionOptions, 'create', 'DefaultExecutionOptions') ??
      lacksFunction(DefaultExecutionOptions?.prototype, 'setKeyspace', 'DefaultExecutionOptions') ??
      lacksFunction(DefaultExecutionOptions?.prototype, 'setRoutingIndexes', 'DefaultExecutionOptions') ??
      lacksFunction(cassandra.Client.prototype, '_getEncoder', 'Client') ??
      lacksFunction(
        (cassandra.metadata as unknown as { Metadata?: { prototype?: unknown } }).Metadata?.prototype,
        'getPreparedInfo',
        'Metadata',
      );
    return problem ?? ({ RequestHandler, ExecuteRequest, DefaultExecutionOptions } as DirectExecuteInternals);
  },
};

/** Whether this driver has the internals the direct path needs (the contract test pins it). */
export function directPathAvailable(fastPaths: FastPaths = defaultFastPaths()): boolean {
  return fastPaths.use(cassandraDirectExecute) !== null;
}

/** What differs about this client from the clients the path was written for, if anything. */
function clientProblem(c: ClientInternals): string | undefined {
  if (typeof c.metadata?.getPreparedInfo !== 'function') return 'client.metadata has no getPreparedInfo';
  if (typeof c._getEncoder !== 'function') return 'client has no _getEncoder';
  return undefined;
}

export interface PreparedExecutor {
  (params: unknown[]): Promise<unknown>;
  /** Calls that took the direct path (the rest went through Client.execute). */
  readonly direct: number;
}

/**
 * Executes `query` (prepared, with the client's default query options) for each parameter array.
 * The first call prepares through Client.execute; later ones go straight to the request handler
 * when `fastPaths` allows it.
 */
export function preparedExecutor(
  client: cassandra.Client,
  query: string,
  fastPaths: FastPaths = defaultFastPaths(),
): PreparedExecutor {
  const c = client as unknown as ClientInternals;
  const path = FastPathName.CassandraDirectExecute;
  const fallbacks = fastPaths.fallbacks(path);
  let internals = fastPaths.use(cassandraDirectExecute);
  const problem = internals ? clientProblem(c) : undefined;
  if (problem) {
    fastPaths.miss(path, problem);
    internals = null;
  }
  // The encoder exists once the client is connected; its routing function is checked then, once.
  let encoderChecked = false;
  let direct = 0;
  const publicPath = (params: unknown[]) => {
    fallbacks.inc();
    return client.execute(query, params);
  };
  const run = (params: unknown[]): Promise<unknown> => {
    if (!internals) return publicPath(params);
    // Not connected or not prepared yet: Client.execute connects and prepares, as designed.
    if (!c.connected) return client.execute(query, params);
    // Keyed as Client._execute keys it: by the client's keyspace, as no call names its own.
    const info = c.metadata.getPreparedInfo(c.keyspace, query);
    const meta = info.meta;
    if (!info.queryId || !meta || !Array.isArray(meta.partitionKeys)) return client.execute(query, params);
    try {
      const encoder = c._getEncoder();
      if (!encoderChecked) {
        encoderChecked = true;
        if (typeof encoder?.setRoutingKeyFromMeta !== 'function') {
          fastPaths.miss(path, 'the client’s encoder has no function setRoutingKeyFromMeta');
          internals = null;
          return publicPath(params);
        }
      }
      const { RequestHandler, ExecuteRequest, DefaultExecutionOptions } = internals;
      const options = DefaultExecutionOptions.create(null, client);
      if (meta.keyspace) options.setKeyspace(meta.keyspace);
      options.setRoutingIndexes(meta.partitionKeys);
      encoder.setRoutingKeyFromMeta(meta, params, options);
      const request = new ExecuteRequest(query, info.queryId, params, options, meta);
      direct++;
      return RequestHandler.send(request, options, client);
    } catch (err) {
      return Promise.reject(err);
    }
  };
  return Object.defineProperty(run, 'direct', { get: () => direct }) as PreparedExecutor;
}

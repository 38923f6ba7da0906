// The shell every pod program runs in: `start(config, log, signal)` starts a service that serves
// its operations endpoint and works until the signal aborts, then drains; `runService` is the
// program around it (config read once, logger, SIGTERM, exit code). Ingest and the processor share
// it, and so will every other workload the operator renders.
import type { Logger } from './logger.js';
import { createLogger } from './logger.js';
import { createRegistry, startOpsServer, type OpsServer, type ReadinessCheck } from './ops-server.js';
import type { Registry } from 'prom-client';
import { isConfigError } from './errors.js';
import { shutdownSignal } from './signals.js';
import { startTracing, tracingConfig, type Telemetry, type TracingConfig } from './tracing.js';

export interface Service {
  /** Ports the service bound (a config may ask for 0); `ops` serves /healthz, /readyz, /metrics. */
  ports: { ops: number } & Record<string, number | undefined>;
  /** Resolves once the service stopped after the signal aborted: true when it drained in time. */
  done: Promise<boolean>;
}

/**
 * How a workload starts: its checked config, a logger bound to its identity, the signal that stops
 * it, and its tracer when tracing is on.
 */
export type StartService<C> = (
  config: C,
  log: Logger,
  signal: AbortSignal,
  telemetry?: Telemetry,
) => Promise<Service>;

/** The operations endpoint of a service, with its registry; closed by the caller after the drain. */
export async function serveOps(
  component: string,
  ops: { port: number; host?: string | undefined },
  readiness: ReadinessCheck[],
  log: Logger,
): Promise<{ registry: Registry; server: OpsServer }> {
  const registry = createRegistry(component);
  const server = await startOpsServer({
    port: ops.port,
    ...(ops.host ? { host: ops.host } : {}),
    registry,
    readiness,
  });
  log.info({ port: server.port }, 'Serving operations endpoint');
  return { registry, server };
}

export interface ServiceProgram<C extends { logLevel: string }> {
  /** The command's name, for messages: `eventrunner process`. */
  command: string;
  /** The logger's name. */
  name: string;
  load: () => C | Promise<C>;
  start: StartService<C>;
  /** Fields every log line carries, e.g. the Pipeline. */
  identity?: (config: C) => Record<string, string>;
  /** A log level that overrides the config's. */
  logLevel?: string | undefined;
  /** Where the OTEL_* tracing settings are read; the process environment when unset. */
  env?: Readonly<Record<string, string | undefined>>;
}

/** Runs a service program to its end and returns the exit code. */
export async function runService<C extends { logLevel: string }>(p: ServiceProgram<C>): Promise<number> {
  const signal = shutdownSignal();
  let config: C;
  let tracingSettings: TracingConfig;
  try {
    config = await p.load();
    tracingSettings = tracingConfig(p.env ?? process.env, `eventrunner-${p.name}`);
  } catch (err) {
    if (!isConfigError(err)) throw err;
    process.stderr.write(`${p.command}: ${err.message}\n`);
    return 1;
  }
  const root = createLogger({ name: p.name, level: p.logLevel ?? config.logLevel });
  const log = p.identity ? root.child(p.identity(config)) : root;
  let code: number;
  const tracing = await startTracing(tracingSettings, log);
  try {
    const service = await p.start(config, log, signal, { tracer: tracing?.tracer });
    log.info({ ports: service.ports }, `${p.name[0]!.toUpperCase()}${p.name.slice(1)} started`);
    code = (await service.done) ? 0 : 1;
  } catch (err) {
    log.error({ err }, 'Failed');
    code = 1;
  } finally {
    await tracing?.shutdown();
    log.flush();
  }
  // Everything is acked and closed; a client library's leftover timer or socket must not keep the
  // pod running past its grace period, so exit even if something still holds the event loop.
  setTimeout(() => process.exit(code), 2000).unref();
  return code;
}

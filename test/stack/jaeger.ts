// Jaeger (the all-in-one distribution: collector, query API and in-memory storage in one process)
// as the trace backend: an OTLP/HTTP receiver and the query API on loopback. Every port is chosen
// free and every listener bound to 127.0.0.1, so several stacks on one machine never collide;
// Jaeger does not trace itself (its own SDK samples nothing and could only send to itself).
import { freePort, httpGet } from './net.js';
import { ServerProcess } from './process.js';
import { toolPath } from './paths.js';

export interface JaegerServer {
  /** OTLP/HTTP base URL (spans go to …/v1/traces). */
  otlpUrl: string;
  /** Query API base URL (…/api/traces/{id}, …/api/services). */
  queryUrl: string;
  stop(): Promise<void>;
}

export interface JaegerPorts {
  otlpHttp: number;
  otlpGrpc: number;
  query: number;
  queryGrpc: number;
  admin: number;
  collectorHttp: number;
  collectorGrpc: number;
}

/** The all-in-one's flags: every listener on its own loopback port, traces kept in memory. */
export function jaegerArgs(ports: JaegerPorts): string[] {
  const at = (p: number) => `127.0.0.1:${p}`;
  return [
    `--collector.otlp.enabled=true`,
    `--collector.otlp.http.host-port=${at(ports.otlpHttp)}`,
    `--collector.otlp.grpc.host-port=${at(ports.otlpGrpc)}`,
    `--collector.http-server.host-port=${at(ports.collectorHttp)}`,
    `--collector.grpc-server.host-port=${at(ports.collectorGrpc)}`,
    `--query.http-server.host-port=${at(ports.query)}`,
    `--query.grpc-server.host-port=${at(ports.queryGrpc)}`,
    `--admin.http.host-port=${at(ports.admin)}`,
    '--memory.max-traces=100000',
    '--log-level=warn',
  ];
}

export async function startJaeger(name = 'jaeger'): Promise<JaegerServer> {
  const bin = toolPath('jaeger-all-in-one');
  const ports: JaegerPorts = {
    otlpHttp: await freePort(),
    otlpGrpc: await freePort(),
    query: await freePort(),
    queryGrpc: await freePort(),
    admin: await freePort(),
    collectorHttp: await freePort(),
    collectorGrpc: await freePort(),
  };
  const queryUrl = `http://127.0.0.1:${ports.query}`;
  const proc = new ServerProcess({
    name,
    command: bin,
    args: jaegerArgs(ports),
    env: {
      SPAN_STORAGE_TYPE: 'memory',
      // Jaeger's own tracer reads the standard variables: it samples nothing, and its exporter
      // (which would otherwise dial localhost:4317) points at this Jaeger's own receiver.
      OTEL_TRACES_SAMPLER: 'always_off',
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${ports.otlpGrpc}`,
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `http://127.0.0.1:${ports.otlpGrpc}`,
    },
    // The admin port answers 200 once every component is up; then the query API must answer.
    ready: async () =>
      (await httpGet(`http://127.0.0.1:${ports.admin}/`)).status === 200 &&
      (await httpGet(`${queryUrl}/api/services`)).status === 200,
  });
  await proc.start();
  return {
    otlpUrl: `http://127.0.0.1:${ports.otlpHttp}`,
    queryUrl,
    async stop() {
      await proc.stop();
    },
  };
}

// Jaeger (v2, the OpenTelemetry-collector-based binary) as the trace backend: an OTLP/HTTP
// receiver and the query API on loopback, traces kept in memory. Every port is chosen free, so
// several stacks on one machine never collide; Jaeger does not trace itself.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

export function jaegerConfig(ports: {
  otlp: number;
  query: number;
  queryGrpc: number;
  health: number;
}): string {
  const at = (p: number) => `127.0.0.1:${p}`;
  return `service:
  extensions: [jaeger_storage, jaeger_query, healthcheckv2]
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [jaeger_storage_exporter]
  telemetry:
    metrics:
      level: none
    logs:
      level: warn
extensions:
  healthcheckv2:
    use_v2: true
    http:
      endpoint: ${at(ports.health)}
  jaeger_query:
    enable_tracing: false
    storage:
      traces: memstore
    http:
      endpoint: ${at(ports.query)}
    grpc:
      endpoint: ${at(ports.queryGrpc)}
  jaeger_storage:
    backends:
      memstore:
        memory:
          max_traces: 100000
receivers:
  otlp:
    protocols:
      http:
        endpoint: ${at(ports.otlp)}
processors:
  batch:
    timeout: 100ms
exporters:
  jaeger_storage_exporter:
    trace_storage: memstore
`;
}

export async function startJaeger(name = 'jaeger'): Promise<JaegerServer> {
  const bin = toolPath('jaeger');
  const dir = mkdtempSync(join(tmpdir(), 'eventrunner-jaeger-'));
  const ports = {
    otlp: await freePort(),
    query: await freePort(),
    queryGrpc: await freePort(),
    health: await freePort(),
  };
  const config = join(dir, 'config.yaml');
  writeFileSync(config, jaegerConfig(ports));
  const queryUrl = `http://127.0.0.1:${ports.query}`;
  const proc = new ServerProcess({
    name,
    command: bin,
    args: ['--config', config],
    ready: async () =>
      (await httpGet(`http://127.0.0.1:${ports.health}/status`)).status === 200 &&
      (await httpGet(`${queryUrl}/api/services`)).status === 200,
  });
  await proc.start();
  return {
    otlpUrl: `http://127.0.0.1:${ports.otlp}`,
    queryUrl,
    async stop() {
      await proc.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

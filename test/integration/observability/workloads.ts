// Ingest and processors as the pods run them (the CLI, one child process each) with the OTEL_*
// environment the operator would render, plus readers of what Jaeger stored.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from '../processor/support.js';
import { builtCli } from '../../support/built-cli.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const repo = join(here, '../../..');

export interface Workload {
  child: ChildProcess;
  logs: Record<string, unknown>[];
  /** The port a log line with this message reported. */
  port(msg: string): number | undefined;
  stop(): Promise<void>;
}

/** Starts `eventrunner <command> --config <file>` and waits until its /readyz answers 200. */
export async function startWorkload(
  command: 'ingest' | 'process' | 'query-worker',
  configFile: string,
  env: Record<string, string>,
): Promise<Workload> {
  const child = spawn(process.execPath, [builtCli(), command, '--config', configFile], {
    cwd: repo,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  const logs: Record<string, unknown>[] = [];
  const stderr: string[] = [];
  let buf = '';
  child.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      try {
        logs.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        stderr.push(line);
      }
    }
  });
  child.stderr!.on('data', (d: Buffer) => stderr.push(d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const port = (msg: string) => logs.find((l) => l.msg === msg)?.port as number | undefined;
  await waitFor(
    async () => {
      if (child.exitCode !== null)
        throw new Error(`${command} exited (${child.exitCode}): ${stderr.join('')}`);
      const ops = port('Serving operations endpoint');
      if (!ops) return false;
      const res = await fetch(`http://127.0.0.1:${ops}/readyz`, { signal: AbortSignal.timeout(5000) }).catch(
        () => undefined,
      );
      return res?.status === 200;
    },
    90_000,
    `${command} ready`,
  );
  return {
    child,
    logs,
    port,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** A span as Jaeger's query API returns it (/api/traces/{id}). */
export interface JaegerSpan {
  traceID: string;
  spanID: string;
  operationName: string;
  references: { refType: 'CHILD_OF' | 'FOLLOWS_FROM'; traceID: string; spanID: string }[];
  tags: { key: string; value: unknown }[];
  startTime: number;
  duration: number;
  processID: string;
}
export interface JaegerTrace {
  traceID: string;
  spans: JaegerSpan[];
  processes: Record<string, { serviceName: string }>;
}

/** The trace with this id, or undefined while Jaeger has none. */
export async function jaegerTrace(queryUrl: string, traceId: string): Promise<JaegerTrace | undefined> {
  const res = await fetch(`${queryUrl}/api/traces/${traceId}`, { signal: AbortSignal.timeout(5000) });
  if (res.status === 404) return undefined;
  if (!res.ok) throw new Error(`Jaeger answered ${res.status}: ${await res.text()}`);
  const body = (await res.json()) as { data?: JaegerTrace[] };
  return body.data?.[0];
}

export const tag = (s: JaegerSpan, key: string): unknown => s.tags.find((t) => t.key === key)?.value;

export const parentOf = (s: JaegerSpan): string | undefined =>
  s.references.find((r) => r.refType === 'CHILD_OF')?.spanID;

export const linksOf = (s: JaegerSpan): string[] =>
  s.references.filter((r) => r.refType === 'FOLLOWS_FROM').map((r) => r.spanID);

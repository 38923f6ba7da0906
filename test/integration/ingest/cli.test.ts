// `eventrunner ingest --config <file>` as a process: serves, and on SIGTERM drains — requests in
// progress are answered, nothing acknowledged is lost, and it exits 0.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { natsEnv } from '../../stack/context.js';
import { freePort } from '../../stack/net.js';
import { TOKENS } from './harness.js';

const entry = new URL('./cli-entry.ts', import.meta.url).pathname;

function runCli(args: string[]): {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
} {
  const child = spawn(process.execPath, ['--import', 'tsx', entry, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

function postBatch(port: number, body: string): Promise<{ status: number; body: string; at: number }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path: '/events',
        method: 'POST',
        agent: false,
        headers: {
          authorization: `Bearer ${TOKENS.shop}`,
          'content-type': 'application/cloudevents-batch+json',
          'content-length': Buffer.byteLength(body),
        },
      },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode!, body: text, at: performance.now() }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('eventrunner ingest (process)', () => {
  let nc: NatsConnection;
  let dir: string;
  const stream = `INGEST_CLI_${process.pid}`;
  const prefix = `er.test.cli${process.pid}`;
  beforeAll(async () => {
    nc = await connect({ servers: natsEnv().url });
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: stream, subjects: [`${prefix}.>`] });
    dir = mkdtempSync(join(tmpdir(), 'eventrunner-ingest-cli-'));
    writeFileSync(join(dir, 'tokens'), `shop: ${TOKENS.shop}\n`);
  });
  afterAll(async () => {
    await (await jetstreamManager(nc)).streams.delete(stream).catch(() => undefined);
    await nc?.close();
  });

  it('rejects bad flags and an invalid config with a clear message', async () => {
    const noFlag = runCli(['ingest']);
    expect(await noFlag.exited).toBe(2);
    expect(noFlag.output()).toContain('--config (-c) is required');
    writeFileSync(join(dir, 'bad.yaml'), 'nats: {url: nats://x}\nstream: {name: S}\nhttp: {port: "x"}\n');
    const bad = runCli(['ingest', '--config', join(dir, 'bad.yaml')]);
    expect(await bad.exited).toBe(1);
    expect(bad.output()).toContain('bad.yaml: invalid ingest config');
    expect(bad.output()).toContain('stream.subjectPrefix: required field is missing');
    expect(bad.output()).toContain('http.port: must be integer');
  });

  it('waits unready while NATS is unreachable and still stops on SIGTERM', async () => {
    const [deadPort, opsPort] = [await freePort(), await freePort()];
    writeFileSync(
      join(dir, 'nonats.yaml'),
      [
        `nats: {url: "nats://127.0.0.1:${deadPort}"}`,
        `stream: {name: ${stream}, subjectPrefix: ${prefix}}`,
        `http: {port: ${await freePort()}, host: 127.0.0.1}`,
        `grpc: {port: ${await freePort()}, host: 127.0.0.1}`,
        `ops: {port: ${opsPort}, host: 127.0.0.1}`,
        'auth: {enabled: false}',
      ].join('\n'),
    );
    const proc = runCli(['ingest', '--config', join(dir, 'nonats.yaml')]);
    const deadline = Date.now() + 60_000;
    let readyz: Response | undefined;
    while (!readyz) {
      if (Date.now() > deadline || proc.child.exitCode !== null)
        throw new Error(`no ops endpoint:\n${proc.output()}`);
      readyz = await fetch(`http://127.0.0.1:${opsPort}/readyz`).catch(() => undefined);
      if (!readyz) await new Promise((r) => setTimeout(r, 50));
    }
    expect(readyz.status).toBe(503);
    expect(await readyz.text()).toContain('nats: not connected yet');
    expect((await fetch(`http://127.0.0.1:${opsPort}/healthz`)).status).toBe(200);
    proc.child.kill('SIGTERM');
    expect(await proc.exited).toBe(0);
    expect(proc.output()).toContain('Authentication is disabled');
  });

  it('serves, then drains on SIGTERM without losing acknowledged events', async () => {
    const [httpPort, grpcPort, opsPort] = [await freePort(), await freePort(), await freePort()];
    writeFileSync(
      join(dir, 'ingest.yaml'),
      [
        `nats: {url: "${natsEnv().url}"}`,
        `stream: {name: ${stream}, subjectPrefix: ${prefix}}`,
        `http: {port: ${httpPort}, host: 127.0.0.1}`,
        `grpc: {port: ${grpcPort}, host: 127.0.0.1}`,
        `ops: {port: ${opsPort}, host: 127.0.0.1}`,
        'auth: {tokensFile: tokens}',
        'limits: {maxBodyBytes: 4Mi, maxBatchEvents: 2000}',
        'publish: {maxInFlight: 64}',
      ].join('\n'),
    );
    const proc = runCli(['ingest', '--config', join(dir, 'ingest.yaml')]);
    const deadline = Date.now() + 60_000;
    while (!proc.output().includes('"Ingest started"')) {
      if (Date.now() > deadline || proc.child.exitCode !== null)
        throw new Error(`ingest did not start:\n${proc.output()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    expect((await fetch(`http://127.0.0.1:${opsPort}/readyz`)).status).toBe(200);

    const batches = Array.from({ length: 20 }, (_, b) =>
      JSON.stringify(
        Array.from({ length: 1000 }, (_, i) => ({
          specversion: '1.0',
          id: `cli-${b}-${i}`,
          source: '/cli',
          type: 'com.example.cli',
          data: { b, i },
        })),
      ),
    );
    const responses = batches.map((body) => postBatch(httpPort, body).catch((err: Error) => err));
    // Signal as soon as the first batch is answered: the others are in progress.
    await Promise.race(responses);
    const signalledAt = performance.now();
    proc.child.kill('SIGTERM');
    const results = await Promise.all(responses);
    expect(await proc.exited).toBe(0);

    const answered = results.filter(
      (r): r is { status: number; body: string; at: number } => !(r instanceof Error),
    );
    expect(answered.some((r) => r.status === 200 && r.at > signalledAt)).toBe(true);
    const acknowledged = new Set<string>();
    for (const r of answered) {
      if (r.status !== 200 && r.status !== 207) continue;
      for (const x of (JSON.parse(r.body) as { results: { id: string; status: number }[] }).results) {
        if (x.status === 202) acknowledged.add(x.id);
      }
    }
    const consumer = await jetstream(nc).consumers.get(stream);
    const count = (await (await jetstreamManager(nc)).streams.info(stream)).state.messages;
    const stored = new Set<string>();
    for await (const m of await consumer.fetch({ max_messages: count, expires: 5000 })) {
      stored.add(m.headers!.get('Nats-Msg-Id'));
      if (stored.size === count) break;
    }
    expect([...acknowledged].filter((id) => !stored.has(id))).toEqual([]);
    expect(acknowledged.size).toBeGreaterThan(1000);
    const out = proc.output();
    expect(out).toContain('"Drained ingest"');
    expect(out).not.toContain(TOKENS.shop);
  });
});

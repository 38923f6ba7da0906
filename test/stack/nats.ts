// nats-server with JetStream on loopback, its store in a temp dir. `restart()` keeps the store, so
// tests can take NATS away and bring it back on the same port.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, httpGet } from './net.js';
import { ServerProcess } from './process.js';
import { toolPath } from './paths.js';

export interface NatsServer {
  url: string;
  monitorUrl: string;
  port: number;
  storeDir: string;
  process: ServerProcess;
  /** Stops the server, keeping its JetStream store. */
  pause(): Promise<void>;
  /** Starts it again on the same port with the same store. */
  resume(): Promise<void>;
  stop(): Promise<void>;
}

export interface NatsOptions {
  port?: number;
  /** Extra configuration lines (e.g. the operator and resolver of decentralized JWT authentication). */
  config?: string;
}

export async function startNats(name = 'nats-server', opts: NatsOptions = {}): Promise<NatsServer> {
  const bin = toolPath('nats-server');
  const storeDir = mkdtempSync(join(tmpdir(), 'eventrunner-nats-'));
  // Streams reserve their max bytes in the store: a test run creates many Pipelines, each with a
  // dead-letter and an advisory stream, which together reserve far more than the temp dir holds
  // (the default limit is most of the free disk). The reservation is never used up by tests.
  const config = opts.config ?? 'jetstream { max_file_store: 1TB }';
  const file = join(storeDir, 'nats.conf');
  writeFileSync(file, `${config}\n`, { mode: 0o600 });
  const configArgs = ['-c', file];
  const port = opts.port ?? (await freePort());
  const monitorPort = await freePort();
  const monitorUrl = `http://127.0.0.1:${monitorPort}`;
  const proc = new ServerProcess({
    name,
    command: bin,
    args: [
      ...configArgs,
      '-a',
      '127.0.0.1',
      '-p',
      String(port),
      '-m',
      String(monitorPort),
      '-js',
      '-sd',
      storeDir,
      '-n',
      name,
    ],
    ready: async () => (await httpGet(`${monitorUrl}/healthz?js-enabled-only=true`)).status === 200,
  });
  await proc.start();
  return {
    url: `nats://127.0.0.1:${port}`,
    monitorUrl,
    port,
    storeDir,
    process: proc,
    pause: () => proc.stop(),
    resume: () => proc.start(),
    async stop() {
      await proc.stop();
      rmSync(storeDir, { recursive: true, force: true });
    },
  };
}

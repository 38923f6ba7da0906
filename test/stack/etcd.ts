// etcd for the kube-apiserver: one member on loopback, data in a temp dir, no fsync (tests only).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, httpGet } from './net.js';
import { ServerProcess } from './process.js';
import { toolPath } from './paths.js';

export interface Etcd {
  url: string;
  process: ServerProcess;
  stop(): Promise<void>;
}

export async function startEtcd(name = 'etcd'): Promise<Etcd> {
  const bin = toolPath('etcd');
  const dataDir = mkdtempSync(join(tmpdir(), 'eventrunner-etcd-'));
  const [clientPort, peerPort] = [await freePort(), await freePort()];
  const url = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const proc = new ServerProcess({
    name,
    command: bin,
    args: [
      '--name=default',
      `--data-dir=${join(dataDir, 'data')}`,
      `--listen-client-urls=${url}`,
      `--advertise-client-urls=${url}`,
      `--listen-peer-urls=${peer}`,
      `--initial-advertise-peer-urls=${peer}`,
      `--initial-cluster=default=${peer}`,
      '--unsafe-no-fsync',
      '--log-level=warn',
    ],
    ready: async () => {
      const res = await httpGet(`${url}/health`);
      return res.status === 200 && res.body.includes('"health":"true"');
    },
  });
  await proc.start();
  return {
    url,
    process: proc,
    async stop() {
      await proc.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

// Prometheus on loopback, scraping every second what tests register: a target file per workload
// (file-based discovery) in `targetsDir`, with the labels the chart's PodMonitor would attach
// (namespace, pipeline, eventsource, component). Its TSDB lives in a temp dir.
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, httpGet } from './net.js';
import { ServerProcess } from './process.js';
import { toolPath } from './paths.js';

export interface PrometheusServer {
  url: string;
  /** Directory of file_sd target files (*.json) Prometheus watches. */
  targetsDir: string;
  stop(): Promise<void>;
}

export function prometheusConfig(targetsDir: string): string {
  return `global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: eventrunner
    file_sd_configs:
      - files: ['${join(targetsDir, '*.json')}']
        refresh_interval: 1s
`;
}

export async function startPrometheus(name = 'prometheus'): Promise<PrometheusServer> {
  const bin = toolPath('prometheus');
  const dir = mkdtempSync(join(tmpdir(), 'eventrunner-prometheus-'));
  const targetsDir = join(dir, 'targets');
  mkdirSync(targetsDir);
  const config = join(dir, 'prometheus.yml');
  writeFileSync(config, prometheusConfig(targetsDir));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const proc = new ServerProcess({
    name,
    command: bin,
    args: [
      `--config.file=${config}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--web.enable-lifecycle',
    ],
    ready: async () => (await httpGet(`${url}/-/ready`)).status === 200,
  });
  await proc.start();
  return {
    url,
    targetsDir,
    async stop() {
      await proc.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Registers a scrape target: the ops endpoint of a workload, with the labels its pod would carry. */
export function registerTarget(
  targetsDir: string,
  name: string,
  target: string,
  labels: Record<string, string>,
): void {
  // Written whole then renamed, so Prometheus never reads half a file.
  const tmp = join(targetsDir, `.${name}.tmp`);
  writeFileSync(tmp, JSON.stringify([{ targets: [target], labels }]));
  renameSync(tmp, join(targetsDir, `${name}.json`));
}

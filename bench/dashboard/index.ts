// `npm run bench -- dashboard [--pipelines N] [--watch-seconds S]`
// Creates N Pipelines, each with its own EventSource and Sink, on a real kube-apiserver (the
// servers of EVENTRUNNER_STACK_ENV when set, else a fresh one), runs `eventrunner dashboard` from
// the build as its own process, and with one headless Chromium page on the overview measures the
// dashboard's CPU and RSS over S seconds, the overview's load time, and a Pipeline page's time to
// its first chart. No operator runs: the resources have no status and no pods to scrape, so this
// measures watching, rendering and streaming, not scraping. Progress on stderr; JSON last on stdout.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { installCrds } from '../../operator/install-crds.js';
import { startStack } from '../../test/stack/cli.js';
import type { KubeEnv } from '../../test/stack/env.js';
import { repoRoot } from '../../test/stack/paths.js';
import { launchChromium } from '../../test/support/browser.js';
import { adminConfig } from '../../test/support/kube.js';

const log = (s: string) => process.stderr.write(`${s}\n`);
const group = 'eventrunner.io';
const version = 'v1alpha1';

function flag(args: string[], name: string, dflt: number): number {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
}

function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function memoryMb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : NaN;
}

export async function main(args: string[]): Promise<void> {
  const pipelines = flag(args, 'pipelines', 1000);
  const watchSeconds = flag(args, 'watch-seconds', 60);
  const envFile = process.env.EVENTRUNNER_STACK_ENV;
  const stack = envFile ? undefined : await startStack(['kube'], log);
  const kube: KubeEnv = envFile
    ? (JSON.parse(readFileSync(envFile, 'utf8')) as { kube: KubeEnv }).kube
    : stack!.env.kube!;
  const admin = adminConfig(kube.kubeconfig);
  const ns = `bench-dashboard-${Date.now().toString(36)}`;
  const core = admin.makeApiClient(CoreV1Api);
  try {
    await installCrds(admin);
    await core.createNamespace({ body: { metadata: { name: ns } } });
    const custom = admin.makeApiClient(CustomObjectsApi);
    const create = (plural: string, body: object) =>
      custom.createNamespacedCustomObject({ group, version, namespace: ns, plural, body });
    const ids = Array.from({ length: pipelines }, (_, i) => i);
    for (let at = 0; at < ids.length; at += 32) {
      await Promise.all(
        ids.slice(at, at + 32).map(async (i) => {
          await create('eventsources', {
            apiVersion: `${group}/${version}`,
            kind: 'EventSource',
            metadata: { name: `es-${i}` },
            spec: { ingest: { auth: { enabled: false } }, stream: { maxBytes: '8Mi' } },
          });
          await create('sinks', {
            apiVersion: `${group}/${version}`,
            kind: 'Sink',
            metadata: { name: `sk-${i}` },
            spec: { clickhouse: { url: 'http://clickhouse:8123', database: 'bench', table: 'events' } },
          });
          await create('pipelines', {
            apiVersion: `${group}/${version}`,
            kind: 'Pipeline',
            metadata: { name: `pl-${i}` },
            spec: {
              sources: [{ eventSource: `es-${i}` }],
              rules: 'rule All "everything" { when true then Route("out"); }',
              outputs: [{ name: 'out', sink: `sk-${i}` }],
            },
          });
        }),
      );
    }
    log(`created ${pipelines * 3} objects in ${ns}`);

    const child = spawn(
      process.execPath,
      [
        join(repoRoot, 'bin', 'eventrunner.js'),
        'dashboard',
        '--kubeconfig',
        kube.kubeconfig,
        '-n',
        ns,
        '--port',
        '0',
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /http:\/\/127\.0\.0\.1:\d+\//.exec(out);
        if (m) resolve(m[0]);
      });
      child.once('exit', (code) => reject(new Error(`dashboard exited ${code}`)));
    });
    const pid = child.pid!;
    const startupCpu = cpuSeconds(pid);
    log(`dashboard at ${url} (start-up: ${startupCpu.toFixed(2)} s CPU, ${memoryMb(pid, 'VmRSS')} MB RSS)`);

    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      let t = Date.now();
      await page.goto(url);
      await page.waitForSelector('svg.graph a.node');
      const overviewLoadMs = Date.now() - t;
      const overviewBytes = (await (await fetch(`${url}api/view?view=overview`)).text()).length;

      const detail = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      t = Date.now();
      await detail.goto(`${url}pipelines/${ns}/pl-0`);
      await detail.waitForSelector('[data-chart="rates"] canvas');
      const firstChartMs = Date.now() - t;
      await detail.close();

      log(`watching with the overview open for ${watchSeconds} s`);
      const cpu0 = cpuSeconds(pid);
      await new Promise((r) => setTimeout(r, watchSeconds * 1000));
      const cpuPerSecond = (cpuSeconds(pid) - cpu0) / watchSeconds;
      const result = {
        bench: 'dashboard',
        pipelines,
        objects: pipelines * 3,
        overviewLoadMs,
        overviewPayloadBytes: overviewBytes,
        pipelinePageFirstChartMs: firstChartMs,
        startupCpuSeconds: Number(startupCpu.toFixed(2)),
        cpuPercentWatching: Number((cpuPerSecond * 100).toFixed(1)),
        rssMb: memoryMb(pid, 'VmRSS'),
        peakRssMb: memoryMb(pid, 'VmHWM'),
      };
      process.stdout.write(`${JSON.stringify(result)}\n`);
    } finally {
      await browser.close();
      child.kill('SIGTERM');
    }
  } finally {
    await core.deleteNamespace({ name: ns }).catch(() => undefined);
    await stack?.stop();
  }
}

// `eventrunner dashboard` as users run it, a child process with a kubeconfig, against the real
// kube-apiserver: it shows resources the API holds, scrapes a processor pod's /metrics through
// the API server's pod proxy (the in-cluster path), shows no Secret value, and answers nothing
// but GET and HEAD. The pod is a Pod object whose status names this host's address, where a
// plain HTTP server answers /metrics as a processor's ops port does.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installCrds } from '../../../operator/install-crds.js';
import type { PipelineNumbers } from '../../../runtime/dashboard/numbers.js';
import { kubeEnv } from '../../stack/context.js';
import { toolPath } from '../../stack/paths.js';
import { adminConfig } from '../../support/kube.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const namespace = `dash-cli-${randomUUID().slice(0, 6)}`;
const sentinel = `secret-${randomBytes(12).toString('hex')}`;

/** An address of this host the API server may proxy to (it refuses loopback). */
function hostAddress(): string {
  for (const list of Object.values(networkInterfaces()))
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  throw new Error('this host has no non-loopback IPv4 address for the API server to proxy to');
}

describe('eventrunner dashboard against a real kube-apiserver', () => {
  let kc: KubeConfig;
  let kubeconfig: string;
  let metrics: Server;
  let child: ChildProcess;
  let url = '';
  let output = '';

  beforeAll(async () => {
    kubeconfig = kubeEnv().kubeconfig;
    kc = adminConfig(kubeconfig);
    await installCrds(kc);
    const core = kc.makeApiClient(CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    const kubectl = (...args: string[]) =>
      execFileSync(toolPath('kubectl'), ['--kubeconfig', kubeconfig, '-n', namespace, ...args], {
        encoding: 'utf8',
      });
    kubectl('apply', '-f', join(root, 'examples', 'quickstart'));
    kubectl('create', 'secret', 'generic', 'sentinel', `--from-literal=token=${sentinel}`);

    metrics = createServer((req, res) => {
      res.writeHead(req.url === '/metrics' ? 200 : 404, { 'content-type': 'text/plain; version=0.0.4' });
      res.end(
        [
          'eventrunner_processor_events_in_total{source="shop"} 42',
          'eventrunner_processor_events_routed_total{output="store"} 30',
          'eventrunner_processor_events_routed_total{output="analytics"} 35',
          'eventrunner_processor_events_deadlettered_total{cause="rule"} 4',
          'eventrunner_processor_consumer_pending{source="shop"} 7',
          '',
        ].join('\n'),
      );
    });
    await new Promise<void>((r) => metrics.listen(0, '0.0.0.0', r));
    const port = (metrics.address() as AddressInfo).port;
    const pod = 'orders-processor-0';
    await core.createNamespacedPod({
      namespace,
      body: {
        metadata: {
          name: pod,
          labels: {
            'app.kubernetes.io/managed-by': 'eventrunner-operator',
            'app.kubernetes.io/component': 'processor',
            'eventrunner.io/pipeline': 'orders',
          },
        },
        spec: {
          containers: [
            { name: 'processor', image: 'eventrunner:local', ports: [{ name: 'ops', containerPort: port }] },
          ],
        },
      },
    });
    await core.replaceNamespacedPodStatus({
      name: pod,
      namespace,
      body: {
        ...(await core.readNamespacedPod({ name: pod, namespace })),
        status: { phase: 'Running', podIP: hostAddress(), podIPs: [{ ip: hostAddress() }] },
      },
    });

    child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        join(root, 'test/unit/cli/entry.ts'),
        'dashboard',
        '--kubeconfig',
        kubeconfig,
        '-n',
        namespace,
        '--port',
        '0',
      ],
      { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    // The URL line, once the watches have synced and the server listens.
    url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no URL within 60 s:\n${output}`)), 60_000);
      const check = () => {
        const m = /http:\/\/127\.0\.0\.1:\d+\//.exec(output);
        if (m) {
          clearTimeout(timer);
          resolve(m[0]);
        }
      };
      child.stdout!.on('data', check);
      child.once('exit', (code) => reject(new Error(`exited ${code} before printing its URL:\n${output}`)));
    });
  });
  afterAll(async () => {
    child?.kill('SIGTERM');
    metrics?.close();
    await kc
      ?.makeApiClient(CoreV1Api)
      .deleteNamespace({ name: namespace })
      .catch(() => undefined);
  });

  it('prints its URL and namespace, and shows the resources with their health', async () => {
    expect(output).toContain(`eventrunner dashboard: ${url}  (namespace ${namespace}; Ctrl-C stops it)`);
    const html = await (await fetch(url)).text();
    expect(html).toContain('Pipelines at a glance');
    // No operator runs here: nothing has a status, so every node is pending.
    expect(html).toContain(`orders Pending · NoStatus, Pipeline in ${namespace}`);
    expect(html).toContain(`shop Pending · NoStatus, EventSource in ${namespace}`);
    expect(html).toContain(`orders-scylla Pending · NoStatus, Sink in ${namespace}`);
  });

  it("reads a processor pod's metrics through the API server's pod proxy", async () => {
    const get = async () =>
      (await (await fetch(`${url}api/pipelines/${namespace}/orders`)).json()) as PipelineNumbers;
    await expect.poll(async () => (await get()).pods, { timeout: 20_000 }).toBe(1);
    const n = await get();
    expect(n.totals).toEqual({ in: 42, routed: { analytics: 35, store: 30 }, dropped: 0, deadLettered: 4 });
    expect(n.deadLetteredByCause).toEqual({ rule: 4 });
    expect(n.lag).toBe(7);
    // Without --nats-url the stream figures are missing, not zero.
    expect(n.deadLetters).toBeNull();
  });

  it('never shows a Secret value, and refuses anything but GET and HEAD', async () => {
    const secrets = [sentinel, 'change-me-checkout-token'];
    for (const path of [
      '',
      `pipelines/${namespace}/orders`,
      `eventsources/${namespace}/shop`,
      `sinks/${namespace}/orders-scylla`,
      `api/view?view=pipeline&namespace=${namespace}&name=orders`,
    ]) {
      const body = await (await fetch(`${url}${path}`)).text();
      for (const s of secrets) expect(body, path).not.toContain(s);
    }
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
      expect((await fetch(`${url}api/view?view=overview`, { method })).status).toBe(405);
    }
    expect((await fetch(`${url}pipelines/${namespace}/nope`)).status).toBe(404);
  });

  it('exits 0 on SIGTERM', async () => {
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});

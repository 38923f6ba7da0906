// hack/kind-e2e.sh needs Docker and cannot run here; what can be checked without it is: the script
// parses, the in-cluster servers of examples/kind are where the quickstart Sinks and the script's
// NATS URL look for them, the chart accepts the values the script installs it with, and the CI
// workflow runs the script.
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { repoRoot } from '../../stack/paths.js';
import { find, render } from './helm.js';
import type { V1Deployment, V1Service } from '@kubernetes/client-node';

const script = join(repoRoot, 'hack', 'kind-e2e.sh');
const kindDir = join(repoRoot, 'examples', 'kind');

function manifests(dir: string): { kind: string; metadata: { name: string }; spec?: unknown }[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .flatMap((f) => parseAllDocuments(readFileSync(join(dir, f), 'utf8')).map((d) => d.toJS()))
    .filter((o) => o !== null);
}

describe('kind e2e', () => {
  it('script is valid bash', () => {
    const r = spawnSync('bash', ['-n', script], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('serves NATS, Cassandra and ClickHouse where the quickstart and the script expect them', () => {
    const objects = manifests(kindDir);
    const services = objects.filter((o) => o.kind === 'Service') as unknown as V1Service[];
    const deployments = objects.filter((o) => o.kind === 'Deployment') as unknown as V1Deployment[];
    const port = (name: string) => services.find((s) => s.metadata!.name === name)?.spec?.ports?.[0]?.port;

    const text = readFileSync(script, 'utf8');
    expect(text).toContain('nats.url="nats://nats.$APP_NS.svc:4222"');
    expect(text).toMatch(/^APP_NS=default$/m);
    expect(port('nats')).toBe(4222);

    const sinks = manifests(join(repoRoot, 'examples', 'quickstart')).filter((o) => o.kind === 'Sink') as {
      spec: { scylla?: { contactPoints: string[] }; clickhouse?: { url: string } };
    }[];
    const contact = sinks.find((s) => s.spec.scylla)!.spec.scylla!.contactPoints[0]!;
    const [cqlHost, cqlPort] = contact.split(':');
    expect(port(cqlHost!)).toBe(Number(cqlPort));
    const ch = new URL(sinks.find((s) => s.spec.clickhouse)!.spec.clickhouse!.url);
    expect(port(ch.hostname)).toBe(Number(ch.port));

    // Every Service selects the pods of a Deployment.
    for (const svc of services) {
      const match = deployments.find((d) =>
        Object.entries(svc.spec!.selector!).every(([k, v]) => d.spec!.template.metadata!.labels![k] === v),
      );
      expect(match, `a Deployment behind Service ${svc.metadata!.name}`).toBeDefined();
    }
  });

  it('installs the chart with values the chart accepts', () => {
    const objects = render({
      image: { repository: 'eventrunner', tag: 'e2e', pullPolicy: 'Never' },
      nats: { url: 'nats://nats.default.svc:4222' },
    });
    const d = find<V1Deployment>(objects, 'Deployment');
    expect(d.spec!.template.spec!.containers[0]!.image).toBe('eventrunner:e2e');
    // The release is called "eventrunner": the script reads the operator's logs from that name.
    const text = readFileSync(script, 'utf8');
    expect(text).toMatch(/^RELEASE=eventrunner$/m);
    expect(text).toContain('deployment/$RELEASE');
  });

  it('runs in CI through the workflow file', () => {
    const wf = parse(readFileSync(join(repoRoot, '.github', 'workflows', 'kind-e2e.yaml'), 'utf8')) as {
      jobs: Record<string, { 'runs-on': string; steps: { run?: string }[] }>;
    };
    const steps = Object.values(wf.jobs).flatMap((j) => j.steps);
    expect(steps.some((s) => s.run?.trim() === 'bash hack/kind-e2e.sh')).toBe(true);
  });
});

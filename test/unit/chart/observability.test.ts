// The chart's monitoring objects: the workloads' PodMonitor, the Grafana dashboard ConfigMap, the
// PrometheusRule (checked and unit-tested with promtool), and tracing settings for the operator.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1ConfigMap, V1Deployment } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { toolPath } from '../../stack/paths.js';
import { find, render, tryTemplate } from './helm.js';

const here = new URL('.', import.meta.url).pathname;
const allOn = {
  metrics: {
    podMonitor: { enabled: true },
    grafanaDashboard: { enabled: true },
    prometheusRule: { enabled: true },
  },
};

interface Rule {
  alert: string;
  expr: string;
  for?: string;
  annotations: Record<string, string>;
}
interface PrometheusRule {
  spec: { groups: { name: string; rules: Rule[] }[] };
}
interface PodMonitor {
  spec: {
    selector: { matchLabels: Record<string, string> };
    namespaceSelector: { any?: boolean; matchNames?: string[] };
    podMetricsEndpoints: { port: string; path: string; relabelings: { targetLabel: string }[] }[];
  };
}
interface Dashboard {
  panels: { type: string; title: string; targets?: { expr: string }[] }[];
  templating: { list: { name: string }[] };
}

/** promtool run in a scratch directory holding the rendered rules and the unit-test file. */
function promtool(args: string[], rules: PrometheusRule): { status: number; out: string } {
  const dir = mkdtempSync(join(tmpdir(), 'er-promtool-'));
  try {
    writeFileSync(join(dir, 'rules.yaml'), stringify({ groups: rules.spec.groups }));
    copyFileSync(join(here, 'fixtures', 'alerts.promtest.yaml'), join(dir, 'alerts.promtest.yaml'));
    const r = spawnSync(toolPath('promtool'), args, { cwd: dir, encoding: 'utf8', timeout: 30_000 });
    if (r.error) throw r.error;
    return { status: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('chart monitoring', () => {
  it('renders none of the monitoring objects by default', () => {
    const kinds = render().map((o) => o.kind);
    expect(kinds).not.toContain('PodMonitor');
    expect(kinds).not.toContain('PrometheusRule');
    expect(render().filter((o) => o.metadata?.labels?.grafana_dashboard)).toEqual([]);
  });

  it('scrapes the workload pods of every watched namespace with their pipeline and eventsource', () => {
    const pm = find<PodMonitor>(render(allOn), 'PodMonitor');
    expect(pm.spec.selector.matchLabels).toEqual({ 'app.kubernetes.io/managed-by': 'eventrunner-operator' });
    expect(pm.spec.namespaceSelector).toEqual({ any: true });
    const [ep] = pm.spec.podMetricsEndpoints;
    expect(ep).toMatchObject({ port: 'ops', path: '/metrics' });
    expect(ep!.relabelings.map((r) => r.targetLabel)).toEqual(['pipeline', 'eventsource']);
    const one = find<PodMonitor>(render({ ...allOn, operator: { watchNamespace: 'shop' } }), 'PodMonitor');
    expect(one.spec.namespaceSelector).toEqual({ matchNames: ['shop'] });
  });

  it('ships the dashboard as a ConfigMap Grafana picks up, every panel with a query', () => {
    const cm = render(allOn).find(
      (o): o is V1ConfigMap => o.kind === 'ConfigMap' && o.metadata?.labels?.grafana_dashboard === '1',
    );
    expect(cm).toBeDefined();
    const dashboard = JSON.parse(cm!.data!['eventrunner.json']!) as Dashboard;
    expect(dashboard.templating.list.map((v) => v.name)).toEqual([
      'datasource',
      'namespace',
      'pipeline',
      'eventsource',
    ]);
    const panels = dashboard.panels.filter((p) => p.type !== 'row');
    expect(panels.length).toBeGreaterThanOrEqual(14);
    for (const p of panels) expect(p.targets?.length, p.title).toBeGreaterThan(0);
    const titles = panels.map((p) => p.title).join('\n');
    for (const needed of [
      'Events in per second',
      'Events by type',
      'Processing latency',
      'End-to-end latency',
      'Consumer lag',
      'Dead letters by reason',
      'Sink batch write latency',
      'Sink errors',
      'Query watermark',
      'Late events',
      'Ingest requests by status class',
    ])
      expect(titles).toContain(needed);
  });

  it('has alerting rules promtool accepts', () => {
    const rules = find<PrometheusRule>(render(allOn), 'PrometheusRule');
    expect(rules.spec.groups[0]!.rules.map((r) => r.alert)).toEqual([
      'EventrunnerConsumerLagGrowing',
      'EventrunnerDeadLettersGrowing',
      'EventrunnerSinkErrors',
      'EventrunnerNoReadyReplicas',
      'EventrunnerLateEvents',
      'EventrunnerIngestErrors',
    ]);
    const check = promtool(['check', 'rules', 'rules.yaml'], rules);
    expect(check.out).toContain('SUCCESS: 6 rules found');
    expect(check.status).toBe(0);
  });

  it('fires each alert on the series that should trigger it, and only on those (promtool test rules)', () => {
    const rules = find<PrometheusRule>(render(allOn), 'PrometheusRule');
    const test = promtool(['test', 'rules', 'alerts.promtest.yaml'], rules);
    expect(test.out).toContain('SUCCESS');
    expect(test.status).toBe(0);
  });

  it('renders the thresholds from values', () => {
    const rules = find<PrometheusRule>(
      render({
        metrics: { prometheusRule: { enabled: true, sinkErrorsPerSecond: 7, ingestErrorRatio: 0.2 } },
      }),
      'PrometheusRule',
    );
    const expr = (name: string) => rules.spec.groups[0]!.rules.find((r) => r.alert === name)!.expr;
    expect(expr('EventrunnerSinkErrors')).toMatch(/> 7\s*$/);
    expect(expr('EventrunnerIngestErrors')).toMatch(/> 0\.2\s*$/);
  });

  it('gives every alert a runbook section in docs/alerts.md', async () => {
    const { readFile } = await import('node:fs/promises');
    const doc = await readFile(join(here, '..', '..', '..', 'docs', 'alerts.md'), 'utf8');
    const rules = find<PrometheusRule>(render(allOn), 'PrometheusRule');
    for (const r of rules.spec.groups[0]!.rules) {
      expect(doc).toContain(`## ${r.alert}`);
      expect(r.annotations.runbook_url).toBe(`docs/alerts.md#${r.alert.toLowerCase()}`);
    }
  });
});

describe('chart tracing', () => {
  const env = (values: object) =>
    find<V1Deployment>(render(values), 'Deployment').spec!.template.spec!.containers[0]!.env!;

  it('sets no OTEL variables while tracing is off', () => {
    expect(env({}).filter((e) => e.name.startsWith('OTEL_'))).toEqual([]);
  });

  it('gives the operator the OTLP endpoint, sampler and resource attributes when on', () => {
    const otel = env({
      tracing: {
        enabled: true,
        endpoint: 'http://collector.monitoring:4318',
        samplerRatio: '0.25',
        resourceAttributes: { 'deployment.environment': 'prod', team: 'shop' },
      },
    }).filter((e) => e.name.startsWith('OTEL_'));
    expect(otel).toEqual([
      { name: 'OTEL_EXPORTER_OTLP_ENDPOINT', value: 'http://collector.monitoring:4318' },
      { name: 'OTEL_TRACES_SAMPLER', value: 'parentbased_traceidratio' },
      { name: 'OTEL_TRACES_SAMPLER_ARG', value: '0.25' },
      { name: 'OTEL_RESOURCE_ATTRIBUTES', value: 'deployment.environment=prod,team=shop' },
    ]);
  });

  it('refuses tracing without an endpoint, and a ratio that is not one', () => {
    const noEndpoint = tryTemplate({ tracing: { enabled: true } });
    expect(noEndpoint.status).not.toBe(0);
    expect(noEndpoint.stderr).toContain('tracing.endpoint must be set');
    const badRatio = tryTemplate({
      tracing: { enabled: true, endpoint: 'http://c:4318', samplerRatio: '2' },
    });
    expect(badRatio.status).not.toBe(0);
    expect(badRatio.stderr).toContain('samplerRatio');
  });
});

// The chart's dashboard toggle: off by default; on, a Deployment running `eventrunner dashboard`
// behind a ClusterIP Service, and a ServiceAccount with exactly the read-only rules of
// runtime/dashboard/rbac.ts, cluster-wide or in one namespace, never touching Secrets.
import { describe, expect, it } from 'vitest';
import type {
  KubernetesObject,
  V1ClusterRole,
  V1Deployment,
  V1Role,
  V1RoleBinding,
  V1Service,
} from '@kubernetes/client-node';
import { dashboardRules } from '../../../runtime/dashboard/rbac.js';
import { find, render, tryTemplate } from './helm.js';

const isDashboard = (o: KubernetesObject) =>
  o.metadata?.labels?.['app.kubernetes.io/component'] === 'dashboard';

describe('chart dashboard', () => {
  it('renders nothing of the dashboard by default', () => {
    expect(render().filter(isDashboard)).toEqual([]);
  });

  it('runs `eventrunner dashboard` for every namespace, read-only, behind a ClusterIP Service', () => {
    const objects = render({ dashboard: { enabled: true } }).filter(isDashboard);
    const role = find<V1ClusterRole>(objects, 'ClusterRole');
    expect(role.rules).toEqual(dashboardRules);
    for (const rule of role.rules!) {
      expect(rule.resources).not.toContain('secrets');
      for (const verb of rule.verbs) expect(['get', 'list', 'watch']).toContain(verb);
    }
    const deployment = find<V1Deployment>(objects, 'Deployment');
    const container = deployment.spec!.template.spec!.containers[0]!;
    expect(container.args).toEqual([
      'dashboard',
      '--address=0.0.0.0',
      '--port=8089',
      '--interval=1',
      '--all-namespaces',
      '--nats-url=nats://nats.nats.svc:4222',
    ]);
    expect(deployment.spec!.template.spec!.serviceAccountName).toBe(role.metadata!.name);
    expect(container.securityContext?.readOnlyRootFilesystem).toBe(true);
    const service = find<V1Service>(objects, 'Service');
    expect(service.spec!.type).toBe('ClusterIP');
    expect(service.spec!.selector).toEqual(deployment.spec!.selector.matchLabels);
  });

  it('grants its rules in one namespace only when it shows one, and mounts NATS credentials when named', () => {
    const objects = render({
      dashboard: { enabled: true, namespace: 'shop', natsCredentialsSecretName: 'dashboard-nats' },
    }).filter(isDashboard);
    expect(objects.some((o) => o.kind === 'ClusterRole' || o.kind === 'ClusterRoleBinding')).toBe(false);
    const role = find<V1Role>(objects, 'Role');
    expect(role.metadata!.namespace).toBe('shop');
    expect(role.rules).toEqual(dashboardRules);
    expect(find<V1RoleBinding>(objects, 'RoleBinding').metadata!.namespace).toBe('shop');
    const pod = find<V1Deployment>(objects, 'Deployment').spec!.template.spec!;
    expect(pod.containers[0]!.args).toContain('--namespace=shop');
    expect(pod.containers[0]!.args).toContain('--nats-credentials=/etc/eventrunner/nats/nats.creds');
    expect(pod.volumes).toEqual([{ name: 'nats-credentials', secret: { secretName: 'dashboard-nats' } }]);
  });

  it('reads its metrics from Prometheus when given a URL, and refuses anything but an http(s) URL', () => {
    const objects = render({
      dashboard: { enabled: true, prometheusUrl: 'http://prometheus-operated.monitoring:9090' },
    }).filter(isDashboard);
    const args = find<V1Deployment>(objects, 'Deployment').spec!.template.spec!.containers[0]!.args;
    expect(args).toContain('--prometheus-url=http://prometheus-operated.monitoring:9090');
    expect(tryTemplate({ dashboard: { enabled: true, prometheusUrl: 'prometheus:9090' } }).status).not.toBe(
      0,
    );
  });

  it('rejects unknown dashboard values', () => {
    const r = tryTemplate({ dashboard: { enabled: true, auth: 'none' } });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/dashboard/);
  });
});

// The operator Deployment the chart renders: the operator accepts its arguments and they say what
// the values say; probes, resources and the restricted security context are in place.
import { describe, expect, it } from 'vitest';
import type { V1Container, V1Deployment, V1Service } from '@kubernetes/client-node';
import { parseOperatorOptions } from '../../../operator/options.js';
import { find, render } from './helm.js';

function operatorContainer(values: object = {}): { deployment: V1Deployment; container: V1Container } {
  const deployment = find<V1Deployment>(render(values), 'Deployment');
  const container = deployment.spec!.template.spec!.containers.find((c) => c.name === 'operator');
  if (!container) throw new Error('no operator container');
  return { deployment, container };
}

/** What the operator process would parse from the container: its args after the subcommand, and
 * the downward-API env as the kubelet would fill it. */
function optionsOf(container: V1Container) {
  const [command, ...flags] = container.args!;
  expect(command).toBe('operator');
  const env: NodeJS.ProcessEnv = {};
  for (const e of container.env ?? []) {
    if (e.value !== undefined) env[e.name] = e.value;
    else if (e.valueFrom?.fieldRef?.fieldPath === 'metadata.name') env[e.name] = 'er-eventrunner-abc12';
    else if (e.valueFrom?.fieldRef?.fieldPath === 'metadata.namespace') env[e.name] = 'eventrunner-system';
  }
  return parseOperatorOptions(flags, env);
}

describe('chart operator Deployment', () => {
  it('passes the operator options it accepts, defaulting the workload image to its own', () => {
    const { container } = operatorContainer();
    expect(container.image).toBe('eventrunner:0.1.0');
    expect(optionsOf(container)).toEqual({
      image: 'eventrunner:0.1.0',
      imagePullPolicy: 'IfNotPresent',
      natsUrl: 'nats://nats.nats.svc:4222',
      watchNamespace: '',
      leaderElection: {
        enabled: true,
        namespace: 'eventrunner-system',
        name: 'er-eventrunner',
        identity: 'er-eventrunner-abc12',
      },
      opsPort: 8081,
      resyncMs: 60_000,
      concurrency: 8,
      logLevel: 'info',
      fastPaths: true,
    });
  });

  it('follows the values for every option', () => {
    const { deployment, container } = operatorContainer({
      image: { repository: 'registry.example.com/er/eventrunner', tag: '1.2.3', pullPolicy: 'Always' },
      runtimeImage: { repository: 'registry.example.com/er/runtime', pullPolicy: 'Never' },
      nats: { url: 'nats://a.nats:4222,nats://b.nats:4222' },
      operator: {
        watchNamespace: 'shop',
        logLevel: 'debug',
        resyncSeconds: 15,
        concurrency: 2,
        opsPort: 9000,
      },
      replicaCount: 2,
      leaderElection: { leaseName: 'er-lock', namespace: 'locks' },
    });
    expect(deployment.spec!.replicas).toBe(2);
    expect(container.image).toBe('registry.example.com/er/eventrunner:1.2.3');
    expect(container.imagePullPolicy).toBe('Always');
    expect(container.ports).toEqual([{ name: 'ops', containerPort: 9000, protocol: 'TCP' }]);
    expect(optionsOf(container)).toMatchObject({
      image: 'registry.example.com/er/runtime:1.2.3',
      imagePullPolicy: 'Never',
      natsUrl: 'nats://a.nats:4222,nats://b.nats:4222',
      watchNamespace: 'shop',
      leaderElection: { enabled: true, namespace: 'locks', name: 'er-lock' },
      opsPort: 9000,
      resyncMs: 15_000,
      concurrency: 2,
      logLevel: 'debug',
      fastPaths: true,
    });
  });

  it('pins images by digest when one is given', () => {
    const digest = `sha256:${'a'.repeat(64)}`;
    const { container } = operatorContainer({ image: { repository: 'eventrunner', digest } });
    expect(container.image).toBe(`eventrunner@${digest}`);
    expect(optionsOf(container).image).toBe(`eventrunner@${digest}`);
    const other = `sha256:${'b'.repeat(64)}`;
    const { container: c2 } = operatorContainer({ runtimeImage: { repository: 'runtime', digest: other } });
    expect(optionsOf(c2).image).toBe(`runtime@${other}`);
  });

  it('turns leader election off when asked', () => {
    const { container } = operatorContainer({ leaderElection: { enabled: false } });
    expect(optionsOf(container).leaderElection.enabled).toBe(false);
  });

  it('probes /healthz and /readyz on the ops port and sets resources', () => {
    const { container } = operatorContainer();
    expect(container.livenessProbe?.httpGet).toEqual({ path: '/healthz', port: 'ops' });
    expect(container.readinessProbe?.httpGet).toEqual({ path: '/readyz', port: 'ops' });
    expect(container.resources?.requests).toEqual({ cpu: '100m', memory: '128Mi' });
    expect(container.resources?.limits).toEqual({ memory: '256Mi' });
  });

  it('runs under the restricted Pod Security Standard with a writable /tmp only', () => {
    const { deployment, container } = operatorContainer();
    const pod = deployment.spec!.template.spec!;
    expect(pod.securityContext).toMatchObject({
      runAsNonRoot: true,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(container.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(container.volumeMounts).toEqual([{ name: 'tmp', mountPath: '/tmp' }]);
    expect(pod.volumes?.[0]).toMatchObject({ name: 'tmp', emptyDir: {} });
    expect(pod.serviceAccountName).toBe('er-eventrunner');
  });

  it('fills POD_NAME and POD_NAMESPACE from the downward API and sizes the heap', () => {
    const { container } = operatorContainer();
    expect(container.env).toEqual([
      { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
      { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
      { name: 'NODE_OPTIONS', value: '--max-old-space-size=128 --max-semi-space-size=4' },
      { name: 'MALLOC_ARENA_MAX', value: '2' },
    ]);
  });

  it('exposes metrics through a Service selecting the operator pods, and a ServiceMonitor on demand', () => {
    const objects = render();
    const deployment = find<V1Deployment>(objects, 'Deployment');
    const service = find<V1Service>(objects, 'Service');
    expect(service.spec!.ports).toEqual([
      { name: 'metrics', port: 8081, targetPort: 'ops', protocol: 'TCP' },
    ]);
    expect(deployment.spec!.template.metadata!.labels).toMatchObject(service.spec!.selector!);
    expect(deployment.spec!.selector.matchLabels).toEqual(service.spec!.selector);
    expect(objects.some((o) => o.kind === 'ServiceMonitor')).toBe(false);

    const monitored = render({ metrics: { serviceMonitor: { enabled: true, labels: { release: 'prom' } } } });
    const sm = find<{
      metadata: { labels: Record<string, string> };
      spec: { selector: { matchLabels: Record<string, string> }; endpoints: object[] };
    }>(monitored, 'ServiceMonitor');
    expect(sm.metadata.labels.release).toBe('prom');
    // A ServiceMonitor selects Services by their labels, then scrapes the named port.
    expect(service.metadata!.labels).toMatchObject(sm.spec.selector.matchLabels);
    expect(sm.spec.endpoints).toEqual([
      { port: 'metrics', path: '/metrics', interval: '30s', scrapeTimeout: '10s' },
    ]);
  });
});

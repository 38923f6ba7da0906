// The Helm chart's life cycle on a real kube-apiserver: install into a namespace that enforces the
// restricted Pod Security Standard, a single-namespace install bound by a RoleBinding, an upgrade
// that changes the operator's flags, values the schema rejects, and an uninstall that removes
// everything but the CRDs (and so the users' resources). The examples/kind servers pass a
// server-side dry run. No kubelet runs the pods; nothing here needs one.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ApiextensionsV1Api,
  AppsV1Api,
  CoreV1Api,
  RbacAuthorizationV1Api,
  type KubeConfig,
} from '@kubernetes/client-node';
import { kubeEnv } from '../../stack/context.js';
import { repoRoot, toolPath } from '../../stack/paths.js';
import { adminConfig } from '../../support/kube.js';
import { eventually } from '../../support/operator.js';

const chart = join(repoRoot, 'charts', 'eventrunner');
const nats = 'nats://nats.nats.svc:4222';

const isNotFound = (err: unknown) => (err as { code?: number }).code === 404;

describe('the Helm chart on a kube-apiserver', () => {
  let helmHome: string;
  let kc: KubeConfig;
  let core: CoreV1Api;
  let apps: AppsV1Api;
  let rbac: RbacAuthorizationV1Api;

  const run = (bin: string, args: string[]) => {
    const r = spawnSync(bin, args, {
      encoding: 'utf8',
      timeout: 60_000,
      env: {
        ...process.env,
        KUBECONFIG: kubeEnv().kubeconfig,
        HELM_CACHE_HOME: join(helmHome, 'cache'),
        HELM_CONFIG_HOME: join(helmHome, 'config'),
        HELM_DATA_HOME: join(helmHome, 'data'),
      },
    });
    if (r.error) throw r.error;
    return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
  };
  const helm = (...args: string[]) => run(toolPath('helm'), args);

  /** A namespace that enforces, and warns about, the restricted Pod Security Standard. */
  const restrictedNamespace = (name: string) =>
    core.createNamespace({
      body: {
        metadata: {
          name,
          labels: {
            'pod-security.kubernetes.io/enforce': 'restricted',
            'pod-security.kubernetes.io/warn': 'restricted',
          },
        },
      },
    });

  beforeAll(() => {
    helmHome = mkdtempSync(join(tmpdir(), 'er-helm-'));
    kc = adminConfig(kubeEnv().kubeconfig);
    core = kc.makeApiClient(CoreV1Api);
    apps = kc.makeApiClient(AppsV1Api);
    rbac = kc.makeApiClient(RbacAuthorizationV1Api);
  });
  afterAll(() => rmSync(helmHome, { recursive: true, force: true }));

  it('installs under the restricted Pod Security Standard without a warning', async () => {
    await restrictedNamespace('er-chart-a');
    const r = helm('install', 'er-a', chart, '-n', 'er-chart-a', '--set', `nats.url=${nats}`);
    expect(r.stderr).not.toMatch(/PodSecurity/);
    expect(r.stdout).toMatch(/STATUS: deployed/);
    expect(r.status).toBe(0);
    const d = await apps.readNamespacedDeployment({ name: 'er-a-eventrunner', namespace: 'er-chart-a' });
    expect(d.spec?.template.spec?.containers[0]?.args?.[0]).toBe('operator');
    await rbac.readClusterRole({ name: 'er-chart-a-er-a-eventrunner' });
    await rbac.readClusterRoleBinding({ name: 'er-chart-a-er-a-eventrunner' });
    await rbac.readNamespacedRole({ name: 'er-a-eventrunner-leader-election', namespace: 'er-chart-a' });
    const ext = kc.makeApiClient(ApiextensionsV1Api);
    for (const plural of ['eventsources', 'pipelines', 'sinks']) {
      await ext.readCustomResourceDefinition({ name: `${plural}.eventrunner.io` });
    }
  });

  it('passes the restricted standard where a weaker security context is flagged (the check is live)', async () => {
    await restrictedNamespace('er-chart-b');
    /** Pod Security warnings the API server gives for the chart rendered with `sets`. */
    const podSecurityWarnings = (...sets: string[]) => {
      const r = helm(
        'template',
        'er-b',
        chart,
        '-n',
        'er-chart-b',
        '--set',
        `nats.url=${nats}`,
        ...sets.flatMap((s) => ['--set', s]),
        // helm template has no cluster to ask; this helm build would otherwise assume 1.20.
        '--kube-version',
        '1.36.0',
      );
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const applied = spawnSync(
        toolPath('kubectl'),
        ['apply', '-n', 'er-chart-b', '--dry-run=server', '-f', '-'],
        { input: r.stdout, encoding: 'utf8', env: { ...process.env, KUBECONFIG: kubeEnv().kubeconfig } },
      );
      expect(applied.status).toBe(0);
      return applied.stderr.split('\n').filter((l) => l.includes('PodSecurity'));
    };
    expect(podSecurityWarnings()).toEqual([]);
    expect(podSecurityWarnings('securityContext.allowPrivilegeEscalation=true').join('\n')).toMatch(
      /would violate PodSecurity "restricted:latest": allowPrivilegeEscalation/,
    );
  });

  it('binds the rules in the watched namespace only, and upgrades the operator flags', async () => {
    await core.createNamespace({ body: { metadata: { name: 'er-chart-c' } } });
    await core.createNamespace({ body: { metadata: { name: 'er-chart-c-apps' } } });
    const install = helm(
      'install',
      'er-c',
      chart,
      '-n',
      'er-chart-c',
      '--set',
      `nats.url=${nats}`,
      '--set',
      'operator.watchNamespace=er-chart-c-apps',
      '--set',
      'replicaCount=2',
    );
    expect(install.stderr).toBe('');
    expect(install.status).toBe(0);
    // NOTES.txt: what to do next, in the namespace the operator watches.
    expect(install.stdout).toMatch(/watches namespace "er-chart-c-apps"/);
    expect(install.stdout).toContain('kubectl apply -n er-chart-c-apps -f examples/quickstart/pipeline.yaml');
    expect(install.stdout).toContain('kubectl get eventrunner -n er-chart-c-apps');
    const binding = await rbac.readNamespacedRoleBinding({
      name: 'er-c-eventrunner',
      namespace: 'er-chart-c-apps',
    });
    expect(binding.roleRef).toEqual({
      apiGroup: 'rbac.authorization.k8s.io',
      kind: 'ClusterRole',
      name: 'er-chart-c-er-c-eventrunner',
    });
    await expect(rbac.readClusterRoleBinding({ name: 'er-chart-c-er-c-eventrunner' })).rejects.toSatisfy(
      isNotFound,
    );

    const upgrade = helm(
      'upgrade',
      'er-c',
      chart,
      '-n',
      'er-chart-c',
      '--reuse-values',
      '--set',
      'operator.logLevel=debug',
    );
    expect(upgrade.status).toBe(0);
    expect(upgrade.stdout).toMatch(/REVISION: 2/);
    const d = await apps.readNamespacedDeployment({ name: 'er-c-eventrunner', namespace: 'er-chart-c' });
    const args = d.spec!.template.spec!.containers[0]!.args!;
    expect(args[args.indexOf('--log-level') + 1]).toBe('debug');
    expect(args[args.indexOf('--watch-namespace') + 1]).toBe('er-chart-c-apps');
    expect(d.spec!.replicas).toBe(2);
  });

  it('refuses values the schema rejects, and installs nothing', async () => {
    await core.createNamespace({ body: { metadata: { name: 'er-chart-d' } } });
    const r = helm('install', 'er-d', chart, '-n', 'er-chart-d', '--set', 'nats.url=localhost:4222');
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/\/nats\/url/);
    expect(helm('status', 'er-d', '-n', 'er-chart-d').status).not.toBe(0);
    await expect(
      apps.readNamespacedDeployment({ name: 'er-d-eventrunner', namespace: 'er-chart-d' }),
    ).rejects.toSatisfy(isNotFound);
  });

  it('uninstalls everything it installed except the CRDs', async () => {
    const r = helm('uninstall', 'er-a', '-n', 'er-chart-a');
    expect(r.status).toBe(0);
    await eventually('Deployment gone', async () => {
      try {
        await apps.readNamespacedDeployment({ name: 'er-a-eventrunner', namespace: 'er-chart-a' });
        return undefined;
      } catch (err) {
        return isNotFound(err) ? true : undefined;
      }
    });
    await expect(rbac.readClusterRole({ name: 'er-chart-a-er-a-eventrunner' })).rejects.toSatisfy(isNotFound);
    await expect(rbac.readClusterRoleBinding({ name: 'er-chart-a-er-a-eventrunner' })).rejects.toSatisfy(
      isNotFound,
    );
    await expect(
      core.readNamespacedServiceAccount({ name: 'er-a-eventrunner', namespace: 'er-chart-a' }),
    ).rejects.toSatisfy(isNotFound);
    // Helm never deletes what it installed from crds/: deleting a CRD deletes every resource of it.
    await kc
      .makeApiClient(ApiextensionsV1Api)
      .readCustomResourceDefinition({ name: 'pipelines.eventrunner.io' });
  });

  it('accepts the examples/kind servers (server-side dry run)', () => {
    const r = run(toolPath('kubectl'), [
      'apply',
      '-n',
      'default',
      '--dry-run=server',
      '-f',
      join(repoRoot, 'examples', 'kind'),
    ]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    for (const name of [
      'deployment.apps/nats',
      'service/nats',
      'deployment.apps/cassandra',
      'service/clickhouse',
    ]) {
      expect(r.stdout).toContain(name);
    }
  });
});

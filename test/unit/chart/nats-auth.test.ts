// The chart's NATS authentication values: the operator's own credentials and the signing key it
// mints workload users with, mounted from Secrets and passed as the flags the operator parses; the
// right to write Secrets granted only when users are minted.
import { describe, expect, it } from 'vitest';
import type { V1ClusterRole, V1Container, V1Deployment } from '@kubernetes/client-node';
import { parseOperatorOptions } from '../../../operator/options.js';
import { operatorClusterRules, operatorNatsUserRules } from '../../../operator/rbac.js';
import { find, render, tryTemplate } from './helm.js';

const account = `A${'B'.repeat(55)}`;

function operator(values: object): { deployment: V1Deployment; container: V1Container } {
  const deployment = find<V1Deployment>(render(values), 'Deployment');
  return {
    deployment,
    container: deployment.spec!.template.spec!.containers.find((c) => c.name === 'operator')!,
  };
}

describe('chart NATS authentication', () => {
  it('mounts the operator credentials and signing key and passes their files', () => {
    const { deployment, container } = operator({
      nats: {
        auth: { secretName: 'nats-operator', credentialsKey: 'operator.creds' },
        tls: { caSecretName: 'nats-ca' },
        users: { enabled: true, signingKeySecretName: 'nats-signing', account, ttlSeconds: 3600 },
      },
    });
    const options = parseOperatorOptions(container.args!.slice(1), { POD_NAME: 'op' });
    expect(options.natsAuth).toEqual({
      credentialsFile: '/etc/eventrunner/nats-auth/operator.creds',
      caFile: '/etc/eventrunner/nats-ca/ca.crt',
    });
    expect(options.natsUsers).toEqual({
      signingKeyFile: '/etc/eventrunner/nats-signing-key/seed',
      account,
      ttlMs: 3_600_000,
    });
    const volumes = deployment.spec!.template.spec!.volumes!;
    expect(volumes.find((v) => v.name === 'nats-auth')?.secret?.secretName).toBe('nats-operator');
    expect(volumes.find((v) => v.name === 'nats-ca')?.secret?.secretName).toBe('nats-ca');
    expect(volumes.find((v) => v.name === 'nats-signing-key')?.secret?.secretName).toBe('nats-signing');
    for (const v of ['nats-auth', 'nats-ca', 'nats-signing-key'])
      expect(container.volumeMounts!.find((m) => m.name === v)?.readOnly).toBe(true);
    expect(
      find<V1ClusterRole>(
        render({ nats: { users: { enabled: true, signingKeySecretName: 's' } } }),
        'ClusterRole',
      ).rules,
    ).toEqual([...operatorClusterRules, ...operatorNatsUserRules]);
  });

  it('adds nothing by default, and refuses users without a signing key Secret', () => {
    const { deployment, container } = operator({});
    const options = parseOperatorOptions(container.args!.slice(1), { POD_NAME: 'op' });
    expect(options.natsAuth).toBeUndefined();
    expect(options.natsUsers).toBeUndefined();
    expect(deployment.spec!.template.spec!.volumes!.map((v) => v.name)).toEqual(['tmp']);
    expect(find<V1ClusterRole>(render({}), 'ClusterRole').rules).toEqual(operatorClusterRules);
    const refused = tryTemplate({ nats: { users: { enabled: true } } });
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toMatch(/nats\.users\.signingKeySecretName must be set/);
    const badAccount = tryTemplate({
      nats: { users: { enabled: true, signingKeySecretName: 's', account: 'x' } },
    });
    expect(badAccount.status).not.toBe(0);
    expect(badAccount.stderr).toMatch(/account/);
  });
});

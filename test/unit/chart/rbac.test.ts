// The chart grants exactly the rules the operator declares in operator/rbac.ts: no more (least
// privilege) and no less (test/integration/operator/chart-rbac.test.ts runs the operator under them).
import { describe, expect, it } from 'vitest';
import type { V1ClusterRole, V1ClusterRoleBinding, V1Role, V1RoleBinding } from '@kubernetes/client-node';
import { operatorClusterRules, operatorLeaderElectionRules } from '../../../operator/rbac.js';
import { find, render } from './helm.js';

describe('chart RBAC', () => {
  it('renders a ClusterRole with exactly operatorClusterRules, bound cluster-wide to the ServiceAccount', () => {
    const objects = render();
    const role = find<V1ClusterRole>(objects, 'ClusterRole');
    expect(role.rules).toEqual(operatorClusterRules);
    const binding = find<V1ClusterRoleBinding>(objects, 'ClusterRoleBinding');
    expect(binding.roleRef).toEqual({
      apiGroup: 'rbac.authorization.k8s.io',
      kind: 'ClusterRole',
      name: role.metadata!.name,
    });
    const sa = find(objects, 'ServiceAccount');
    expect(binding.subjects).toEqual([
      { kind: 'ServiceAccount', name: sa.metadata!.name, namespace: 'eventrunner-system' },
    ]);
  });

  it('renders a Role with exactly operatorLeaderElectionRules in the Lease namespace', () => {
    const objects = render();
    const role = find<V1Role>(objects, 'Role');
    expect(role.rules).toEqual(operatorLeaderElectionRules);
    expect(role.metadata!.namespace).toBe('eventrunner-system');
    const binding = find<V1RoleBinding>(objects, 'RoleBinding');
    expect(binding.metadata!.namespace).toBe('eventrunner-system');
    expect(binding.roleRef).toEqual({
      apiGroup: 'rbac.authorization.k8s.io',
      kind: 'Role',
      name: role.metadata!.name,
    });

    const elsewhere = render({ leaderElection: { namespace: 'locks' } });
    expect(find<V1Role>(elsewhere, 'Role').metadata!.namespace).toBe('locks');
    expect(render({ leaderElection: { enabled: false } }).some((o) => o.kind === 'Role')).toBe(false);
  });

  it('binds the rules in the watched namespace only when the operator watches one', () => {
    const objects = render({ operator: { watchNamespace: 'shop' } });
    expect(objects.some((o) => o.kind === 'ClusterRoleBinding')).toBe(false);
    const role = find<V1ClusterRole>(objects, 'ClusterRole');
    const binding = objects.find((o) => o.kind === 'RoleBinding' && o.metadata?.namespace === 'shop') as
      V1RoleBinding | undefined;
    expect(binding?.roleRef).toEqual({
      apiGroup: 'rbac.authorization.k8s.io',
      kind: 'ClusterRole',
      name: role.metadata!.name,
    });
  });

  it('renders no RBAC and no ServiceAccount when told not to, and then needs a ServiceAccount name', () => {
    const objects = render({ rbac: { create: false }, serviceAccount: { create: false, name: 'mine' } });
    const kinds = objects.map((o) => o.kind);
    for (const k of ['ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding', 'ServiceAccount']) {
      expect(kinds).not.toContain(k);
    }
    expect(() => render({ serviceAccount: { create: false } })).toThrow(/serviceAccount.name must name/);
  });
});

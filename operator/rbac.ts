// The operator's RBAC rules, written down once: the Helm chart renders exactly these, and the e2e
// test runs the operator under them. Least privilege: no Pods, no cluster-wide Secret listing, no
// write access to anything the operator does not own.
import type { V1PolicyRule } from '@kubernetes/client-node';

export const operatorClusterRules: V1PolicyRule[] = [
  {
    apiGroups: ['eventrunner.io'],
    resources: ['eventsources', 'pipelines', 'sinks'],
    verbs: ['get', 'list', 'watch', 'patch', 'update'],
  },
  {
    apiGroups: ['eventrunner.io'],
    resources: ['eventsources/status', 'pipelines/status', 'sinks/status'],
    verbs: ['get', 'patch', 'update'],
  },
  {
    apiGroups: ['eventrunner.io'],
    resources: ['eventsources/finalizers', 'pipelines/finalizers'],
    verbs: ['update'],
  },
  {
    apiGroups: ['apps'],
    resources: ['deployments'],
    verbs: ['get', 'list', 'watch', 'create', 'patch', 'update', 'delete'],
  },
  // ConfigMaps: the ones the operator owns, and (read and watched) those labelled
  // eventrunner.io/schemas that hold the event schemas EventSources name.
  {
    apiGroups: [''],
    resources: ['services', 'configmaps'],
    verbs: ['get', 'list', 'watch', 'create', 'patch', 'update', 'delete'],
  },
  // Sink credentials and ingest tokens are read by name, never listed or watched.
  { apiGroups: [''], resources: ['secrets'], verbs: ['get'] },
  { apiGroups: ['', 'events.k8s.io'], resources: ['events'], verbs: ['create', 'patch'] },
];

/** Namespaced rules in the operator's own namespace, for leader election. */
export const operatorLeaderElectionRules: V1PolicyRule[] = [
  { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update'] },
];

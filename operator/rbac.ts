// The operator's RBAC rules, written down once: the Helm chart renders exactly these, and the e2e
// test runs the operator under them. Least privilege: no Pods, no cluster-wide Secret listing, no
// write access to anything the operator does not own.
import type { V1PolicyRule } from '@kubernetes/client-node';

// Every write is a server-side apply (PATCH, which creates a missing object: create), so no rule
// grants update except on finalizers, which the API server checks when a child's owner reference
// blocks its owner's deletion.
export const operatorClusterRules: V1PolicyRule[] = [
  // Its own kinds: watched, and patched to add and remove its finalizer.
  {
    apiGroups: ['eventrunner.io'],
    resources: ['eventsources', 'pipelines', 'sinks', 'replays'],
    verbs: ['get', 'list', 'watch', 'patch'],
  },
  // Their status, written once per reconcile when it changed.
  {
    apiGroups: ['eventrunner.io'],
    resources: ['eventsources/status', 'pipelines/status', 'sinks/status', 'replays/status'],
    verbs: ['get', 'patch'],
  },
  {
    apiGroups: ['eventrunner.io'],
    resources: ['eventsources/finalizers', 'pipelines/finalizers', 'replays/finalizers'],
    verbs: ['update'],
  },
  // The ingest, processor, query-worker and replay Deployments; a Pipeline that drops its queries
  // has its query-worker Deployment deleted, a finished Replay its replay Deployment.
  {
    apiGroups: ['apps'],
    resources: ['deployments'],
    verbs: ['get', 'list', 'watch', 'create', 'patch', 'delete'],
  },
  // The ingest Services, removed with their EventSource by garbage collection.
  { apiGroups: [''], resources: ['services'], verbs: ['get', 'list', 'watch', 'create', 'patch'] },
  // ConfigMaps: the ones the operator owns (configs of the workloads), and (read and watched) those
  // labelled eventrunner.io/schemas that hold the event schemas EventSources name.
  {
    apiGroups: [''],
    resources: ['configmaps'],
    verbs: ['get', 'list', 'watch', 'create', 'patch', 'delete'],
  },
  // Sink credentials and ingest tokens are read by name, never listed or watched.
  { apiGroups: [''], resources: ['secrets'], verbs: ['get'] },
  { apiGroups: ['', 'events.k8s.io'], resources: ['events'], verbs: ['create', 'patch'] },
];

/**
 * With NATS users minted per workload (nats.users.enabled in the chart): writing the credentials
 * Secrets next to the workloads. Still no listing or watching of Secrets.
 */
export const operatorNatsUserRules: V1PolicyRule[] = [
  // delete: a finished Replay's user goes with its pod.
  { apiGroups: [''], resources: ['secrets'], verbs: ['create', 'patch', 'delete'] },
];

/** Namespaced rules in the operator's own namespace, for leader election. */
export const operatorLeaderElectionRules: V1PolicyRule[] = [
  { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update'] },
];

// Read access to everything the operator watches, from informer caches: reconcilers read observed
// state here instead of asking the API server, so a reconcile costs no API reads.
import type {
  KubernetesObject,
  ObjectCache,
  V1ConfigMap,
  V1Deployment,
  V1Service,
} from '@kubernetes/client-node';
import type { EventSource, Pipeline, Replay, Sink } from '../api/generated/types.js';

export interface Caches {
  eventSources: ObjectCache<EventSource>;
  pipelines: ObjectCache<Pipeline>;
  sinks: ObjectCache<Sink>;
  replays: ObjectCache<Replay>;
  deployments: ObjectCache<V1Deployment>;
  services: ObjectCache<V1Service>;
  configMaps: ObjectCache<V1ConfigMap>;
  /** ConfigMaps labelled `eventrunner.io/schemas: "true"`, data included: schemas EventSources name. */
  schemaConfigMaps: ObjectCache<V1ConfigMap>;
}

export type PrimaryKind = 'EventSource' | 'Pipeline' | 'Sink' | 'Replay';

export const primaryPlural: Record<PrimaryKind, string> = {
  EventSource: 'eventsources',
  Pipeline: 'pipelines',
  Sink: 'sinks',
  Replay: 'replays',
};

export function queueKey(kind: PrimaryKind, namespace: string, name: string): string {
  return `${kind}/${namespace}/${name}`;
}

export function parseQueueKey(key: string): { kind: PrimaryKind; namespace: string; name: string } {
  const [kind, namespace, name] = key.split('/') as [PrimaryKind, string, string];
  return { kind, namespace, name };
}

/** The primary object that controls a child, from its controller owner reference. */
export function controllerOf(
  child: KubernetesObject,
): { kind: PrimaryKind; namespace: string; name: string } | undefined {
  const ref = child.metadata?.ownerReferences?.find(
    (r) => r.controller && r.apiVersion.startsWith('eventrunner.io/'),
  );
  if (!ref || !(ref.kind in primaryPlural)) return undefined;
  return { kind: ref.kind as PrimaryKind, namespace: child.metadata?.namespace ?? '', name: ref.name };
}

// Pieces every child object shares: owner references, labels, the config hash, and the restricted
// security context of eventrunner's containers.
import { createHash } from 'node:crypto';
import type {
  V1EnvVar,
  V1OwnerReference,
  V1PodSecurityContext,
  V1SecurityContext,
} from '@kubernetes/client-node';
import { labels } from '../names.js';

export interface Owner {
  apiVersion: string;
  kind: string;
  metadata: { name?: string; uid?: string; namespace?: string };
}

export function ownerReference(owner: Owner): V1OwnerReference {
  return {
    apiVersion: owner.apiVersion,
    kind: owner.kind,
    name: owner.metadata.name!,
    uid: owner.metadata.uid!,
    controller: true,
    blockOwnerDeletion: true,
  };
}

export function childLabels(
  owner: Owner,
  component: 'ingest' | 'processor' | 'query-worker',
): Record<string, string> {
  return {
    [labels.name]: 'eventrunner',
    [labels.instance]: owner.metadata.name!,
    [labels.component]: component,
    [labels.managedBy]: 'eventrunner-operator',
    [labels.partOf]: 'eventrunner',
    [`eventrunner.io/${owner.kind.toLowerCase()}`]: owner.metadata.name!,
  };
}

/**
 * The OTEL_* environment of a workload's container: the operator's tracing settings, with the
 * workload's own service name and its namespace and owner as resource attributes. Empty when
 * tracing is off, so pods are unchanged by it.
 */
export function otelEnv(
  otel: Readonly<Record<string, string>> | undefined,
  owner: Owner,
  component: string,
): V1EnvVar[] {
  if (!otel || !Object.keys(otel).length) return [];
  const resource = [
    otel.OTEL_RESOURCE_ATTRIBUTES,
    `k8s.namespace.name=${owner.metadata.namespace ?? ''}`,
    `eventrunner.${owner.kind.toLowerCase()}=${owner.metadata.name ?? ''}`,
  ]
    .filter(Boolean)
    .join(',');
  const vars: Record<string, string> = {
    ...otel,
    OTEL_SERVICE_NAME: `eventrunner-${component}`,
    OTEL_RESOURCE_ATTRIBUTES: resource,
  };
  return Object.keys(vars)
    .sort()
    .map((name) => ({ name, value: vars[name]! }));
}

/** A container's `env` field with these variables, or nothing when there are none. */
export const tracingEnv = (env: V1EnvVar[]): { env?: V1EnvVar[] } => (env.length ? { env } : {});

/** Stable JSON: keys sorted, so equal values always hash the same. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export function hashOf(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex').slice(0, 16);
}

export const podSecurityContext: V1PodSecurityContext = {
  runAsNonRoot: true,
  runAsUser: 65532,
  runAsGroup: 65532,
  fsGroup: 65532,
  seccompProfile: { type: 'RuntimeDefault' },
};

export const containerSecurityContext: V1SecurityContext = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
  capabilities: { drop: ['ALL'] },
  seccompProfile: { type: 'RuntimeDefault' },
};

export const configMountPath = '/etc/eventrunner';
export const opsPort = 8081;

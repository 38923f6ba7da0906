// Deterministic names for everything the operator creates outside Kubernetes (JetStream streams,
// consumers, subjects) and for its child objects. Kubernetes names never contain '_', so '_'
// separates namespace from name and '__' stands for '.', which keeps every mapping injective:
// tenants in different namespaces never collide on a shared NATS.

const enc = (s: string) => s.replaceAll('.', '__');

/** JetStream stream of an EventSource, e.g. ER_shop_orders. */
export function streamName(namespace: string, eventSource: string): string {
  return `ER_${namespace}_${enc(eventSource)}`;
}

/** Subject prefix of an EventSource's events; its stream listens on `<prefix>.>`. */
export function subjectPrefix(namespace: string, eventSource: string): string {
  return `er.${namespace}.${eventSource.replaceAll('.', '_')}`;
}

/** Durable consumer of a Pipeline on each source stream. */
export function consumerName(namespace: string, pipeline: string): string {
  return `ER_PL_${namespace}_${enc(pipeline)}`;
}

/** Dead-letter stream of a Pipeline. */
export function deadLetterStreamName(namespace: string, pipeline: string): string {
  return `ER_DLQ_${namespace}_${enc(pipeline)}`;
}

export function deadLetterSubject(namespace: string, pipeline: string): string {
  return `erdlq.${namespace}.${pipeline.replaceAll('.', '_')}`;
}

/**
 * Stream of a Pipeline keeping JetStream's max-deliveries advisories of its consumers, so that one
 * sent while no processor is connected still reaches one.
 */
export function advisoryStreamName(namespace: string, pipeline: string): string {
  return `ER_ADV_${namespace}_${enc(pipeline)}`;
}

/** Shuffle stream of a Pipeline's queries: what the processors publish for the query workers. */
export function shuffleStreamName(namespace: string, pipeline: string): string {
  return `ER_SH_${namespace}_${enc(pipeline)}`;
}

/** Subject prefix of a Pipeline's shuffle stream; a partition's subject is `<prefix>.<query>.<partition>`. */
export function shuffleSubjectPrefix(namespace: string, pipeline: string): string {
  return `ersh.${namespace}.${pipeline.replaceAll('.', '_')}`;
}

/** KV bucket of a Pipeline's partition leases, checkpoints and partition status. */
export function queryStateBucket(namespace: string, pipeline: string): string {
  return `ER_Q_${namespace}_${enc(pipeline)}`;
}

/**
 * Filter subjects for a Pipeline source's `types` patterns. CloudEvent types travel as subject
 * tokens (ingest enforces it), so JetStream filters by type on the server: in a pattern `*`
 * matches one dot-separated segment and a final `>` matches one or more trailing segments.
 */
export function typeFilterSubjects(prefix: string, types: string[] | undefined): string[] {
  if (!types || types.length === 0) return [`${prefix}.>`];
  return types.map((t) => `${prefix}.${t}`);
}

/** Names of Kubernetes children; DNS-1123 names kept under 63 characters. */
export function childName(owner: string, suffix: string): string {
  const name = `${owner}-${suffix}`;
  if (name.length <= 63) return name;
  // Long names are shortened with a stable hash so two owners never share a child.
  let h = 2166136261;
  for (const c of name) h = Math.imul(h ^ c.charCodeAt(0), 16777619) >>> 0;
  return `${name.slice(0, 63 - 9 - suffix.length - 1)}-${h.toString(16).padStart(8, '0')}-${suffix}`;
}

export const labels = {
  name: 'app.kubernetes.io/name',
  instance: 'app.kubernetes.io/instance',
  component: 'app.kubernetes.io/component',
  managedBy: 'app.kubernetes.io/managed-by',
  partOf: 'app.kubernetes.io/part-of',
} as const;

export const annotations = {
  configHash: 'eventrunner.io/config-hash',
} as const;

export const finalizer = 'eventrunner.io/jetstream';

/** The label (value "true") of ConfigMaps holding event schemas: the operator watches those. */
export const schemaConfigMapLabel = 'eventrunner.io/schemas';

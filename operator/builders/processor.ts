// Pure builders for a Pipeline's processor workload: the config file the processor pods read, its
// ConfigMap, and the Deployment (Sink credentials, webhook tokens and TLS CA bundles mounted from
// their Secrets). Unit-tested without a server.
import type {
  V1ConfigMap,
  V1Deployment,
  V1ResourceRequirements,
  V1Volume,
  V1VolumeMount,
} from '@kubernetes/client-node';
import { stringify } from 'yaml';
import type {
  EventSource,
  Pipeline,
  ProcessorConfigInput,
  ProcessorOutputInput,
  Sink,
} from '../../api/generated/types.js';
import {
  advisoryStreamName,
  childName,
  consumerName,
  deadLetterStreamName,
  deadLetterSubject,
  shuffleStreamName,
  shuffleSubjectPrefix,
  streamName,
  subjectPrefix,
} from '../names.js';
import type { OperatorOptions } from '../options.js';
import { natsConfigMapData, natsConnection, natsUserVolume } from './nats-user.js';
import {
  childLabels,
  configMountPath,
  containerSecurityContext,
  hashOf,
  opsPort,
  otelEnv,
  ownerReference,
  tracingEnv,
  podSecurityContext,
} from './common.js';

export const processorNames = (pl: Pipeline) => ({
  deployment: childName(pl.metadata.name!, 'processor'),
  configMap: childName(pl.metadata.name!, 'processor-config'),
  natsUser: childName(pl.metadata.name!, 'processor-nats'),
});

export function processorSelector(pl: Pipeline): Record<string, string> {
  return {
    'app.kubernetes.io/instance': pl.metadata.name!,
    'app.kubernetes.io/component': 'processor',
    'eventrunner.io/pipeline': pl.metadata.name!,
  };
}

const sinkDir = (sink: string) => `${configMountPath}/sinks/${sink}`;
// Apart from the credentials: each Secret volume needs a mount point of its own, and a directory
// per Sink under tls/ cannot collide with another Sink's credentials directory.
const caDir = (sink: string) => `${configMountPath}/tls/${sink}`;
const caFileName = 'ca.crt';

/** The Secret with a username and a password the Sink logs in with (a webhook: HTTP Basic), if any. */
export function credentialRef(sink: Sink) {
  return (
    sink.spec.scylla?.credentialsSecretRef ??
    sink.spec.clickhouse?.credentialsSecretRef ??
    sink.spec.http?.auth?.basicSecretRef
  );
}

/** The Secret key with a webhook Sink's bearer token, if it names one. */
export function tokenSecretRef(sink: Sink): { name: string; key: string } | undefined {
  const ref = sink.spec.http?.auth?.bearerTokenSecretRef;
  return ref && { name: ref.name, key: ref.key || 'token' };
}

/** The Secret key with the PEM CA bundle the Sink's TLS connections trust, if it names one. */
export function caSecretRef(sink: Sink): { name: string; key: string } | undefined {
  const ref =
    sink.spec.scylla?.tls?.caSecretRef ??
    sink.spec.clickhouse?.tls?.caSecretRef ??
    sink.spec.http?.tls?.caSecretRef;
  return ref && { name: ref.name, key: ref.key || caFileName };
}

/**
 * A volume name (a DNS label) for a Sink's Secret. Sink names are DNS subdomains: one too long for
 * a label, or with dots, is cut and gets a hash of the whole name so that it stays distinct.
 */
export function volumeName(prefix: string, sink: string): string {
  const full = `${prefix}-${sink}`;
  if (full.length <= 63 && !full.includes('.')) return full;
  return `${full.slice(0, 46).replace(/\./g, '-').replace(/-+$/, '')}-${hashOf(sink)}`;
}

/**
 * Where the pods find the files of a Sink's mounted Secrets (login, webhook token, CA bundle), as
 * the `credentials` of an output or a lookup table; nothing when the Sink names no Secret.
 */
export function sinkCredentialFiles(
  sinkName: string,
  sink: Sink,
): { credentials?: NonNullable<ProcessorOutputInput['credentials']> } {
  const ref = credentialRef(sink);
  const token = tokenSecretRef(sink);
  const ca = caSecretRef(sink);
  if (!ref && !token && !ca) return {};
  return {
    credentials: {
      ...(ref
        ? { usernameFile: `${sinkDir(sinkName)}/username`, passwordFile: `${sinkDir(sinkName)}/password` }
        : {}),
      ...(token ? { tokenFile: `${sinkDir(sinkName)}/token` } : {}),
      ...(ca ? { caFile: `${caDir(sinkName)}/${caFileName}` } : {}),
    },
  };
}

/** The processor config file (api/schema/config/processor.ts) for this Pipeline. */
export function processorConfig(
  pl: Pipeline,
  eventSources: Map<string, EventSource>,
  sinks: Map<string, Sink>,
  options: OperatorOptions,
): ProcessorConfigInput {
  const ns = pl.metadata.namespace!;
  const name = pl.metadata.name!;
  const { delivery } = pl.spec;
  return {
    pipeline: { namespace: ns, name },
    nats: natsConnection(options, ns, processorNames(pl).deployment),
    sources: pl.spec.sources.map((s) => ({
      eventSource: s.eventSource,
      stream: streamName(ns, s.eventSource),
      consumer: consumerName(ns, name),
      ...(s.as ? { as: s.as } : {}),
      ...(eventSources.get(s.eventSource)
        ? { conversion: eventSources.get(s.eventSource)!.spec.conversion }
        : {}),
    })),
    rules: { source: pl.spec.rules, mode: pl.spec.ruleEngine.mode, maxCycles: pl.spec.ruleEngine.maxCycles },
    outputs: pl.spec.outputs.map((o): ProcessorOutputInput => {
      const sink = sinks.get(o.sink)!;
      const target = sink.spec.eventSource?.name;
      return {
        name: o.name,
        sink: sink.spec,
        ...sinkCredentialFiles(o.sink, sink),
        // Where an eventSource Sink publishes: derived from the namespace, like every stream name.
        ...(target !== undefined
          ? { eventSource: { stream: streamName(ns, target), subjectPrefix: subjectPrefix(ns, target) } }
          : {}),
      };
    }),
    ...(pl.spec.defaultOutputs ? { defaultOutputs: pl.spec.defaultOutputs } : {}),
    delivery: {
      maxDeliver: delivery.maxDeliver,
      backoff: delivery.backoff ?? [],
      maxAckPending: delivery.maxAckPending,
    },
    deadLetter: { stream: deadLetterStreamName(ns, name), subject: deadLetterSubject(ns, name) },
    advisories: { stream: advisoryStreamName(ns, name), consumer: consumerName(ns, name) },
    // Rendered only with queries, so that configs (and their hash) without them stay as they were.
    ...(pl.spec.queries?.length
      ? {
          queries: pl.spec.queries,
          ...(pl.spec.tables?.length ? { tables: pl.spec.tables } : {}),
          shuffle: { stream: shuffleStreamName(ns, name), subjectPrefix: shuffleSubjectPrefix(ns, name) },
        }
      : {}),
    ops: { port: opsPort },
    // Rendered only when off, so that configs (and their hash) stay as they were by default.
    ...(options.fastPaths ? {} : { fastPaths: false }),
    logLevel: options.logLevel,
  };
}

export function processorConfigMap(
  pl: Pipeline,
  config: ProcessorConfigInput,
  options?: OperatorOptions,
): V1ConfigMap {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: processorNames(pl).configMap,
      namespace: pl.metadata.namespace,
      labels: childLabels(pl, 'processor'),
      ownerReferences: [ownerReference(pl)],
    },
    data: { 'config.yaml': stringify(config), ...(options ? natsConfigMapData(options) : {}) },
  };
}

/** Secret digests a Deployment's config hash covers (see processorDeployment). */
export interface SecretDigests {
  ca?: ReadonlyMap<string, string>;
  credentials?: ReadonlyMap<string, string>;
}

/**
 * The volumes of a workload that writes to Sinks: its config ConfigMap, and each Sink's
 * credentials, token and CA bundle from their Secrets, at the paths processorConfig names; with
 * what of them the config hash must cover.
 */
export function sinkVolumes(
  configMap: string,
  sinkNames: readonly string[],
  sinks: Map<string, Sink>,
  digests: SecretDigests,
) {
  const volumes: V1Volume[] = [{ name: 'config', configMap: { name: configMap } }];
  const mounts: V1VolumeMount[] = [{ name: 'config', mountPath: configMountPath, readOnly: true }];
  const secrets: string[] = [];
  const cas: Record<string, string> = {};
  const logins: Record<string, string> = {};
  for (const s of [...new Set(sinkNames)].sort()) {
    const sink = sinks.get(s);
    if (!sink) continue;
    const ref = credentialRef(sink);
    if (ref) {
      const volume = volumeName('sink', s);
      secrets.push(ref.name);
      logins[s] = `${ref.name}@${digests.credentials?.get(s) ?? 'missing'}`;
      volumes.push({
        name: volume,
        secret: {
          secretName: ref.name,
          items: [
            { key: ref.usernameKey, path: 'username' },
            { key: ref.passwordKey, path: 'password' },
          ],
        },
      });
      mounts.push({ name: volume, mountPath: sinkDir(s), readOnly: true });
    }
    const token = tokenSecretRef(sink);
    if (token) {
      // Never together with a username and password (the Sink's schema), so it takes their place.
      const volume = volumeName('sink', s);
      secrets.push(token.name);
      logins[s] = `${token.name}/${token.key}@${digests.credentials?.get(s) ?? 'missing'}`;
      volumes.push({
        name: volume,
        secret: { secretName: token.name, items: [{ key: token.key, path: 'token' }] },
      });
      mounts.push({ name: volume, mountPath: sinkDir(s), readOnly: true });
    }
    const ca = caSecretRef(sink);
    if (ca) {
      const volume = volumeName('ca', s);
      cas[s] = `${ca.name}/${ca.key}@${digests.ca?.get(s) ?? 'missing'}`;
      volumes.push({
        name: volume,
        secret: { secretName: ca.name, items: [{ key: ca.key, path: caFileName }] },
      });
      mounts.push({ name: volume, mountPath: caDir(s), readOnly: true });
    }
  }
  return { volumes, mounts, secrets, cas, logins };
}

/**
 * The processor Deployment. `digests` map a Sink's name to a digest of the CA bundle its
 * caSecretRef holds now and of the username and password its credentialsSecretRef holds now
 * (absent while the Secret or key is missing): the processors read them once at start-up, so a
 * rotation must roll them, and only a change of those values does.
 */
export function processorDeployment(
  pl: Pipeline,
  config: ProcessorConfigInput,
  sinks: Map<string, Sink>,
  options: OperatorOptions,
  digests: SecretDigests = {},
): V1Deployment {
  return sinkWriterDeployment(
    pl,
    {
      component: 'processor',
      command: 'process',
      names: processorNames(pl),
      sinkNames: pl.spec.outputs.map((o) => o.sink),
      config,
      // suspend scales to zero and keeps the consumer (and its position) in JetStream.
      replicas: pl.spec.suspend ? 0 : pl.spec.replicas,
      selector: processorSelector(pl),
      resources: pl.spec.resources,
    },
    sinks,
    options,
    digests,
  );
}

/** What tells a Pipeline's Sink-writing workloads (processors, query workers) apart. */
export interface SinkWriter {
  component: 'processor' | 'query-worker';
  /** The eventrunner subcommand its container runs. */
  command: string;
  names: { deployment: string; configMap: string; natsUser: string };
  /** The Sinks whose credentials, tokens and CA bundles it mounts. */
  sinkNames: readonly string[];
  config: unknown;
  replicas: number;
  selector: Record<string, string>;
  resources: unknown;
}

/**
 * The Deployment of a workload that writes to Sinks. Its pods roll when their effective config
 * changes, and only then: the config and the Secrets it reads at start-up (`digests`). Without CA
 * bundles or credentials the hash is what it was before they were hashed (undefined fields drop
 * out).
 */
export function sinkWriterDeployment(
  pl: Pipeline,
  w: SinkWriter,
  sinks: Map<string, Sink>,
  options: OperatorOptions,
  digests: SecretDigests,
): V1Deployment {
  const { volumes, mounts, secrets, cas, logins } = sinkVolumes(
    w.names.configMap,
    w.sinkNames,
    sinks,
    digests,
  );
  const lbls = childLabels(pl, w.component);
  const natsUser = natsUserVolume(options, w.names.natsUser);
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: w.names.deployment,
      namespace: pl.metadata.namespace,
      labels: lbls,
      ownerReferences: [ownerReference(pl)],
    },
    spec: {
      replicas: w.replicas,
      selector: { matchLabels: w.selector },
      template: {
        metadata: {
          labels: lbls,
          annotations: {
            'eventrunner.io/config-hash': hashOf({
              config: w.config,
              secrets,
              cas: Object.keys(cas).length ? cas : undefined,
              logins: Object.keys(logins).length ? logins : undefined,
            }),
          },
        },
        spec: {
          securityContext: podSecurityContext,
          automountServiceAccountToken: false,
          // A draining processor finishes its writes; a draining query worker writes its results,
          // a last checkpoint per partition and releases its leases before the kubelet's SIGKILL.
          terminationGracePeriodSeconds: 60,
          containers: [
            {
              name: w.component,
              image: options.image,
              imagePullPolicy: options.imagePullPolicy,
              args: [w.command, '--config', `${configMountPath}/config.yaml`],
              ...tracingEnv(otelEnv(options.otel, pl, w.component)),
              ports: [{ name: 'ops', containerPort: opsPort }],
              readinessProbe: { httpGet: { path: '/readyz', port: 'ops' }, periodSeconds: 5 },
              livenessProbe: {
                httpGet: { path: '/healthz', port: 'ops' },
                periodSeconds: 10,
                failureThreshold: 3,
              },
              securityContext: containerSecurityContext,
              ...(w.resources ? { resources: w.resources as V1ResourceRequirements } : {}),
              volumeMounts: [...mounts, ...natsUser.mounts],
            },
          ],
          volumes: [...volumes, ...natsUser.volumes],
        },
      },
    },
  };
}

// Pure builders for an EventSource's ingest workload: the config file the ingest pods read, the
// ConfigMap carrying it, the Deployment and the Service. Unit-tested without a server.
import type { V1ConfigMap, V1Deployment, V1ResourceRequirements, V1Service } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import type { EventSource, IngestConfigInput } from '../../api/generated/types.js';
import { renderSchemaSet, type SchemaSet } from '../../runtime/schemas/schema-set.js';
import { childName, streamName, subjectPrefix } from '../names.js';
import { natsConfigMapData, natsConnection, natsUserVolume } from './nats-user.js';
import type { OperatorOptions } from '../options.js';
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

export const ingestNames = (es: EventSource) => ({
  deployment: childName(es.metadata.name!, 'ingest'),
  service: childName(es.metadata.name!, 'ingest'),
  configMap: childName(es.metadata.name!, 'ingest-config'),
  schemas: childName(es.metadata.name!, 'ingest-schemas'),
  natsUser: childName(es.metadata.name!, 'ingest-nats'),
});

const tokensDir = `${configMountPath}/tokens`;
/** Where the listeners' certificate Secret is mounted. */
const tlsDir = `${configMountPath}/tls`;
/** Where the schema-set ConfigMap is mounted: a whole-volume mount, so the kubelet updates it in place. */
const schemasDir = `${configMountPath}/schemas`;
export const schemaSetKey = 'schemas.json';

/** The ops (health/metrics) port: 8081 unless the EventSource's listeners already use it. */
export function ingestOpsPort(es: EventSource): number {
  const taken = new Set([
    es.spec.ingest.http.enabled && es.spec.ingest.http.port,
    es.spec.ingest.grpc.enabled && es.spec.ingest.grpc.port,
  ]);
  let port = opsPort;
  while (taken.has(port)) port++;
  return port;
}

/** Key of the tokens Secret that the ingest pods read. */
export function tokensKey(es: EventSource): string {
  return es.spec.ingest.auth.tokensSecretRef?.key || 'tokens';
}

/** The ingest config file (see runtime/ingest/README.md) for this EventSource. */
export function ingestConfig(es: EventSource, options: OperatorOptions): IngestConfigInput {
  const ns = es.metadata.namespace!;
  const name = es.metadata.name!;
  const { ingest, conversion } = es.spec;
  return {
    nats: natsConnection(options, ns, ingestNames(es).deployment, `eventrunner-ingest-${ns}-${name}`),
    stream: { name: streamName(ns, name), subjectPrefix: subjectPrefix(ns, name) },
    http: { enabled: ingest.http.enabled, port: ingest.http.port },
    grpc: { enabled: ingest.grpc.enabled, port: ingest.grpc.port },
    ...(ingest.tls ? { tls: { certFile: `${tlsDir}/tls.crt`, keyFile: `${tlsDir}/tls.key` } } : {}),
    ops: { port: ingestOpsPort(es) },
    auth: ingest.auth.enabled
      ? { enabled: true, tokensFile: `${tokensDir}/${tokensKey(es)}` }
      : { enabled: false },
    limits: {
      maxBodyBytes: ingest.maxBodyBytes,
      maxBatchEvents: ingest.maxBatchEvents,
      ratePerSecond: ingest.rateLimit.eventsPerSecond,
      ...(ingest.rateLimit.burst !== undefined ? { burst: ingest.rateLimit.burst } : {}),
    },
    conversion: {
      ...conversion,
      defaultSource: conversion.defaultSource ?? `/eventsources/${ns}/${name}`,
    },
    eventSource: {
      namespace: ns,
      name,
      ...(ingest.http.enabled ? { httpUrl: ingestEndpoints(es).http!.replace(/\/events$/, '') } : {}),
    },
    // Rendered whatever spec.schemas says, so the first schema (like every later version) reaches
    // the running pods through the mounted file instead of a new pod template.
    schemaSet: { file: `${schemasDir}/${schemaSetKey}` },
    logLevel: options.logLevel,
  };
}

export function ingestConfigMap(es: EventSource, options: OperatorOptions): V1ConfigMap {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: ingestNames(es).configMap,
      namespace: es.metadata.namespace,
      labels: childLabels(es, 'ingest'),
      ownerReferences: [ownerReference(es)],
    },
    data: { 'config.yaml': stringify(ingestConfig(es, options)), ...natsConfigMapData(options) },
  };
}

/** The schema-set file of the accepted schema versions; changing it rolls no pod. */
export function ingestSchemasConfigMap(es: EventSource, set: SchemaSet): V1ConfigMap {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: ingestNames(es).schemas,
      namespace: es.metadata.namespace,
      labels: childLabels(es, 'ingest'),
      ownerReferences: [ownerReference(es)],
    },
    data: { [schemaSetKey]: renderSchemaSet(set) },
  };
}

/**
 * The ingest Deployment. `tlsDigest` is a digest of the certificate the TLS Secret holds now: the
 * pods read it at start, so a renewed certificate must roll them, and only a change of it does.
 */
export function ingestDeployment(
  es: EventSource,
  options: OperatorOptions,
  tlsDigest?: string,
): V1Deployment {
  const names = ingestNames(es);
  const lbls = childLabels(es, 'ingest');
  const selector = {
    'app.kubernetes.io/instance': lbls['app.kubernetes.io/instance']!,
    'app.kubernetes.io/component': 'ingest',
    'eventrunner.io/eventsource': es.metadata.name!,
  };
  const { ingest } = es.spec;
  const secret = ingest.auth.enabled ? ingest.auth.tokensSecretRef : undefined;
  const ports = [
    ...(ingest.http.enabled ? [{ name: 'http', containerPort: ingest.http.port }] : []),
    ...(ingest.grpc.enabled ? [{ name: 'grpc', containerPort: ingest.grpc.port }] : []),
    { name: 'ops', containerPort: ingestOpsPort(es) },
  ];
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: names.deployment,
      namespace: es.metadata.namespace,
      labels: lbls,
      ownerReferences: [ownerReference(es)],
    },
    spec: {
      replicas: ingest.replicas,
      selector: { matchLabels: selector },
      template: {
        metadata: {
          labels: lbls,
          // A new config (or another token Secret) rolls the pods; nothing else does.
          annotations: {
            'eventrunner.io/config-hash': hashOf({
              config: ingestConfig(es, options),
              secret,
              ...(ingest.tls ? { tls: `${ingest.tls.secretName}@${tlsDigest ?? 'missing'}` } : {}),
            }),
          },
        },
        spec: {
          securityContext: podSecurityContext,
          automountServiceAccountToken: false,
          terminationGracePeriodSeconds: 30,
          containers: [
            {
              name: 'ingest',
              image: options.image,
              imagePullPolicy: options.imagePullPolicy,
              args: ['ingest', '--config', `${configMountPath}/config.yaml`],
              ...tracingEnv(otelEnv(options.otel, es, 'ingest')),
              ports,
              readinessProbe: { httpGet: { path: '/readyz', port: 'ops' }, periodSeconds: 5 },
              livenessProbe: {
                httpGet: { path: '/healthz', port: 'ops' },
                periodSeconds: 10,
                failureThreshold: 3,
              },
              securityContext: containerSecurityContext,
              ...(ingest.resources ? { resources: ingest.resources as V1ResourceRequirements } : {}),
              volumeMounts: [
                { name: 'config', mountPath: configMountPath, readOnly: true },
                { name: 'schemas', mountPath: schemasDir, readOnly: true },
                ...(secret ? [{ name: 'tokens', mountPath: tokensDir, readOnly: true }] : []),
                ...(ingest.tls ? [{ name: 'tls', mountPath: tlsDir, readOnly: true }] : []),
                ...natsUserVolume(options, names.natsUser).mounts,
              ],
            },
          ],
          volumes: [
            { name: 'config', configMap: { name: names.configMap } },
            { name: 'schemas', configMap: { name: names.schemas } },
            ...(secret
              ? [
                  {
                    name: 'tokens',
                    secret: { secretName: secret.name, items: [{ key: tokensKey(es), path: tokensKey(es) }] },
                  },
                ]
              : []),
            ...(ingest.tls
              ? [
                  {
                    name: 'tls',
                    secret: {
                      secretName: ingest.tls.secretName,
                      items: [
                        { key: 'tls.crt', path: 'tls.crt' },
                        { key: 'tls.key', path: 'tls.key' },
                      ],
                    },
                  },
                ]
              : []),
            ...natsUserVolume(options, names.natsUser).volumes,
          ],
        },
      },
    },
  };
}

export function ingestService(es: EventSource): V1Service {
  const lbls = childLabels(es, 'ingest');
  const { ingest } = es.spec;
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: ingestNames(es).service,
      namespace: es.metadata.namespace,
      labels: lbls,
      ownerReferences: [ownerReference(es)],
    },
    spec: {
      selector: {
        'app.kubernetes.io/instance': es.metadata.name!,
        'app.kubernetes.io/component': 'ingest',
        'eventrunner.io/eventsource': es.metadata.name!,
      },
      ports: [
        ...(ingest.http.enabled ? [{ name: 'http', port: ingest.http.port, targetPort: 'http' }] : []),
        ...(ingest.grpc.enabled
          ? [{ name: 'grpc', port: ingest.grpc.port, targetPort: 'grpc', appProtocol: 'grpc' }]
          : []),
        { name: 'ops', port: ingestOpsPort(es), targetPort: 'ops' },
      ],
    },
  };
}

export function ingestEndpoints(es: EventSource): { http?: string; grpc?: string } {
  const host = `${ingestNames(es).service}.${es.metadata.namespace}.svc`;
  const { ingest } = es.spec;
  return {
    ...(ingest.http.enabled
      ? { http: `${ingest.tls ? 'https' : 'http'}://${host}:${ingest.http.port}/events` }
      : {}),
    ...(ingest.grpc.enabled ? { grpc: `${host}:${ingest.grpc.port}` } : {}),
  };
}

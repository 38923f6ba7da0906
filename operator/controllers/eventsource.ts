// EventSource → a JetStream stream (drift repaired on every resync, recreated if NATS lost it) and
// an ingest Deployment, Service and ConfigMap; endpoints, stream state and conditions in status.
import type { EventSource } from '../../api/generated/types.js';
import { ConditionReason, ConditionType, type ConditionInput } from '../../api/conditions.js';
import { validateEventSource, formatPath } from '../../api/validate.js';
import { isTerminalError } from '../../runtime/common/errors.js';
import type { Logger } from '../../runtime/common/logger.js';
import { isNotFound } from '../apply.js';
import { hashOf } from '../builders/common.js';
import {
  ingestConfig,
  ingestConfigMap,
  ingestDeployment,
  ingestEndpoints,
  ingestNames,
  ingestSchemasConfigMap,
  ingestService,
} from '../builders/ingest.js';
import { evolveSchemas, schemaSetOf } from '../builders/schemas.js';
import { publishedTo } from '../graph.js';
import { deleteStreamIfExists, ensureStream, eventSourceStream } from '../jetstream.js';
import { syncStreamSuspend } from './eventsource-suspend.js';
import type { ControllerContext } from '../manager.js';
import { streamName } from '../names.js';
import type { ReconcileResult } from '../queue.js';
import {
  asManifest,
  computeConditions,
  hasFinalizer,
  jitteredResync,
  setFinalizer,
  writeStatus,
} from '../status.js';
import { declaredSchemas, previousSchemas, rememberSchemas } from './eventsource-schemas.js';
import { workloadCondition } from './workload.js';
import { ensureNatsUser, requeueBefore } from './nats-users.js';
import { ingestPermissions } from '../nats-permissions.js';

export async function reconcileEventSource(
  ctx: ControllerContext,
  namespace: string,
  name: string,
  log: Logger,
): Promise<ReconcileResult | void> {
  const es = ctx.caches.eventSources.get(name, namespace);
  if (!es) return;
  const stream = streamName(namespace, name);

  if (es.metadata.deletionTimestamp) {
    if (!hasFinalizer(es)) return;
    if (es.spec.deletionPolicy !== 'Retain') {
      const jsm = await ctx.jsm();
      if (await deleteStreamIfExists(jsm, stream)) log.info({ stream }, 'Deleted stream');
    } else {
      log.info({ stream }, 'Retained stream (deletionPolicy: Retain)');
    }
    await setFinalizer(ctx, es, false);
    return;
  }
  if (!hasFinalizer(es)) await setFinalizer(ctx, es, true);

  const generation = es.metadata.generation ?? 0;
  const inputs: ConditionInput[] = [];
  const { issues } = validateEventSource(asManifest(es));
  if (issues.length > 0) {
    const message = issues.map((i) => `${formatPath(i.path)}: ${i.message}`).join('; ');
    inputs.push({
      type: ConditionType.StreamReady,
      status: 'False',
      reason: ConditionReason.InvalidSpec,
      message,
    });
    inputs.push({
      type: ConditionType.IngestReady,
      status: 'False',
      reason: ConditionReason.InvalidSpec,
      message,
    });
    inputs.push({
      type: ConditionType.SchemasValid,
      status: 'False',
      reason: ConditionReason.InvalidSpec,
      message,
    });
    await writeStatus(ctx, 'EventSource', es, {
      ...es.status,
      observedGeneration: generation,
      conditions: computeConditions('EventSource', es.status?.conditions, inputs, generation),
    });
    return;
  }

  // JetStream first: a stream that cannot be reached is reported, then retried with backoff.
  let streamStatus: { name: string; messages: number; bytes: number } | undefined;
  let transient: unknown;
  try {
    // Pipelines publishing here (eventSource Sinks) widen its duplicate window to their redelivery.
    const sinkNamed = (n: string) => ctx.caches.sinks.get(n, namespace);
    const publishers = ctx.caches.pipelines
      .list(namespace)
      .filter((p) => !p.metadata.deletionTimestamp && publishedTo(p, sinkNamed).includes(name));
    const res = await ensureStream(await ctx.jsm(), eventSourceStream(es, publishers));
    if (res.action !== 'unchanged') {
      log.info(
        { stream, action: res.action, drifted: res.drifted },
        res.action === 'created' ? 'Created stream' : 'Repaired stream drift',
      );
      if (res.action === 'updated') {
        await ctx.events.record(
          es,
          'Normal',
          ConditionReason.StreamUpdated,
          `Repaired stream ${stream}: ${res.drifted.join(', ')} had drifted`,
        );
      }
    }
    const suspend = await syncStreamSuspend(await ctx.jsm(), es, res.info);
    if (suspend) {
      log.info({ stream }, suspend === 'suspended' ? 'Suspended ingest' : 'Resumed ingest');
      await ctx.events.record(
        es,
        'Normal',
        suspend === 'suspended' ? ConditionReason.Suspended : ConditionReason.Resumed,
        suspend === 'suspended'
          ? 'Ingest refuses new events with 503 until spec.suspend is false'
          : 'Ingest accepts events again',
      );
    }
    streamStatus = { name: stream, messages: res.info.state.messages, bytes: res.info.state.bytes };
    inputs.push({
      type: ConditionType.StreamReady,
      status: 'True',
      reason: res.action === 'created' ? ConditionReason.StreamCreated : ConditionReason.Ready,
      message: `stream ${stream} is ready`,
    });
  } catch (err) {
    const terminal = isTerminalError(err);
    if (!terminal) transient = err;
    inputs.push({
      type: ConditionType.StreamReady,
      status: 'False',
      reason: terminal ? ConditionReason.StreamError : ConditionReason.NatsUnavailable,
      message: err instanceof Error ? err.message : String(err),
    });
  }

  const names = ingestNames(es);
  const auth = es.spec.ingest.auth;
  let secretProblem: string | undefined;
  if (auth.enabled) {
    if (!auth.tokensSecretRef)
      secretProblem = 'spec.ingest.auth.tokensSecretRef is required while auth is enabled';
    else {
      try {
        await ctx.core.readNamespacedSecret({ name: auth.tokensSecretRef.name, namespace });
      } catch (err) {
        if (!isNotFound(err)) throw err;
        secretProblem = `Secret ${auth.tokensSecretRef.name} with the ingest tokens does not exist; create it (kubectl create secret generic ${auth.tokensSecretRef.name} --from-literal=${auth.tokensSecretRef.key ?? 'tokens'}=<token>)`;
      }
    }
  }

  // The listeners' certificate: its digest rolls the pods when cert-manager (or anyone) renews it.
  let tlsDigest: string | undefined;
  const tls = es.spec.ingest.tls;
  if (tls && !secretProblem) {
    try {
      const s = await ctx.core.readNamespacedSecret({ name: tls.secretName, namespace });
      if (!s.data?.['tls.crt'] || !s.data['tls.key'])
        secretProblem = `Secret ${tls.secretName} named by spec.ingest.tls has no tls.crt and tls.key; make it a kubernetes.io/tls Secret (kubectl create secret tls ${tls.secretName} --cert=<file> --key=<file>)`;
      else tlsDigest = hashOf({ crt: s.data['tls.crt'], key: s.data['tls.key'] });
    } catch (err) {
      if (!isNotFound(err)) throw err;
      secretProblem = `Secret ${tls.secretName} named by spec.ingest.tls does not exist; create it (kubectl create secret tls ${tls.secretName} --cert=<file> --key=<file>)`;
    }
  }

  // Schemas: a changed one becomes the next version only when the evolution rules allow it; the
  // accepted versions go to the pods through a mounted file they re-read (no rollout).
  const schemas = evolveSchemas(namespace, name, await declaredSchemas(ctx, es), previousSchemas(ctx, es));
  inputs.push(schemas.condition);
  await ctx.children.ensure(
    ingestSchemasConfigMap(es, schemaSetOf(schemas.accepted)),
    ctx.caches.configMaps.get(names.schemas, namespace),
  );
  for (const c of schemas.changed) {
    log.info({ type: c.type, version: c.version }, 'Accepted schema version');
    await ctx.events.record(
      es,
      'Normal',
      ConditionReason.SchemasAccepted,
      `Accepted version ${c.version} of the schema for ${c.type}`,
    );
  }
  // The ingest pods' own NATS user, before the pods that mount it.
  const renewCredentialsAt = await ensureNatsUser(
    ctx,
    es,
    names.natsUser,
    'ingest',
    ingestPermissions(ingestConfig(es, ctx.options)),
    log,
  );
  await ctx.children.ensure(
    ingestConfigMap(es, ctx.options),
    ctx.caches.configMaps.get(names.configMap, namespace),
  );
  await ctx.children.ensure(ingestService(es), ctx.caches.services.get(names.service, namespace));
  // Status reports from the Deployment as applied: the cache sees it only later.
  const { object: deployment } = await ctx.children.ensureObject(
    ingestDeployment(es, ctx.options, tlsDigest),
    ctx.caches.deployments.get(names.deployment, namespace),
  );
  inputs.push(
    secretProblem
      ? {
          type: ConditionType.IngestReady,
          status: 'False',
          reason: ConditionReason.SecretNotFound,
          message: secretProblem,
        }
      : workloadCondition(ConditionType.IngestReady, deployment, es.spec.ingest.replicas, 'ingest'),
  );

  await writeStatus(ctx, 'EventSource', es, {
    observedGeneration: generation,
    conditions: computeConditions('EventSource', es.status?.conditions, inputs, generation),
    ...(streamStatus ? { stream: streamStatus } : es.status?.stream ? { stream: es.status.stream } : {}),
    endpoints: ingestEndpoints(es),
    ...(schemas.accepted.length ? { schemas: schemas.accepted } : {}),
    ingest: {
      replicas: deployment?.status?.replicas ?? 0,
      readyReplicas: deployment?.status?.readyReplicas ?? 0,
    },
  });
  rememberSchemas(ctx, es, schemas.accepted);
  if (transient) throw transient;
  return { requeueAfterMs: requeueBefore(jitteredResync(ctx.options.resyncMs), renewCredentialsAt) };
}

export type { EventSource };

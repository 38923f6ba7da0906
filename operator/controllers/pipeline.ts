// Pipeline → rules checked (errors with line and column in status; the last good config keeps
// running), a durable consumer on each source stream, a dead-letter stream, and a processor
// Deployment rolled only when its effective config changes; status rolls up sources, sinks and
// workload, with lag (consumer pending) and dead-letter depth. A Pipeline whose outputs would feed
// its own sources (through eventSource Sinks, directly or via other Pipelines) is refused, and new
// dead letters are told as a Warning Event with the latest reason.
import type { V1Deployment } from '@kubernetes/client-node';
import { compilePipelineQueries, formatQueryProblem } from '../../runtime/queries/pipeline.js';
import type { EventSource, Pipeline, PipelineStatus, Sink } from '../../api/generated/types.js';
import {
  ConditionReason,
  ConditionType,
  findCondition,
  isConditionTrue,
  type ConditionInput,
} from '../../api/conditions.js';
import { pipelineSummary } from '../../api/summary.js';
import { formatPath, validatePipeline } from '../../api/validate.js';
import type { Logger } from '../../runtime/common/logger.js';
import { compileRules, isRuleCompileError, type RuleDiagnostic } from '../../runtime/rules/index.js';
import {
  processorConfig,
  processorConfigMap,
  processorDeployment,
  processorNames,
  processorSelector,
} from '../builders/processor.js';
import {
  deleteConsumerIfExists,
  deleteStreamIfExists,
  ensureConsumer,
  ensurePipelineStreams,
  isJsNotFound,
  pipelineConsumer,
  pipelineStreamReplicas,
} from '../jetstream.js';
import { describeCycle, downstreamOf, feedbackCycle, publishedTo } from '../graph.js';
import { reportDiscarded } from '../discards.js';
import { stateLimitCondition } from '../query-state.js';
import type { ControllerContext } from '../manager.js';
import { advisoryStreamName, consumerName, deadLetterStreamName, streamName } from '../names.js';
import type { ReconcileResult } from '../queue.js';
import {
  asManifest,
  computeConditions,
  hasFinalizer,
  jitteredResync,
  setFinalizer,
  writeStatus,
} from '../status.js';
import {
  deleteQueryState,
  ensureQueryState,
  ensureQueryWorkers,
  hasQueries,
  queryStatus,
  removeQueryWorkers,
  scaleQueryWorkers,
  withQueryWorkers,
} from './pipeline-queries.js';
import { sinkSecretDigests } from './sink-secrets.js';
import { ensureNatsUser, requeueBefore } from './nats-users.js';
import { processorPermissions } from '../nats-permissions.js';
import { deleteReplayBucket } from './replay.js';
import { workloadCondition } from './workload.js';
import {
  autoscaleIntervalMs,
  autoscaleProcessors,
  consumerReading,
  forgetAutoscaler,
  type ConsumerReading,
} from './pipeline-autoscale.js';

async function deletePipelineState(ctx: ControllerContext, pl: Pipeline, log: Logger): Promise<void> {
  const ns = pl.metadata.namespace!;
  if (pl.spec.deletionPolicy === 'Retain') {
    log.info('Retained JetStream state (deletionPolicy: Retain)');
    return;
  }
  const jsm = await ctx.jsm();
  const durable = consumerName(ns, pl.metadata.name!);
  for (const s of pl.spec.sources) {
    if (await deleteConsumerIfExists(jsm, streamName(ns, s.eventSource), durable))
      log.info({ consumer: durable }, 'Deleted consumer');
  }
  if (await deleteStreamIfExists(jsm, advisoryStreamName(ns, pl.metadata.name!)))
    log.info('Deleted max-deliveries advisory stream');
  if (pl.spec.deadLetter.deletionPolicy === 'Retain')
    log.info('Retained the dead-letter stream (deadLetter.deletionPolicy: Retain)');
  else {
    if (await deleteStreamIfExists(jsm, deadLetterStreamName(ns, pl.metadata.name!)))
      log.info('Deleted dead-letter stream');
    await deleteReplayBucket(ctx, pl, log);
  }
  await deleteQueryState(ctx, pl, log);
}

export async function reconcilePipeline(
  ctx: ControllerContext,
  namespace: string,
  name: string,
  log: Logger,
): Promise<ReconcileResult | void> {
  const pl = ctx.caches.pipelines.get(name, namespace);
  if (!pl) return;
  if (pl.metadata.deletionTimestamp) {
    forgetAutoscaler(ctx, pl);
    if (!hasFinalizer(pl)) return;
    await deletePipelineState(ctx, pl, log);
    await setFinalizer(ctx, pl, false);
    return;
  }
  if (!hasFinalizer(pl)) await setFinalizer(ctx, pl, true);

  const generation = pl.metadata.generation ?? 0;
  const inputs: ConditionInput[] = [];
  const outputs = pl.spec.outputs.map((o) => o.name);
  const names = processorNames(pl);
  const status: PipelineStatus = {
    observedGeneration: generation,
    summary: pipelineSummary(pl.spec),
    selector: Object.entries(processorSelector(pl))
      .map(([k, v]) => `${k}=${v}`)
      .join(','),
  };

  // 1. Spec and rules. Invalid rules leave the running workload untouched.
  const { issues } = validatePipeline(asManifest(pl));
  let diagnostics: RuleDiagnostic[] = [];
  let ruleCount = 0;
  try {
    ruleCount = compileRules(pl.spec.rules, {
      outputs,
      mode: pl.spec.ruleEngine.mode,
      maxCycles: pl.spec.ruleEngine.maxCycles,
      ...(pl.spec.defaultOutputs
        ? { defaultOutputs: pl.spec.defaultOutputs.filter((o) => outputs.includes(o)) }
        : {}),
    }).rules.length;
  } catch (err) {
    if (!isRuleCompileError(err)) throw err;
    diagnostics = err.diagnostics;
  }
  const specMessage = issues.map((i) => `${formatPath(i.path)}: ${i.message}`).join('; ');
  const rulesOk = diagnostics.length === 0 && issues.length === 0;
  status.rules = {
    count: rulesOk ? ruleCount : (pl.status?.rules?.count ?? 0),
    errors: diagnostics.map((d) => ({ line: d.line, column: d.column, message: d.message })),
  };
  inputs.push(
    rulesOk
      ? {
          type: ConditionType.RulesValid,
          status: 'True',
          reason: ConditionReason.RulesCompiled,
          message: `${ruleCount} rules compiled`,
        }
      : {
          type: ConditionType.RulesValid,
          status: 'False',
          reason: issues.length ? ConditionReason.InvalidSpec : ConditionReason.RulesInvalid,
          message: issues.length
            ? specMessage
            : diagnostics.map((d) => `${d.line}:${d.column}: ${d.message}`).join('; '),
        },
  );

  // 1b. Queries, compiled like the rules: invalid ones leave the running workload untouched too.
  const queries = compilePipelineQueries({ namespace, name }, pl.spec);
  const queriesOk = queries.problems.length === 0;
  status.queries = {
    count: queriesOk ? queries.compiled.length : (pl.status?.queries?.count ?? 0),
    errors: queries.problems.slice(0, 100).map((p) => ({
      query: p.query,
      line: p.line,
      column: p.column,
      message: p.message,
    })),
  };
  inputs.push(
    queriesOk
      ? {
          type: ConditionType.QueriesValid,
          status: 'True',
          reason: ConditionReason.QueriesCompiled,
          message: `${queries.compiled.length} queries compiled`,
        }
      : {
          type: ConditionType.QueriesValid,
          status: 'False',
          reason: ConditionReason.QueriesInvalid,
          message: queries.problems.map(formatQueryProblem).join('; '),
        },
  );

  // 2. Sources: each EventSource's stream gets this Pipeline's durable consumer.
  const eventSources = new Map<string, EventSource>();
  let consumerProblem: ConditionInput | undefined;
  // Unknown (undefined) as soon as one source's consumer cannot be read: never a partial sum or 0.
  let lag: number | undefined = 0;
  const consumers: ConsumerReading[] = [];
  let transient: unknown;
  for (const src of pl.spec.sources) {
    const es = ctx.caches.eventSources.get(src.eventSource, namespace);
    if (!es) {
      lag = undefined;
      consumerProblem ??= {
        type: ConditionType.ConsumerReady,
        status: 'False',
        reason: ConditionReason.EventSourceNotFound,
        message: `EventSource ${src.eventSource} does not exist, so LAG is unknown`,
      };
      continue;
    }
    eventSources.set(src.eventSource, es);
    if (issues.length) {
      lag = undefined;
      continue;
    }
    try {
      const res = await ensureConsumer(
        await ctx.jsm(),
        streamName(namespace, src.eventSource),
        pipelineConsumer(pl, src),
      );
      if (res.action !== 'unchanged')
        log.info(
          { consumer: res.info.name, stream: res.info.stream_name, action: res.action },
          res.action === 'created' ? 'Created consumer' : 'Repaired consumer drift',
        );
      if (lag !== undefined) lag += res.info.num_pending + res.info.num_ack_pending;
      consumers.push(consumerReading(res.info));
      await reportDiscarded(ctx, pl, es, res.info, log);
    } catch (err) {
      lag = undefined;
      if (isJsNotFound(err)) {
        consumerProblem ??= {
          type: ConditionType.ConsumerReady,
          status: 'False',
          reason: ConditionReason.EventSourceNotReady,
          message: `the stream of EventSource ${src.eventSource} does not exist yet`,
        };
      } else {
        transient ??= err;
        consumerProblem ??= {
          type: ConditionType.ConsumerReady,
          status: 'False',
          reason: ConditionReason.ConsumerError,
          message: `cannot read the consumer on the stream of EventSource ${src.eventSource}, so LAG is unknown: ${err instanceof Error ? err.message : String(err)}`,
        };
      }
    }
  }
  let deadLetters: number | undefined;
  if (!issues.length) {
    try {
      const own = await ensurePipelineStreams(
        await ctx.jsm(),
        pl,
        pipelineStreamReplicas(eventSources.values()),
      );
      if (own.advisories.action === 'created') log.info('Created max-deliveries advisory stream');
      const dlq = own.deadLetters;
      deadLetters = dlq.info.state.messages;
      await reportDeadLetters(ctx, pl, pl.status?.deadLetters, dlq.info.state, log);
    } catch (err) {
      transient ??= err;
      consumerProblem ??= {
        type: ConditionType.ConsumerReady,
        status: 'False',
        reason: ConditionReason.ConsumerError,
        message: `cannot read the dead-letter stream, so DLQ is unknown: ${err instanceof Error ? err.message : String(err)}`,
      };
    }
  }
  // 2b. Queries: the shuffle stream the processors publish to and the workers' state bucket.
  const withQueries = !issues.length && queriesOk && hasQueries(pl);
  let shuffle: ConsumerReading | undefined;
  if (withQueries) {
    const q = await ensureQueryState(ctx, pl, log);
    transient ??= q.transient;
    consumerProblem ??= q.problem;
    shuffle = q.reading;
  }
  inputs.push(
    consumerProblem ?? {
      type: ConditionType.ConsumerReady,
      status: 'True',
      reason: ConditionReason.ConsumerCreated,
      message: `consumer ${consumerName(namespace, name)} on ${pl.spec.sources.length} stream(s)`,
    },
  );
  status.consumer = {
    name: consumerName(namespace, name),
    deadLetterStream: deadLetterStreamName(namespace, name),
  };
  // Absent, not 0, when unread: kubectl then prints an empty cell and ConsumerReady says why.
  if (lag !== undefined) status.lag = lag;
  if (deadLetters !== undefined) status.deadLetters = deadLetters;

  // 3. Sinks: every output's Sink exists and reports Ready.
  const sinks = new Map<string, Sink>();
  let sinkProblem: ConditionInput | undefined;
  for (const o of pl.spec.outputs) {
    const sink = ctx.caches.sinks.get(o.sink, namespace);
    if (!sink) {
      sinkProblem ??= {
        type: ConditionType.SinksReady,
        status: 'False',
        reason: ConditionReason.SinkNotFound,
        message: `Sink ${o.sink} (output ${o.name}) does not exist`,
      };
      continue;
    }
    sinks.set(o.sink, sink);
    if (!isConditionTrue(sink.status?.conditions, ConditionType.Ready)) {
      const why = findCondition(sink.status?.conditions, ConditionType.Ready)?.message ?? 'not probed yet';
      sinkProblem ??= {
        type: ConditionType.SinksReady,
        status: 'False',
        reason: ConditionReason.SinkNotReady,
        message: `Sink ${o.sink}: ${why}`,
      };
    }
  }
  // 3b. Outputs that lead back to this Pipeline's own sources. Only Pipelines that publish to an
  // EventSource look at the others.
  const sinkNamed = (n: string) => ctx.caches.sinks.get(n, namespace);
  const neighbours = publishedTo(pl, sinkNamed).length ? ctx.caches.pipelines.list(namespace) : [];
  const cycle = neighbours.length ? feedbackCycle(name, neighbours, sinkNamed) : undefined;
  if (cycle)
    sinkProblem = {
      type: ConditionType.SinksReady,
      status: 'False',
      reason: ConditionReason.OutputCycle,
      message:
        `${describeCycle(cycle)}: this Pipeline's events would come back to it and circle forever; ` +
        'publish to an EventSource that no Pipeline on this path reads',
    };
  // The Pipelines downstream see the cycle appear or go only if they look again.
  const wasCycle =
    findCondition(pl.status?.conditions, ConditionType.SinksReady)?.reason === ConditionReason.OutputCycle;
  if (!!cycle !== wasCycle)
    for (const next of downstreamOf(pl, neighbours, sinkNamed))
      if (next !== name) ctx.enqueue('Pipeline', namespace, next);
  inputs.push(
    sinkProblem ?? {
      type: ConditionType.SinksReady,
      status: 'True',
      reason: ConditionReason.SinksReady,
      message: `${sinks.size} sink(s) ready`,
    },
  );

  // 4. Workload: only from a valid spec whose sinks all exist; otherwise what runs stays as it is.
  // The processor config carries each source's conversion settings and each output's Sink spec:
  // rendered before all of them are known, it would change again moments later and roll the pods.
  const canRoll =
    rulesOk &&
    queriesOk &&
    !cycle &&
    sinks.size === new Set(pl.spec.outputs.map((o) => o.sink)).size &&
    eventSources.size === new Set(pl.spec.sources.map((s) => s.eventSource)).size;
  // 3c. Autoscaling: the processor replicas from pending work and processing rate (never while
  // suspended, and never from a partial reading).
  if (pl.spec.suspend) forgetAutoscaler(ctx, pl);
  const autoscaled = pl.spec.suspend
    ? undefined
    : await autoscaleProcessors(
        ctx,
        pl,
        lag === undefined ? undefined : consumers,
        ctx.caches.deployments.get(names.deployment, namespace),
        log,
      );
  if (autoscaled) status.autoscaling = autoscaled.status;
  const workersScaled =
    withQueries && !pl.spec.suspend ? await scaleQueryWorkers(ctx, pl, shuffle, log) : undefined;
  let renewCredentialsAt: number | undefined;
  // The processor Deployment as applied; status reports from it (the cache sees it only later).
  let applied: V1Deployment | undefined;
  if (canRoll) {
    const config = processorConfig(pl, eventSources, sinks, ctx.options);
    const digests = await sinkSecretDigests(ctx, namespace, sinks);
    // The processor pods' own NATS user, before the pods that mount it.
    renewCredentialsAt = await ensureNatsUser(
      ctx,
      pl,
      names.natsUser,
      'processor',
      processorPermissions(config),
      log,
    );
    await ctx.children.ensure(
      processorConfigMap(pl, config, ctx.options),
      ctx.caches.configMaps.get(names.configMap, namespace),
    );
    const desired = processorDeployment(pl, config, sinks, ctx.options, digests);
    if (autoscaled) desired.spec!.replicas = autoscaled.replicas;
    applied = (
      await ctx.children.ensureObject(desired, ctx.caches.deployments.get(names.deployment, namespace))
    ).object;
    if (withQueries) {
      const workersRenewAt = await ensureQueryWorkers(
        ctx,
        pl,
        config,
        sinks,
        digests,
        log,
        workersScaled?.replicas,
      );
      if (workersRenewAt !== undefined)
        renewCredentialsAt = Math.min(renewCredentialsAt ?? workersRenewAt, workersRenewAt);
    }
  }
  if (!issues.length && queriesOk && !hasQueries(pl)) await removeQueryWorkers(ctx, pl, log);
  const deployment = applied ?? ctx.caches.deployments.get(names.deployment, namespace);
  const desiredReplicas = pl.spec.suspend ? 0 : (autoscaled?.replicas ?? pl.spec.replicas);
  const processorReady = workloadCondition(
    ConditionType.WorkloadReady,
    deployment,
    desiredReplicas,
    'processor',
  );
  inputs.push(
    deployment || canRoll
      ? withQueries
        ? withQueryWorkers(ctx, pl, processorReady, workersScaled?.replicas)
        : processorReady
      : {
          type: ConditionType.WorkloadReady,
          status: 'False',
          reason: ConditionReason.WorkloadUnavailable,
          message:
            'no processor is running yet: it starts once the rules and queries compile, every source EventSource and Sink exists, and no output leads back to its sources',
        },
  );
  status.replicas = deployment?.status?.replicas ?? 0;
  status.readyReplicas = deployment?.status?.readyReplicas ?? 0;
  if (withQueries) Object.assign(status, await queryStatus(ctx, pl, status.queries, log));
  // While the queries do not compile, the last good ones run: the condition keeps what it said.
  const stateLimit = stateLimitCondition(
    pl.spec.queries ?? [],
    withQueries ? status.queries?.items : undefined,
    !!findCondition(pl.status?.conditions, ConditionType.QueryStateWithinLimits),
  );
  if (stateLimit) inputs.push(stateLimit);
  if (workersScaled && status.queryWorkers) status.queryWorkers.autoscaling = workersScaled.status;

  const conditions = computeConditions('Pipeline', pl.status?.conditions, inputs, generation);
  const ready = isConditionTrue(conditions, ConditionType.Ready);
  status.phase = pl.spec.suspend
    ? 'Suspended'
    : ready
      ? 'Running'
      : !deployment
        ? rulesOk
          ? 'Pending'
          : 'Failed'
        : (deployment.status?.readyReplicas ?? 0) > 0
          ? 'Degraded'
          : 'Pending';
  await writeStatus(ctx, 'Pipeline', pl, { ...status, conditions });
  if (transient) throw transient;
  // LAG is refreshed at least every 10 s while not 0; the autoscaler samples a few times per lookback.
  let next = jitteredResync(ctx.options.resyncMs);
  if (status.lag !== 0 && !issues.length) next = Math.min(next, jitteredResync(8000));
  const sampling = autoscaled ? autoscaleIntervalMs(pl) : undefined;
  if (sampling !== undefined) next = Math.min(next, sampling);
  return { requeueAfterMs: requeueBefore(next, renewCredentialsAt) };
}

/**
 * A Warning Event when the dead-letter stream holds more than the status last said: how many, and
 * the latest one's reason and output, so `kubectl describe pipeline` shows persistent failures (a
 * webhook answering 404, retries exhausted) without reading the stream.
 */
async function reportDeadLetters(
  ctx: ControllerContext,
  pl: Pipeline,
  before: number | undefined,
  state: { messages: number; last_seq: number },
  log: Logger,
): Promise<void> {
  // Unknown before (first look, or NATS was unreachable): nothing to compare with.
  if (before === undefined || state.messages <= before) return;
  let latest = '';
  try {
    const m = await (
      await ctx.jsm()
    ).streams.getMessage(deadLetterStreamName(pl.metadata.namespace!, pl.metadata.name!), {
      seq: state.last_seq,
    });
    const output = m?.header.get('eventrunner-output');
    const reason = m?.header.get('eventrunner-reason');
    if (reason) latest = `; latest: ${reason}${output ? ` (output ${output})` : ''}`;
  } catch (err) {
    log.debug({ err }, 'Could not read the latest dead letter');
  }
  const n = state.messages - before;
  await ctx.events.record(
    pl,
    'Warning',
    ConditionReason.EventsDeadLettered,
    `${n} event${n === 1 ? '' : 's'} dead-lettered, ${state.messages} in the dead-letter stream${latest}`,
  );
}

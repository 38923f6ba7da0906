// The Deployment that carries out a Replay: the Pipeline's processor pod (its image, config and
// Sink credentials) running `eventrunner replay-worker` with the Replay as its plan, and under
// per-workload NATS users, a user of its own (operator/nats-permissions.ts, replayPermissions).
// One replica; owned by the Replay and removed by the operator when the Replay finishes.
import type { V1Deployment } from '@kubernetes/client-node';
import type { Replay } from '../../api/generated/types.js';
import type { ReplayPlan } from '../../runtime/replay/plan.js';
import { labels, childName } from '../names.js';
import { ownerReference } from './common.js';
import { natsUserVolumeName } from './nats-user.js';

export function replayPlan(rp: Replay): ReplayPlan {
  const { pipeline, from, to, deadLetters, ratePerSecond } = rp.spec;
  return {
    namespace: rp.metadata.namespace!,
    name: rp.metadata.name!,
    uid: rp.metadata.uid!,
    pipeline,
    ...(from ? { from } : {}),
    ...(to ? { to } : {}),
    ...(deadLetters ? { deadLetters } : {}),
    ...(ratePerSecond ? { ratePerSecond } : {}),
  };
}

export const replayDeploymentName = (rp: Replay): string => childName(rp.metadata.name!, 'replay');

/** The Secret with the replay pod's own NATS user (when the operator mints users). */
export const replayNatsUserName = (rp: Replay): string => childName(rp.metadata.name!, 'replay-nats');

export function replayLabels(rp: Replay): Record<string, string> {
  return {
    [labels.name]: 'eventrunner',
    [labels.instance]: rp.metadata.name!,
    [labels.component]: 'replay',
    [labels.managedBy]: 'eventrunner-operator',
    [labels.partOf]: 'eventrunner',
    'eventrunner.io/replay': rp.metadata.name!,
    'eventrunner.io/pipeline': rp.spec.pipeline,
  };
}

/**
 * From the live processor Deployment: same pod, another command. Probes go (the worker idles
 * once finished, and is not a Service backend); the config-hash annotation stays, so a processor
 * config change shows in the replay pod too.
 */
export function replayDeployment(rp: Replay, processor: V1Deployment): V1Deployment {
  const template = structuredClone(processor.spec!.template);
  const lbls = replayLabels(rp);
  const containers = template.spec!.containers.map((c, i) => {
    if (i > 0) return c;
    const args = c.args ?? [];
    const config = args[args.indexOf('--config') + 1] ?? '/etc/eventrunner/config.yaml';
    const { readinessProbe: _r, livenessProbe: _l, ...rest } = c;
    return {
      ...rest,
      name: 'replay',
      args: ['replay-worker', '--config', config, '--replay', JSON.stringify(replayPlan(rp))],
    };
  });
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: replayDeploymentName(rp),
      namespace: rp.metadata.namespace,
      labels: lbls,
      ownerReferences: [ownerReference(rp as Parameters<typeof ownerReference>[0])],
    },
    spec: {
      replicas: 1,
      selector: { matchLabels: { 'eventrunner.io/replay': rp.metadata.name!, [labels.component]: 'replay' } },
      template: {
        metadata: { labels: lbls, annotations: template.metadata?.annotations ?? {} },
        spec: {
          ...template.spec!,
          containers,
          // The processor's credentials volume, if any, carries the replay's own user instead.
          ...(template.spec!.volumes
            ? {
                volumes: template.spec!.volumes.map((v) =>
                  v.name === natsUserVolumeName && v.secret
                    ? { ...v, secret: { ...v.secret, secretName: replayNatsUserName(rp) } }
                    : v,
                ),
              }
            : {}),
        },
      },
    },
  };
}

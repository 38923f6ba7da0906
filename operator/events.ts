// Kubernetes Events on transitions (a condition flipped, a stream was created or repaired), so
// `kubectl describe` tells the story. Failures to record are logged, never fatal.
import { randomBytes } from 'node:crypto';
import { CoreV1Api, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from '../runtime/common/logger.js';

export class EventRecorder {
  private readonly core: CoreV1Api;
  writes = 0;

  constructor(
    kc: KubeConfig,
    private readonly log: Logger,
  ) {
    this.core = kc.makeApiClient(CoreV1Api);
  }

  async record(
    obj: KubernetesObject,
    type: 'Normal' | 'Warning',
    reason: string,
    message: string,
  ): Promise<void> {
    const namespace = obj.metadata?.namespace ?? 'default';
    const now = new Date();
    this.writes++;
    try {
      await this.core.createNamespacedEvent({
        namespace,
        body: {
          metadata: { name: `${obj.metadata?.name}.${randomBytes(8).toString('hex')}`, namespace },
          involvedObject: {
            apiVersion: obj.apiVersion,
            kind: obj.kind,
            name: obj.metadata?.name,
            namespace,
            uid: obj.metadata?.uid,
          },
          type,
          reason,
          message: message.slice(0, 1024),
          source: { component: 'eventrunner-operator' },
          reportingComponent: 'eventrunner-operator',
          reportingInstance: 'eventrunner-operator',
          firstTimestamp: now,
          lastTimestamp: now,
          count: 1,
        },
      });
    } catch (err) {
      this.log.warn({ err, reason }, 'Could not record Event');
    }
  }
}

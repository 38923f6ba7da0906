// The reads a detail page needs beyond the collector's watches and scrapes: JetStream (consumers,
// streams, last messages) and the Kubernetes Events of the resource. Cached for a moment, so any
// number of open pages cost one round of reads per resource and tick.
import { CoreV1Api, type CoreV1Event, type KubeConfig } from '@kubernetes/client-node';
import type { JetStreamManager } from '@nats-io/jetstream';
import type { EventSource, Pipeline } from '../../api/generated/types.js';
import { consumerName, deadLetterStreamName, streamName, subjectPrefix } from '../../operator/names.js';
import {
  consumerFigures,
  recentDeadLetters,
  recentEvents,
  streamFigures,
  type ConsumerFigures,
} from './nats-reads.js';
import type { EventSourceExtras } from './view-resources.js';
import type { PipelineExtras } from './view-pipeline.js';

export const RECENT_EVENTS = 10;
export const RECENT_DEAD_LETTERS = 20;

export class DetailReads {
  private readonly core: CoreV1Api;
  private readonly cache = new Map<string, { at: number; value: Promise<unknown> }>();

  constructor(
    kc: KubeConfig,
    private readonly jsm: JetStreamManager | undefined,
    private readonly maxAgeMs: number,
  ) {
    this.core = kc.makeApiClient(CoreV1Api);
  }

  private cached<T>(key: string, now: number, read: () => Promise<T>): Promise<T> {
    const hit = this.cache.get(key);
    if (hit && now - hit.at < this.maxAgeMs) return hit.value as Promise<T>;
    const value = read();
    this.cache.set(key, { at: now, value });
    // Failed reads are not kept.
    value.catch(() => this.cache.delete(key));
    if (this.cache.size > 500) {
      for (const [k, v] of this.cache) if (now - v.at >= this.maxAgeMs) this.cache.delete(k);
    }
    return value;
  }

  kubeEvents(kind: string, namespace: string, name: string, now: number): Promise<CoreV1Event[]> {
    return this.cached(`events:${kind}:${namespace}/${name}`, now, async () => {
      const list = await this.core.listNamespacedEvent({
        namespace,
        fieldSelector: `involvedObject.kind=${kind},involvedObject.name=${name}`,
      });
      return list.items;
    });
  }

  pipeline(pl: Pipeline, now: number): Promise<PipelineExtras> {
    const ns = pl.metadata.namespace!;
    const name = pl.metadata.name!;
    return this.cached(`pipeline:${ns}/${name}`, now, async () => {
      const kubeEvents = await this.kubeEvents('Pipeline', ns, name, now).catch(() => []);
      const jsm = this.jsm;
      if (!jsm)
        return {
          deadLetters: undefined,
          recent: undefined,
          byType: undefined,
          consumers: new Map(),
          kubeEvents,
        };
      const sources = pl.spec.sources ?? [];
      const consumers = new Map<string, ConsumerFigures | undefined>();
      const byType = new Map<string, number>();
      const recent = [];
      for (const s of sources) {
        const stream = streamName(ns, s.eventSource);
        consumers.set(s.eventSource, await consumerFigures(jsm, stream, consumerName(ns, name)));
        const figures = await streamFigures(jsm, stream, subjectPrefix(ns, s.eventSource));
        for (const [t, n] of figures?.byType ?? []) byType.set(t, (byType.get(t) ?? 0) + n);
        recent.push(...(await recentEvents(jsm, stream, RECENT_EVENTS)));
      }
      recent.sort((a, b) => (a.time < b.time ? 1 : a.time > b.time ? -1 : b.seq - a.seq));
      const dlq = pl.status?.consumer?.deadLetterStream ?? deadLetterStreamName(ns, name);
      return {
        deadLetters: await recentDeadLetters(jsm, dlq, RECENT_DEAD_LETTERS),
        recent: recent.slice(0, RECENT_EVENTS),
        byType: [...byType].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)),
        consumers,
        kubeEvents,
      };
    });
  }

  eventSource(es: EventSource, now: number): Promise<EventSourceExtras> {
    const ns = es.metadata.namespace!;
    const name = es.metadata.name!;
    return this.cached(`eventsource:${ns}/${name}`, now, async () => {
      const kubeEvents = await this.kubeEvents('EventSource', ns, name, now).catch(() => []);
      const jsm = this.jsm;
      if (!jsm) return { stream: undefined, recent: undefined, kubeEvents };
      const stream = es.status?.stream?.name ?? streamName(ns, name);
      return {
        stream: await streamFigures(jsm, stream, subjectPrefix(ns, name)),
        recent: await recentEvents(jsm, stream, RECENT_EVENTS),
        kubeEvents,
      };
    });
  }
}

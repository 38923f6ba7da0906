// The dashboard's view of the cluster, kept current: EventSources, Pipelines and Sinks from
// watches on the API server, and on every tick the pods' metrics scraped, summed per Pipeline and
// EventSource, and turned into rates with a short history; or, given a Prometheus source, all of it
// (rates, latency and the history) read from Prometheus. It only lists, watches and reads.
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import { CustomObjectsApi } from '@kubernetes/client-node';
import type { EventSource, Pipeline, Sink } from '../../api/generated/types.js';
import { startInformer, type ManagedInformer } from '../../operator/informer.js';
import type { Logger } from '../common/logger.js';
import { LastScrapes, SeriesSet } from './history.js';
import {
  EVENTSOURCE_SERIES,
  Latency,
  PIPELINE_SERIES,
  Rates,
  SINK_SERIES,
  type EventSourceLive,
  type PipelineLive,
  type SinkLive,
} from './live.js';
import { bucketsOf, maxOf, parsePrometheusText, sumBy, sumOf, type Sample } from './prometheus.js';
import type { PrometheusFigures, PrometheusSource } from './prometheus-source.js';
import type { ScrapeTarget, TargetLister } from './targets.js';

const group = 'eventrunner.io';
const version = 'v1alpha1';

export interface CollectorOptions {
  kc: KubeConfig;
  /** One namespace, or every namespace when undefined. */
  namespace?: string;
  targets: TargetLister;
  /** When given, every figure comes from this Prometheus instead of the targets. */
  prometheus?: PrometheusSource;
  intervalMs: number;
  historyMs: number;
  log: Logger;
  now?: () => number;
}

const key = (o: KubernetesObject) => `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;

export class Collector {
  private informers: ManagedInformer<KubernetesObject>[] = [];
  private timer: NodeJS.Timeout | undefined;
  private ticking = false;
  private readonly listeners = new Set<() => void>();
  readonly pipelines = new Map<string, PipelineLive>();
  readonly eventSources = new Map<string, EventSourceLive>();
  readonly sinks = new Map<string, SinkLive>();
  lastTick = 0;
  scrapeErrors = 0;
  private readonly now: () => number;
  private readonly lastScrapes = new LastScrapes<Sample[]>();

  constructor(private readonly opts: CollectorOptions) {
    this.now = opts.now ?? Date.now;
  }

  async start(): Promise<void> {
    const custom = this.opts.kc.makeApiClient(CustomObjectsApi);
    const ns = this.opts.namespace;
    const watch = (plural: string) =>
      startInformer<KubernetesObject>({
        kc: this.opts.kc,
        path: ns
          ? `/apis/${group}/${version}/namespaces/${ns}/${plural}`
          : `/apis/${group}/${version}/${plural}`,
        list: () =>
          (ns
            ? custom.listNamespacedCustomObject({ group, version, namespace: ns, plural })
            : custom.listClusterCustomObject({ group, version, plural })) as never,
        onChange: () => undefined,
        // The dashboard shows no raw object; the last applied manifest is dropped from the cache.
        prune: (o) => {
          delete o.metadata?.annotations?.['kubectl.kubernetes.io/last-applied-configuration'];
        },
        log: this.opts.log,
      });
    this.informers = [watch('eventsources'), watch('pipelines'), watch('sinks')];
    await Promise.all(this.informers.map((i) => i.synced));
    await this.tick();
    this.timer = setInterval(() => void this.tick(), this.opts.intervalMs);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await Promise.all(this.informers.map((i) => i.stop()));
  }

  /** Called after every tick, once the figures are updated. */
  onTick(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  listEventSources(): EventSource[] {
    return (this.informers[0]?.cache.list() ?? []) as EventSource[];
  }
  listPipelines(): Pipeline[] {
    return (this.informers[1]?.cache.list() ?? []) as Pipeline[];
  }
  listSinks(): Sink[] {
    return (this.informers[2]?.cache.list() ?? []) as Sink[];
  }
  get(
    kind: 'eventsources' | 'pipelines' | 'sinks',
    namespace: string,
    name: string,
  ): KubernetesObject | undefined {
    const i = this.informers[kind === 'eventsources' ? 0 : kind === 'pipelines' ? 1 : 2];
    return i?.cache.get(name, namespace);
  }

  /** Every pod's samples by owner; undefined when the pods could not be listed. */
  private async scrapeAll(): Promise<Map<string, { pods: number; samples: Sample[] }> | undefined> {
    let targets: ScrapeTarget[];
    try {
      targets = await this.opts.targets();
    } catch (err) {
      this.scrapeErrors++;
      this.opts.log.warn({ err }, 'Could not list the pods to scrape');
      return undefined;
    }
    const byOwner = new Map<string, { pods: number; samples: Sample[] }>();
    const timeout = Math.max(this.opts.intervalMs * 2, 2000);
    const podKey = (t: ScrapeTarget) => `${t.namespace}/${t.pod}`;
    const scraped = await Promise.all(
      targets.map(async (t) => {
        try {
          const text = await Promise.race([
            t.scrape(),
            new Promise<never>((_, reject) =>
              setTimeout(() => reject(new Error('scrape timed out')), timeout).unref(),
            ),
          ]);
          return this.lastScrapes.record(podKey(t), parsePrometheusText(text));
        } catch (err) {
          this.scrapeErrors++;
          this.opts.log.debug({ err, pod: t.pod, namespace: t.namespace }, 'Could not scrape pod metrics');
          return this.lastScrapes.record(podKey(t), undefined);
        }
      }),
    );
    this.lastScrapes.retain(new Set(targets.map(podKey)));
    targets.forEach((t, i) => {
      const samples = scraped[i];
      if (!samples) return;
      const k = `${t.kind}:${t.namespace}/${t.owner}`;
      let entry = byOwner.get(k);
      if (!entry) byOwner.set(k, (entry = { pods: 0, samples: [] }));
      entry.pods++;
      for (const s of samples) entry.samples.push(s);
    });
    return byOwner;
  }

  /** One round: scrape, sum, rate; then tell the listeners. Never two rounds at once. */
  async tick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    try {
      let t: number;
      let scraped: Map<string, { pods: number; samples: Sample[] }>;
      let prom: PrometheusFigures | undefined;
      if (this.opts.prometheus) {
        t = this.now();
        try {
          prom = await this.opts.prometheus.read(t);
        } catch (err) {
          // The figures of the last round stay; the next round asks again.
          this.scrapeErrors++;
          this.opts.log.warn({ err }, 'Could not query Prometheus');
          return;
        }
        scraped = prom.samples;
      } else {
        const got = await this.scrapeAll();
        // As with Prometheus: the figures of the last round stay; the next round lists again.
        if (!got) return;
        scraped = got;
        t = this.now();
      }
      this.updatePipelines(t, scraped, prom);
      this.updateEventSources(t, scraped, prom);
      this.updateSinks(t, prom);
      this.lastTick = t;
    } finally {
      this.ticking = false;
    }
    for (const l of this.listeners) l();
  }

  private updatePipelines(
    t: number,
    scraped: Map<string, { pods: number; samples: Sample[] }>,
    prom: PrometheusFigures | undefined,
  ): void {
    const seen = new Set<string>();
    for (const pl of this.listPipelines()) {
      const k = key(pl);
      seen.add(k);
      let live = this.pipelines.get(k);
      if (!live) {
        live = {
          pods: 0,
          rates: new Rates(),
          totals: { in: 0, out: 0, dropped: 0, deadLettered: 0 },
          routed: new Map(),
          deadLetteredByCause: new Map(),
          sinkErrors: new Map(),
          writeLatency: new Map(),
          processingLatency: new Latency(),
          endToEndLatency: new Latency(),
          lag: undefined,
          series: new SeriesSet(PIPELINE_SERIES, this.opts.historyMs),
        };
        this.pipelines.set(k, live);
      }
      const got = scraped.get(`pipeline:${k}`);
      const s = got?.samples ?? [];
      live.pods = got?.pods ?? 0;
      live.totals = {
        in: sumOf(s, 'eventrunner_processor_events_in_total'),
        out: sumOf(s, 'eventrunner_processor_events_routed_total'),
        dropped: sumOf(s, 'eventrunner_processor_events_dropped_total'),
        deadLettered: sumOf(s, 'eventrunner_processor_events_deadlettered_total'),
      };
      live.routed = sumBy(s, 'eventrunner_processor_events_routed_total', 'output');
      live.deadLetteredByCause = sumBy(s, 'eventrunner_processor_events_deadlettered_total', 'cause');
      const errors = new Map<string, Map<string, number>>();
      for (const x of s) {
        if (x.name !== 'eventrunner_sink_errors_total') continue;
        const o = x.labels.output ?? '';
        const byKind = errors.get(o) ?? new Map<string, number>();
        byKind.set(x.labels.kind ?? '', (byKind.get(x.labels.kind ?? '') ?? 0) + x.value);
        errors.set(o, byKind);
      }
      live.sinkErrors = errors;
      // Every replica reports the pending count of the one shared consumer: the largest is current.
      live.lag = got
        ? (maxOf(s, 'eventrunner_processor_consumer_pending') ?? pl.status?.lag)
        : pl.status?.lag;
      if (prom) {
        const pk = `pipeline:${k}`;
        live.rates.replace(prom.rates.get(pk));
        live.processingLatency.current = prom.latency.processing.get(pk) ?? [];
        live.endToEndLatency.current = prom.latency.endToEnd.get(pk) ?? [];
        for (const o of pl.spec.outputs ?? []) {
          let lat = live.writeLatency.get(o.name);
          if (!lat) live.writeLatency.set(o.name, (lat = new Latency()));
          lat.current = prom.latency.write.get(`${pk}:${o.name}`) ?? [];
        }
        if (prom.history) live.series.load(prom.history.t, prom.history.columns.get(pk) ?? {});
        continue;
      }
      for (const o of pl.spec.outputs ?? []) {
        let lat = live.writeLatency.get(o.name);
        if (!lat) live.writeLatency.set(o.name, (lat = new Latency()));
        lat.update(t, bucketsOf(s, 'eventrunner_sink_batch_duration_seconds', { output: o.name }));
      }
      live.processingLatency.update(t, bucketsOf(s, 'eventrunner_processor_processing_duration_seconds'));
      live.endToEndLatency.update(t, bucketsOf(s, 'eventrunner_processor_end_to_end_duration_seconds'));
      const r = live.rates;
      const values = {
        in: r.update(t, 'in', live.totals.in),
        out: r.update(t, 'out', live.totals.out),
        dropped: r.update(t, 'dropped', live.totals.dropped),
        deadLettered: r.update(t, 'deadLettered', live.totals.deadLettered),
        lag: live.lag,
      };
      for (const [src, n] of sumBy(s, 'eventrunner_processor_events_in_total', 'source'))
        r.update(t, `in:${src}`, n);
      for (const [out, n] of live.routed) r.update(t, `out:${out}`, n);
      live.series.push(t, values);
    }
    for (const k of this.pipelines.keys()) if (!seen.has(k)) this.pipelines.delete(k);
  }

  private updateEventSources(
    t: number,
    scraped: Map<string, { pods: number; samples: Sample[] }>,
    prom: PrometheusFigures | undefined,
  ): void {
    const seen = new Set<string>();
    for (const es of this.listEventSources()) {
      const k = key(es);
      seen.add(k);
      let live = this.eventSources.get(k);
      if (!live) {
        live = {
          pods: 0,
          rates: new Rates(),
          accepted: 0,
          rejected: 0,
          byClient: new Map(),
          rejectedByReason: new Map(),
          requestsByClass: new Map(),
          publishLatency: new Latency(),
          series: new SeriesSet(EVENTSOURCE_SERIES, this.opts.historyMs),
        };
        this.eventSources.set(k, live);
      }
      const got = scraped.get(`eventsource:${k}`);
      const s = got?.samples ?? [];
      live.pods = got?.pods ?? 0;
      live.accepted = sumOf(s, 'eventrunner_ingest_events_accepted_total');
      live.rejected = sumOf(s, 'eventrunner_ingest_events_rejected_total');
      live.rejectedByReason = sumBy(s, 'eventrunner_ingest_events_rejected_total', 'reason');
      const clients = new Map<string, { accepted: number; rejected: number }>();
      for (const [c, n] of sumBy(s, 'eventrunner_ingest_events_accepted_total', 'client'))
        clients.set(c, { accepted: n, rejected: 0 });
      for (const [c, n] of sumBy(s, 'eventrunner_ingest_events_rejected_total', 'client'))
        clients.set(c, { accepted: clients.get(c)?.accepted ?? 0, rejected: n });
      live.byClient = new Map([...clients].sort(([a], [b]) => (a < b ? -1 : 1)));
      const classes = new Map<string, number>();
      for (const [code, n] of sumBy(s, 'eventrunner_ingest_requests_total', 'code')) {
        const cls = /^\d{3}$/.test(code) ? `${code[0]}xx` : code;
        classes.set(cls, (classes.get(cls) ?? 0) + n);
      }
      live.requestsByClass = new Map([...classes].sort(([a], [b]) => (a < b ? -1 : 1)));
      if (prom) {
        const ek = `eventsource:${k}`;
        live.rates.replace(prom.rates.get(ek));
        live.publishLatency.current = prom.latency.publish.get(ek) ?? [];
        if (prom.history) live.series.load(prom.history.t, prom.history.columns.get(ek) ?? {});
        continue;
      }
      live.publishLatency.update(t, bucketsOf(s, 'eventrunner_ingest_publish_duration_seconds'));
      live.series.push(t, {
        accepted: live.rates.update(t, 'accepted', live.accepted),
        rejected: live.rates.update(t, 'rejected', live.rejected),
      });
    }
    for (const k of this.eventSources.keys()) if (!seen.has(k)) this.eventSources.delete(k);
  }

  /** A Sink's figures are the sums over every Pipeline output that writes to it. */
  private updateSinks(t: number, prom: PrometheusFigures | undefined): void {
    const seen = new Set<string>();
    const totals = new Map<string, { written: number; errors: Map<string, number> }>();
    const fromProm = new Map<string, { written: number; errors: number; outputs: string[] }>();
    for (const pl of this.listPipelines()) {
      const live = this.pipelines.get(key(pl));
      if (!live) continue;
      for (const o of pl.spec.outputs ?? []) {
        const k = `${pl.metadata.namespace}/${o.sink}`;
        const entry = totals.get(k) ?? { written: 0, errors: new Map<string, number>() };
        entry.written += live.routed.get(o.name) ?? 0;
        for (const [kind, n] of live.sinkErrors.get(o.name) ?? [])
          entry.errors.set(kind, (entry.errors.get(kind) ?? 0) + n);
        totals.set(k, entry);
        if (prom) {
          const ok = `pipeline:${key(pl)}:${o.name}`;
          const p = fromProm.get(k) ?? { written: 0, errors: 0, outputs: [] };
          p.written += live.rates.now.get(`out:${o.name}`) ?? 0;
          p.errors += prom.outputErrorRates.get(ok) ?? 0;
          p.outputs.push(ok);
          fromProm.set(k, p);
        }
      }
    }
    for (const sink of this.listSinks()) {
      const k = key(sink);
      seen.add(k);
      let live = this.sinks.get(k);
      if (!live) {
        live = {
          rates: new Rates(),
          written: 0,
          errorsByKind: new Map(),
          series: new SeriesSet(SINK_SERIES, this.opts.historyMs),
        };
        this.sinks.set(k, live);
      }
      const got = totals.get(k);
      live.written = got?.written ?? 0;
      live.errorsByKind = got?.errors ?? new Map();
      if (prom) {
        const p = fromProm.get(k);
        live.rates.replace(
          new Map([
            ['written', p?.written ?? 0],
            ['errors', p?.errors ?? 0],
          ]),
        );
        if (prom.history) {
          const h = prom.history;
          const sum = (which: 'written' | 'errors') =>
            h.t.map((_, i) => {
              let total: number | null = null;
              for (const o of p?.outputs ?? []) {
                const v = h.outputs.get(o)?.[which][i];
                if (v !== null && v !== undefined) total = (total ?? 0) + v;
              }
              return total;
            });
          live.series.load(h.t, { written: sum('written'), errors: sum('errors') });
        }
        continue;
      }
      const errors = [...live.errorsByKind.values()].reduce((a, b) => a + b, 0);
      live.series.push(t, {
        written: live.rates.update(t, 'written', live.written),
        errors: live.rates.update(t, 'errors', errors),
      });
    }
    for (const k of this.sinks.keys()) if (!seen.has(k)) this.sinks.delete(k);
  }
}

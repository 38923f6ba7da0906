import { describe, expect, it } from 'vitest';
import type { Pipeline } from '../../../api/generated/types.js';
import { canonicalJson, hashOf } from '../../../operator/builders/common.js';
import {
  ingestConfig,
  ingestDeployment,
  ingestEndpoints,
  ingestService,
} from '../../../operator/builders/ingest.js';
import { processorConfig, processorDeployment } from '../../../operator/builders/processor.js';
import {
  childName,
  consumerName,
  deadLetterStreamName,
  streamName,
  subjectPrefix,
  typeFilterSubjects,
} from '../../../operator/names.js';
import { parseOperatorOptions } from '../../../operator/options.js';
import { builderOptions, sampleEventSource, samplePipeline, sampleSink } from '../../support/resources.js';
import { isTransition } from '../../../operator/status.js';

const options = builderOptions;
const es = sampleEventSource();
const sink = sampleSink();
const pipeline = (patch: Partial<Pipeline['spec']> = {}) => samplePipeline('prod', patch);

describe('names', () => {
  it('derive JetStream names from namespace and name without collisions', () => {
    expect(streamName('prod', 'shop')).toBe('ER_prod_shop');
    expect(streamName('a-b', 'c')).not.toBe(streamName('a', 'b-c'));
    expect(streamName('a', 'b.c')).toBe('ER_a_b__c');
    expect(subjectPrefix('prod', 'shop.eu')).toBe('er.prod.shop_eu');
    expect(consumerName('prod', 'orders')).toBe('ER_PL_prod_orders');
    expect(deadLetterStreamName('prod', 'orders')).toBe('ER_DLQ_prod_orders');
  });

  it('map type patterns to subject filters, everything when none are given', () => {
    expect(typeFilterSubjects('er.p.s', undefined)).toEqual(['er.p.s.>']);
    expect(typeFilterSubjects('er.p.s', ['com.shop.*', 'com.x.>'])).toEqual([
      'er.p.s.com.shop.*',
      'er.p.s.com.x.>',
    ]);
  });

  it('keeps child names within 63 characters and distinct', () => {
    const long = 'x'.repeat(60);
    const a = childName(long, 'processor');
    const b = childName(`${long}y`, 'processor');
    expect(a.length).toBeLessThanOrEqual(63);
    expect(a).not.toBe(b);
    expect(a.endsWith('-processor')).toBe(true);
  });
});

describe('ingest builders', () => {
  it('build the ingest config from the EventSource', () => {
    expect(ingestConfig(es, options)).toMatchObject({
      nats: { url: 'nats://nats:4222' },
      stream: { name: 'ER_prod_shop', subjectPrefix: 'er.prod.shop' },
      auth: { enabled: true, tokensFile: '/etc/eventrunner/tokens/tokens' },
      limits: { maxBodyBytes: '1Mi', maxBatchEvents: 500, ratePerSecond: 100 },
      conversion: {
        defaultType: 'com.shop.raw',
        typeFrom: '/eventType',
        defaultSource: '/eventsources/prod/shop',
      },
    });
  });

  it('build a restricted Deployment owned by the EventSource, mounting config and tokens', () => {
    const d = ingestDeployment(es, options);
    expect(d.metadata?.ownerReferences).toEqual([
      {
        apiVersion: 'eventrunner.io/v1alpha1',
        kind: 'EventSource',
        name: 'shop',
        uid: 'u-1',
        controller: true,
        blockOwnerDeletion: true,
      },
    ]);
    const pod = d.spec!.template.spec!;
    expect(pod.securityContext).toMatchObject({
      runAsNonRoot: true,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(pod.containers[0]!.image).toBe('ghcr.io/eventrunner/eventrunner:1.0');
    expect(pod.containers[0]!.ports!.map((p) => p.name)).toEqual(['http', 'ops']);
    expect(pod.volumes!.map((v) => v.secret?.secretName ?? v.configMap?.name)).toEqual([
      'shop-ingest-config',
      'shop-ingest-schemas',
      'shop-tokens',
    ]);
    expect(d.spec!.replicas).toBe(2);
  });

  it('move the ops port out of the way of listeners that use 8081', () => {
    const clash = structuredClone(es);
    clash.spec.ingest.http.port = 8081;
    clash.spec.ingest.grpc = { enabled: true, port: 8082 };
    const ports = ingestDeployment(clash, options).spec!.template.spec!.containers[0]!.ports!;
    expect(ports.map((p) => `${p.name}:${p.containerPort}`)).toEqual(['http:8081', 'grpc:8082', 'ops:8083']);
    expect(ingestConfig(clash, options)).toMatchObject({ ops: { port: 8083 } });
  });

  it('expose only the enabled listeners', () => {
    expect(ingestService(es).spec!.ports!.map((p) => p.name)).toEqual(['http', 'ops']);
    expect(ingestEndpoints(es)).toEqual({ http: 'http://shop-ingest.prod.svc:8080/events' });
  });
});

describe('processor builders', () => {
  const sinks = new Map([['orders-cql', sink]]);
  const sources = new Map([['shop', es]]);

  it('carry rules, outputs, sinks with credential files, delivery and dead-letter names', () => {
    const config = processorConfig(pipeline(), sources, sinks, options);
    expect(config).toMatchObject({
      sources: [{ stream: 'ER_prod_shop', consumer: 'ER_PL_prod_orders', conversion: es.spec.conversion }],
      outputs: [
        {
          name: 'store',
          sink: sink.spec,
          credentials: {
            usernameFile: '/etc/eventrunner/sinks/orders-cql/username',
            passwordFile: '/etc/eventrunner/sinks/orders-cql/password',
          },
        },
      ],
      deadLetter: { stream: 'ER_DLQ_prod_orders', subject: 'erdlq.prod.orders' },
    });
  });

  it('change the rollout hash with the config, not with the replica count', () => {
    const hash = (pl: Pipeline) => {
      const config = processorConfig(pl, sources, sinks, options);
      return processorDeployment(pl, config, sinks, options).spec!.template.metadata!.annotations![
        'eventrunner.io/config-hash'
      ];
    };
    expect(hash(pipeline({ replicas: 5 }))).toBe(hash(pipeline()));
    expect(hash(pipeline({ rules: 'rule B "b" { when true then Drop(); }' }))).not.toBe(hash(pipeline()));
  });

  it('scale to zero when suspended', () => {
    const pl = pipeline({ suspend: true });
    expect(
      processorDeployment(pl, processorConfig(pl, sources, sinks, options), sinks, options).spec!.replicas,
    ).toBe(0);
  });
});

describe('canonical hashing', () => {
  it('ignores key order and undefined fields', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, 2], c: undefined } })).toBe('{"a":{"d":[1,2]},"b":1}');
    expect(hashOf({ a: 1, b: 2 })).toBe(hashOf({ b: 2, a: 1 }));
  });
});

describe('operator options', () => {
  it('require an image and a NATS URL, with a hint', () => {
    expect(() => parseOperatorOptions([], {})).toThrow(/--image .* is required/);
    expect(() => parseOperatorOptions(['--image', 'x'], {})).toThrow(/--nats-url/);
    expect(() => parseOperatorOptions(['--bogus', '1'], {})).toThrow(/unknown flag --bogus/);
  });

  it('take --flag=value with = inside the value', () => {
    expect(parseOperatorOptions(['--image=i', '--nats-url=nats://a:4222?x=y'], {}).natsUrl).toBe(
      'nats://a:4222?x=y',
    );
  });

  it('read the environment the chart sets', () => {
    const o = parseOperatorOptions([], {
      EVENTRUNNER_IMAGE: 'img',
      NATS_URL: 'nats://n',
      POD_NAMESPACE: 'er',
      POD_NAME: 'op-1',
    });
    expect(o.leaderElection).toEqual({
      enabled: true,
      namespace: 'er',
      name: 'eventrunner-operator',
      identity: 'op-1',
    });
  });
});

describe('condition transitions worth an Event', () => {
  const c = (status: 'True' | 'False' | 'Unknown', reason = 'Ready') => ({
    type: 'Ready',
    status,
    reason,
    message: '',
    lastTransitionTime: '2026-01-01T00:00:00Z',
  });
  it('are flips of a known condition and first failures the user must fix', () => {
    expect(isTransition(c('True'), c('False', 'WorkloadUnavailable'))).toBe(true);
    expect(isTransition(c('False', 'WorkloadUnavailable'), c('True'))).toBe(true);
    expect(isTransition(undefined, c('False', 'RulesInvalid'))).toBe(true);
    expect(isTransition(undefined, c('False', 'WorkloadUnavailable'))).toBe(false);
    expect(isTransition(undefined, c('True'))).toBe(false);
    expect(isTransition(c('Unknown'), c('True'))).toBe(false);
    expect(isTransition(c('True'), c('True', 'Other'))).toBe(false);
  });
});

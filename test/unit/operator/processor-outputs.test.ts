// Webhook and EventSource outputs in the processor workload: the token or login and the CA
// mounted from their Secrets, the files named in the config, the target stream derived from the
// namespace, rollouts on rotation, and the processor's own check of what the operator renders.
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { Pipeline, Sink } from '../../../api/generated/types.js';
import {
  processorConfig,
  processorConfigMap,
  processorDeployment,
  tokenSecretRef,
} from '../../../operator/builders/processor.js';
import { parseOperatorOptions } from '../../../operator/options.js';
import { checkConfig } from '../../../runtime/process/config.js';
import { batchingOf } from '../../../runtime/process/outputs.js';

const options = parseOperatorOptions(['--image', 'img', '--nats-url', 'nats://nats:4222'], {});

function sink(name: string, spec: object): Sink {
  return {
    apiVersion: 'eventrunner.io/v1alpha1',
    kind: 'Sink',
    metadata: { name, namespace: 'prod' },
    spec: spec as Sink['spec'],
  };
}

const bearer = sink('notify', {
  http: {
    url: 'https://hooks.example.com/orders?team=shop',
    mode: 'structured',
    headers: { 'X-Team': 'shop' },
    auth: { bearerTokenSecretRef: { name: 'hook-token', key: 'token' } },
    tls: { caSecretRef: { name: 'hook-ca', key: 'ca.crt' } },
  },
});
const basic = sink('audit-hook', {
  http: {
    url: 'http://audit.internal:8080/in',
    auth: { basicSecretRef: { name: 'audit-login', usernameKey: 'user', passwordKey: 'pass' } },
  },
});
const chained = sink('alerts-out', { eventSource: { name: 'alerts' } });

function render(sinkList: Sink[], credentials?: Map<string, string>) {
  const sinks = new Map(sinkList.map((s) => [s.metadata.name!, s]));
  const outputs = sinkList.map((s, i) => ({ name: `out${i}`, sink: s.metadata.name! }));
  const pl = {
    apiVersion: 'eventrunner.io/v1alpha1',
    kind: 'Pipeline',
    metadata: { name: 'orders', namespace: 'prod', uid: 'u' },
    spec: {
      sources: [{ eventSource: 'shop' }],
      rules: `rule A "a" { when true then ${outputs.map((o) => `Route("${o.name}");`).join(' ')} }`,
      ruleEngine: { mode: 'once', maxCycles: 5000 },
      outputs,
      delivery: { maxDeliver: 5, ackWait: '30s', maxAckPending: 1000 },
      deadLetter: { maxAge: '168h', maxBytes: '1Gi', deletionPolicy: 'Delete' },
      replicas: 1,
      suspend: false,
    },
  } as unknown as Pipeline;
  const config = processorConfig(pl, new Map(), sinks, options);
  const d = processorDeployment(pl, config, sinks, options, { credentials });
  return {
    pl,
    config,
    pod: d.spec!.template.spec!,
    hash: d.spec!.template.metadata!.annotations!['eventrunner.io/config-hash']!,
  };
}

describe('webhook outputs', () => {
  it('mount the bearer token and the CA, and name both files in the config', () => {
    expect(tokenSecretRef(bearer)).toEqual({ name: 'hook-token', key: 'token' });
    const { config, pod } = render([bearer]);
    expect(config.outputs[0]).toEqual({
      name: 'out0',
      sink: bearer.spec,
      credentials: {
        tokenFile: '/etc/eventrunner/sinks/notify/token',
        caFile: '/etc/eventrunner/tls/notify/ca.crt',
      },
    });
    expect(pod.volumes).toContainEqual({
      name: 'sink-notify',
      secret: { secretName: 'hook-token', items: [{ key: 'token', path: 'token' }] },
    });
    expect(pod.volumes).toContainEqual({
      name: 'ca-notify',
      secret: { secretName: 'hook-ca', items: [{ key: 'ca.crt', path: 'ca.crt' }] },
    });
    expect(pod.containers[0]!.volumeMounts).toContainEqual({
      name: 'sink-notify',
      mountPath: '/etc/eventrunner/sinks/notify',
      readOnly: true,
    });
  });

  it('mount a Basic login as username and password files', () => {
    const { config, pod } = render([basic]);
    expect(config.outputs[0]!.credentials).toEqual({
      usernameFile: '/etc/eventrunner/sinks/audit-hook/username',
      passwordFile: '/etc/eventrunner/sinks/audit-hook/password',
    });
    expect(pod.volumes).toContainEqual({
      name: 'sink-audit-hook',
      secret: {
        secretName: 'audit-login',
        items: [
          { key: 'user', path: 'username' },
          { key: 'pass', path: 'password' },
        ],
      },
    });
  });

  it('roll the processors when the token rotates, and only then', () => {
    const a = render([bearer], new Map([['notify', 'digest-1']]));
    const same = render([bearer], new Map([['notify', 'digest-1']]));
    const rotated = render([bearer], new Map([['notify', 'digest-2']]));
    expect(same.hash).toBe(a.hash);
    expect(rotated.hash).not.toBe(a.hash);
  });

  it('send one request per event unless the Sink asks for batch mode', () => {
    expect(batchingOf({ sink: bearer.spec })).toEqual({ maxRows: 1, maxDelayMs: 0, maxConcurrent: 16 });
    expect(
      batchingOf({
        sink: {
          http: {
            url: 'http://h',
            mode: 'batch',
            maxConcurrency: 4,
            batch: { maxEvents: 50, maxDelay: '20ms' },
          },
        },
      }),
    ).toEqual({ maxRows: 50, maxDelayMs: 20, maxConcurrent: 4 });
  });
});

describe('eventSource outputs', () => {
  it('publish to the stream and subjects the operator derives from namespace and name', () => {
    const { config, pod } = render([chained]);
    expect(config.outputs[0]).toEqual({
      name: 'out0',
      sink: { eventSource: { name: 'alerts' } },
      eventSource: { stream: 'ER_prod_alerts', subjectPrefix: 'er.prod.alerts' },
    });
    expect(pod.volumes!.map((v) => v.name)).toEqual(['config']);
  });
});

describe('the processor', () => {
  it('accepts what the operator renders for webhook and EventSource outputs', () => {
    const { pl, config } = render([bearer, basic, chained]);
    const rendered = parse(processorConfigMap(pl, config).data!['config.yaml']!);
    const cfg = checkConfig(rendered, 'config.yaml');
    expect(cfg.outputs.map((o) => o.sink.http?.method ?? o.sink.eventSource?.name)).toEqual([
      'POST',
      'POST',
      'alerts',
    ]);
    expect(cfg.outputs[0]!.sink.http).toMatchObject({
      mode: 'structured',
      timeout: '10s',
      maxConcurrency: 16,
    });
  });

  it('refuses an eventSource output without its target stream', () => {
    const { config } = render([chained]);
    const { eventSource: _, ...bare } = config.outputs[0]!;
    expect(() => checkConfig({ ...config, outputs: [bare] }, 'config.yaml')).toThrow(
      /outputs\[0\]\.eventSource: required for an eventSource Sink/,
    );
  });
});

// A Sink's tls.caSecretRef in the processor workload: the CA key mounted read-only, caFile in the
// config (with or without credentials), and the rollout hash following the CA bundle's content.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { EventSource, Pipeline, Sink } from '../../../api/generated/types.js';
import { hashOf } from '../../../operator/builders/common.js';
import { caSecretRef, processorConfig, processorDeployment } from '../../../operator/builders/processor.js';
import { parseOperatorOptions } from '../../../operator/options.js';
import { isConfigError } from '../../../runtime/common/errors.js';
import { checkConfig } from '../../../runtime/process/config.js';
import { readCredentials } from '../../../runtime/sinks/credentials.js';

const options = parseOperatorOptions(['--image', 'img', '--nats-url', 'nats://nats:4222'], {});
const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----';

const es: EventSource = {
  apiVersion: 'eventrunner.io/v1alpha1',
  kind: 'EventSource',
  metadata: { name: 'shop', namespace: 'prod', uid: 'u-1' },
  spec: { conversion: { defaultType: 'com.shop.raw' } } as EventSource['spec'],
};

function clickhouseSink(name: string, tls?: object, credentials?: object): Sink {
  return {
    apiVersion: 'eventrunner.io/v1alpha1',
    kind: 'Sink',
    metadata: { name, namespace: 'prod' },
    spec: {
      clickhouse: {
        url: 'https://clickhouse.analytics.svc:8443',
        database: 'analytics',
        table: 'orders',
        manageSchema: false,
        ...(credentials ? { credentialsSecretRef: credentials } : {}),
        ...(tls ? { tls } : {}),
      },
    } as Sink['spec'],
  };
}

function scyllaSink(name: string, tls?: object): Sink {
  return {
    apiVersion: 'eventrunner.io/v1alpha1',
    kind: 'Sink',
    metadata: { name, namespace: 'prod' },
    spec: {
      scylla: {
        contactPoints: ['scylla:9142'],
        localDataCenter: 'dc1',
        keyspace: 'shop',
        table: 'orders',
        credentialsSecretRef: { name: 'cql', usernameKey: 'user', passwordKey: 'pass' },
        ...(tls ? { tls } : {}),
      },
    } as Sink['spec'],
  };
}

function pipeline(outputs: { name: string; sink: string }[]): Pipeline {
  return {
    apiVersion: 'eventrunner.io/v1alpha1',
    kind: 'Pipeline',
    metadata: { name: 'orders', namespace: 'prod', uid: 'u-2' },
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
  } as Pipeline;
}

const sources = new Map([['shop', es]]);
const caOnly = clickhouseSink('orders-ch', { enabled: true, caSecretRef: { name: 'ch-ca', key: 'ca.crt' } });
const both = scyllaSink('orders-cql', { enabled: true, caSecretRef: { name: 'cql-ca', key: 'bundle.pem' } });
const plain = scyllaSink('orders-plain');

function render(sinkList: Sink[], caDigests?: Map<string, string>, credentialDigests?: Map<string, string>) {
  const sinks = new Map(sinkList.map((s) => [s.metadata.name!, s]));
  const pl = pipeline(sinkList.map((s, i) => ({ name: `out${i}`, sink: s.metadata.name! })));
  const config = processorConfig(pl, sources, sinks, options);
  const deployment = processorDeployment(pl, config, sinks, options, {
    ca: caDigests,
    credentials: credentialDigests,
  });
  const pod = deployment.spec!.template.spec!;
  return {
    config,
    deployment,
    volumes: pod.volumes!,
    mounts: pod.containers[0]!.volumeMounts!,
    hash: deployment.spec!.template.metadata!.annotations!['eventrunner.io/config-hash'],
  };
}

describe('caSecretRef', () => {
  it('names the Secret key with the CA bundle, ca.crt unless the Sink says otherwise', () => {
    expect(caSecretRef(caOnly)).toEqual({ name: 'ch-ca', key: 'ca.crt' });
    expect(caSecretRef(both)).toEqual({ name: 'cql-ca', key: 'bundle.pem' });
    expect(caSecretRef(clickhouseSink('x', { enabled: true, caSecretRef: { name: 'ca' } }))).toEqual({
      name: 'ca',
      key: 'ca.crt',
    });
    expect(caSecretRef(plain)).toBeUndefined();
  });
});

describe('processor workload with a TLS CA', () => {
  it('points caFile at the mounted CA key of a Sink without credentials', () => {
    const { config, volumes, mounts } = render([caOnly]);
    expect((config.outputs as object[])[0]).toEqual({
      name: 'out0',
      sink: caOnly.spec,
      credentials: { caFile: '/etc/eventrunner/tls/orders-ch/ca.crt' },
    });
    expect(volumes).toContainEqual({
      name: 'ca-orders-ch',
      secret: { secretName: 'ch-ca', items: [{ key: 'ca.crt', path: 'ca.crt' }] },
    });
    expect(mounts).toContainEqual({
      name: 'ca-orders-ch',
      mountPath: '/etc/eventrunner/tls/orders-ch',
      readOnly: true,
    });
  });

  it('mounts credentials and CA side by side, each from its own Secret', () => {
    const { config, volumes, mounts } = render([both]);
    expect((config.outputs as { credentials: object }[])[0]!.credentials).toEqual({
      usernameFile: '/etc/eventrunner/sinks/orders-cql/username',
      passwordFile: '/etc/eventrunner/sinks/orders-cql/password',
      caFile: '/etc/eventrunner/tls/orders-cql/ca.crt',
    });
    expect(volumes.map((v) => [v.name, v.secret?.secretName, v.secret?.items])).toEqual([
      ['config', undefined, undefined],
      [
        'sink-orders-cql',
        'cql',
        [
          { key: 'user', path: 'username' },
          { key: 'pass', path: 'password' },
        ],
      ],
      ['ca-orders-cql', 'cql-ca', [{ key: 'bundle.pem', path: 'ca.crt' }]],
    ]);
    expect(mounts.every((m) => m.readOnly)).toBe(true);
    expect(new Set(mounts.map((m) => m.mountPath)).size).toBe(mounts.length);
  });

  it('renders configs the processor accepts, with and without credentials', () => {
    const { config } = render([caOnly, both, plain]);
    const checked = checkConfig(config, 'config.yaml');
    expect(checked.outputs.map((o) => o.credentials)).toEqual([
      { caFile: '/etc/eventrunner/tls/orders-ch/ca.crt' },
      {
        usernameFile: '/etc/eventrunner/sinks/orders-cql/username',
        passwordFile: '/etc/eventrunner/sinks/orders-cql/password',
        caFile: '/etc/eventrunner/tls/orders-cql/ca.crt',
      },
      {
        usernameFile: '/etc/eventrunner/sinks/orders-plain/username',
        passwordFile: '/etc/eventrunner/sinks/orders-plain/password',
      },
    ]);
  });

  it('keeps credential volume names DNS labels for long and dotted Sink names, distinct per Sink', () => {
    const names = render([
      scyllaSink(`${'a'.repeat(60)}b`),
      scyllaSink(`${'a'.repeat(60)}c`),
      scyllaSink('orders.eu-west'),
      scyllaSink('orders-eu-west'),
    ])
      .volumes.map((v) => v.name)
      .filter((n) => n.startsWith('sink-'));
    expect(names).toHaveLength(4);
    expect(new Set(names).size).toBe(4);
    for (const n of names) expect(n).toMatch(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/);
    // Short names without dots keep the name they always had.
    expect(names).toContain('sink-orders-eu-west');
  });

  it('keeps volume names DNS labels for long Sink names, distinct per Sink', () => {
    const long = (c: string) =>
      clickhouseSink(`${'a'.repeat(60)}${c}`, { enabled: true, caSecretRef: { name: 'ca' } });
    const names = render([long('b'), long('c')])
      .volumes.map((v) => v.name)
      .filter((n) => n.startsWith('ca-'));
    expect(names).toHaveLength(2);
    expect(new Set(names).size).toBe(2);
    for (const n of names) expect(n).toMatch(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/);
  });
});

describe('rollout hash with a TLS CA', () => {
  it('follows the CA bundle: a rotated CA rolls the processors, the same one does not', () => {
    const digest = (s: string) => new Map([['orders-ch', hashOf(s)]]);
    const a = render([caOnly], digest('ca-1')).hash;
    expect(render([caOnly], digest('ca-1')).hash).toBe(a);
    expect(render([caOnly], digest('ca-2')).hash).not.toBe(a);
    // A Secret that appears later (the pods could not start without it) rolls them too.
    expect(render([caOnly]).hash).not.toBe(a);
  });

  it('stays what it was for Pipelines whose Sinks name no Secret', () => {
    const { config, hash } = render([clickhouseSink('orders-open')]);
    expect(hash).toBe(hashOf({ config, secrets: [] }));
  });
});

describe('rollout hash with credentials', () => {
  it('follows the username and password: rotated credentials roll the processors, the same ones do not', () => {
    const digest = (s: string) => new Map([['orders-plain', hashOf(s)]]);
    const a = render([plain], undefined, digest('user:pass-1')).hash;
    expect(render([plain], undefined, digest('user:pass-1')).hash).toBe(a);
    expect(render([plain], undefined, digest('user:pass-2')).hash).not.toBe(a);
    expect(render([plain]).hash).not.toBe(a);
  });
});

describe('processor credentials files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'eventrunner-creds-'));
  const file = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };

  it('may carry only a CA bundle', async () => {
    expect(await readCredentials({ caFile: file('ca.crt', `${PEM}\n`) })).toEqual({ ca: PEM });
    expect(
      await readCredentials({
        usernameFile: file('username', 'u\n'),
        passwordFile: file('password', 'p'),
        caFile: file('ca.crt', PEM),
      }),
    ).toEqual({ username: 'u', password: 'p', ca: PEM });
  });

  it('need username and password together, and at least one file', () => {
    const { config } = render([caOnly]);
    const withCredentials = (credentials: object) => ({
      ...config,
      outputs: [{ ...(config.outputs as object[])[0], credentials }],
    });
    for (const [credentials, message] of [
      [{ usernameFile: '/u' }, /outputs\[0\]\.credentials: usernameFile and passwordFile go together/],
      [{ passwordFile: '/p', caFile: '/c' }, /outputs\[0\]\.credentials: usernameFile and passwordFile go/],
      [{}, /outputs\[0\]\.credentials: name usernameFile and passwordFile, or tokenFile, or caFile/],
      [
        { usernameFile: '/u', passwordFile: '/p', tokenFile: '/t' },
        /outputs\[0\]\.credentials: set usernameFile and passwordFile, or tokenFile, not both/,
      ],
    ] as const) {
      let err: unknown;
      try {
        checkConfig(withCredentials(credentials), 'config.yaml');
      } catch (e) {
        err = e;
      }
      expect(isConfigError(err)).toBe(true);
      expect((err as Error).message).toMatch(message);
    }
  });
});

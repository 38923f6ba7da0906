// values.schema.json turns wrong values into an error at `helm install`/`helm template` time, with
// the offending path, instead of a broken operator Deployment.
import { describe, expect, it } from 'vitest';
import { tryTemplate } from './helm.js';

const rejected: [string, object, RegExp][] = [
  ['an unknown top-level key (a typo)', { replicas: 2 }, /additional properties 'replicas' not allowed/],
  ['an unknown nested key', { operator: { logLevl: 'debug' } }, /additional properties 'logLevl'/],
  ['an empty image repository', { image: { repository: '' } }, /\/image\/repository/],
  ['a bad pull policy', { image: { pullPolicy: 'Sometimes' } }, /\/image\/pullPolicy/],
  ['a malformed digest', { image: { digest: 'sha256:xyz' } }, /\/image\/digest/],
  ['a tag with a colon', { image: { tag: 'v1:2' } }, /\/image\/tag/],
  ['a bad runtime pull policy', { runtimeImage: { pullPolicy: 'Maybe' } }, /\/runtimeImage\/pullPolicy/],
  ['a NATS URL of another scheme', { nats: { url: 'http://nats:4222' } }, /\/nats\/url/],
  ['an empty NATS URL', { nats: { url: '' } }, /\/nats\/url/],
  ['an unknown log level', { operator: { logLevel: 'verbose' } }, /\/operator\/logLevel/],
  ['zero concurrency', { operator: { concurrency: 0 } }, /\/operator\/concurrency/],
  [
    'a resync given as a duration string',
    { operator: { resyncSeconds: '60s' } },
    /\/operator\/resyncSeconds/,
  ],
  ['an ops port out of range', { operator: { opsPort: 70000 } }, /\/operator\/opsPort/],
  [
    'a watch namespace that is no namespace name',
    { operator: { watchNamespace: 'Shop_1' } },
    /watchNamespace/,
  ],
  ['a negative replica count', { replicaCount: -1 }, /\/replicaCount/],
  ['a fractional replica count', { replicaCount: 1.5 }, /\/replicaCount/],
  [
    'several replicas without leader election',
    { replicaCount: 2, leaderElection: { enabled: false } },
    /\/leaderElection\/enabled/,
  ],
  ['leader election as a string', { leaderElection: { enabled: 'yes' } }, /\/leaderElection\/enabled/],
  ['a metrics Service type of another kind', { metrics: { service: { type: 'Ingress' } } }, /\/type/],
  ['a scrape interval without unit', { metrics: { serviceMonitor: { interval: '30' } } }, /interval/],
  [
    'resources with an unknown key',
    { resources: { request: { cpu: 1 } } },
    /additional properties 'request'/,
  ],
  ['a probe with an unknown key', { livenessProbe: { httpGet: { path: '/' } } }, /livenessProbe/],
  ['a non-string pod label', { podLabels: { team: 7 } }, /\/podLabels\/team/],
  ['an env var without a name', { extraEnv: [{ value: 'x' }] }, /\/extraEnv\/0/],
];

const accepted: [string, object][] = [
  ['the defaults', {}],
  [
    'a registry with a port and a digest',
    { image: { repository: 'registry.local:5000/er/eventrunner', digest: `sha256:${'0'.repeat(64)}` } },
  ],
  ['several NATS URLs', { nats: { url: 'tls://a.nats:4222,tls://b.nats:4222' } }],
  ['three replicas with leader election', { replicaCount: 3 }],
  ['a ServiceMonitor', { metrics: { serviceMonitor: { enabled: true, interval: '15s' } } }],
  ['one watched namespace', { operator: { watchNamespace: 'shop' } }],
];

describe('chart values.schema.json', () => {
  it.each(rejected)('rejects %s', (_what, values, message) => {
    const r = tryTemplate(values);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/don't meet the specifications of the schema/);
    expect(r.stderr).toMatch(message);
  });

  it.each(accepted)('accepts %s', (_what, values) => {
    const r = tryTemplate(values);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});

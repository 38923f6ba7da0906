import { describe, expect, it } from 'vitest';
import { KubeConfig } from '@kubernetes/client-node';
import { kubeconfigYaml } from '../../stack/kube.js';
import { toProcessEnv } from '../../stack/env.js';
import { freePort } from '../../stack/net.js';

describe('test stack helpers', () => {
  it('writes a kubeconfig that client-node loads with the CA and client credentials', () => {
    const kc = new KubeConfig();
    kc.loadFromString(
      kubeconfigYaml('https://127.0.0.1:6443', 'CA-PEM', { token: 'abc', 'client-key-data': 'S0VZ' }),
    );
    expect(kc.getCurrentCluster()?.server).toBe('https://127.0.0.1:6443');
    expect(Buffer.from(kc.getCurrentCluster()!.caData!, 'base64').toString()).toBe('CA-PEM');
    expect(kc.getCurrentUser()?.token).toBe('abc');
    expect(kc.getContextObject(kc.getCurrentContext())?.namespace).toBe('default');
  });

  it('maps the stack contract to the documented environment variables', () => {
    expect(
      toProcessEnv({
        nats: { url: 'nats://127.0.0.1:1', monitorUrl: 'http://127.0.0.1:2' },
        cassandra: {
          contactPoint: '127.0.0.1:3',
          tlsContactPoint: '127.0.0.1:4',
          caFile: '/tmp/c/ca.crt',
          localDataCenter: 'dc',
          username: 'u',
          password: 'p',
        },
        clickhouse: {
          url: 'http://127.0.0.1:5',
          httpsUrl: 'https://127.0.0.1:6',
          caFile: '/tmp/h/ca.crt',
          version: '18.16.1',
        },
      }),
    ).toEqual({
      NATS_URL: 'nats://127.0.0.1:1',
      CASSANDRA_CONTACT_POINTS: '127.0.0.1:3',
      CASSANDRA_LOCAL_DC: 'dc',
      CASSANDRA_USERNAME: 'u',
      CASSANDRA_PASSWORD: 'p',
      CASSANDRA_TLS_CONTACT_POINTS: '127.0.0.1:4',
      CASSANDRA_CA_FILE: '/tmp/c/ca.crt',
      CLICKHOUSE_URL: 'http://127.0.0.1:5',
      CLICKHOUSE_HTTPS_URL: 'https://127.0.0.1:6',
      CLICKHOUSE_CA_FILE: '/tmp/h/ca.crt',
    });
  });

  it('finds free loopback ports', async () => {
    const a = await freePort();
    const b = await freePort();
    expect(a).toBeGreaterThan(0);
    expect(b).toBeGreaterThan(0);
  });
});

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
        cassandra: { contactPoint: '127.0.0.1:3', localDataCenter: 'dc', username: 'u', password: 'p' },
      }),
    ).toEqual({
      NATS_URL: 'nats://127.0.0.1:1',
      CASSANDRA_CONTACT_POINTS: '127.0.0.1:3',
      CASSANDRA_LOCAL_DC: 'dc',
      CASSANDRA_USERNAME: 'u',
      CASSANDRA_PASSWORD: 'p',
    });
  });

  it('finds free loopback ports', async () => {
    const a = await freePort();
    const b = await freePort();
    expect(a).toBeGreaterThan(0);
    expect(b).toBeGreaterThan(0);
  });
});

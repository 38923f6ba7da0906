// Connection reuse against the real API server: client-node alone opens a new TLS connection per
// request; with shareConnections the typed clients, watches' agents and raw requests reuse a few
// keep-alive connections, and a different client identity still gets its own.
import https from 'node:https';
import { afterEach, describe, expect, it } from 'vitest';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { rawRequest } from '../../../operator/kube-request.js';
import { closeConnections, shareConnections } from '../../../runtime/internals/kube-connections.js';
import { kubeEnv } from '../../stack/context.js';
import { certificateKubeconfig } from '../../support/kube.js';

function load(path = kubeEnv().kubeconfig): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(path);
  return kc;
}

/** Counts the TLS connections https agents open while `fn` runs. */
async function connectionsDuring(fn: () => Promise<unknown>): Promise<number> {
  const proto = https.Agent.prototype as unknown as { createConnection: (...a: unknown[]) => unknown };
  const original = proto.createConnection;
  let opened = 0;
  proto.createConnection = function (this: unknown, ...args: unknown[]) {
    opened++;
    return original.apply(this, args);
  };
  try {
    await fn();
  } finally {
    proto.createConnection = original;
  }
  return opened;
}

const clients: KubeConfig[] = [];
afterEach(() => {
  for (const kc of clients.splice(0)) closeConnections(kc);
});

/** `n` list requests, one after the other. */
async function listInTurn(core: CoreV1Api, n: number): Promise<void> {
  for (let i = 0; i < n; i++) await core.listNamespace();
}

/** `n` list requests at once. */
const listAtOnce = (core: CoreV1Api, n: number) =>
  Promise.all(Array.from({ length: n }, () => core.listNamespace()));

describe('shared API server connections', () => {
  it('client-node alone opens one connection per request (the cost being avoided)', async () => {
    const core = load().makeApiClient(CoreV1Api);
    expect(await connectionsDuring(() => listInTurn(core, 10))).toBe(10);
  });

  it('typed clients and raw requests reuse keep-alive connections', async () => {
    const kc = shareConnections(load());
    clients.push(kc);
    const core = kc.makeApiClient(CoreV1Api);
    const sequential = await connectionsDuring(async () => {
      await listInTurn(core, 20);
      for (let i = 0; i < 10; i++) await rawRequest(kc, 'GET', '/api/v1/namespaces/default', undefined);
    });
    expect(sequential).toBe(1);
    // A burst opens what it needs once; the same burst again, and requests in turn after it, find
    // those connections kept alive.
    await listAtOnce(core, 8);
    expect(await connectionsDuring(() => listAtOnce(core, 8))).toBe(0);
    expect(await connectionsDuring(() => listInTurn(core, 10))).toBe(0);
  });

  it('switches connections when the client certificate changes (rotation)', async () => {
    const kc = shareConnections(load());
    clients.push(kc);
    const whoami = async () =>
      (
        (await rawRequest(kc, 'POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', {
          apiVersion: 'authentication.k8s.io/v1',
          kind: 'SelfSubjectReview',
        })) as { status: { userInfo: { username: string } } }
      ).status.userInfo.username;
    const before = await whoami();
    // The same KubeConfig object now carries another user's certificate, as after a rotation.
    kc.loadFromFile(certificateKubeconfig(kubeEnv(), 'connections-rotated', ['system:masters']));
    expect(await whoami()).toBe('connections-rotated');
    expect(before).not.toBe('connections-rotated');
  });
});

// The contract between the fast paths and the libraries they reach into. Run it on every bump of
// cassandra-driver, @nats-io/*, or @kubernetes/client-node: it fails when an installed version is
// not the one a path was written and measured for, or when an internal moved or changed shape. A
// failure does not break the product (the path disables itself, logs once and counts its
// fallbacks) but costs the measured gain: re-read the internals in runtime/internals/README.md,
// re-measure, then move the pin.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import cassandra from 'cassandra-driver';
import type { JsMsg } from '@nats-io/jetstream';
import { KubeConfig } from '@kubernetes/client-node';
import { cassandraDirectExecute } from '../../../runtime/internals/cassandra-execute.js';
import {
  checkSite,
  defaultLoadContext,
  installedVersion,
  FastPathName,
  type FastPathSite,
} from '../../../runtime/internals/guard.js';
import { kubeSharedAgents } from '../../../runtime/internals/kube-connections.js';
import { cassandraMurmur3Token, murmur3String, murmur3Token } from '../../../runtime/internals/murmur3.js';
import { PROBE_REPLY, probeMessage } from '../../../runtime/internals/nats-probe.js';
import { natsRawHeaders, rawHeadersContain } from '../../../runtime/internals/nats-raw-headers.js';
import { natsReplySubject } from '../../../runtime/internals/nats-reply.js';

const sites: FastPathSite<unknown>[] = [
  cassandraDirectExecute,
  cassandraMurmur3Token,
  natsReplySubject,
  natsRawHeaders,
  kubeSharedAgents,
];

const manifest = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
  dependencies: Record<string, string>;
};
const require = createRequire(import.meta.url);

describe('library internals contract', () => {
  it('names every fast path once', () => {
    expect(sites.map((s) => s.path).sort()).toEqual(Object.values(FastPathName).sort());
  });

  it.each(sites.map((s) => [s.path, s] as const))(
    '%s: pins the versions package.json asks for, and they are installed',
    (_, site) => {
      for (const pin of site.pins) {
        expect(manifest.dependencies[pin.name], `${pin.name} in package.json`).toBe(pin.version);
        expect(installedVersion(pin.name), `installed ${pin.name}`).toBe(pin.version);
      }
    },
  );

  it.each(sites.map((s) => [s.path, s] as const))(
    '%s: loads for the installed versions with the expected shape',
    (_, site) => {
      const status = checkSite(site);
      expect(status.enabled ? 'enabled' : `${status.reason}: ${status.detail}`).toBe('enabled');
    },
  );

  it('cassandra-direct-execute: the driver functions the direct request is built from', () => {
    const status = checkSite(cassandraDirectExecute);
    if (!status.enabled) throw new Error(status.detail);
    const { RequestHandler, ExecuteRequest, DefaultExecutionOptions } = status.internals;
    expect(typeof RequestHandler.send).toBe('function');
    expect(typeof ExecuteRequest).toBe('function');
    expect(typeof DefaultExecutionOptions.create).toBe('function');
    const client = cassandra.Client.prototype as unknown as Record<string, unknown>;
    expect(typeof client._getEncoder).toBe('function');
    // The encoder's routing function is set per instance; build one the way the driver does.
    const Encoder = require('cassandra-driver/lib/encoder.js') as new (v: number, o: object) => object;
    expect(typeof (new Encoder(4, {}) as Record<string, unknown>).setRoutingKeyFromMeta).toBe('function');
  });

  it('cassandra-murmur3-token: tokens built from the driver’s classes equal its tokenizer’s', () => {
    const status = checkSite(cassandraMurmur3Token);
    if (!status.enabled) throw new Error(status.detail);
    const { Murmur3Tokenizer } = require('cassandra-driver/lib/tokenizer.js') as {
      Murmur3Tokenizer: new () => { hash(b: Buffer): { equals(o: unknown): boolean; toString(): string } };
    };
    const driver = new Murmur3Tokenizer();
    for (const key of ['', 'a', 'order-1', 'x'.repeat(16), 'é'.repeat(13)]) {
      const b = Buffer.from(key);
      expect(driver.hash(b).equals(murmur3Token(b, status.internals))).toBe(true);
      expect(driver.hash(b).toString()).toBe(murmur3String(b));
    }
  });

  it('nats-reply-subject and nats-raw-headers: read a message the installed client builds', () => {
    const reply = checkSite(natsReplySubject);
    const raw = checkSite(natsRawHeaders);
    if (!reply.enabled) throw new Error(reply.detail);
    if (!raw.enabled) throw new Error(raw.detail);
    const probe = probeMessage(defaultLoadContext, { name: 'Content-Type', value: 'text/plain' });
    const m = probe.message as JsMsg;
    expect(reply.internals.read(m)).toBe(PROBE_REPLY);
    // The reply subject carries what JsMsg.info parses from it.
    expect(m.info.deliveryCount).toBe(2);
    expect(m.info.streamSequence).toBe(7);
    expect(rawHeadersContain(m, Buffer.from('\r\nContent-Type: text/plain\r\n'))).toBe(true);
    expect(raw.internals.contain(m, Buffer.from('\r\nContent-Type: text/html\r\n'))).toBe(false);
    expect(m.headers?.get('Content-Type')).toBe('text/plain');
  });

  it('kube-shared-agents: KubeConfig creates an agent per request through createAgent', () => {
    const status = checkSite(kubeSharedAgents);
    if (!status.enabled) throw new Error(status.detail);
    expect(status.internals.createAgent).toBe(
      (KubeConfig.prototype as unknown as { createAgent: unknown }).createAgent,
    );
    // Both request paths call it: the fetch-based API clients and applyToHTTPSOptions.
    const source = Object.getOwnPropertyNames(KubeConfig.prototype)
      .map((k) => Object.getOwnPropertyDescriptor(KubeConfig.prototype, k)?.value as unknown)
      .filter((f): f is (...a: unknown[]) => unknown => typeof f === 'function')
      .filter((f) => /this\.createAgent\(/.test(f.toString()));
    expect(source.length).toBeGreaterThanOrEqual(2);
  });
});

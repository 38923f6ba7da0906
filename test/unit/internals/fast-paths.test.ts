import { describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { FastPaths } from '../../../runtime/internals/fast-paths.js';
import { checkSite, FastPathName, type FastPathSite } from '../../../runtime/internals/guard.js';
import { captureLog, fastPathMetricValues } from './capture.js';

/** A site on a real installed package, whose loader the test decides. */
function site(
  load: FastPathSite<{ ok: true }>['load'],
  path: FastPathName = FastPathName.CassandraDirectExecute,
) {
  return { path, pins: [{ name: 'cassandra-driver', version: '4.10.0' }], load } as FastPathSite<{
    ok: true;
  }>;
}
const good = site(() => ({ ok: true }));

describe('checkSite', () => {
  it('enables a path whose pins match and whose loader returns its internals', () => {
    expect(checkSite(good)).toEqual({
      path: 'cassandra-direct-execute',
      enabled: true,
      libraries: [{ name: 'cassandra-driver', writtenFor: '4.10.0', installed: '4.10.0' }],
      internals: { ok: true },
    });
  });

  it('disables a path written for another version, without loading it', () => {
    let loaded = false;
    const status = checkSite(
      site(() => ((loaded = true), { ok: true })),
      { pins: { 'cassandra-driver': '4.9.0' } },
    );
    expect(status).toMatchObject({
      enabled: false,
      reason: 'version',
      detail: 'cassandra-driver is 4.10.0, the fast path was written for 4.9.0',
    });
    expect(loaded).toBe(false);
  });

  it('disables a path on a package that is not installed', () => {
    const status = checkSite({ ...good, pins: [{ name: 'no-such-package-here', version: '1.0.0' }] });
    expect(status).toMatchObject({ enabled: false, reason: 'version' });
    expect(status.libraries[0]!.installed).toBeUndefined();
  });

  it('turns a throwing loader into missing and a problem sentence into shape', () => {
    expect(
      checkSite(
        site(() => {
          throw Object.assign(new Error('gone'), { code: 'MODULE_NOT_FOUND' });
        }),
      ),
    ).toMatchObject({ enabled: false, reason: 'missing', detail: 'MODULE_NOT_FOUND' });
    expect(checkSite(site(() => 'X has no function y'))).toMatchObject({
      enabled: false,
      reason: 'shape',
      detail: 'X has no function y',
    });
  });
});

describe('FastPaths', () => {
  it('hands out internals, sets the gauge to 1 and logs nothing when a path may be used', async () => {
    const { log, lines } = captureLog();
    const registry = new Registry();
    const fastPaths = new FastPaths({ log, registry });
    expect(fastPaths.use(good)).toEqual({ ok: true });
    expect(fastPaths.use(good)).toEqual({ ok: true });
    expect(lines()).toEqual([]);
    expect(await fastPathMetricValues(registry)).toEqual({
      enabled: { 'cassandra-direct-execute': 1 },
      fallbacks: {},
    });
    expect(fastPaths.statuses()).toEqual([{ path: 'cassandra-direct-execute', enabled: true }]);
  });

  it('when switched off: no internals, one log line for every path, gauges at 0, fallbacks counted', async () => {
    const { log, lines } = captureLog();
    const registry = new Registry();
    const fastPaths = new FastPaths({ enabled: false, log, registry });
    let loaded = false;
    const watched = site(() => ((loaded = true), { ok: true }));
    for (let i = 0; i < 3; i++) {
      expect(fastPaths.use(watched)).toBeNull();
      expect(fastPaths.use(site(() => ({ ok: true }), FastPathName.NatsRawHeaders))).toBeNull();
      fastPaths.fallbacks(FastPathName.CassandraDirectExecute).inc();
    }
    expect(loaded).toBe(false);
    expect(lines()).toEqual([
      expect.objectContaining({
        level: 'info',
        msg: 'Library fast paths are turned off; using the libraries’ public APIs',
      }),
    ]);
    expect(await fastPathMetricValues(registry)).toEqual({
      enabled: { 'cassandra-direct-execute': 0, 'nats-raw-headers': 0 },
      fallbacks: { 'cassandra-direct-execute': 3 },
    });
    // Counted once: collecting moves the plain count into the counter.
    expect((await fastPathMetricValues(registry)).fallbacks).toEqual({ 'cassandra-direct-execute': 3 });
    expect(fastPaths.statuses()).toEqual([
      {
        path: 'cassandra-direct-execute',
        enabled: false,
        reason: 'off',
        detail: 'fast paths are turned off',
      },
      { path: 'nats-raw-headers', enabled: false, reason: 'off', detail: 'fast paths are turned off' },
    ]);
  });

  it('warns once per disabled path, naming the versions', () => {
    const { log, lines } = captureLog();
    const fastPaths = new FastPaths({ log, pins: { 'cassandra-driver': '4.11.0' } });
    for (let i = 0; i < 3; i++) expect(fastPaths.use(good)).toBeNull();
    expect(lines()).toEqual([
      expect.objectContaining({
        level: 'warn',
        msg: 'Disabled library fast path; using the library’s public API',
        path: 'cassandra-direct-execute',
        reason: 'version',
        libraries: ['cassandra-driver@4.10.0 (written for 4.11.0)'],
        detail: 'cassandra-driver is 4.10.0, the fast path was written for 4.11.0',
      }),
    ]);
  });

  it('after a run-time miss: one warning, the gauge at 0, no more internals', async () => {
    const { log, lines } = captureLog();
    const registry = new Registry();
    const fastPaths = new FastPaths({ log, registry });
    expect(fastPaths.use(good)).toEqual({ ok: true });
    fastPaths.miss(FastPathName.CassandraDirectExecute, 'client has no _getEncoder');
    fastPaths.miss(FastPathName.CassandraDirectExecute, 'client has no _getEncoder');
    expect(fastPaths.use(good)).toBeNull();
    expect(lines()).toEqual([
      expect.objectContaining({ level: 'warn', reason: 'shape', detail: 'client has no _getEncoder' }),
    ]);
    expect((await fastPathMetricValues(registry)).enabled).toEqual({ 'cassandra-direct-execute': 0 });
    expect(fastPaths.statuses()).toEqual([
      { path: 'cassandra-direct-execute', enabled: false, reason: 'shape' },
    ]);
  });

  it('shares one set of metrics between the FastPaths of one registry', async () => {
    const registry = new Registry();
    new FastPaths({ registry }).fallbacks(FastPathName.KubeSharedAgents).inc();
    new FastPaths({ registry }).fallbacks(FastPathName.KubeSharedAgents).inc();
    expect((await fastPathMetricValues(registry)).fallbacks).toEqual({ 'kube-shared-agents': 2 });
  });
});

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isConfigError } from '../../../runtime/common/errors.js';
import { loadIngestConfig, parseIngestConfig, parseSize } from '../../../runtime/ingest/config.js';

const minimal = {
  nats: { url: 'nats://127.0.0.1:4222' },
  stream: { name: 'ER_NS_SHOP', subjectPrefix: 'er.ns.shop' },
  auth: { tokensFile: '/etc/tokens/tokens' },
};
const parse = (c: unknown) => parseIngestConfig(c, { source: 'ingest.yaml', baseDir: '/cfg' });

function problems(c: unknown): string {
  try {
    parse(c);
  } catch (err) {
    expect(isConfigError(err)).toBe(true);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('ingest config', () => {
  it('fills in every default', () => {
    expect(parse(minimal)).toEqual({
      nats: {
        url: 'nats://127.0.0.1:4222',
        name: 'eventrunner-ingest',
        credentialsFile: undefined,
        nkeySeedFile: undefined,
        tokenFile: undefined,
        userFile: undefined,
        passwordFile: undefined,
        caFile: undefined,
      },
      stream: { name: 'ER_NS_SHOP', subjectPrefix: 'er.ns.shop' },
      http: { enabled: true, host: '0.0.0.0', port: 8080 },
      grpc: { enabled: true, host: '0.0.0.0', port: 9090 },
      ops: { port: 8081 },
      auth: { enabled: true, tokensFile: '/etc/tokens/tokens', reloadIntervalMs: 10000 },
      limits: { maxBodyBytes: 1048576, maxBatchEvents: 1000, ratePerSecond: 0, burst: 1000 },
      conversion: { defaultType: 'io.eventrunner.raw' },
      schemas: {},
      publish: { maxInFlight: 1024, timeoutMs: 5000, maxQueued: 16384 },
      drain: { timeoutMs: 25000 },
      logLevel: 'info',
    });
  });

  it('parses sizes', () => {
    expect(parseSize(10)).toBe(10);
    expect(parseSize('512Ki')).toBe(524288);
    expect(parseSize('1Mi')).toBe(1048576);
    expect(parseSize('2M')).toBe(2000000);
    expect(parseSize('1.5Ki')).toBe(1536);
  });

  it('names the file and each bad field', () => {
    const msg = problems({
      ...minimal,
      http: { port: 70000 },
      extra: 1,
      limits: { maxBodyBytes: '1 MB' },
      logLevel: 'loud',
    });
    expect(msg).toMatch(/^ingest\.yaml: invalid ingest config:/);
    expect(msg).toContain('http.port: must be <= 65535');
    expect(msg).toContain('extra: unknown field');
    expect(msg).toContain('limits.maxBodyBytes: must be a byte size such as 1048576, 512Ki, 1Mi or 10Gi');
    expect(msg).toContain('logLevel: must be one of "trace", "debug", "info"');
  });

  it('checks fields against each other', () => {
    const msg = problems({
      ...minimal,
      stream: { name: 'S', subjectPrefix: 'er.*' },
      auth: { enabled: true },
      http: { enabled: false },
      grpc: { enabled: false },
      limits: { maxBatchEvents: 100, ratePerSecond: 10, burst: 50 },
    });
    expect(msg).toContain(
      'stream.subjectPrefix: cannot be a NATS subject prefix: it contains the NATS wildcard "*"',
    );
    expect(msg).toContain('auth.tokensFile: is required while auth is enabled');
    expect(msg).toContain('http.enabled: at least one of http and grpc must be enabled');
    expect(msg).toContain('limits.burst: must be at least limits.maxBatchEvents (100)');
    expect(problems({ ...minimal, http: { port: 9000 }, grpc: { port: 9000 } })).toContain(
      'grpc.port: must differ from http.port (9000)',
    );
  });

  it('checks the conversion with the EventSource schema it embeds', () => {
    expect(problems({ ...minimal, conversion: { defaultType: 'raw event' } })).toContain(
      'conversion.defaultType: must be a CloudEvents type usable as NATS subject tokens',
    );
  });

  it('allows auth to be disabled explicitly', () => {
    const c = parse({ ...minimal, auth: { enabled: false } });
    expect(c.auth.enabled).toBe(false);
  });

  it('loads YAML with schema files relative to the config file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'eventrunner-config-'));
    writeFileSync(join(dir, 'order.schema.json'), JSON.stringify({ type: 'object', required: ['amount'] }));
    writeFileSync(
      join(dir, 'ingest.yaml'),
      [
        'nats: {url: "nats://n:4222", credentialsFile: creds/user.creds}',
        'stream: {name: S, subjectPrefix: er.a.b}',
        'auth: {tokensFile: tokens}',
        'schemas:',
        '  com.shop.order: order.schema.json',
        '  com.shop.inline: {type: object}',
        'limits: {maxBodyBytes: 256Ki, ratePerSecond: 100}',
      ].join('\n'),
    );
    const c = loadIngestConfig(join(dir, 'ingest.yaml'));
    expect(c.schemas).toEqual({
      'com.shop.order': { type: 'object', required: ['amount'] },
      'com.shop.inline': { type: 'object' },
    });
    expect(c.auth.tokensFile).toBe(join(dir, 'tokens'));
    expect(c.nats.credentialsFile).toBe(join(dir, 'creds/user.creds'));
    expect(c.limits).toEqual({ maxBodyBytes: 262144, maxBatchEvents: 1000, ratePerSecond: 100, burst: 1000 });

    writeFileSync(
      join(dir, 'bad.yaml'),
      'nats: {url: "nats://x"}\nstream: {name: S, subjectPrefix: p}\nauth: {enabled: false}\nschemas: {t: missing.json}\n',
    );
    expect(() => loadIngestConfig(join(dir, 'bad.yaml'))).toThrow(
      /schemas\["t"\]: cannot read schema file .*missing\.json/,
    );
    expect(() => loadIngestConfig(join(dir, 'absent.yaml'))).toThrow(
      /absent\.yaml: cannot read ingest config/,
    );
  });
});

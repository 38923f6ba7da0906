import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkConfig, loadConfig } from '../../../runtime/process/config.js';
import { isConfigError } from '../../../runtime/common/errors.js';

const base = () => ({
  nats: { url: 'nats://127.0.0.1:4222' },
  sources: [{ stream: 'S', consumer: 'C' }],
  rules: { source: 'rule R "r" { when event.data.x > 1 then Route("a"); }' },
  outputs: [
    {
      name: 'a',
      sink: { scylla: { contactPoints: ['db:9042'], localDataCenter: 'dc1', keyspace: 'k', table: 't' } },
    },
    {
      name: 'b',
      sink: {
        clickhouse: { url: 'http://ch:8123', table: 't' },
        columns: [{ name: 'amount', type: 'double', from: '/data/amount' }],
      },
    },
  ],
  deadLetter: { stream: 'DLQ', subject: 'dlq.x' },
});

function problem(input: unknown): string {
  try {
    checkConfig(input, 'cfg.yaml');
  } catch (err) {
    expect(isConfigError(err)).toBe(true);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('processor config', () => {
  it('applies defaults from its own schema and from the Sink schema, and compiles the rules', () => {
    const c = checkConfig(base(), 'cfg.yaml');
    expect(c.delivery).toEqual({ maxDeliver: 5, ackWait: '30s', maxAckPending: 1000 });
    expect(c.backoffMs).toEqual([]);
    expect(c.maxInFlight).toBe(1000);
    expect(c.gracePeriodMs).toBe(25_000);
    expect(c.sources[0]!.conversion.defaultType).toBe('io.eventrunner.raw');
    expect(c.outputs[0]!.sink.scylla).toMatchObject({
      consistency: 'LOCAL_QUORUM',
      ttl: '0s',
      batch: { maxRows: 100, maxDelay: '50ms' },
    });
    expect(c.outputs[1]!.sink.clickhouse).toMatchObject({
      database: 'default',
      batch: { maxRows: 10000, maxDelay: '1s' },
    });
    expect(
      c.rulesCompiled.evaluate({ specversion: '1.0', id: '1', type: 't', source: 's', data: { x: 2 } })
        .routes,
    ).toEqual(['a']);
    // defaultOutputs omitted: every output
    expect(
      c.rulesCompiled.evaluate({ specversion: '1.0', id: '1', type: 't', source: 's', data: { x: 0 } })
        .routes,
    ).toEqual(['a', 'b']);
  });

  it('names the file and field of every problem', () => {
    expect(problem({ ...base(), extra: 1 })).toBe('cfg.yaml: extra: unknown field');
    expect(problem({ ...base(), nats: { url: 'http://x' } })).toMatch(
      /^cfg.yaml: nats.url: must be a nats:\/\/ or tls:\/\/ URL/,
    );
    expect(problem({ ...base(), defaultOutputs: ['c'] })).toMatch(
      /defaultOutputs: c is not one of the outputs \(a, b\)/,
    );
    expect(problem({ ...base(), delivery: { maxDeliver: 2, backoff: ['1s', '2s'] } })).toMatch(
      /delivery.backoff: backoff must list fewer delays than maxDeliver/,
    );
    const bad = base();
    (bad.outputs[1]!.sink as Record<string, unknown>).scylla = bad.outputs[0]!.sink.scylla;
    expect(problem(bad)).toMatch(
      /outputs\[1\]\.sink: exactly one of scylla, clickhouse, http or eventSource must be set/,
    );
    const col = base();
    col.outputs[1]!.sink.columns![0]!.name = 'data';
    expect(problem(col)).toMatch(
      /outputs\[1\]\.sink\.columns\[0\]\.name: column name data is a standard column/,
    );
    expect(problem({ ...base(), processing: { maxInFlight: 5000 } })).toMatch(
      /maxInFlight: must not exceed delivery.maxAckPending/,
    );
  });

  it('reports rule errors with line and column', () => {
    expect(
      problem({ ...base(), rules: { source: 'rule R "r" {\n  when true\n  then Route("nope");\n}' } }),
    ).toMatch(/^cfg.yaml rules.source:3:\d+: .*nope/);
  });

  it('loads YAML with a rules file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
    writeFileSync(join(dir, 'rules.grl'), 'rule D "d" { when true then Drop(); }');
    const cfg = { ...base(), rules: { file: join(dir, 'rules.grl') } };
    writeFileSync(join(dir, 'c.yaml'), JSON.stringify(cfg));
    const c = await loadConfig(join(dir, 'c.yaml'));
    expect(c.rulesCompiled.evaluate({ specversion: '1.0', id: '1', type: 't', source: 's' }).outcome).toBe(
      'dropped',
    );
    await expect(loadConfig(join(dir, 'missing.yaml'))).rejects.toThrow(/cannot read .*missing.yaml: ENOENT/);
  });
});

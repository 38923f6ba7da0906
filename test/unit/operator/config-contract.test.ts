// The configs the operator renders for each example are accepted, as they are, by the runtime that
// reads them: the ingest's and the processor's own config checks.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import type { EventSource, Pipeline, Sink } from '../../../api/generated/types.js';
import { validateResource } from '../../../api/validate.js';
import { ingestConfig } from '../../../operator/builders/ingest.js';
import { processorConfig } from '../../../operator/builders/processor.js';
import { parseOperatorOptions } from '../../../operator/options.js';
import { parseIngestConfig } from '../../../runtime/ingest/config.js';
import { checkConfig } from '../../../runtime/process/config.js';
import { repoRoot } from '../../stack/paths.js';

const options = parseOperatorOptions(['--image', 'img', '--nats-url', 'nats://nats:4222'], {});

function example(dir: string) {
  const objects: { kind: string }[] = [];
  for (const f of readdirSync(join(repoRoot, 'examples', dir)).filter((f) => f.endsWith('.yaml'))) {
    for (const doc of parseAllDocuments(readFileSync(join(repoRoot, 'examples', dir, f), 'utf8'))) {
      const obj = doc.toJS() as { kind: string; metadata: { namespace?: string; uid?: string } } | null;
      if (!obj || obj.kind === 'Secret') continue;
      const { value, issues } = validateResource(obj);
      expect(issues).toEqual([]);
      const withMeta = value as unknown as { metadata: { namespace?: string; uid?: string } };
      withMeta.metadata.namespace = 'prod';
      withMeta.metadata.uid = 'uid';
      objects.push(value as { kind: string });
    }
  }
  return {
    eventSources: new Map(
      objects
        .filter((o) => o.kind === 'EventSource')
        .map((o) => [(o as EventSource).metadata.name!, o as EventSource]),
    ),
    sinks: new Map(
      objects.filter((o) => o.kind === 'Sink').map((o) => [(o as Sink).metadata.name!, o as Sink]),
    ),
    pipelines: objects.filter((o) => o.kind === 'Pipeline') as Pipeline[],
  };
}

describe.each(['quickstart', 'iot-telemetry'])('operator-rendered configs for examples/%s', (dir) => {
  const { eventSources, sinks, pipelines } = example(dir);

  it('are accepted by the ingest', () => {
    expect(eventSources.size).toBeGreaterThan(0);
    for (const es of eventSources.values()) {
      const cfg = parseIngestConfig(ingestConfig(es, options), { source: 'config.yaml', baseDir: '/' });
      expect(cfg.stream.name).toBe(`ER_prod_${es.metadata.name}`);
    }
  });

  it('are accepted by the processor, rules compiled', () => {
    expect(pipelines.length).toBeGreaterThan(0);
    for (const pl of pipelines) {
      const cfg = checkConfig(processorConfig(pl, eventSources, sinks, options), 'config.yaml');
      expect(cfg.outputs.map((o) => o.name)).toEqual(pl.spec.outputs.map((o) => o.name));
      expect(cfg.rulesCompiled.rules.length).toBeGreaterThan(0);
    }
  });
});

// The configs the operator renders for every example are accepted, as they are, by the runtime that
// reads them: the ingest's and the processor's own config checks, through the YAML of the
// ConfigMap the pods mount. The builders return the generated config types, so a required field
// added to a pod config schema is a type error in the builder until it sets it.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import type {
  EventSource,
  IngestConfigInput,
  Pipeline,
  ProcessorConfigInput,
  QueryWorkerConfigInput,
  Sink,
} from '../../../api/generated/types.js';
import { validateResource } from '../../../api/validate.js';
import { ingestConfig, ingestConfigMap } from '../../../operator/builders/ingest.js';
import { processorConfig, processorConfigMap } from '../../../operator/builders/processor.js';
import { queryWorkerConfig, queryWorkerConfigMap } from '../../../operator/builders/query-worker.js';
import { parseOperatorOptions } from '../../../operator/options.js';
import { parseIngestConfig } from '../../../runtime/ingest/config.js';
import { checkConfig } from '../../../runtime/process/config.js';
import { checkWorkerConfig } from '../../../runtime/query-worker/config.js';
import { repoRoot } from '../../stack/paths.js';

const options = parseOperatorOptions(['--image', 'img', '--nats-url', 'nats://nats:4222'], {});

function example(dir: string) {
  const objects: { kind: string }[] = [];
  for (const f of readdirSync(join(repoRoot, 'examples', dir)).filter((f) => f.endsWith('.yaml'))) {
    for (const doc of parseAllDocuments(readFileSync(join(repoRoot, 'examples', dir, f), 'utf8'))) {
      const obj = doc.toJS() as { kind: string; metadata: { namespace?: string; uid?: string } } | null;
      if (!obj || (obj as { apiVersion?: string }).apiVersion !== 'eventrunner.io/v1alpha1') continue;
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

/** Every examples/ folder holding eventrunner resources. */
const examples = readdirSync(join(repoRoot, 'examples'), { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .filter((dir) =>
    readdirSync(join(repoRoot, 'examples', dir))
      .filter((f) => f.endsWith('.yaml'))
      .some((f) =>
        readFileSync(join(repoRoot, 'examples', dir, f), 'utf8').includes('eventrunner.io/v1alpha1'),
      ),
  );

it('covers every example', () =>
  expect(examples).toEqual(['iot-telemetry', 'outputs', 'patterns', 'queries', 'quickstart']));

describe.each(examples)('operator-rendered configs for examples/%s', (dir) => {
  const { eventSources, sinks, pipelines } = example(dir);

  it('are accepted by the ingest', () => {
    expect(eventSources.size).toBeGreaterThan(0);
    for (const es of eventSources.values()) {
      const rendered = parse(ingestConfigMap(es, options).data!['config.yaml']!);
      expect(rendered).toEqual(JSON.parse(JSON.stringify(ingestConfig(es, options))));
      const cfg = parseIngestConfig(rendered, { source: 'config.yaml', baseDir: '/' });
      expect(cfg.stream.name).toBe(`ER_prod_${es.metadata.name}`);
    }
  });

  it('are accepted by the processor, rules compiled', () => {
    expect(pipelines.length).toBeGreaterThan(0);
    for (const pl of pipelines) {
      const config = processorConfig(pl, eventSources, sinks, options);
      const cfg = checkConfig(parse(processorConfigMap(pl, config).data!['config.yaml']!), 'config.yaml');
      expect(cfg.outputs.map((o) => o.name)).toEqual(pl.spec.outputs.map((o) => o.name));
      expect(cfg.rulesCompiled.rules.length).toBeGreaterThan(0);
    }
  });

  it('are accepted by the query workers, queries compiled', () => {
    for (const pl of pipelines.filter((p) => p.spec.queries?.length)) {
      const config = queryWorkerConfig(pl, processorConfig(pl, eventSources, sinks, options), options);
      const cfg = checkWorkerConfig(
        parse(queryWorkerConfigMap(pl, config, options).data!['config.yaml']!),
        'config.yaml',
      );
      expect(cfg.compiled.map((q) => q.name)).toEqual(pl.spec.queries!.map((q) => q.name));
    }
  });
});

describe('the builders and the pod config schemas', () => {
  it('share one type each', () => {
    expectTypeOf(processorConfig).returns.toEqualTypeOf<ProcessorConfigInput>();
    expectTypeOf(ingestConfig).returns.toEqualTypeOf<IngestConfigInput>();
    expectTypeOf(queryWorkerConfig).returns.toEqualTypeOf<QueryWorkerConfigInput>();
  });

  it('make a required field a type error where it is missing', () => {
    const incomplete = {
      nats: { url: 'nats://n:4222' },
      sources: [{ stream: 'S', consumer: 'C' }],
      outputs: [{ name: 'a', sink: { clickhouse: { url: 'http://ch:8123', table: 't' } } }],
    };
    // @ts-expect-error deadLetter is required by the processor config schema
    const config: ProcessorConfigInput = incomplete;
    expect(() => checkConfig(config, 'config.yaml')).toThrow(/deadLetter: required field is missing/);
  });
});

// The examples do what their comments say: each sample event gets the documented outcome when the
// example Pipeline's rules run on it (compiled with the Pipeline's defaulted settings).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseManifests } from '../../../api/manifests.js';
import { validatePipeline } from '../../../api/validate.js';
import { repoRoot } from '../../../hack/gen-api.js';
import { compileRules, type CloudEventLike } from '../../../runtime/rules/index.js';

function outcomes(dir: string): Record<string, string> {
  const text = readFileSync(join(repoRoot, 'examples', dir, 'pipeline.yaml'), 'utf8');
  const { value, issues } = validatePipeline(parseManifests(text).documents[0]!.object);
  expect(issues).toEqual([]);
  const { spec } = value;
  const rules = compileRules(spec.rules, {
    outputs: spec.outputs.map((o) => o.name),
    defaultOutputs: spec.defaultOutputs,
    mode: spec.ruleEngine.mode,
    maxCycles: spec.ruleEngine.maxCycles,
  });
  const events = readFileSync(join(repoRoot, 'examples', dir, 'events.jsonl'), 'utf8')
    .trim()
    .split('\n');
  return Object.fromEntries(
    events.map((line) => {
      const event = JSON.parse(line) as CloudEventLike & { data: Record<string, unknown> };
      const r = rules.evaluate(event);
      const detail = r.outcome === 'routed' ? r.routes.join('+') : r.outcome === 'deadletter' ? r.reason : '';
      const tag = event.data.tier ?? event.data.severity;
      return [event.id, [r.outcome, detail, tag].filter(Boolean).join(' ')];
    }),
  );
}

describe('examples', () => {
  it('quickstart: load tests dropped, negative amounts dead-lettered, big orders gold, refunds to analytics', () => {
    expect(outcomes('quickstart')).toEqual({
      'o-1': 'routed analytics+store',
      'o-2': 'routed analytics+store gold',
      'o-3': 'dropped',
      'o-4': 'deadletter negative order amount',
      'o-5': 'routed analytics',
    });
  });

  it('outputs: gold orders notify the webhook and become alerts, the rest is dropped', () => {
    expect(outcomes('outputs')).toEqual({
      'g-1': 'routed alerts+notify gold',
      'g-2': 'dropped',
      'g-3': 'routed alerts+notify gold',
    });
  });

  it('iot-telemetry: heartbeats dropped, readings without device dead-lettered, thresholds raise alerts', () => {
    expect(outcomes('iot-telemetry')).toEqual({
      'r-1': 'routed readings',
      'r-2': 'routed alerts+readings critical',
      'r-3': 'dropped',
      'r-4': 'routed alerts+readings warning',
      'r-5': 'deadletter reading without deviceId',
    });
  });
});

// Offline validation of eventrunner objects with ajv, from the same schemas as the CRDs: OpenAPI
// checks and defaults, unknown fields rejected (as `kubectl apply` does by default), plus the
// TypeScript twins of the CEL rules. The operator, the runtime and `eventrunner validate` share it.
// The ajv validators are precompiled by `npm run gen` (api/generated/validators/).
import type { ValidateFunction } from 'ajv';
import { crossFieldIssues } from './crossfield.js';
import type { EventSource, Pipeline, Sink } from './generated/types.js';
import { validate as eventSourceValidator } from './generated/validators/event-source.js';
import { validate as pipelineValidator } from './generated/validators/pipeline.js';
import { validate as replayValidator } from './generated/validators/replay.js';
import { validate as sinkValidator } from './generated/validators/sink.js';
import { kinds, type KindDefinition } from './schema/index.js';
import { walk } from './schema/dsl.js';
import { distinctIssues, schemaCheck, type ValidationResult } from './validation.js';

export {
  ajvSchema,
  kindSchema,
  distinctIssues,
  formatPath,
  newAjv,
  ruleIdsUnder,
  schemaCheck,
  type Issue,
  type Path,
  type ValidationResult,
} from './validation.js';
export type Resource = EventSource | Pipeline | Sink;

const precompiled: Record<string, unknown> = {
  EventSource: eventSourceValidator,
  Pipeline: pipelineValidator,
  Replay: replayValidator,
  Sink: sinkValidator,
};

function ruleIds(def: KindDefinition): string[] {
  const ids = (def.rootValidations ?? []).filter((r) => !r.$transition).map((r) => r.$id);
  for (const part of [def.spec, def.status]) {
    walk(part, (s) => {
      for (const r of s['x-kubernetes-validations'] ?? []) if (!r.$transition) ids.push(r.$id);
    });
  }
  return ids;
}

let compiled: Map<string, { fn: ValidateFunction; ruleIds: string[] }> | undefined;

function validators(): Map<string, { fn: ValidateFunction; ruleIds: string[] }> {
  if (compiled) return compiled;
  compiled = new Map(
    kinds.map((def) => {
      const fn = precompiled[def.kind] as ValidateFunction | undefined;
      if (!fn)
        throw new Error(
          `no precompiled validator for ${def.kind}: run npm run gen and import it in api/validate.ts`,
        );
      return [def.kind, { fn, ruleIds: ruleIds(def) }];
    }),
  );
  return compiled;
}

/** Every offline CEL twin the kind needs, for the test that keeps CEL and TypeScript in step. */
export function celRuleIds(def: KindDefinition): string[] {
  return ruleIds(def);
}

export function validateResource(input: unknown): ValidationResult<Resource> {
  const value = structuredClone(input) as Record<string, unknown>;
  const kind = typeof value?.kind === 'string' ? value.kind : '';
  const entry = validators().get(kind);
  if (!entry) {
    return {
      value: value as unknown as Resource,
      issues: [{ path: ['kind'], message: `must be one of ${kinds.map((k) => k.kind).join(', ')}` }],
    };
  }
  const schemaIssues = schemaCheck(entry.fn, value);
  const meta = value.metadata as Record<string, unknown> | undefined;
  if (meta && typeof meta === 'object' && meta.name === undefined && meta.generateName === undefined) {
    schemaIssues.push({ path: ['metadata', 'name'], message: 'required field is missing' });
  }
  return {
    value: value as unknown as Resource,
    issues: distinctIssues([...schemaIssues, ...crossFieldIssues(value, entry.ruleIds)]),
  };
}

export function validateEventSource(input: unknown): ValidationResult<EventSource> {
  return validateResource({ ...(input as object), kind: 'EventSource' }) as ValidationResult<EventSource>;
}
export function validatePipeline(input: unknown): ValidationResult<Pipeline> {
  return validateResource({ ...(input as object), kind: 'Pipeline' }) as ValidationResult<Pipeline>;
}
export function validateSink(input: unknown): ValidationResult<Sink> {
  return validateResource({ ...(input as object), kind: 'Sink' }) as ValidationResult<Sink>;
}

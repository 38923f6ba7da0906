// Validation of the pod configs (api/schema/config/) with the same machinery as the resources:
// ajv with defaults and unknown fields rejected, then the offline twins of the CEL rules of every
// CRD sub-schema a config embeds (a Sink spec in a processor output is checked as a Sink's spec
// is). The runtimes run it at start-up with the validator `npm run gen` precompiled for their config
// (api/generated/validators/), so that no pod compiles a schema; the operator's contract test runs
// it on what it renders.
import type { ValidateFunction } from 'ajv';
import { crossFieldIssues, type Issue, type Path } from './crossfield.js';
import type { ConfigDefinition } from './schema/config/index.js';
import { materializeDefaults, stripInternal } from './schema/dsl.js';
import {
  ajvSchema,
  distinctIssues,
  newAjv,
  ruleIdsUnder,
  schemaCheck,
  type ValidationResult,
} from './validation.js';

interface Compiled {
  fn: ValidateFunction;
  embeds: { at: string[]; from: string[]; ruleIds: string[] }[];
}

const compiled = new Map<ConfigDefinition, Compiled>();

/** The schema a pod config is validated with (what its precompiled validator is generated from). */
export function configSchema(def: ConfigDefinition): unknown {
  return ajvSchema(stripInternal(materializeDefaults(def.schema)));
}

function compile(def: ConfigDefinition, precompiled: unknown): Compiled {
  let c = compiled.get(def);
  if (!c) {
    const fn = (precompiled as ValidateFunction | undefined) ?? newAjv().compile(configSchema(def) as object);
    const embeds = def.embeds.map((e) => ({ at: e.at, from: e.from, ruleIds: ruleIdsUnder(e.kind, e.from) }));
    c = { fn, embeds };
    compiled.set(def, c);
  }
  return c;
}

/** Every value at `at` ('[]' expands array items) with its concrete path. */
function valuesAt(value: unknown, at: readonly string[], path: Path = []): { value: unknown; path: Path }[] {
  if (at.length === 0) return [{ value, path }];
  const [head, ...rest] = at;
  if (head === '[]') {
    return Array.isArray(value) ? value.flatMap((v, i) => valuesAt(v, rest, [...path, i])) : [];
  }
  if (value === null || typeof value !== 'object' || !Object.hasOwn(value, head!)) return [];
  return valuesAt((value as Record<string, unknown>)[head!], rest, [...path, head!]);
}

function embeddedIssues(value: unknown, embed: Compiled['embeds'][number]): Issue[] {
  return valuesAt(value, embed.at).flatMap((found) => {
    // The twins read the sub-schema where it sits in its kind's object; wrap it there.
    let wrapped: unknown = found.value;
    for (const key of [...embed.from].reverse()) wrapped = { [key]: wrapped };
    return crossFieldIssues(wrapped as Record<string, unknown>, embed.ruleIds).map((i) => ({
      path: [...found.path, ...i.path.slice(embed.from.length)],
      message: i.message,
    }));
  });
}

/**
 * Checks a pod config; the returned value is a defaulted copy, meaningful when there are no issues.
 * `precompiled` is the config's validator from api/generated/validators/ (else ajv compiles one).
 */
export function validateConfig<T>(
  def: ConfigDefinition,
  input: unknown,
  precompiled?: unknown,
): ValidationResult<T> {
  const c = compile(def, precompiled);
  const value = structuredClone(input ?? {});
  const issues = schemaCheck(c.fn, value);
  for (const e of c.embeds) issues.push(...embeddedIssues(value, e));
  return { value: value as T, issues: distinctIssues(issues) };
}

// Backward compatibility of JSON Schemas (draft 2020-12): does the new schema accept every instance
// the old one accepts? A pure, conservative proof: `compatible` is said only when it holds for
// every instance; a change the checker cannot prove (a new `pattern`, a rewritten `oneOf`) is
// reported as breaking with what it could not prove. The reasoning treats a schema as a
// conjunction of keyword constraints: the old side may be over-approximated (an old constraint
// ignored only makes the old language larger), the new side never is.
//
// Keyword semantics follow ajv (the validator ingest runs): unknown keywords and annotations
// (title, description, default, examples, ...) do not constrain, `integer` is a kind of `number`.
import {
  admits,
  ALL_TYPES,
  deepEqual,
  isSchemaObject,
  resolveLocalRef,
  typeOfValue,
  typesOf,
  type InstanceType,
  type JsonSchema,
  type SchemaObject,
} from './json-schema.js';
import { checkArrays, checkNumbers, checkObjects, checkStrings } from './compat-keywords.js';
import type { BreakingChange, Checker } from './compat-types.js';

export type { BreakingChange, Checker } from './compat-types.js';

/** Keywords that constrain instances; anything else is an annotation or unknown (ignored by ajv). */
const ASSERTIONS = new Set([
  'type',
  'enum',
  'const',
  'multipleOf',
  'maximum',
  'exclusiveMaximum',
  'minimum',
  'exclusiveMinimum',
  'maxLength',
  'minLength',
  'pattern',
  'format',
  'items',
  'prefixItems',
  'contains',
  'maxContains',
  'minContains',
  'maxItems',
  'minItems',
  'uniqueItems',
  'properties',
  'patternProperties',
  'additionalProperties',
  'propertyNames',
  'required',
  'dependentRequired',
  'dependentSchemas',
  'maxProperties',
  'minProperties',
  'unevaluatedProperties',
  'unevaluatedItems',
  'allOf',
  'anyOf',
  'oneOf',
  'not',
  'if',
  '$ref',
  '$dynamicRef',
]);

/** Most sub-checks one comparison may make; beyond it the change is reported as unprovable. */
const BUDGET = 20_000;
/** Most cases the old schema's anyOf/oneOf may split into at one level. */
const MAX_CASES = 256;

class Comparison implements Checker {
  private budget = BUDGET;
  private readonly assumed = new Set<string>();

  constructor(
    private readonly oldRoot: JsonSchema,
    private readonly newRoot: JsonSchema,
  ) {}

  check(old: readonly JsonSchema[], nw: JsonSchema, path: string): BreakingChange | undefined {
    if (--this.budget < 0) return { path, message: 'the schemas are too complex to compare' };
    if (nw === true || (isSchemaObject(nw) && !hasAssertion(nw))) return undefined;
    const members = this.expandOld(old);
    if (members === 'empty') return undefined;
    if (isSchemaObject(nw) && !containsRef(nw) && members.some((m) => sameAssertions(m, nw)))
      return undefined;
    if (nw === false) return { path, message: 'the schema is false: it accepts nothing' };

    if (typeof nw.$dynamicRef === 'string') {
      return {
        path: `${path}/$dynamicRef`,
        message: 'a changed schema using $dynamicRef cannot be compared',
      };
    }
    if (typeof nw.$ref === 'string') {
      const d = this.checkRef(old, nw.$ref, `${path}/$ref`);
      if (d) return d;
    }
    if (Array.isArray(nw.allOf)) {
      for (const [i, s] of nw.allOf.entries()) {
        const d = this.check(old, s as JsonSchema, `${path}/allOf/${i}`);
        if (d) return d;
      }
    }
    if (nw.not !== undefined) {
      const d = this.checkNot(members, nw.not as JsonSchema, `${path}/not`);
      if (d) return d;
    }
    if (nw.if !== undefined) {
      const d = this.checkConditional(old, members, nw, path);
      if (d) return d;
    }
    for (const k of ['unevaluatedProperties', 'unevaluatedItems'] as const) {
      if (nw[k] === undefined || nw[k] === true) continue;
      return {
        path: `${path}/${k}`,
        message: `${k} with other changes at the same level cannot be compared; change it in a separate version`,
      };
    }
    let oneOfAsUnion = false;
    if (Array.isArray(nw.oneOf)) {
      if (disjointByType(nw.oneOf as JsonSchema[])) oneOfAsUnion = true;
      else if (!members.some((m) => deepEqual(m.oneOf, nw.oneOf))) {
        return {
          path: `${path}/oneOf`,
          message:
            'oneOf alternatives that may overlap changed; use anyOf, or alternatives of distinct types, so the change can be checked',
        };
      }
    }
    const cases = splitCases(members);
    if (cases === undefined)
      return { path, message: 'the old schema has too many anyOf/oneOf alternatives to compare' };
    for (const c of cases) {
      const d = this.checkLocal(c, nw, path, oneOfAsUnion);
      if (d) return d;
    }
    return undefined;
  }

  /** Old members with `$ref` and `allOf` flattened into the conjunction; 'empty' when one is false. */
  private expandOld(old: readonly JsonSchema[]): SchemaObject[] | 'empty' {
    const out: SchemaObject[] = [];
    const seenRefs = new Set<string>();
    const queue = [...old];
    while (queue.length > 0) {
      const s = queue.shift()!;
      if (s === false) return 'empty';
      if (s === true) continue;
      let rest = s;
      if (typeof s.$ref === 'string') {
        // An unresolvable old $ref is left out: ignoring an old constraint only widens the old side.
        if (!seenRefs.has(s.$ref)) {
          seenRefs.add(s.$ref);
          const target = resolveLocalRef(this.oldRoot, s.$ref);
          if (target !== undefined) queue.push(target);
        }
        rest = without(rest, '$ref');
      }
      if (Array.isArray(s.allOf)) {
        queue.push(...(s.allOf as JsonSchema[]));
        rest = without(rest, 'allOf');
      }
      out.push(rest);
    }
    return out;
  }

  private checkRef(old: readonly JsonSchema[], ref: string, path: string): BreakingChange | undefined {
    const target = resolveLocalRef(this.newRoot, ref);
    if (target === undefined) return { path, message: `$ref ${ref} is not a reference inside this schema` };
    // Recursive schemas: a pair already being compared further up holds by induction on the instance.
    const key = `${JSON.stringify(old)}\u0000${ref}`;
    if (this.assumed.has(key)) return undefined;
    this.assumed.add(key);
    try {
      return this.check(old, target, path);
    } finally {
      this.assumed.delete(key);
    }
  }

  private checkNot(members: SchemaObject[], n: JsonSchema, path: string): BreakingChange | undefined {
    // Old rules out N_old, and everything the new N matches is in N_old.
    for (const m of members) {
      if (m.not !== undefined && this.check([n], m.not as JsonSchema, path) === undefined) return undefined;
    }
    return { path, message: 'a new "not" refuses instances the old schema accepted' };
  }

  private checkConditional(
    old: readonly JsonSchema[],
    members: SchemaObject[],
    nw: SchemaObject,
    path: string,
  ): BreakingChange | undefined {
    if (
      members.some((m) => deepEqual(m.if, nw.if) && deepEqual(m.then, nw.then) && deepEqual(m.else, nw.else))
    )
      return undefined;
    const thenS = (nw.then ?? true) as JsonSchema;
    const elseS = (nw.else ?? true) as JsonSchema;
    const always = this.check(old, nw.if as JsonSchema, `${path}/if`) === undefined;
    const t = this.check(old, thenS, `${path}/then`);
    if (always) return t;
    return t ?? this.check(old, elseS, `${path}/else`);
  }

  /** The new schema's own keywords against one old case (no anyOf/oneOf left on the old side). */
  private checkLocal(
    c: SchemaObject[],
    nw: SchemaObject,
    path: string,
    oneOfAsUnion: boolean,
  ): BreakingChange | undefined {
    const union = [
      ...(Array.isArray(nw.anyOf) ? [{ key: 'anyOf', list: nw.anyOf as JsonSchema[] }] : []),
      ...(oneOfAsUnion ? [{ key: 'oneOf', list: nw.oneOf as JsonSchema[] }] : []),
    ];
    for (const u of union) {
      const d = this.checkUnion(c, u.list, `${path}/${u.key}`);
      if (d) return d;
    }
    const finite = finiteValues(c);
    const oldTypes = finite ? new Set(finite.map(typeOfValue)) : typesOfConj(c);
    if (nw.type !== undefined) {
      const newTypes = typesOf(nw) ?? new Set<InstanceType>();
      for (const t of oldTypes) {
        if (!admits(newTypes, t)) {
          const what =
            t === 'number' && newTypes.has('integer')
              ? 'number narrowed to integer'
              : `${t} is no longer accepted`;
          return { path: `${path}/type`, message: `type ${what}` };
        }
      }
    }
    if (nw.enum !== undefined || nw.const !== undefined) {
      const allowed = nw.const !== undefined ? [nw.const] : Array.isArray(nw.enum) ? nw.enum : [];
      const key = nw.const !== undefined ? 'const' : 'enum';
      if (finite === undefined) {
        return { path: `${path}/${key}`, message: `${key} added: values outside it were accepted` };
      }
      const lost = finite.find((v) => !allowed.some((a) => deepEqual(a, v)));
      if (lost !== undefined)
        return { path: `${path}/${key}`, message: `${key} no longer allows ${JSON.stringify(lost)}` };
    }
    if (admits(oldTypes, 'integer') || oldTypes.has('number')) {
      const d = checkNumbers(c, nw, path);
      if (d) return d;
    }
    if (oldTypes.has('string')) {
      const d = checkStrings(c, nw, path);
      if (d) return d;
    }
    if (oldTypes.has('array')) {
      const d = checkArrays(this, c, nw, path);
      if (d) return d;
    }
    if (oldTypes.has('object')) {
      const d = checkObjects(this, c, nw, path);
      if (d) return d;
    }
    return undefined;
  }

  /** The old case must fall into one alternative, or, split by type, each type into one. */
  private checkUnion(
    c: SchemaObject[],
    alternatives: JsonSchema[],
    path: string,
  ): BreakingChange | undefined {
    const fits = (conj: SchemaObject[]) => alternatives.some((a) => this.check(conj, a, path) === undefined);
    if (fits(c)) return undefined;
    const finite = finiteValues(c);
    const types = finite ? new Set(finite.map(typeOfValue)) : typesOfConj(c);
    if (types.size > 1) {
      for (const t of types) {
        const only: SchemaObject = { type: t };
        if (!fits([...c, only])) {
          return { path, message: `no alternative accepts every ${t} the old schema accepted` };
        }
      }
      return undefined;
    }
    const only = types.size === 1 ? [...types][0] : undefined;
    return {
      path,
      message: `no alternative accepts every ${only ?? 'instance'} the old schema accepted`,
    };
  }
}

function without(s: SchemaObject, key: string): SchemaObject {
  const { [key]: _drop, ...rest } = s;
  return rest;
}

function hasAssertion(s: SchemaObject): boolean {
  for (const k in s) if (ASSERTIONS.has(k)) return true;
  return false;
}

function sameAssertions(a: SchemaObject, b: SchemaObject): boolean {
  for (const k of ASSERTIONS) if (!deepEqual(a[k], b[k])) return false;
  return deepEqual(a.then, b.then) && deepEqual(a.else, b.else);
}

function containsRef(v: unknown): boolean {
  if (Array.isArray(v)) return v.some(containsRef);
  if (!isSchemaObject(v)) return false;
  for (const k in v) {
    if (k === '$ref' || k === '$dynamicRef') return true;
    if (containsRef(v[k])) return true;
  }
  return false;
}

/** Alternatives that each name their types and share none: then oneOf is anyOf. */
function disjointByType(list: JsonSchema[]): boolean {
  const seen = new Set<InstanceType>();
  for (const s of list) {
    if (!isSchemaObject(s)) return false;
    const t = typesOf(s);
    if (t === undefined) return false;
    const expanded = new Set(t);
    if (t.has('number')) expanded.add('integer');
    for (const x of expanded) {
      if (seen.has(x)) return false;
    }
    for (const x of expanded) seen.add(x);
  }
  return true;
}

/** The old conjunction split on its anyOf/oneOf alternatives (oneOf over-approximated as anyOf). */
function splitCases(members: SchemaObject[]): SchemaObject[][] | undefined {
  let cases: SchemaObject[][] = [members];
  for (;;) {
    const next: SchemaObject[][] = [];
    let split = false;
    for (const c of cases) {
      const i = c.findIndex((m) => Array.isArray(m.anyOf) || Array.isArray(m.oneOf));
      if (i < 0) {
        next.push(c);
        continue;
      }
      split = true;
      const m = c[i]!;
      const key = Array.isArray(m.anyOf) ? 'anyOf' : 'oneOf';
      const rest = without(m, key);
      for (const alt of m[key] as JsonSchema[]) {
        if (alt === false) continue;
        const conj = [...c.slice(0, i), rest, ...c.slice(i + 1)];
        if (alt !== true) conj.push(alt);
        next.push(conj);
      }
    }
    if (next.length > MAX_CASES) return undefined;
    cases = next;
    if (!split) return cases;
  }
}

/** The values an old case can take when it has enum or const: the intersection of them all. */
function finiteValues(c: readonly SchemaObject[]): unknown[] | undefined {
  let values: unknown[] | undefined;
  for (const m of c) {
    const list =
      m.const !== undefined ? [m.const] : Array.isArray(m.enum) ? (m.enum as unknown[]) : undefined;
    if (list === undefined) continue;
    values = values === undefined ? [...list] : values.filter((v) => list.some((w) => deepEqual(v, w)));
  }
  if (values === undefined) return undefined;
  // Values a member's `type` refuses are not old instances.
  return values.filter((v) =>
    c.every((m) => {
      const t = typesOf(m);
      return t === undefined || admits(t, typeOfValue(v));
    }),
  );
}

/** Types the whole conjunction admits; `number` here means numbers that are not integers too. */
function typesOfConj(c: readonly SchemaObject[]): Set<InstanceType> {
  let out = new Set<InstanceType>(ALL_TYPES);
  for (const m of c) {
    const t = typesOf(m);
    if (t === undefined) continue;
    const next = new Set<InstanceType>();
    for (const x of out) {
      if (t.has(x)) next.add(x);
      else if (x === 'number' && t.has('integer')) next.add('integer');
    }
    out = next;
  }
  if (out.has('number')) out.delete('integer');
  return out;
}

/** The first change that makes `newSchema` refuse an instance `oldSchema` accepted, if any. */
export function breakingChange(oldSchema: JsonSchema, newSchema: JsonSchema): BreakingChange | undefined {
  return new Comparison(oldSchema, newSchema).check([oldSchema], newSchema, '');
}

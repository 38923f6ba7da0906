// The per-type keyword groups of the backward-compatibility check (compat.ts): numbers, strings,
// arrays and objects. Each compares what the new schema demands of one instance type with what the
// old conjunction `c` already guaranteed, and names the first demand that is new.
import type { BreakingChange, Checker } from './compat-types.js';
import { escapePointer, isSchemaObject, type JsonSchema, type SchemaObject } from './json-schema.js';

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

interface Bound {
  value: number;
  exclusive: boolean;
}

/** The tightest bound the conjunction sets on one side (`lower`: the greatest minimum). */
function tightest(
  c: readonly SchemaObject[],
  inclusive: string,
  exclusive: string,
  lower: boolean,
): Bound | undefined {
  let best: Bound | undefined;
  const better = (b: Bound) =>
    best === undefined ||
    (lower ? b.value > best.value : b.value < best.value) ||
    (b.value === best.value && b.exclusive && !best.exclusive);
  for (const m of c) {
    const inc = num(m[inclusive]);
    if (inc !== undefined && better({ value: inc, exclusive: false }))
      best = { value: inc, exclusive: false };
    const exc = num(m[exclusive]);
    if (exc !== undefined && better({ value: exc, exclusive: true })) best = { value: exc, exclusive: true };
  }
  return best;
}

/** Does the old bound imply the new one? */
function implies(old: Bound | undefined, nw: Bound, lower: boolean): boolean {
  if (old === undefined) return false;
  if (lower ? old.value > nw.value : old.value < nw.value) return true;
  return old.value === nw.value && (old.exclusive || !nw.exclusive);
}

function describe(b: Bound | undefined, lower: boolean): string {
  if (b === undefined) return 'none';
  return `${lower ? (b.exclusive ? '>' : '>=') : b.exclusive ? '<' : '<='} ${b.value}`;
}

export function checkNumbers(
  c: readonly SchemaObject[],
  nw: SchemaObject,
  path: string,
): BreakingChange | undefined {
  for (const [inclusive, exclusive, lower] of [
    ['minimum', 'exclusiveMinimum', true],
    ['maximum', 'exclusiveMaximum', false],
  ] as const) {
    const old = tightest(c, inclusive, exclusive, lower);
    for (const [key, isExclusive] of [
      [inclusive, false],
      [exclusive, true],
    ] as const) {
      const v = num(nw[key]);
      if (v === undefined) continue;
      const bound = { value: v, exclusive: isExclusive };
      if (!implies(old, bound, lower)) {
        return {
          path: `${path}/${key}`,
          message: `${key} ${v} is stricter than before (${describe(old, lower)})`,
        };
      }
    }
  }
  const m = num(nw.multipleOf);
  if (m !== undefined && m > 0) {
    const ok = c.some((o) => {
      const k = num(o.multipleOf);
      if (k === undefined) return false;
      const q = k / m;
      return Math.abs(q - Math.round(q)) < 1e-9;
    });
    if (!ok)
      return { path: `${path}/multipleOf`, message: `multipleOf ${m} refuses numbers that were accepted` };
  }
  return undefined;
}

function greatest(c: readonly SchemaObject[], key: string, floor: number): number {
  let v = floor;
  for (const m of c) {
    const x = num(m[key]);
    if (x !== undefined && x > v) v = x;
  }
  return v;
}

function least(c: readonly SchemaObject[], key: string): number {
  let v = Infinity;
  for (const m of c) {
    const x = num(m[key]);
    if (x !== undefined && x < v) v = x;
  }
  return v;
}

/** minX/maxX pairs (lengths, item and property counts). */
function checkCounts(
  c: readonly SchemaObject[],
  nw: SchemaObject,
  path: string,
  minKey: string,
  maxKey: string,
): BreakingChange | undefined {
  const newMin = num(nw[minKey]);
  if (newMin !== undefined) {
    const oldMin = greatest(c, minKey, 0);
    if (newMin > oldMin)
      return { path: `${path}/${minKey}`, message: `${minKey} raised from ${oldMin} to ${newMin}` };
  }
  const newMax = num(nw[maxKey]);
  if (newMax !== undefined) {
    const oldMax = least(c, maxKey);
    if (newMax < oldMax) {
      return {
        path: `${path}/${maxKey}`,
        message: `${maxKey} lowered from ${oldMax === Infinity ? 'none' : oldMax} to ${newMax}`,
      };
    }
  }
  return undefined;
}

export function checkStrings(
  c: readonly SchemaObject[],
  nw: SchemaObject,
  path: string,
): BreakingChange | undefined {
  const counts = checkCounts(c, nw, path, 'minLength', 'maxLength');
  if (counts) return counts;
  for (const key of ['pattern', 'format'] as const) {
    const v = nw[key];
    if (typeof v !== 'string') continue;
    if (!c.some((m) => m[key] === v)) {
      const before = c.map((m) => m[key]).find((x) => typeof x === 'string');
      return {
        path: `${path}/${key}`,
        message:
          before === undefined
            ? `${key} ${JSON.stringify(v)} added: strings that do not match it were accepted`
            : `${key} changed from ${JSON.stringify(before)} to ${JSON.stringify(v)}`,
      };
    }
  }
  return undefined;
}

const schemaAt = (v: unknown): JsonSchema | undefined =>
  typeof v === 'boolean' || isSchemaObject(v) ? v : undefined;

export function checkArrays(
  checker: Checker,
  c: readonly SchemaObject[],
  nw: SchemaObject,
  path: string,
): BreakingChange | undefined {
  const counts = checkCounts(c, nw, path, 'minItems', 'maxItems');
  if (counts) return counts;
  const oldMax = least(c, 'maxItems');
  if (nw.uniqueItems === true && oldMax > 1 && !c.some((m) => m.uniqueItems === true)) {
    return {
      path: `${path}/uniqueItems`,
      message: 'uniqueItems added: arrays with repeated items were accepted',
    };
  }
  const newPrefix = Array.isArray(nw.prefixItems) ? (nw.prefixItems as unknown[]) : [];
  const newItems = schemaAt(nw.items);
  const prefixLen = (m: SchemaObject) => (Array.isArray(m.prefixItems) ? m.prefixItems.length : 0);
  const n = Math.max(newPrefix.length, ...c.map(prefixLen));
  const oldAt = (i: number): JsonSchema[] =>
    c.flatMap((m) => {
      const s =
        Array.isArray(m.prefixItems) && i < m.prefixItems.length
          ? schemaAt(m.prefixItems[i])
          : schemaAt(m.items);
      return s === undefined ? [] : [s];
    });
  for (let i = 0; i < n && i < oldMax; i++) {
    const s = i < newPrefix.length ? schemaAt(newPrefix[i]) : newItems;
    if (s === undefined) continue;
    const where = i < newPrefix.length ? `${path}/prefixItems/${i}` : `${path}/items`;
    const d = checker.check(oldAt(i), s, where);
    if (d) return d;
  }
  if (newItems !== undefined && n < oldMax) {
    const d = checker.check(oldAt(n), newItems, `${path}/items`);
    if (d) return d;
  }
  const contains = schemaAt(nw.contains);
  if (contains !== undefined) {
    const newMin = num(nw.minContains) ?? 1;
    const ok = c.some((m) => {
      const oc = schemaAt(m.contains);
      return (
        oc !== undefined &&
        (num(m.minContains) ?? 1) >= newMin &&
        checker.check([oc], contains, path) === undefined
      );
    });
    if (!ok && newMin > 0)
      return {
        path: `${path}/contains`,
        message: 'contains added or narrowed: arrays without such items were accepted',
      };
    const newMaxC = num(nw.maxContains);
    if (newMaxC !== undefined) {
      const okMax = c.some(
        (m) =>
          schemaAt(m.contains) !== undefined &&
          JSON.stringify(m.contains) === JSON.stringify(nw.contains) &&
          (num(m.maxContains) ?? Infinity) <= newMaxC,
      );
      if (!okMax)
        return {
          path: `${path}/maxContains`,
          message: `maxContains ${newMaxC} refuses arrays that were accepted`,
        };
    }
  }
  return undefined;
}

function patternMatches(pattern: string, name: string): boolean {
  try {
    return new RegExp(pattern, 'u').test(name);
  } catch {
    return false;
  }
}

const objectAt = (v: unknown): SchemaObject | undefined => (isSchemaObject(v) ? v : undefined);

/** The schemas that apply to property `name` of an instance under one (old or new) schema. */
function propertySchemas(s: SchemaObject, name: string): JsonSchema[] {
  const out: JsonSchema[] = [];
  const props = objectAt(s.properties);
  const own = props ? schemaAt(props[name]) : undefined;
  if (own !== undefined) out.push(own);
  let matched = false;
  for (const [p, ps] of Object.entries(objectAt(s.patternProperties) ?? {})) {
    if (!patternMatches(p, name)) continue;
    matched = true;
    const x = schemaAt(ps);
    if (x !== undefined) out.push(x);
  }
  if (own === undefined && !matched) {
    const add = schemaAt(s.additionalProperties);
    if (add !== undefined) out.push(add);
  }
  return out;
}

export function checkObjects(
  checker: Checker,
  c: readonly SchemaObject[],
  nw: SchemaObject,
  path: string,
): BreakingChange | undefined {
  const oldRequired = new Set(c.flatMap((m) => (Array.isArray(m.required) ? (m.required as string[]) : [])));
  for (const r of Array.isArray(nw.required) ? (nw.required as string[]) : []) {
    if (!oldRequired.has(r)) {
      return { path: `${path}/required`, message: `property ${JSON.stringify(r)} is now required` };
    }
  }
  const counts = checkCounts(c, nw, path, 'minProperties', 'maxProperties');
  if (counts) return counts;

  const names = new Set<string>([
    ...Object.keys(objectAt(nw.properties) ?? {}),
    ...c.flatMap((m) => Object.keys(objectAt(m.properties) ?? {})),
  ]);
  for (const name of [...names].sort()) {
    const newSchemas = propertySchemas(nw, name);
    if (newSchemas.length === 0) continue;
    const oldSchemas = c.flatMap((m) => propertySchemas(m, name));
    const inNew = objectAt(nw.properties)?.[name] !== undefined;
    for (const s of newSchemas) {
      const d = checker.check(oldSchemas, s, `${path}/properties/${escapePointer(name)}`);
      if (!d) continue;
      if (!inNew && s === false) {
        return {
          path: `${path}/additionalProperties`,
          message: `property ${JSON.stringify(name)} was accepted and is now refused (removed from a closed object)`,
        };
      }
      const wasDeclared = c.some((m) => objectAt(m.properties)?.[name] !== undefined);
      if (inNew && !wasDeclared) {
        return {
          path: `${path}/properties/${escapePointer(name)}`,
          message: `new property ${JSON.stringify(name)} restricts values the old schema accepted for it (the object is open: set additionalProperties: false in the old version first, or accept any value): ${d.message}`,
        };
      }
      return d;
    }
  }

  // Names no `properties` of either side lists: old members without patternProperties constrain
  // them by additionalProperties; members with patterns are left out (over-approximation).
  const otherOld = (pattern?: string): JsonSchema[] =>
    c.flatMap((m) => {
      const pp = objectAt(m.patternProperties);
      if (pp === undefined) {
        const add = schemaAt(m.additionalProperties);
        return add === undefined ? [] : [add];
      }
      const same = pattern === undefined ? undefined : schemaAt(pp[pattern]);
      return same === undefined ? [] : [same];
    });
  for (const [p, ps] of Object.entries(objectAt(nw.patternProperties) ?? {})) {
    const s = schemaAt(ps);
    if (s === undefined) continue;
    const d = checker.check(otherOld(p), s, `${path}/patternProperties/${escapePointer(p)}`);
    if (d) return d;
  }
  const add = schemaAt(nw.additionalProperties);
  if (add !== undefined) {
    const d = checker.check(otherOld(), add, `${path}/additionalProperties`);
    if (d) {
      return add === false
        ? {
            path: `${path}/additionalProperties`,
            message: 'additionalProperties: false refuses properties that were accepted',
          }
        : d;
    }
  }
  const names2 = schemaAt(nw.propertyNames);
  if (names2 !== undefined) {
    const oldNames = c.flatMap((m) => {
      const s = schemaAt(m.propertyNames);
      return s === undefined ? [] : [s];
    });
    const d = checker.check(oldNames, names2, `${path}/propertyNames`);
    if (d) return d;
  }
  for (const [key, deps] of Object.entries(objectAt(nw.dependentRequired) ?? {})) {
    for (const dep of Array.isArray(deps) ? (deps as string[]) : []) {
      const ok =
        oldRequired.has(dep) ||
        c.some((m) => {
          const list = objectAt(m.dependentRequired)?.[key];
          return Array.isArray(list) && list.includes(dep);
        });
      if (!ok) {
        return {
          path: `${path}/dependentRequired/${escapePointer(key)}`,
          message: `property ${JSON.stringify(dep)} is now required when ${JSON.stringify(key)} is present`,
        };
      }
    }
  }
  for (const [key, ds] of Object.entries(objectAt(nw.dependentSchemas) ?? {})) {
    const s = schemaAt(ds);
    if (s === undefined) continue;
    const oldDeps = c.flatMap((m) => {
      const x = schemaAt(objectAt(m.dependentSchemas)?.[key]);
      return x === undefined ? [] : [x];
    });
    const d = checker.check([...c, ...oldDeps], s, `${path}/dependentSchemas/${escapePointer(key)}`);
    if (d) return d;
  }
  return undefined;
}

// What a query reads of an event. The processor publishes only that to the shuffle stream (DESIGN
// section 7: "what the query needs of each event"), so a worker's input costs the bytes of the
// fields the query names, not of the whole event. Kept always: the attributes the runtime itself
// reads (id for row-per-event result ids and late reports, time for event time, source, type,
// specversion); besides those, every attribute or extension a field of the query starts at, and of
// `data` only the top-level members the query names (each whole), or all of it when the query
// reads `data` itself or a member by a computed step.
import type { CheckedQuery } from './checker.js';

const ALWAYS = ['specversion', 'id', 'source', 'type', 'time'] as const;

/** The event reduced to what the query reads; the same object when it reads everything. */
export type Projector = (event: Record<string, unknown>) => Record<string, unknown>;

interface Reads {
  roots: Set<string>;
  /** Top-level members of `data`; undefined: all of `data`. */
  dataKeys: Set<string> | undefined;
}

/** Every field node anywhere in the checked query (its items, WHERE, keys, windows, patterns, joins). */
function readsOf(checked: CheckedQuery): Reads {
  const reads: Reads = { roots: new Set(ALWAYS), dataKeys: new Set() };
  const seen = new Set<object>();
  const visit = (node: unknown): void => {
    if (node === null || typeof node !== 'object' || seen.has(node)) return;
    seen.add(node);
    if (Array.isArray(node)) {
      for (const n of node) visit(n);
      return;
    }
    const n = node as Record<string, unknown>;
    if (n.type === 'field' && typeof n.root === 'string') {
      // A lookup table's row: its fields are the table's columns, not the event's.
      if ((n.bind as { row?: boolean } | undefined)?.row) return;
      reads.roots.add(n.root);
      if (n.root === 'data' && reads.dataKeys) {
        const first = (n.path as unknown[])[0];
        if (typeof first === 'string') reads.dataKeys.add(first);
        else reads.dataKeys = undefined;
      }
    }
    for (const v of Object.values(n)) visit(v);
  };
  visit(checked);
  return reads;
}

/** The projector of a checked query. */
export function projectorOf(checked: CheckedQuery): Projector {
  const { roots, dataKeys } = readsOf(checked);
  const rootList = [...roots];
  const keyList = dataKeys && [...dataKeys];
  return (event) => {
    const out: Record<string, unknown> = {};
    for (const r of rootList) {
      if (!Object.hasOwn(event, r)) continue;
      const v = event[r];
      if (r !== 'data' || !keyList || v === null || typeof v !== 'object' || Array.isArray(v)) {
        out[r] = v;
        continue;
      }
      const data: Record<string, unknown> = {};
      for (const k of keyList) if (Object.hasOwn(v, k)) data[k] = (v as Record<string, unknown>)[k];
      out.data = data;
    }
    return out;
  };
}

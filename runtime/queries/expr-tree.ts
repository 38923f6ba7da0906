// Walking and comparing expression trees: the sub-expressions of a node, and a structural key by
// which GROUP BY expressions and repeated aggregate calls are recognised wherever they appear.
import type { Expr } from './ast.js';
import { AGGREGATES } from './functions.js';
import { canonicalJson } from './values.js';

export const WINDOW_COLUMNS = new Set(['window_start', 'window_end']);

/** A structural key of an expression: equal keys compute the same value from the same event. */
export function exprKey(e: Expr): string {
  switch (e.type) {
    case 'literal':
      return `L${canonicalJson(e.value)}`;
    case 'field':
      return e.bind
        ? `F${JSON.stringify([e.bind.slot, e.bind.index ?? null, e.root, ...e.path])}`
        : `F${JSON.stringify([e.root, ...e.path])}`;
    case 'call':
      return `C${e.name}${e.star ? '*' : ''}${e.distinct ? 'D' : ''}(${e.args.map(exprKey).join(',')})`;
    case 'not':
    case 'neg':
      return `${e.type}(${exprKey(e.operand)})`;
    case 'binary':
      return `B${e.op}(${exprKey(e.left)},${exprKey(e.right)})`;
    case 'isnull':
      return `N${e.negated ? '!' : ''}(${exprKey(e.operand)})`;
    case 'in':
      return `I${e.negated ? '!' : ''}(${[e.operand, ...e.list].map(exprKey).join(',')})`;
    case 'like':
      return `K${e.negated ? '!' : ''}(${exprKey(e.operand)},${exprKey(e.pattern)})`;
    case 'case':
      return `W(${e.subject ? exprKey(e.subject) : ''};${e.whens
        .map((w) => `${exprKey(w.when)}:${exprKey(w.then)}`)
        .join(';')};${e.otherwise ? exprKey(e.otherwise) : ''})`;
  }
}

/** Direct sub-expressions of a node. */
export function children(e: Expr): Expr[] {
  switch (e.type) {
    case 'literal':
    case 'field':
      return [];
    case 'call':
      return e.args;
    case 'not':
    case 'neg':
    case 'isnull':
      return [e.operand];
    case 'binary':
      return [e.left, e.right];
    case 'in':
      return [e.operand, ...e.list];
    case 'like':
      return [e.operand, e.pattern];
    case 'case': {
      const out = e.subject ? [e.subject] : [];
      for (const w of e.whens) out.push(w.when, w.then);
      if (e.otherwise) out.push(e.otherwise);
      return out;
    }
  }
}

export const isAggregateCall = (e: Expr): e is Extract<Expr, { type: 'call' }> =>
  e.type === 'call' && Object.hasOwn(AGGREGATES, e.name);

export const isWindowColumn = (e: Expr): boolean =>
  e.type === 'field' && e.path.length === 0 && WINDOW_COLUMNS.has(e.root);

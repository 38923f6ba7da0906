// The fixed path of a field read such as `event.data.items[0]`, when every segment is known at
// compile time: the compiler turns it into a direct read, the condition cache decides by its depth.
import type { Expr } from './ast.js';

function literalKey(index: Expr): string | number | undefined {
  if (index.type !== 'literal') return undefined;
  const lit = index.literal;
  return lit.kind === 'string' || lit.kind === 'int' ? lit.value : undefined;
}

/** Static segments from `event`, when the whole path is fixed at compile time. */
export function staticPath(expr: Expr): (string | number)[] | undefined {
  if (expr.type === 'var') return [];
  if (expr.type === 'member') {
    const base = staticPath(expr.object);
    return base && [...base, expr.name];
  }
  if (expr.type === 'index') {
    const base = staticPath(expr.object);
    const key = literalKey(expr.index);
    return base && key !== undefined ? [...base, key] : undefined;
  }
  return undefined;
}

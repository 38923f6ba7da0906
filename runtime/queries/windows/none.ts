// Queries without a window or aggregate: a row per event that WHERE accepts, at once. Nothing is
// kept, so nothing is ever late and partitioning does not matter.
import type { RowContext } from '../compile-expr.js';
import { formatTime } from '../event-time.js';
import { eventResultId } from '../ids.js';
import { buildRow, type Plan } from '../plan.js';
import type { QueryInput, QueryResult } from '../types.js';
import { ADDED, type AddStatus, type WindowOperator } from './operator.js';

export class RowPerEvent implements WindowOperator {
  readonly nextDue = Infinity;
  readonly stateKeys = 0;

  constructor(private readonly plan: Plan) {}

  add(ctx: RowContext, t: number, _input: QueryInput, _w: number, out: QueryResult[]): AddStatus {
    const data = buildRow(this.plan, ctx);
    if (data) {
      const id = typeof ctx.ev.id === 'string' ? ctx.ev.id : '';
      const plan = this.plan;
      out.push({
        query: plan.name,
        id: eventResultId(plan.idPrefix, id),
        time: formatTime(t),
        data,
        key: '',
      });
    }
    return ADDED;
  }

  advance(): void {}

  flush(): void {}

  save(): unknown {
    return {};
  }

  load(): void {}
}

// Lookup join: `FROM orders o [LEFT] JOIN customers AS c ON o.data.customerId = c.id`. The engine
// stays pure: whoever pushes an input reads the table row of its key first (the query worker
// through its cache, `eventrunner test` from --table files) and passes it in `input.rows[table]`.
// A row per event, at once: with the row, or in a LEFT join with NULLs when there is none.
import type { RowContext } from '../compile-expr.js';
import { formatTime } from '../event-time.js';
import { eventResultId } from '../ids.js';
import { boundOf, joinKeyValues, type JoinPlan } from '../join-plan.js';
import { buildRow, type Plan } from '../plan.js';
import type { QueryInput, QueryResult } from '../types.js';
import { ADDED, type AddStatus, type WindowOperator } from './operator.js';

export class LookupJoin implements WindowOperator {
  readonly nextDue = Infinity;
  readonly stateKeys = 0;
  private readonly j: JoinPlan;

  constructor(private readonly plan: Plan) {
    this.j = plan.join!;
  }

  add(ctx: RowContext, t: number, input: QueryInput, _w: number, out: QueryResult[]): AddStatus {
    const left = boundOf(input, t);
    const key = joinKeyValues(this.j.leftKeys, 0, left, ctx);
    const found = key === undefined ? undefined : input.rows?.[this.j.right];
    if (!found && !this.j.left) return ADDED;
    ctx.bound = found ? [[left], [{ ev: found, t, seq: 0, src: this.j.right }]] : [[left], undefined];
    const keep = this.j.where === undefined || this.j.where(ctx) === true;
    const data = keep ? buildRow(this.plan, ctx) : undefined;
    ctx.bound = [];
    if (data) {
      const id = typeof input.event.id === 'string' ? input.event.id : '';
      out.push({
        query: this.plan.name,
        id: eventResultId(this.plan.idPrefix, id),
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

// PATTERN and SEQUENCE: events are buffered until the watermark passes them, then matched per
// PARTITION BY key in (event time, seq, source) order, so matches depend neither on arrival order
// within the grace period nor on restarts. A match in progress is a run: the element it waits for,
// the events each variable took, its first event's time (WITHIN) and, at a NOT … FOR, the time
// the absence is satisfied. Runs do not branch: quantifiers are greedy (an event that fits the
// quantified step is taken by it while fewer than its maximum are held) and never backtrack. With
// EVERY, each event that fits the first element starts a run; without it, one run at a time per
// key. A run is dropped once its WITHIN has passed, so state is bounded by WITHIN plus grace.
import type { BoundEvent, RowContext } from '../compile-expr.js';
import { compareOrder } from '../aggregates.js';
import { formatTime } from '../event-time.js';
import { queryResultId } from '../ids.js';
import type { ElementPlan, PatternPlan, StepPlan } from '../pattern-plan.js';
import { buildRow, type Plan } from '../plan.js';
import type { QueryInput, QueryResult } from '../types.js';
import { MinHeap } from './heap.js';
import {
  ADDED,
  KeyIndex,
  LATE,
  STATE_LIMIT,
  keyOfProbe,
  newProbe,
  probeKey,
  type AddStatus,
  type Keyed,
  type KeyProbe,
  type WindowOperator,
} from './operator.js';
import { field, readArray, readNumber, readRecord, readString } from './read.js';

interface Pending extends BoundEvent, Keyed {}

interface Run {
  /** The first event's source and seq: the match's identity. */
  src: string;
  seq: number;
  start: number;
  pos: number;
  /** Events taken by the quantified step at `pos`. */
  count: number;
  /** Alternatives of an AND element already taken (bit per step). */
  taken: number;
  /** Time of the last event taken, or of the last absence satisfied. */
  last: number;
  /** When the NOT … FOR at `pos` is satisfied. */
  deadline: number;
  /** The deadline a timer is set for (not saved: set again on load). */
  scheduled: number;
  vars: BoundEvent[][];
}

interface KeyRuns extends Keyed {
  runs: Run[];
  /** Whether the key is in the index (a key without runs leaves it). */
  indexed: boolean;
}

interface Timer {
  time: number;
  key: KeyRuns;
}

const CONSUMED = 0;
const KEPT = 1;
const DEAD = 2;
const COMPLETE = 3;
type Offer = typeof CONSUMED | typeof KEPT | typeof DEAD | typeof COMPLETE;

/** A run with nothing taken, to test whether an event could start one. */
const EMPTY_RUN: Run = {
  src: '',
  seq: 0,
  start: 0,
  pos: 0,
  count: 0,
  taken: 0,
  last: 0,
  deadline: Infinity,
  scheduled: Infinity,
  vars: [],
};

const before = (a: Pending, b: Pending): boolean => compareOrder(a.t, a.seq, a.src, b.t, b.seq, b.src) < 0;

export class PatternMatcher implements WindowOperator {
  private readonly p: PatternPlan;
  private readonly buffer = new MinHeap<Pending>(before);
  private readonly keys = new KeyIndex<KeyRuns>();
  private readonly timers = new MinHeap<Timer>((a, b) => a.time < b.time);
  private readonly probe: KeyProbe;
  private runCount = 0;
  private out: QueryResult[] = [];

  constructor(
    private readonly plan: Plan,
    private readonly ctx: RowContext,
  ) {
    this.p = plan.pattern!;
    this.probe = newProbe(plan);
  }

  get stateKeys(): number {
    return this.buffer.size + this.runCount;
  }

  get nextDue(): number {
    const e = this.buffer.peek();
    const t = this.timers.peek();
    return Math.min(e ? e.t + 1 : Infinity, t ? t.time : Infinity);
  }

  add(ctx: RowContext, t: number, input: QueryInput, w: number): AddStatus {
    if (t < w) return LATE;
    if (this.stateKeys >= this.plan.maxStateKeys) return STATE_LIMIT;
    probeKey(this.plan, ctx, this.probe);
    const key = keyOfProbe(this.plan, this.probe);
    this.buffer.push({ ev: input.event, t, seq: input.seq, src: input.source, ...key });
    return ADDED;
  }

  advance(w: number, out: QueryResult[]): void {
    this.out = out;
    for (let e = this.buffer.peek(); e !== undefined && e.t < w; e = this.buffer.peek()) {
      this.buffer.pop();
      this.process(e);
    }
    for (let tm = this.timers.peek(); tm !== undefined && tm.time <= w; tm = this.timers.peek()) {
      this.timers.pop();
      this.sweep(tm.key, w);
    }
  }

  flush(): void {}

  private keyRuns(e: Keyed): KeyRuns {
    this.probe.isPrim =
      e.keyValues.length <= 1 && (e.keyValues[0] === null || typeof e.keyValues[0] !== 'object');
    this.probe.prim = e.keyValues.length === 0 ? '' : e.keyValues[0];
    this.probe.text = e.keyText;
    let k = this.keys.get(this.probe);
    if (!k) {
      k = { keyText: e.keyText, keyValues: e.keyValues, runs: [], indexed: false };
    }
    return k;
  }

  private process(e: Pending): void {
    const k = this.keyRuns(e);
    if (k.runs.length > 0) this.sweep(k, e.t);
    const busy = k.runs.length > 0;
    let kept = k.runs;
    let changed = false;
    // A run that took the event may now wait for a NOT … FOR, whose timer setRuns sets.
    let took = false;
    for (let i = 0; i < k.runs.length; i++) {
      const run = k.runs[i]!;
      const r = this.offer(run, e);
      if (r === CONSUMED) took = true;
      if (r === COMPLETE) this.emit(k, run, run.last);
      if (r === COMPLETE || r === DEAD) {
        if (!changed) kept = k.runs.slice(0, i);
        changed = true;
      } else if (changed) kept.push(run);
    }
    // Only an event that fits the first element starts a run; most do not, so test before building one.
    if ((this.p.every || !busy) && this.fits(this.p.elements[0]!, EMPTY_RUN, e)) {
      const vars: BoundEvent[][] = [];
      for (let i = 0; i < this.p.vars; i++) vars.push([]);
      const run: Run = {
        src: e.src,
        seq: e.seq,
        start: e.t,
        pos: 0,
        count: 0,
        taken: 0,
        last: e.t,
        deadline: Infinity,
        scheduled: Infinity,
        vars,
      };
      const r = this.offer(run, e);
      if (r === COMPLETE) this.emit(k, run, run.last);
      else if (r === CONSUMED) {
        if (!changed) kept = k.runs.slice();
        changed = true;
        kept.push(run);
        this.timers.push({ time: run.start + this.p.within, key: k });
      }
    }
    if (changed || took) this.setRuns(k, kept);
    else if (k.runs.length === 0 && k.indexed) this.setRuns(k, []);
  }

  private setRuns(k: KeyRuns, runs: Run[]): void {
    this.runCount += runs.length - k.runs.length;
    k.runs = runs;
    if (runs.length === 0 && k.indexed) {
      this.keys.delete(k);
      k.indexed = false;
    } else if (runs.length > 0 && !k.indexed) {
      this.keys.set(k);
      k.indexed = true;
    }
    for (const run of runs) {
      if (this.p.elements[run.pos]!.type === 'absent' && run.scheduled !== run.deadline) {
        run.scheduled = run.deadline;
        this.timers.push({ time: run.deadline, key: k });
      }
    }
  }

  /** Fires the absences satisfied and drops the runs whose WITHIN has passed, at time `t`. */
  private sweep(k: KeyRuns, t: number): void {
    if (k.runs.length === 0) return;
    const within = this.p.within;
    let due = false;
    for (const run of k.runs) if (run.start + within <= t || run.deadline <= t) due = true;
    if (!due) return;
    const kept: Run[] = [];
    for (const run of k.runs) {
      let alive = true;
      while (alive && run.pos < this.p.elements.length && this.p.elements[run.pos]!.type === 'absent') {
        if (run.deadline > t) break;
        const r = this.moveTo(run, run.pos + 1, run.deadline);
        if (r === COMPLETE) {
          this.emit(k, run, run.deadline);
          alive = false;
        } else if (r === DEAD) alive = false;
      }
      if (alive && run.start + this.p.within <= t) alive = false;
      if (alive) kept.push(run);
    }
    this.setRuns(k, kept);
  }

  private matches(s: StepPlan | { source: string; cond: StepPlan['cond'] }, run: Run, e: Pending): boolean {
    if (e.src !== s.source) return false;
    if (s.cond === undefined) return true;
    const ctx = this.ctx;
    ctx.ev = e.ev;
    ctx.bound = run.vars;
    return s.cond(ctx) === true;
  }

  private take(run: Run, s: StepPlan, e: Pending): void {
    run.vars[s.slot]!.push({ ev: e.ev, t: e.t, seq: e.seq, src: e.src });
    run.last = e.t;
  }

  /** Moves a run to element `pos` after something at time `t`. */
  private moveTo(run: Run, pos: number, t: number): Offer {
    run.pos = pos;
    run.count = 0;
    run.taken = 0;
    run.last = t;
    if (pos === this.p.elements.length) return COMPLETE;
    const el = this.p.elements[pos]!;
    if (el.type === 'absent') {
      run.deadline = t + el.forMs;
      if (run.deadline > run.start + this.p.within) return DEAD;
    }
    return CONSUMED;
  }

  /** Offers the event to the element the run waits for. */
  private offer(run: Run, e: Pending): Offer {
    const el = this.p.elements[run.pos]!;
    const miss: Offer = this.p.strict ? DEAD : KEPT;
    switch (el.type) {
      case 'step': {
        const s = el.step;
        if (run.count < s.max && this.matches(s, run, e)) {
          this.take(run, s, e);
          run.count++;
          return run.count === s.max ? this.moveTo(run, run.pos + 1, e.t) : CONSUMED;
        }
        if (run.count >= s.min) return this.offerNext(run, e, miss);
        return miss;
      }
      case 'absent':
        return this.matches(el, run, e) ? DEAD : KEPT;
      case 'or':
        for (const s of el.steps) {
          if (this.matches(s, run, e)) {
            this.take(run, s, e);
            return this.moveTo(run, run.pos + 1, e.t);
          }
        }
        return miss;
      case 'and':
        for (let i = 0; i < el.steps.length; i++) {
          const s = el.steps[i]!;
          if ((run.taken & (1 << i)) === 0 && this.matches(s, run, e)) {
            this.take(run, s, e);
            run.taken |= 1 << i;
            return run.taken === (1 << el.steps.length) - 1 ? this.moveTo(run, run.pos + 1, e.t) : CONSUMED;
          }
        }
        return miss;
    }
  }

  /** A quantified step that has its minimum passes an event it does not take to the next element. */
  private offerNext(run: Run, e: Pending, miss: Offer): Offer {
    const next = this.p.elements[run.pos + 1];
    if (!next || !this.fits(next, run, e)) return miss;
    run.pos++;
    run.count = 0;
    run.taken = 0;
    return this.offer(run, e);
  }

  /** Whether a step of the element (at its start) takes the event. */
  private fits(el: ElementPlan, run: Run, e: Pending): boolean {
    switch (el.type) {
      case 'step':
        return this.matches(el.step, run, e);
      case 'absent':
        return false;
      default:
        return el.steps.some((s) => this.matches(s, run, e));
    }
  }

  private emit(k: KeyRuns, run: Run, time: number): void {
    const ctx = this.ctx;
    ctx.bound = run.vars;
    ctx.keys = k.keyValues;
    const data = buildRow(this.plan, ctx);
    ctx.bound = [];
    if (!data) return;
    this.out.push({
      query: this.plan.name,
      id: queryResultId(this.plan.idPrefix, ['pattern', k.keyText, run.src, run.seq]),
      time: formatTime(time),
      data,
      key: k.keyText,
    });
  }

  save(): unknown {
    const ev = (b: BoundEvent) => ({ t: b.t, seq: b.seq, src: b.src, event: b.ev });
    const buffer = this.buffer.toArray().sort((a, b) => compareOrder(a.t, a.seq, a.src, b.t, b.seq, b.src));
    const keys = [...this.keys.values()].sort((a, b) =>
      a.keyText < b.keyText ? -1 : a.keyText > b.keyText ? 1 : 0,
    );
    return {
      buffer: buffer.map((e) => ({ ...ev(e), key: e.keyText, values: e.keyValues })),
      keys: keys.map((k) => ({
        key: k.keyText,
        values: k.keyValues,
        runs: k.runs.map((r) => ({
          src: r.src,
          seq: r.seq,
          start: r.start,
          pos: r.pos,
          count: r.count,
          taken: r.taken,
          last: r.last,
          deadline: Number.isFinite(r.deadline) ? r.deadline : null,
          vars: r.vars.map((list) => list.map(ev)),
        })),
      })),
    };
  }

  load(saved: unknown): void {
    const o = readRecord(saved, 'pattern state');
    const bound = (x: unknown): BoundEvent => {
      const b = readRecord(x, 'event');
      return {
        t: readNumber(field(b, 't'), 't'),
        seq: readNumber(field(b, 'seq'), 'seq'),
        src: readString(field(b, 'src'), 'src'),
        ev: readRecord(field(b, 'event'), 'event'),
      };
    };
    for (const x of readArray(field(o, 'buffer'), 'buffer')) {
      const b = readRecord(x, 'buffered event');
      this.buffer.push({
        ...bound(b),
        keyText: readString(field(b, 'key'), 'key'),
        keyValues: readArray(field(b, 'values'), 'values'),
      });
    }
    for (const x of readArray(field(o, 'keys'), 'keys')) {
      const kr = readRecord(x, 'key');
      const k: KeyRuns = {
        keyText: readString(field(kr, 'key'), 'key'),
        keyValues: readArray(field(kr, 'values'), 'values'),
        runs: [],
        indexed: false,
      };
      for (const y of readArray(field(kr, 'runs'), 'runs')) {
        const r = readRecord(y, 'run');
        const vars = readArray(field(r, 'vars'), 'vars').map((l) => readArray(l, 'variable').map(bound));
        if (vars.length !== this.p.vars) throw new Error('pattern variables do not match the query');
        const deadline = field(r, 'deadline');
        const run: Run = {
          src: readString(field(r, 'src'), 'src'),
          seq: readNumber(field(r, 'seq'), 'seq'),
          start: readNumber(field(r, 'start'), 'start'),
          pos: readNumber(field(r, 'pos'), 'pos'),
          count: readNumber(field(r, 'count'), 'count'),
          taken: readNumber(field(r, 'taken'), 'taken'),
          last: readNumber(field(r, 'last'), 'last'),
          deadline: deadline === null ? Infinity : readNumber(deadline, 'deadline'),
          scheduled: Infinity,
          vars,
        };
        if (run.pos < 0 || run.pos >= this.p.elements.length) throw new Error('run position out of range');
        k.runs.push(run);
        this.timers.push({ time: run.start + this.p.within, key: k });
      }
      const runs = k.runs;
      k.runs = [];
      this.setRuns(k, runs);
    }
  }
}

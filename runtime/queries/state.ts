// One partition of a query: the watermark, idleness, the state-entry limit and checkpoints around
// a window operator (windows/*.ts). Pure: events and wall-clock readings come in as arguments.
//
// Watermark. W = max(largest event time pushed − grace, idle floor); −∞ before the first event,
// +∞ after end(). Only events WHERE accepts (those routed to the partition) move it. A window
// closes when W reaches its end; what "late" means per window kind is in windows/*.ts.
//
// Several sources. A query that reads more than one source (an interval join, a pattern over
// several sources) keeps that watermark per source — W_s = max(largest event time pushed from s −
// grace, idle floor of s), moved only by s's events and s's idleness — and its watermark is the
// smallest of them: W = min over its sources of W_s, −∞ until every source has sent an event or
// gone idle. Two-input operators in Flink do the same. So one source running ahead of another
// delays results but never makes the other's events late: an event is late only when it is more
// than the grace period older than an earlier event of its own source (or behind an idle floor).
// An input of a source the query does not read moves no watermark. A query of one source takes
// the single-source path (no per-source bookkeeping).
//
// Idleness. tick(now) records when it last saw new input: the first tick after a push (or the
// first tick ever) starts the idle clock. When a tick finds no input pushed since the clock
// started and `now − started ≥ idleTimeout`, the idle floor moves to
// min(now − idleTimeout − grace, inFlightMinTime − 1) if that is above W. With several sources
// each has its own idle clock and floor (input of a source restarts its clock only), and the
// floor of a source moves when that is above W_s. The floors are part of the checkpoint; the idle
// clocks are not (wall-clock bookkeeping: a restored partition starts fresh ones).
//
// Checkpoint, version 1 (plain JSON; field order irrelevant):
//   {
//     "version": 1,
//     "query": "<query name>",
//     "fingerprint": "<sha256 hex of the query's definition; restore refuses another query>",
//     "window": "none" | "tumbling" | "hopping" | "session" | "sliding" | "count" | "pattern"
//               | "interval-join" | "lookup-join",
//     "covers": { "<source>": <highest seq pushed> },   // what the state includes, per source
//     "inputs": <inputs pushed since creation>,
//     "maxTime": <largest event time pushed (of any source), ms> | null,
//     "watermarkFloor": <idle floor, ms> | null,        // null with several sources: see "sources"
//     "sources": { "<source>": { "maxTime": ms | null, "watermarkFloor": ms | null } },
//                // only for a query of several sources, one member per source it reads; a
//                // checkpoint without it (written before sources had their own watermarks)
//                // restores every source with the top-level maxTime and watermarkFloor, which
//                // gives the watermark it had
//     "ended": <end() was called>,
//     "rejected": <inputs refused for maxStateKeys>,
//     "state": <window state, below>
//   }
//   tumbling/hopping: { "groups": [{ "start": ms, "key": text, "values": [...], "accs": [...], "dirty": bool }] }
//             (one group per open window and key; HOPPING with EMIT FINAL holds panes in memory,
//             windows/panes.ts, and writes each window's panes merged into this same form)
//   session:  { "keys": [{ "key", "values", "closedEnd": ms | null, "sessions": [{ "start", "last", "accs" }] }] }
//   sliding:  { "keys": [{ "key", "values", "events": [{ "t", "seq", "src", "id", "args", "event" | null }] }] }
//             ("event" is null and "id" '' once the event's row has been emitted)
//   count:    { "keys": [{ "key", "values", "pos", "open": [{ "ordinal", "n", "first", "accs" }],
//                          "waiting": [{ "t", "seq", "src", "args" }] }] }
//   pattern:  { "buffer": [{ "t", "seq", "src", "event", "key", "values" }],   // not yet matched
//               "keys": [{ "key", "values", "runs": [{ "src", "seq", "start", "pos", "count", "taken",
//                          "last", "deadline": ms | null, "vars": [[{ "t", "seq", "src", "event" }]] }] }] }
//   interval-join: { "keys": [{ "key", "values", "left": [{ "t", "seq", "src", "event", "matched" }], "right": […] }] }
//   none, lookup-join: {}
// `accs` holds one saved accumulator per aggregate, in SELECT-then-HAVING order of first use
// (aggregates.ts: count → number; count(DISTINCT) → sorted canonical JSON texts; sum/avg →
// { n, p: exact-sum partials }; stddev → { n, s1, s2 }; min/max → value | null; first/last →
// { v, t, seq, src } | null). Partials that overflowed are saved as the text "Infinity"/"-Infinity"/"NaN".
//
// Recovery is restore then replay: restoreState() on the checkpoint, then push the inputs that
// arrived after it. `covers` names the highest sequence per source; when inputs of one source can
// arrive out of sequence order (several processors feeding one partition), the caller keeps its
// own position in the partition's input alongside the checkpoint (see `inputs`).
import type { RowContext } from './compile-expr.js';
import { newRowContext } from './compile-expr.js';
import { QueryStateError } from './errors.js';
import { EventClock } from './event-time.js';
import { accepts, type Plan } from './plan.js';
import type {
  LateEvent,
  LateReason,
  PartitionState,
  QueryCheckpoint,
  QueryInput,
  StepOutput,
} from './types.js';
import { CountWindows } from './windows/count.js';
import { FixedWindows } from './windows/fixed.js';
import { PaneWindows, usesPanes } from './windows/panes.js';
import { RowPerEvent } from './windows/none.js';
import { LATE, STATE_LIMIT, type WindowOperator } from './windows/operator.js';
import { field, readNumber, readRecord } from './windows/read.js';
import { SessionWindows } from './windows/session.js';
import { SlidingWindows } from './windows/sliding.js';
import { IntervalJoin } from './windows/interval-join.js';
import { LookupJoin } from './windows/lookup-join.js';
import { PatternMatcher } from './windows/pattern.js';
import { SourceWatermarks, type SourceClock } from './source-watermarks.js';

function operatorFor(plan: Plan, ctx: RowContext): WindowOperator {
  if (plan.pattern) return new PatternMatcher(plan, ctx);
  if (plan.join) return plan.join.kind === 'interval' ? new IntervalJoin(plan, ctx) : new LookupJoin(plan);
  switch (plan.window?.kind) {
    case undefined:
      return new RowPerEvent(plan);
    case 'tumbling':
    case 'hopping':
      return usesPanes(plan) ? new PaneWindows(plan, ctx) : new FixedWindows(plan, ctx);
    case 'session':
      return new SessionWindows(plan, ctx);
    case 'sliding':
      return new SlidingWindows(plan, ctx);
    case 'count':
      return new CountWindows(plan, ctx);
  }
}

export class Partition implements PartitionState {
  private readonly ctx = newRowContext();
  private readonly clock = new EventClock();
  private readonly op: WindowOperator;
  private readonly grace: number;
  private readonly covers = new Map<string, number>();
  private inputs = 0;
  /** Largest event time pushed, of any source. */
  private maxTime = -Infinity;
  private floor = -Infinity;
  /** Per-source watermarks, for a query of several sources; undefined for one source. */
  private readonly perSource: SourceWatermarks | undefined;
  private w = -Infinity;
  private ended = false;
  private rejectedCount = 0;
  /** Input arrived since the last tick. */
  private active = false;
  /** Wall-clock ms at which the partition was last seen active by a tick. */
  private idleSince: number | undefined;

  constructor(private readonly plan: Plan) {
    this.op = operatorFor(plan, this.ctx);
    this.grace = plan.grace;
    this.perSource = plan.sources.length > 1 ? new SourceWatermarks(plan.sources, plan.grace) : undefined;
  }

  get stateKeys(): number {
    return this.op.stateKeys;
  }

  get overLimit(): boolean {
    return this.op.stateKeys >= this.plan.maxStateKeys;
  }

  get rejected(): number {
    return this.rejectedCount;
  }

  get watermark(): number {
    return this.w;
  }

  private lateOf(input: QueryInput, reason: LateReason): LateEvent {
    const id = input.event.id;
    return {
      query: this.plan.name,
      id: typeof id === 'string' ? id : '',
      seq: input.seq,
      source: input.source,
      reason,
    };
  }

  push(inputs: readonly QueryInput[]): StepOutput {
    const out: StepOutput = { results: [], late: [] };
    if (inputs.length > 0) this.active = true;
    const ctx = this.ctx;
    const op = this.op;
    const perSource = this.perSource;
    // The highest seq of the source being read, written back to `covers` when the source changes.
    let source: string | undefined;
    let covered = 0;
    // Several sources: the clock of the source being read (undefined for one the query does not read).
    let clock: SourceClock | undefined;
    for (const input of inputs) {
      this.inputs++;
      if (input.source !== source) {
        if (source !== undefined) this.covers.set(source, covered);
        source = input.source;
        covered = this.covers.get(source) ?? 0;
        if (perSource) {
          clock = perSource.of(source);
          if (clock) clock.active = true;
        }
      }
      if (input.seq > covered) covered = input.seq;
      ctx.ev = input.event;
      if (!accepts(this.plan, ctx)) continue;
      const t = this.clock.timeOf(input.event, input.streamTime);
      if (t === undefined) {
        out.late.push(this.lateOf(input, 'invalid-time'));
        continue;
      }
      // The event's own time moves the watermark first: what that closes cannot include the event
      // (everything it belongs to ends after t ≥ the new watermark), and closing first frees state.
      if (perSource === undefined) {
        if (t > this.maxTime) {
          this.maxTime = t;
          this.raise(t - this.grace, out);
          ctx.ev = input.event; // emitting rows may have evaluated other events in ctx
        }
      } else if (clock !== undefined && t > clock.maxTime) {
        clock.maxTime = t;
        if (t > this.maxTime) this.maxTime = t;
        this.raise(perSource.watermark(), out);
        ctx.ev = input.event;
      }
      const status = op.add(ctx, t, input, this.w, out.results);
      if (status === LATE) out.late.push(this.lateOf(input, 'late'));
      else if (status === STATE_LIMIT) {
        this.rejectedCount++;
        out.late.push(this.lateOf(input, 'state-limit'));
      }
    }
    if (source !== undefined) this.covers.set(source, covered);
    op.flush(out.results);
    return out;
  }

  private raise(w: number, out: StepOutput): void {
    if (w <= this.w) return;
    this.w = w;
    if (w >= this.op.nextDue) this.op.advance(w, out.results);
  }

  tick(now: number, inFlightMinTime?: number): StepOutput {
    const out: StepOutput = { results: [], late: [] };
    if (this.ended) return out;
    const timeout = this.plan.idleTimeout;
    let target = now - timeout - this.grace;
    if (inFlightMinTime !== undefined) target = Math.min(target, inFlightMinTime - 1);
    if (this.perSource) {
      if (this.perSource.tick(now, timeout, target)) {
        this.raise(this.perSource.watermark(), out);
        this.op.flush(out.results);
      }
      return out;
    }
    if (this.active || this.idleSince === undefined) {
      this.active = false;
      this.idleSince = now;
      return out;
    }
    if (now - this.idleSince < timeout) return out;
    if (target > this.w) {
      this.floor = target;
      this.raise(target, out);
      this.op.flush(out.results);
    }
    return out;
  }

  end(): StepOutput {
    const out: StepOutput = { results: [], late: [] };
    this.ended = true;
    this.raise(Infinity, out);
    this.op.flush(out.results);
    return out;
  }

  checkpoint(): QueryCheckpoint {
    const sources = [...this.covers.keys()].sort();
    return {
      version: 1,
      query: this.plan.name,
      fingerprint: this.plan.fingerprint,
      window: this.plan.stateKind,
      covers: Object.fromEntries(sources.map((s) => [s, this.covers.get(s)!])),
      inputs: this.inputs,
      maxTime: Number.isFinite(this.maxTime) ? this.maxTime : null,
      watermarkFloor: Number.isFinite(this.floor) ? this.floor : null,
      ...(this.perSource ? { sources: this.perSource.save() } : {}),
      ended: this.ended,
      rejected: this.rejectedCount,
      state: this.op.save(),
    };
  }

  /** Loads a checkpoint into this fresh partition. */
  restore(cp: QueryCheckpoint): void {
    const o = readRecord(cp, 'checkpoint');
    const version = field(o, 'version');
    if (version !== 1)
      throw new QueryStateError(
        `checkpoint version ${String(version)} is not supported (this engine reads version 1)`,
      );
    if (field(o, 'query') !== this.plan.name || field(o, 'fingerprint') !== this.plan.fingerprint) {
      throw new QueryStateError(
        `checkpoint belongs to query ${String(field(o, 'query'))} as it was defined then, not to query ${this.plan.name} as defined now`,
      );
    }
    if (field(o, 'window') !== this.plan.stateKind) throw new Error('window kind does not match the query');
    for (const [source, seq] of Object.entries(readRecord(field(o, 'covers'), 'covers'))) {
      this.covers.set(source, readNumber(seq, `covers.${source}`));
    }
    this.inputs = readNumber(field(o, 'inputs'), 'inputs');
    const optional = (name: string): number => {
      const v = field(o, name);
      return v === null || v === undefined ? -Infinity : readNumber(v, name);
    };
    this.maxTime = optional('maxTime');
    this.floor = optional('watermarkFloor');
    this.rejectedCount = optional('rejected');
    if (!Number.isFinite(this.rejectedCount)) this.rejectedCount = 0;
    this.ended = field(o, 'ended') === true;
    if (this.perSource) this.perSource.load(field(o, 'sources'), this.maxTime, this.floor);
    this.w = this.ended
      ? Infinity
      : this.perSource
        ? this.perSource.watermark()
        : Math.max(this.maxTime - this.grace, this.floor);
    this.op.load(field(o, 'state'));
  }
}

export function restorePartition(plan: Plan, cp: QueryCheckpoint): Partition {
  const p = new Partition(plan);
  try {
    p.restore(cp);
  } catch (err) {
    if (err instanceof QueryStateError) throw err;
    const why = err instanceof Error ? err.message : String(err);
    throw new QueryStateError(`checkpoint of query ${plan.name} is malformed: ${why}`, { cause: err });
  }
  return p;
}

// SESSION windows: per key, events closer than GAP form one session [first event time, last event
// time + GAP). A new event extends the session it falls into, starts a new one, or bridges two
// sessions into one (their accumulators merge). A session closes when the watermark reaches its
// end. An event is late when its own session [t, t + GAP) would already be closed, or when it
// falls before the end of a session of its key that has closed (it would have belonged to it);
// that end is remembered until the watermark is GAP past it, after which the first rule covers it.
import type { RowContext } from '../compile-expr.js';
import type { Plan } from '../plan.js';
import type { QueryInput, QueryResult } from '../types.js';
import type { Value } from '../values.js';
import { MinHeap } from './heap.js';
import {
  ADDED,
  LATE,
  STATE_LIMIT,
  addArgs,
  boundsOf,
  createAccs,
  emitGroup,
  evalArgs,
  idKeyOf,
  KeyIndex,
  keyOfProbe,
  loadAccs,
  mergeAccs,
  newProbe,
  probeKey,
  resetAccs,
  saveAccs,
  type AddStatus,
  type Keyed,
  type WindowOperator,
} from './operator.js';
import { field, readArray, readNumber, readRecord, readString } from './read.js';

interface Session {
  start: number;
  last: number;
  accs: unknown[];
  owner: KeySessions;
  /** The end of its latest queue entry: its end (last + GAP) while open; NaN once closed. */
  queuedEnd: number;
  alive: boolean;
}

/** A queue entry out of end order: a session under an end it had then. */
interface Queued {
  end: number;
  s: Session;
}

interface KeySessions extends Keyed {
  /** Open sessions by start; they never overlap. */
  sessions: Session[];
  /** End of the latest closed session, or -Infinity. */
  closedEnd: number;
  /**
   * The key's last closed session, referred to by nothing else (closing dequeued it): its object
   * and accumulators are reused for the key's next session.
   */
  spare: Session | undefined;
}

export class SessionWindows implements WindowOperator {
  private readonly gap: number;
  private readonly keys = new KeyIndex<KeySessions>();
  /**
   * Sessions by end: a session is queued under its end whenever that changes (it opens, grows or
   * merges), and only its latest entry counts (`end === queuedEnd`; earlier ones are skipped when
   * they come up). Entries queued in end order — the usual case: events arriving in time order
   * give every change an end at least the last one queued — go to a FIFO (ends and sessions, read
   * from `fifoHead` on), the others to a heap.
   */
  private fifoEnd: number[] = [];
  private fifoS: Session[] = [];
  private fifoHead = 0;
  private readonly heap = new MinHeap<Queued>((a, b) => a.end < b.end);
  /**
   * Keys left with no open session, to forget once their closed end stops mattering (at `expAt`),
   * in that order (sessions close in end order); read from `expHead` on.
   */
  private expKs: KeySessions[] = [];
  private expAt: number[] = [];
  private expHead = 0;
  private open = 0;
  private readonly probe;
  private readonly args: Value[];

  constructor(
    private readonly plan: Plan,
    private readonly ctx: RowContext,
  ) {
    this.gap = plan.window!.gap;
    this.probe = newProbe(plan);
    this.args = new Array<Value>(plan.aggs.length);
  }

  get stateKeys(): number {
    return this.open;
  }

  /** A session is due once the watermark is past its end. */
  get nextDue(): number {
    const h = this.fifoHead;
    let end = h < this.fifoEnd.length ? this.fifoEnd[h]! : Infinity;
    const top = this.heap.peek();
    if (top !== undefined && top.end < end) end = top.end;
    // Times are whole milliseconds, so the first watermark past `end` is end + 1.
    return end + 1;
  }

  add(ctx: RowContext, t: number, input: QueryInput, w: number): AddStatus {
    const gap = this.gap;
    // Sessions that touch merge (an event GAP after the last one joins it), as in Flink and Kafka
    // Streams; so a session closes only once the watermark is past its end, and an event is late
    // when its own session [t, t + GAP] is.
    if (t + gap < w) return LATE;
    probeKey(this.plan, ctx, this.probe);
    let ks = this.keys.get(this.probe);
    if (ks !== undefined && t <= ks.closedEnd) return LATE;
    // Sessions of this key that [t, t + gap] touches: consecutive in start order.
    const list = ks?.sessions ?? [];
    let i = 0;
    while (i < list.length && list[i]!.last + gap < t) i++;
    let j = i;
    while (j < list.length && list[j]!.start <= t + gap) j++;
    if (i === j && this.open >= this.plan.maxStateKeys) return STATE_LIMIT;
    evalArgs(this.plan, ctx, this.args);
    if (ks === undefined) {
      const key = keyOfProbe(this.plan, this.probe);
      ks = {
        keyText: key.keyText,
        keyValues: key.keyValues,
        idKey: undefined,
        sessions: [],
        closedEnd: -Infinity,
        spare: undefined,
      };
      this.keys.set(ks);
    }
    let s: Session;
    if (i === j) {
      s = this.newSession(ks, t);
      if (i === ks.sessions.length) ks.sessions.push(s);
      else ks.sessions.splice(i, 0, s);
      this.open++;
    } else {
      s = ks.sessions[i]!;
      for (let k = i + 1; k < j; k++) {
        const other = ks.sessions[k]!;
        mergeAccs(this.plan, s.accs, other.accs);
        s.last = Math.max(s.last, other.last);
        other.alive = false;
        this.open--;
      }
      if (j - i > 1) ks.sessions.splice(i + 1, j - i - 1);
      if (t < s.start) s.start = t;
      if (t > s.last) s.last = t;
    }
    addArgs(this.plan, s.accs, this.args, t, input.seq, input.source);
    if (s.queuedEnd !== s.last + gap) this.queue(s, s.last + gap);
    return ADDED;
  }

  /** A new session of the key at t: its spare one reset, or a new one. */
  private newSession(ks: KeySessions, t: number): Session {
    const s = ks.spare;
    if (s === undefined)
      return { start: t, last: t, accs: createAccs(this.plan), owner: ks, queuedEnd: NaN, alive: true };
    ks.spare = undefined;
    s.start = t;
    s.last = t;
    resetAccs(this.plan, s.accs);
    s.alive = true;
    return s;
  }

  /** Queues the session under its new end. */
  private queue(s: Session, end: number): void {
    s.queuedEnd = end;
    const fe = this.fifoEnd;
    if (fe.length === this.fifoHead || fe[fe.length - 1]! <= end) {
      fe.push(end);
      this.fifoS.push(s);
    } else this.heap.push({ end, s });
  }

  advance(w: number, out: QueryResult[]): void {
    const fe = this.fifoEnd;
    const fs = this.fifoS;
    let h = this.fifoHead;
    // Entries in end order, the FIFO's first on ties, while their end is before w.
    for (;;) {
      const f = h < fe.length ? fe[h]! : Infinity;
      const top = this.heap.peek();
      let s: Session;
      let end: number;
      if (top !== undefined && top.end < f) {
        if (top.end >= w) break;
        this.heap.pop();
        s = top.s;
        end = top.end;
      } else {
        if (f >= w) break;
        s = fs[h++]!;
        end = f;
      }
      if (!s.alive || s.queuedEnd !== end) continue; // superseded by a later entry
      s.queuedEnd = NaN;
      s.alive = false;
      const ks = s.owner;
      const sessions = ks.sessions;
      const at = sessions.indexOf(s);
      if (at === sessions.length - 1) sessions.pop();
      else sessions.splice(at, 1);
      this.open--;
      emitGroup(
        this.plan,
        this.ctx,
        ks,
        s.accs,
        boundsOf(s.start, end, end),
        // The id items ["window", start, end, key] as JSON text (ids.ts).
        `"window",${s.start},${end},${idKeyOf(ks)}]`,
        out,
      );
      ks.closedEnd = Math.max(ks.closedEnd, end);
      ks.spare = s;
      if (ks.sessions.length === 0) {
        this.expKs.push(ks);
        this.expAt.push(ks.closedEnd + this.gap);
      }
    }
    // Drop the consumed front once it is the larger part, not at every step (that copies; and
    // emptying the arrays in place gives up their storage, to be grown again).
    if (h > 1024 && h * 2 > fe.length) {
      this.fifoEnd = fe.slice(h);
      this.fifoS = fs.slice(h);
      h = 0;
    }
    this.fifoHead = h;
    this.expire(w);
  }

  /** Forgets keys whose closed end no longer matters: watermark GAP past it, no open session. */
  private expire(w: number): void {
    let n = this.expHead;
    const at = this.expAt;
    while (n < at.length && at[n]! < w) {
      const ks = this.expKs[n++]!;
      if (ks.sessions.length === 0 && ks.closedEnd + this.gap < w) this.keys.delete(ks);
    }
    // A queue read from its head: dropping the consumed front at every advance would copy the
    // whole array each time. Compact once the consumed part is the larger one.
    this.expHead = n;
    if (n > 1024 && n * 2 > at.length) {
      this.expKs = this.expKs.slice(n);
      this.expAt = at.slice(n);
      this.expHead = 0;
    }
  }

  flush(): void {}

  save(): unknown {
    const keys = [...this.keys.values()]
      .sort((a, b) => (a.keyText < b.keyText ? -1 : a.keyText > b.keyText ? 1 : 0))
      .map((ks) => ({
        key: ks.keyText,
        values: ks.keyValues,
        closedEnd: Number.isFinite(ks.closedEnd) ? ks.closedEnd : null,
        sessions: ks.sessions.map((s) => ({
          start: s.start,
          last: s.last,
          accs: saveAccs(this.plan, s.accs),
        })),
      }));
    return { keys };
  }

  load(saved: unknown): void {
    const keys = readArray(field(readRecord(saved, 'state'), 'keys'), 'state.keys');
    const expiring: { ks: KeySessions; at: number }[] = [];
    for (const item of keys) {
      const o = readRecord(item, 'key');
      const keyValues = readArray(field(o, 'values'), 'key.values') as Value[];
      if (keyValues.length !== this.plan.keyFns.length) throw new Error('key.values do not match GROUP BY');
      const closed = field(o, 'closedEnd');
      const ks: KeySessions = {
        keyText: readString(field(o, 'key'), 'key.key'),
        keyValues,
        idKey: undefined,
        sessions: [],
        closedEnd: closed === null ? -Infinity : readNumber(closed, 'key.closedEnd'),
        spare: undefined,
      };
      for (const raw of readArray(field(o, 'sessions'), 'key.sessions')) {
        const so = readRecord(raw, 'session');
        const s: Session = {
          start: readNumber(field(so, 'start'), 'session.start'),
          last: readNumber(field(so, 'last'), 'session.last'),
          accs: loadAccs(this.plan, field(so, 'accs')),
          owner: ks,
          queuedEnd: NaN,
          alive: true,
        };
        ks.sessions.push(s);
        this.queue(s, s.last + this.gap);
        this.open++;
      }
      this.keys.set(ks);
      if (ks.sessions.length === 0) expiring.push({ ks, at: ks.closedEnd + this.gap });
    }
    expiring.sort((a, b) => a.at - b.at);
    for (const e of expiring) {
      this.expKs.push(e.ks);
      this.expAt.push(e.at);
    }
  }
}

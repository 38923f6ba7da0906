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
  /** The end this session is queued under (≤ its real end); NaN when not queued. */
  queuedEnd: number;
  alive: boolean;
}

interface KeySessions extends Keyed {
  /** Open sessions by start; they never overlap. */
  sessions: Session[];
  /** End of the latest closed session, or -Infinity. */
  closedEnd: number;
}

export class SessionWindows implements WindowOperator {
  private readonly gap: number;
  private readonly keys = new KeyIndex<KeySessions>();
  /**
   * Sessions by the end they are queued under: those queued in end order (the usual case, events
   * arriving in time order) in a FIFO read from `fifoHead` on, the others in a heap.
   */
  private fifo: Session[] = [];
  private fifoHead = 0;
  private readonly heap = new MinHeap<Session>((a, b) => a.queuedEnd < b.queuedEnd);
  /** Keys left with no open session, in the order their closed end stops mattering. */
  /** Keys to forget, in `at` order (sessions close in end order); read from `expiringHead` on. */
  private expiring: { ks: KeySessions; at: number }[] = [];
  private expiringHead = 0;
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
    const end = this.first()?.queuedEnd;
    // Times are whole milliseconds, so the first watermark past `end` is end + 1.
    return end === undefined ? Infinity : end + 1;
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
      };
      this.keys.set(ks);
    }
    let s: Session;
    if (i === j) {
      s = { start: t, last: t, accs: createAccs(this.plan), owner: ks, queuedEnd: NaN, alive: true };
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
    if (Number.isNaN(s.queuedEnd)) {
      s.queuedEnd = s.last + gap;
      this.queue(s);
    }
    return ADDED;
  }

  private queue(s: Session): void {
    const fifo = this.fifo;
    if (fifo.length === this.fifoHead || fifo[fifo.length - 1]!.queuedEnd <= s.queuedEnd) fifo.push(s);
    else this.heap.push(s);
  }

  /** The queued session with the smallest queued end (the FIFO's on ties). */
  private first(): Session | undefined {
    const f = this.fifo[this.fifoHead];
    const h = this.heap.peek();
    return h === undefined || (f !== undefined && f.queuedEnd <= h.queuedEnd) ? f : h;
  }

  /** Removes `s`, which first() returned. */
  private dequeue(s: Session): void {
    if (s !== this.fifo[this.fifoHead]) {
      this.heap.pop();
      return;
    }
    this.fifoHead++;
    // Drop the consumed front once it is the larger part, not at every step (that copies).
    if (this.fifoHead === this.fifo.length) {
      this.fifo.length = 0;
      this.fifoHead = 0;
    } else if (this.fifoHead > 1024 && this.fifoHead * 2 > this.fifo.length) {
      this.fifo = this.fifo.slice(this.fifoHead);
      this.fifoHead = 0;
    }
  }

  advance(w: number, out: QueryResult[]): void {
    for (let s = this.first(); s !== undefined && s.queuedEnd < w; s = this.first()) {
      this.dequeue(s);
      if (!s.alive) continue;
      const end = s.last + this.gap;
      if (end >= w) {
        // The session grew since it was queued: queue it again under its real end.
        s.queuedEnd = end;
        this.queue(s);
        continue;
      }
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
      if (ks.sessions.length === 0) this.expiring.push({ ks, at: ks.closedEnd + this.gap });
    }
    this.expire(w);
  }

  /** Forgets keys whose closed end no longer matters: watermark GAP past it, no open session. */
  private expire(w: number): void {
    let n = this.expiringHead;
    while (n < this.expiring.length && this.expiring[n]!.at < w) {
      const { ks } = this.expiring[n++]!;
      if (ks.sessions.length === 0 && ks.closedEnd + this.gap < w) this.keys.delete(ks);
    }
    // A queue read from its head: dropping the consumed front at every advance would copy the
    // whole array each time. Compact once the consumed part is the larger one.
    this.expiringHead = n;
    if (n > 1024 && n * 2 > this.expiring.length) {
      this.expiring = this.expiring.slice(n);
      this.expiringHead = 0;
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
        s.queuedEnd = s.last + this.gap;
        ks.sessions.push(s);
        this.queue(s);
        this.open++;
      }
      this.keys.set(ks);
      if (ks.sessions.length === 0) expiring.push({ ks, at: ks.closedEnd + this.gap });
    }
    expiring.sort((a, b) => a.at - b.at);
    this.expiring.push(...expiring);
  }
}

// SESSION windows: per key, events closer than GAP form one session [first event time, last event
// time + GAP). A new event extends the session it falls into, starts a new one, or bridges two
// sessions into one (their accumulators merge). A session closes when the watermark reaches its
// end. An event is late when its own session [t, t + GAP) would already be closed, or when it
// falls before the end of a session of its key that has closed (it would have belonged to it);
// that end is remembered until the watermark is GAP past it, after which the first rule covers it.
import type { RowContext } from '../compile-expr.js';
import { formatTime } from '../event-time.js';
import { windowIdHead } from '../ids.js';
import type { Plan } from '../plan.js';
import type { QueryInput, QueryResult } from '../types.js';
import type { Value } from '../values.js';
import { MinHeap } from './heap.js';
import {
  ADDED,
  LATE,
  STATE_LIMIT,
  addArgs,
  createAccs,
  emitGroup,
  evalArgs,
  idTailOf,
  KeyIndex,
  keyOfProbe,
  loadAccs,
  mergeAccs,
  newProbe,
  probeKey,
  resetAccs,
  saveAccs,
  type AddStatus,
  type Bounds,
  type Keyed,
  type WindowOperator,
} from './operator.js';
import { field, readArray, readNumber, readRecord, readString } from './read.js';
import { TimeQueue } from './time-queue.js';

interface Session {
  start: number;
  last: number;
  accs: unknown[];
  /** The end of its latest queue entry: its end (last + GAP) while open. */
  queuedEnd: number;
  alive: boolean;
  /** Index of its entry in the FIFO, or -1 when its latest entry is in the heap (or none). */
  slot: number;
  owner: KeySessions;
}

/**
 * A key's entry. It is a session itself: with events in time order a key has at most one open
 * session (the watermark closes one before an event past its end arrives), so the usual session
 * costs no object of its own and is found without a further lookup. While it is closed it stays
 * in place, its accumulators kept for the key's next session.
 */
interface KeySessions extends Keyed, Session {
  /**
   * The key's other open sessions, when it has several at once (events out of order); undefined
   * when it has none. Sessions never overlap.
   */
  others: Session[] | undefined;
  /** End of the latest closed session, or -Infinity. */
  closedEnd: number;
  /** Index of its entry in the queue of keys to forget, or -1. */
  expiry: number;
}

/** A queue entry out of end order: a session under an end it had then. */
interface Queued {
  end: number;
  s: Session;
}

/**
 * How long, in gaps, the entry of a key with no open session is kept once its closed end no
 * longer matters ("dormant"). Until then it is only reused when its key comes back, as a new
 * entry would be created: a key seen every little while would otherwise cost a new entry, its
 * texts and accumulators and two index updates for most of its sessions.
 */
const KEEP_GAPS = 1;

export class SessionWindows implements WindowOperator {
  private readonly gap: number;
  private readonly keys = new KeyIndex<KeySessions>();
  /**
   * Sessions by end: a session is queued under its end whenever that changes (it opens, grows or
   * merges). Entries queued in end order — the usual case: events arriving in time order give
   * every change an end at least the last one queued — go to a FIFO, whose entry for the
   * session's previous end is taken out then (so every FIFO entry is live, and a session is not
   * read again until it closes); the others go to a heap, where only a session's latest entry
   * counts (`end === queuedEnd`; earlier ones are skipped when they come up).
   */
  private readonly fifo = new TimeQueue<Session>((s, index) => {
    s.slot = index;
  });
  private readonly heap = new MinHeap<Queued>((a, b) => a.end < b.end);
  /**
   * Keys left with no open session, by when they are forgotten: KEEP_GAPS × GAP after their
   * closed end stops mattering (sessions close in end order, so that is the order they come in).
   * A key that opens a session again is taken out, so every entry is a key to forget.
   */
  private readonly expiring = new TimeQueue<KeySessions>((ks, index) => {
    ks.expiry = index;
  });
  /** Watermark of the last advance: entries with no open session and closedEnd + GAP below it are dormant. */
  private sweptTo = -Infinity;
  private open = 0;
  private readonly probe;
  private readonly args: Value[];
  /** Bounds of the row being emitted (emitGroup reads them and keeps nothing). */
  private readonly bounds: Bounds = { ws: '', we: '', time: '' };

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
    let end = this.fifo.firstTime;
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
    const ks = this.keys.get(this.probe);
    let s: Session;
    if (ks === undefined) {
      if (this.open >= this.plan.maxStateKeys) return STATE_LIMIT;
      evalArgs(this.plan, ctx, this.args);
      s = this.newKey(t);
    } else if (t <= ks.closedEnd) {
      return LATE;
    } else if (ks.others === undefined) {
      // At most one open session, the entry's own.
      const joins = ks.alive && ks.last + gap >= t && ks.start <= t + gap;
      if (!joins && this.open >= this.plan.maxStateKeys) return STATE_LIMIT;
      evalArgs(this.plan, ctx, this.args);
      if (joins) {
        if (t < ks.start) ks.start = t;
        else if (t > ks.last) ks.last = t;
        s = ks;
      } else s = this.newSession(ks, t);
    } else {
      const touched = this.touching(ks, t);
      if (touched.length === 0 && this.open >= this.plan.maxStateKeys) return STATE_LIMIT;
      evalArgs(this.plan, ctx, this.args);
      s = touched.length === 0 ? this.newSession(ks, t) : this.merge(ks, touched, t);
    }
    addArgs(this.plan, s.accs, this.args, t, input.seq, input.source);
    if (s.queuedEnd !== s.last + gap) this.queue(s, s.last + gap);
    return ADDED;
  }

  /** A new key whose own session opens at t. */
  private newKey(t: number): KeySessions {
    const key = keyOfProbe(this.plan, this.probe);
    const ks: KeySessions = {
      keyText: key.keyText,
      keyValues: key.keyValues,
      idTail: undefined,
      start: t,
      last: t,
      accs: createAccs(this.plan),
      queuedEnd: NaN,
      alive: true,
      slot: -1,
      owner: undefined!,
      others: undefined,
      closedEnd: -Infinity,
      expiry: -1,
    };
    ks.owner = ks;
    this.keys.set(ks);
    this.open++;
    return ks;
  }

  /**
   * A new session of the key at t: the entry's own (reset for reuse) when the key has no open
   * session, else another. (Not the own one while other sessions are open: it may have been merged
   * into one of them, and its heap entries could then match its new end.)
   */
  private newSession(ks: KeySessions, t: number): Session {
    this.open++;
    if (ks.alive || ks.others !== undefined) {
      const s: Session = {
        start: t,
        last: t,
        accs: createAccs(this.plan),
        queuedEnd: NaN,
        alive: true,
        slot: -1,
        owner: ks,
      };
      (ks.others ??= []).push(s);
      return s;
    }
    if (ks.expiry >= 0) {
      this.expiring.remove(ks.expiry);
      ks.expiry = -1;
    }
    if (ks.closedEnd + this.gap < this.sweptTo) this.renew(ks);
    ks.start = t;
    ks.last = t;
    ks.queuedEnd = NaN;
    resetAccs(this.plan, ks.accs);
    ks.alive = true;
    return ks;
  }

  /**
   * Makes a dormant entry what a new one for its key would be: no closed end, and the key's
   * values as the probe holds them (a key of JSON values is found by its canonical text, and the
   * values shown in rows are those of the event that creates its entry).
   */
  private renew(ks: KeySessions): void {
    ks.closedEnd = -Infinity;
    if (!this.probe.isPrim) ks.keyValues = keyOfProbe(this.plan, this.probe).keyValues;
  }

  /** The key's open sessions that [t, t + GAP] touches, in start order. */
  private touching(ks: KeySessions, t: number): Session[] {
    const gap = this.gap;
    const out: Session[] = [];
    if (ks.alive && ks.last + gap >= t && ks.start <= t + gap) out.push(ks);
    for (const s of ks.others!) if (s.last + gap >= t && s.start <= t + gap) out.push(s);
    return out.sort((a, b) => a.start - b.start);
  }

  /**
   * Makes the touched sessions (in start order) one, extended by t: the later ones merge into the
   * earliest, in start order as events would have been added. (The earliest survives even when
   * the entry's own session is a later one: it keeps its queue entry, so rows of equal ends come
   * out in the order they always have.)
   */
  private merge(ks: KeySessions, touched: Session[], t: number): Session {
    const s = touched[0]!;
    for (let k = 1; k < touched.length; k++) {
      const other = touched[k]!;
      mergeAccs(this.plan, s.accs, other.accs);
      if (other.last > s.last) s.last = other.last;
      other.alive = false;
      this.unqueue(other);
      this.open--;
    }
    if (t < s.start) s.start = t;
    if (t > s.last) s.last = t;
    const others = ks.others!.filter((o) => o.alive);
    ks.others = others.length === 0 ? undefined : others;
    return s;
  }

  /** Queues the session under its new end. */
  private queue(s: Session, end: number): void {
    s.queuedEnd = end;
    this.unqueue(s);
    if (end >= this.fifo.lastTime) s.slot = this.fifo.push(end, s);
    else this.heap.push({ end, s });
  }

  /** Takes the session's FIFO entry out (heap entries are skipped when they come up). */
  private unqueue(s: Session): void {
    if (s.slot < 0) return;
    this.fifo.remove(s.slot);
    s.slot = -1;
  }

  advance(w: number, out: QueryResult[]): void {
    const fifo = this.fifo;
    const bounds = this.bounds;
    // Entries in end order, the FIFO's first on ties, while their end is before w.
    for (;;) {
      const f = fifo.firstTime;
      const top = this.heap.peek();
      let s: Session | undefined;
      let end: number;
      if (top !== undefined && top.end < f) {
        if (top.end >= w) break;
        this.heap.pop();
        s = top.s;
        end = top.end;
        if (!s.alive || s.queuedEnd !== end) continue; // superseded by a later entry
      } else {
        if (f >= w) break;
        s = fifo.first;
        fifo.shift();
        if (s === undefined) continue; // taken out
        s.slot = -1;
        end = f;
      }
      s.alive = false;
      const ks = s.owner;
      if (s !== ks) {
        const others = ks.others!;
        if (others.length === 1) ks.others = undefined;
        else others.splice(others.indexOf(s), 1);
      }
      this.open--;
      bounds.ws = formatTime(s.start);
      bounds.we = bounds.time = formatTime(end);
      emitGroup(
        this.plan,
        this.ctx,
        ks,
        s.accs,
        bounds,
        windowIdHead(this.plan.idPrefix, s.start, end) + idTailOf(ks),
        out,
      );
      if (end > ks.closedEnd) ks.closedEnd = end;
      if (!ks.alive && ks.others === undefined) ks.expiry = this.expiring.push(this.forgetAt(ks), ks);
    }
    this.expire(w);
  }

  /** When a key with no open session is forgotten: KEEP_GAPS × GAP after it became dormant. */
  private forgetAt(ks: KeySessions): number {
    return ks.closedEnd + this.gap + KEEP_GAPS * this.gap;
  }

  /** Forgets keys dormant long enough. */
  private expire(w: number): void {
    this.sweptTo = w;
    const q = this.expiring;
    while (q.firstTime < w) {
      const ks = q.first;
      q.shift();
      if (ks === undefined) continue; // its key came back
      ks.expiry = -1;
      this.keys.delete(ks);
    }
  }

  flush(): void {}

  save(): unknown {
    const keys = [...this.keys.values()]
      // Dormant entries stand for keys forgotten.
      .filter((ks) => ks.alive || ks.others !== undefined || ks.closedEnd + this.gap >= this.sweptTo)
      .sort((a, b) => (a.keyText < b.keyText ? -1 : a.keyText > b.keyText ? 1 : 0))
      .map((ks) => ({
        key: ks.keyText,
        values: ks.keyValues,
        closedEnd: Number.isFinite(ks.closedEnd) ? ks.closedEnd : null,
        sessions: [...(ks.alive ? [ks] : []), ...(ks.others ?? [])]
          .sort((a, b) => a.start - b.start)
          .map((s) => ({ start: s.start, last: s.last, accs: saveAccs(this.plan, s.accs) })),
      }));
    return { keys };
  }

  load(saved: unknown): void {
    const keys = readArray(field(readRecord(saved, 'state'), 'keys'), 'state.keys');
    const expiring: KeySessions[] = [];
    for (const item of keys) {
      const o = readRecord(item, 'key');
      const keyValues = readArray(field(o, 'values'), 'key.values') as Value[];
      if (keyValues.length !== this.plan.keyFns.length) throw new Error('key.values do not match GROUP BY');
      const closed = field(o, 'closedEnd');
      const ks: KeySessions = {
        keyText: readString(field(o, 'key'), 'key.key'),
        keyValues,
        idTail: undefined,
        start: 0,
        last: 0,
        accs: createAccs(this.plan),
        queuedEnd: NaN,
        alive: false,
        slot: -1,
        owner: undefined!,
        others: undefined,
        closedEnd: closed === null ? -Infinity : readNumber(closed, 'key.closedEnd'),
        expiry: -1,
      };
      ks.owner = ks;
      for (const raw of readArray(field(o, 'sessions'), 'key.sessions')) {
        const so = readRecord(raw, 'session');
        const start = readNumber(field(so, 'start'), 'session.start');
        const last = readNumber(field(so, 'last'), 'session.last');
        const accs = loadAccs(this.plan, field(so, 'accs'));
        let s: Session;
        if (!ks.alive) {
          s = ks;
          ks.start = start;
          ks.last = last;
          ks.accs = accs;
          ks.alive = true;
        } else {
          s = { start, last, accs, queuedEnd: NaN, alive: true, slot: -1, owner: ks };
          (ks.others ??= []).push(s);
        }
        this.queue(s, last + this.gap);
        this.open++;
      }
      this.keys.set(ks);
      if (!ks.alive) expiring.push(ks);
    }
    expiring.sort((a, b) => (a.closedEnd < b.closedEnd ? -1 : a.closedEnd > b.closedEnd ? 1 : 0));
    for (const ks of expiring) ks.expiry = this.expiring.push(this.forgetAt(ks), ks);
  }
}

// COUNT windows: per key, the key's events in (time, seq, source) order are numbered 0, 1, 2, …;
// window n holds positions [n × ADVANCE, n × ADVANCE + SIZE) and is emitted when it holds SIZE
// events — never partly filled, so what is left at the end of input is not emitted. To number
// events by time rather than by arrival, an event waits until the watermark has passed it (time <
// watermark); so an event is late when its time is below the watermark. A key's position counter
// lives as long as the state (result ids use the window's ordinal), so COUNT windows hold one
// state entry per key ever seen in the partition.
import type { RowContext } from '../compile-expr.js';
import { compareOrder } from '../aggregates.js';
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
  KeyIndex,
  keyOfProbe,
  loadAccs,
  newProbe,
  probeKey,
  saveAccs,
  type AddStatus,
  type Keyed,
  type WindowOperator,
} from './operator.js';
import { field, readArray, readNumber, readRecord, readString } from './read.js';

interface Waiting {
  t: number;
  seq: number;
  src: string;
  args: Value[];
  owner: KeyCount;
}

interface CountWindow {
  ordinal: number;
  n: number;
  first: number;
  accs: unknown[];
}

interface KeyCount extends Keyed {
  /** Events of the key numbered so far. */
  pos: number;
  /** Windows started and not yet full, oldest first. */
  open: CountWindow[];
}

const before = (a: Waiting, b: Waiting): boolean => compareOrder(a.t, a.seq, a.src, b.t, b.seq, b.src) < 0;

export class CountWindows implements WindowOperator {
  private readonly size: number;
  private readonly step: number;
  private readonly keys = new KeyIndex<KeyCount>();
  private readonly waiting = new MinHeap<Waiting>(before);
  private readonly probe;

  constructor(
    private readonly plan: Plan,
    private readonly ctx: RowContext,
  ) {
    this.size = plan.window!.size;
    this.step = plan.window!.advance;
    this.probe = newProbe(plan);
  }

  get stateKeys(): number {
    return this.keys.size;
  }

  get nextDue(): number {
    const top = this.waiting.peek();
    return top === undefined ? Infinity : top.t + 1;
  }

  add(ctx: RowContext, t: number, input: QueryInput, w: number): AddStatus {
    if (t < w) return LATE;
    probeKey(this.plan, ctx, this.probe);
    let kc = this.keys.get(this.probe);
    if (kc === undefined) {
      if (this.keys.size >= this.plan.maxStateKeys) return STATE_LIMIT;
      const key = keyOfProbe(this.plan, this.probe);
      kc = { keyText: key.keyText, keyValues: key.keyValues, pos: 0, open: [] };
      this.keys.set(kc);
    }
    const args = new Array<Value>(this.plan.aggs.length);
    evalArgs(this.plan, ctx, args);
    this.waiting.push({ t, seq: input.seq, src: input.source, args, owner: kc });
    return ADDED;
  }

  advance(w: number, out: QueryResult[]): void {
    for (let e = this.waiting.peek(); e !== undefined && e.t < w; e = this.waiting.peek()) {
      this.waiting.pop();
      this.number(e, out);
    }
  }

  /** Gives the event its position in its key and adds it to the windows it belongs to. */
  private number(e: Waiting, out: QueryResult[]): void {
    const kc = e.owner;
    const p = kc.pos++;
    if (p % this.step === 0)
      kc.open.push({ ordinal: p / this.step, n: 0, first: e.t, accs: createAccs(this.plan) });
    for (const win of kc.open) {
      addArgs(this.plan, win.accs, e.args, e.t, e.seq, e.src);
      win.n++;
    }
    const oldest = kc.open[0];
    if (oldest !== undefined && oldest.n === this.size) {
      kc.open.shift();
      emitGroup(
        this.plan,
        this.ctx,
        kc,
        oldest.accs,
        boundsOf(oldest.first, e.t, e.t),
        ['count', kc.keyText, oldest.ordinal],
        out,
      );
    }
  }

  flush(): void {}

  save(): unknown {
    const waiting = new Map<KeyCount, Waiting[]>();
    for (const e of this.waiting.toArray().sort((a, b) => (before(a, b) ? -1 : before(b, a) ? 1 : 0))) {
      const list = waiting.get(e.owner) ?? [];
      list.push(e);
      waiting.set(e.owner, list);
    }
    const keys = [...this.keys.values()]
      .sort((a, b) => (a.keyText < b.keyText ? -1 : a.keyText > b.keyText ? 1 : 0))
      .map((kc) => ({
        key: kc.keyText,
        values: kc.keyValues,
        pos: kc.pos,
        open: kc.open.map((win) => ({
          ordinal: win.ordinal,
          n: win.n,
          first: win.first,
          accs: saveAccs(this.plan, win.accs),
        })),
        waiting: (waiting.get(kc) ?? []).map((e) => ({
          t: e.t,
          seq: e.seq,
          src: e.src,
          args: e.args.map((a) => a ?? null),
        })),
      }));
    return { keys };
  }

  load(saved: unknown): void {
    for (const item of readArray(field(readRecord(saved, 'state'), 'keys'), 'state.keys')) {
      const o = readRecord(item, 'key');
      const keyValues = readArray(field(o, 'values'), 'key.values') as Value[];
      if (keyValues.length !== this.plan.keyFns.length) throw new Error('key.values do not match GROUP BY');
      const kc: KeyCount = {
        keyText: readString(field(o, 'key'), 'key.key'),
        keyValues,
        pos: readNumber(field(o, 'pos'), 'key.pos'),
        open: readArray(field(o, 'open'), 'key.open').map((raw) => {
          const w = readRecord(raw, 'window');
          return {
            ordinal: readNumber(field(w, 'ordinal'), 'window.ordinal'),
            n: readNumber(field(w, 'n'), 'window.n'),
            first: readNumber(field(w, 'first'), 'window.first'),
            accs: loadAccs(this.plan, field(w, 'accs')),
          };
        }),
      };
      for (const raw of readArray(field(o, 'waiting'), 'key.waiting')) {
        const r = readRecord(raw, 'waiting event');
        const args = readArray(field(r, 'args'), 'waiting.args') as Value[];
        if (args.length !== this.plan.aggs.length)
          throw new Error('waiting.args do not match the aggregates');
        this.waiting.push({
          t: readNumber(field(r, 't'), 'waiting.t'),
          seq: readNumber(field(r, 'seq'), 'waiting.seq'),
          src: readString(field(r, 'src'), 'waiting.src'),
          args,
          owner: kc,
        });
      }
      this.keys.set(kc);
    }
  }
}

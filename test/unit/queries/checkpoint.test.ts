import { describe, expect, it } from 'vitest';
import {
  isQueryStateError,
  restoreState,
  runOffline,
  type CompiledQuery,
  type QueryCheckpoint,
  type QueryInput,
} from '../../../runtime/queries/index.js';
import { BASE, at, compile } from './helpers.js';

function kv(seq: number, s: number, k: string, v: unknown = 1, source = 'orders'): QueryInput {
  return { source, seq, event: { id: `e${seq}`, time: at(s), data: { k, v } } };
}

const TUMBLE =
  'SELECT data.k AS k, count(*) AS n, sum(data.v) AS s, first(data.v) AS f FROM orders WINDOW TUMBLING (SIZE 10 SECONDS, GRACE PERIOD 5 SECONDS) GROUP BY data.k';

const roundTrip = (cp: QueryCheckpoint): QueryCheckpoint => JSON.parse(JSON.stringify(cp)) as QueryCheckpoint;

function thrown(f: () => unknown): Error {
  try {
    f();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected an error');
}

describe('checkpoints', () => {
  it('are versioned plain JSON saying what they cover', () => {
    const state = compile(TUMBLE).createState();
    state.push([kv(3, 1, 'b', 2.5), kv(1, 2, 'a'), kv(2, 12, 'a', null), kv(7, 3, 'x', 1, 'payments')]);
    const cp = state.checkpoint();
    expect(cp).toEqual({
      version: 1,
      query: 'q',
      fingerprint: expect.stringMatching(/^[0-9a-f]{64}$/),
      window: 'tumbling',
      covers: { orders: 3, payments: 7 },
      inputs: 4,
      maxTime: BASE + 12_000,
      watermarkFloor: null,
      ended: false,
      rejected: 0,
      state: {
        groups: [
          {
            start: BASE,
            key: '["a"]',
            values: ['a'],
            accs: [1, { n: 1, p: [1] }, { v: 1, t: BASE + 2000, seq: 1, src: 'orders' }],
            dirty: false,
          },
          {
            start: BASE,
            key: '["b"]',
            values: ['b'],
            accs: [1, { n: 1, p: [2.5] }, { v: 2.5, t: BASE + 1000, seq: 3, src: 'orders' }],
            dirty: false,
          },
          {
            start: BASE,
            key: '["x"]',
            values: ['x'],
            accs: [1, { n: 1, p: [1] }, { v: 1, t: BASE + 3000, seq: 7, src: 'payments' }],
            dirty: false,
          },
          {
            start: BASE + 10_000,
            key: '["a"]',
            values: ['a'],
            accs: [1, { n: 0, p: [] }, null],
            dirty: false,
          },
        ],
      },
    });
    expect(roundTrip(cp)).toEqual(cp);
  });

  it('restore a partition that continues exactly where the original would have', () => {
    const q = compile(TUMBLE);
    const before = [kv(1, 1, 'a', 0.1), kv(2, 4, 'b', 0.2), kv(3, 11, 'a', 0.3)];
    const after = [kv(4, 6, 'a', 0.4), kv(5, 25, 'b', 0.5), kv(6, 14, 'a', 0.6)];
    const original = q.createState();
    const first = original.push(before);
    const restored = restoreState(q, roundTrip(original.checkpoint()));
    const a = [...original.push(after).results, ...original.end().results];
    const b = [...restored.push(after).results, ...restored.end().results];
    expect(b).toEqual(a);
    expect(first.results).toEqual([]);
    expect(a.map((r) => r.data)).toEqual([
      { k: 'a', n: 2, s: 0.5, f: 0.1 },
      { k: 'b', n: 1, s: 0.2, f: 0.2 },
      // The event at 14 arrived after the watermark (25 − 5) had closed [10, 20): late.
      { k: 'a', n: 1, s: 0.3, f: 0.3 },
      { k: 'b', n: 1, s: 0.5, f: 0.5 },
    ]);
  });

  it('keep the idle floor, the end of input and the count of refused events', () => {
    const q = compile(TUMBLE, { idleTimeout: '1s', maxStateKeys: 1 });
    const state = q.createState();
    state.push([kv(1, 1, 'a'), kv(2, 2, 'b')]);
    state.tick(BASE + 100_000);
    state.tick(BASE + 101_000);
    const restored = restoreState(q, roundTrip(state.checkpoint()));
    expect(restored.watermark).toBe(BASE + 95_000);
    expect(restored.rejected).toBe(1);
    state.end();
    const ended = restoreState(q, roundTrip(state.checkpoint()));
    expect(ended.watermark).toBe(Infinity);
    expect(ended.push([kv(3, 200, 'a')]).late.map((l) => l.reason)).toEqual(['late']);
  });

  it('hold the events that sliding rows and count windows still wait for', () => {
    const sliding = compile('SELECT id, count(*) AS n FROM orders WINDOW SLIDING (SIZE 10 SECONDS)');
    const s = sliding.createState();
    s.push([kv(1, 1, 'a'), kv(2, 2, 'a')]);
    expect(s.checkpoint().state).toEqual({
      keys: [
        {
          key: '',
          values: [],
          events: [
            // Emitted: only what later rows aggregate is kept.
            { t: BASE + 1000, seq: 1, src: 'orders', id: '', args: [true], event: null },
            { t: BASE + 2000, seq: 2, src: 'orders', id: 'e2', args: [true], event: kv(2, 2, 'a').event },
          ],
        },
      ],
    });
    const count = compile(
      'SELECT count(*) AS n FROM orders WINDOW COUNT (SIZE 2, ADVANCE BY 1, GRACE PERIOD 1 SECOND) GROUP BY data.k',
    );
    const c = count.createState();
    // Watermark 4 after the event at 5: the event at 1 is numbered, those at 4 and 5 wait.
    expect(c.push([kv(1, 1, 'a'), kv(2, 5, 'a'), kv(3, 4, 'a')]).late).toEqual([]);
    expect(c.checkpoint().state).toEqual({
      keys: [
        {
          key: '["a"]',
          values: ['a'],
          pos: 1,
          open: [{ ordinal: 0, n: 1, first: BASE + 1000, accs: [1] }],
          waiting: [
            { t: BASE + 4000, seq: 3, src: 'orders', args: [true] },
            { t: BASE + 5000, seq: 2, src: 'orders', args: [true] },
          ],
        },
      ],
    });
  });

  it('stay usable when only SELECT or HAVING change', () => {
    const q1 = compile(TUMBLE);
    const q2 = compile(
      `${TUMBLE.replace('first(data.v) AS f', 'first(data.v) AS first_v, count(*) * 2 AS twice')} HAVING count(*) > 0`,
    );
    const state = q1.createState();
    state.push([kv(1, 1, 'a')]);
    const restored = restoreState(q2, roundTrip(state.checkpoint()));
    expect(restored.end().results.map((r) => r.data)).toEqual([{ k: 'a', n: 1, s: 1, first_v: 1, twice: 2 }]);
  });

  it('are refused, with QueryStateError, for another query, another version or when malformed', () => {
    const q = compile(TUMBLE);
    const cp = q.createState().checkpoint();
    const other = compile(TUMBLE.replace('SIZE 10 SECONDS', 'SIZE 20 SECONDS'));
    const e1 = thrown(() => restoreState(other, cp));
    expect(isQueryStateError(e1)).toBe(true);
    expect(e1.message).toBe(
      'checkpoint belongs to query q as it was defined then, not to query q as defined now',
    );
    expect(thrown(() => restoreState(q, { ...cp, version: 2 as 1 })).message).toBe(
      'checkpoint version 2 is not supported (this engine reads version 1)',
    );
    const broken = thrown(() => restoreState(q, { ...cp, state: { groups: [{ start: 'x' }] } }));
    expect(isQueryStateError(broken)).toBe(true);
    expect(broken.message).toBe('checkpoint of query q is malformed: group.start must be a finite number');
    expect(broken.cause).toBeInstanceOf(Error);
    expect(isQueryStateError(thrown(() => restoreState(q, null as unknown as QueryCheckpoint)))).toBe(true);
    const foreign = { ...q } as CompiledQuery;
    expect(thrown(() => restoreState(foreign, cp)).message).toBe(
      'restoreState needs a query made by compileQuery',
    );
  });

  it('let runOffline crash at every point of a run without changing its results', () => {
    const q = compile(TUMBLE);
    const inputs = [
      kv(1, 1, 'a', 1),
      kv(2, 9, 'b', 2),
      kv(3, 11, 'a', 3),
      kv(4, 8, 'a', 4),
      kv(5, 30, 'c', 5),
      kv(6, 31, 'a', 6),
    ];
    const expected = runOffline(q, inputs, { partitions: 2 });
    for (let crashAt = 0; crashAt <= inputs.length; crashAt++) {
      expect(runOffline(q, inputs, { partitions: 2, crashAt }), `crash at ${crashAt}`).toEqual(expected);
    }
    expect(() => runOffline(q, inputs, { crashAt: 7 })).toThrow(RangeError);
  });
});

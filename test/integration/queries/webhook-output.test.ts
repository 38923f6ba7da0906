// Query results to a webhook output: a processor and a query worker as real processes on the
// stack's NATS, a tumbling count per country written through an http Sink to a real HTTP
// receiver. The receiver must get every result the offline engine computes, with its
// deterministic id as ce-id and its row as the body; results answered 500 arrive after retries,
// one answered 429 after its Retry-After.
// A result answered 404 is not retried: it goes to the dead-letter stream, with the output and its
// answer, once.
import { afterAll, describe, expect, it } from 'vitest';
import { jetstreamManager } from '@nats-io/jetstream';
import { startReceiver, type Receiver } from '../../support/webhook-receiver.js';
import { useStackTargets } from '../processor/stack-targets.js';
import { readDeadLetters, stopProcess, waitFor, type ProcessHandle } from '../processor/support.js';
import { closedBefore, events, offline, setup, terminalEvents, type QuerySpec } from './harness.js';
import { startCli } from './support.js';

const s = useStackTargets('qwh');
const running: ProcessHandle[] = [];
let receiver: Receiver | undefined;
afterAll(async () => {
  for (const p of running)
    if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
  await receiver?.close();
});

const QUERY: QuerySpec = {
  name: 'per-10s',
  sql: `SELECT data.country AS country, count(*) AS n FROM orders
        WINDOW TUMBLING (SIZE 10 SECONDS, GRACE PERIOD 2 SECONDS) GROUP BY data.country`,
  outputs: ['hook'],
  partitions: 2,
  idleTimeout: '1h',
};

describe('query results to a webhook output', () => {
  it('delivers every offline result by its id, after 500s and a Retry-After; a 404 is dead-lettered once', async () => {
    const started = performance.now();
    receiver = await startReceiver();
    const tag = `w${Math.random().toString(36).slice(2, 7)}`;
    const st = await setup(s, tag, [QUERY], {
      outputs: [{ name: 'hook', sink: { http: { url: `${receiver.url}/results`, timeout: '5s' } } }],
    });
    // 1,200 orders over a minute from a window's start: six 10-second windows of five countries.
    // A day later, one order per country closes them all.
    const evs = events(tag, 1200, Math.floor((Date.now() - 3_600_000) / 10_000) * 10_000);
    const terminal = Date.parse(evs.at(-1)!.time!) + 86_400_000;
    const all = [...evs, ...terminalEvents(tag, terminal)];

    // Ids depend on the window and key only, so they are known before publishing: every third
    // result is answered 500 twice, one other 404.
    const planned = closedBefore(
      offline(
        st.n.consumer,
        [QUERY],
        all,
        all.map((_, i) => i + 1),
      ).get(QUERY.name)!,
      terminal,
    );
    const ids = [...planned.keys()].sort();
    const failTwice = new Set(ids.filter((_, i) => i % 3 === 0));
    const rejected = ids.find((id) => !failTwice.has(id))!;
    // One result is throttled once: 429 with Retry-After 2 s, which the worker must wait out.
    const throttled = ids.find((id) => !failTwice.has(id) && id !== rejected)!;
    receiver.setRespond(([id], attempt) => {
      if (id === rejected) return { status: 404, body: 'no subscriber for this result' };
      if (id === throttled && attempt === 1) return { status: 429, headers: { 'retry-after': '2' } };
      if (failTwice.has(id!) && attempt <= 2) return { status: 500, body: 'try again' };
      return { status: 204 };
    });

    const processor = await startCli('process', st.processorFile);
    const worker = await startCli('query-worker', st.workerFile('w1'));
    running.push(processor, worker);
    const seqs = await st.publish(all);
    const out = offline(st.n.consumer, [QUERY], all, seqs).get(QUERY.name)!;
    const want = closedBefore(out, terminal);
    expect(want.size).toBe(30);
    expect([...want.keys()].sort()).toEqual(ids);

    const accepted = receiver.accepted();
    await waitFor(
      () => ids.every((id) => id === rejected || accepted.has(id)),
      40_000,
      'every result accepted',
    );
    // The worker checkpoints (and acks its shuffle messages) only once every result it produced
    // was accepted or rejected: an empty shuffle stream means nothing more is coming.
    const jsm = await jetstreamManager(s.nc);
    await waitFor(
      async () => (await jsm.streams.info(st.shuffle.stream)).state.messages === 0,
      20_000,
      'shuffle stream drained',
    );

    // Every request carried a result of the query, and each of an id's requests the same result.
    for (const d of receiver.deliveries) expect(want.has(d.ids[0]!), d.ids[0]).toBe(true);
    for (const id of ids) {
      const tries = receiver.attempts(id);
      for (const d of tries) {
        expect(d.headers['ce-time'], id).toBe(out.times.get(id));
        expect(JSON.parse(d.body.toString('utf8')), id).toEqual(want.get(id));
      }
      if (id === rejected) continue;
      expect(accepted.get(id), id).toBeGreaterThanOrEqual(1);
      if (failTwice.has(id))
        expect(
          tries.slice(0, 3).map((d) => d.status),
          id,
        ).toEqual([500, 500, 204]);
      else if (id !== throttled) expect(tries[0]!.status, id).toBe(204);
    }
    const [first, second] = receiver.attempts(throttled);
    expect([first!.status, second!.status]).toEqual([429, 204]);
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(1900);
    expect(receiver.attempts(rejected).map((d) => d.status)).toEqual([404]);
    const deadLetters = await readDeadLetters(s.nc, st.n.dlqStream);
    expect(deadLetters.map((d) => ({ id: d.id, output: d.output }))).toEqual([
      { id: rejected, output: 'hook' },
    ]);
    expect(deadLetters[0]!.reason).toBe(
      'output hook rejected the result: HTTP 404 Not Found: no subscriber for this result',
    );
    // What an operator sees of it: the output's error counters (twenty 500s, one 404).
    const metrics = await (await fetch(`http://127.0.0.1:${worker.opsPort()}/metrics`)).text();
    const sinkErrors = (kind: string) =>
      Number(
        new RegExp(`^eventrunner_sink_errors_total\\{output="hook",kind="${kind}"[^}]*\\} (\\d+)$`, 'm').exec(
          metrics,
        )?.[1],
      );
    expect({ transient: sinkErrors('transient'), rejected: sinkErrors('rejected') }).toEqual({
      transient: 2 * failTwice.size + 1,
      rejected: 1,
    });

    for (const p of [processor, worker]) expect((await stopProcess(p)).code).toBe(0);
    const repeats = [...accepted.values()].filter((n) => n > 1).length;
    console.log(
      JSON.stringify({
        results: want.size,
        requests: receiver.deliveries.length,
        repeatedAccepts: repeats,
        seconds: (performance.now() - started) / 1000,
      }),
    );
  }, 60_000);
});

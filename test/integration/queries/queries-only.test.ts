// A Pipeline kept only for its queries: no Route() and an empty defaultOutputs send the events
// nowhere, yet the processor still shuffles them to the query workers, whose results equal the
// offline engine's (as `eventrunner test` computes them for such a Pipeline).
import { afterAll, describe, expect, it } from 'vitest';
import { useStackTargets } from '../processor/stack-targets.js';
import { metric, stopProcess, waitFor, type ProcessHandle } from '../processor/support.js';
import { closedBefore, events, offline, setup, tableRows, terminalEvents, threeQueries } from './harness.js';
import { startCli } from './support.js';

const s = useStackTargets('qonly');
const running: ProcessHandle[] = [];
afterAll(() => {
  for (const p of running)
    if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
});

const QUERIES = threeQueries();

describe('a Pipeline with queries and no output for its events', () => {
  it('shuffles every event to the queries and writes none of them itself', async () => {
    const tag = `o${Math.random().toString(36).slice(2, 7)}`;
    const st = await setup(s, tag, QUERIES, { defaultOutputs: [] });
    const base = Date.now() - 3_600_000;
    const evs = events(tag, 2_000, base);
    const processor = await startCli('process', st.processorFile);
    const worker = await startCli('query-worker', st.workerFile('w1'));
    running.push(processor, worker);
    const seqs = await st.publish(evs);
    const terminal = Date.parse(evs.at(-1)!.time!) + 86_400_000;
    const last = terminalEvents(tag, terminal);
    const lastSeqs = await st.publish(last);

    const all = offline(st.n.consumer, QUERIES, [...evs, ...last], [...seqs, ...lastSeqs]);
    const read = tableRows(s, tag);
    for (const q of QUERIES) {
      const want = closedBefore(all.get(q.name)!, terminal);
      expect(want.size, q.name).toBeGreaterThan(0);
      await waitFor(async () => (await read[q.name]!()).size >= want.size, 60_000, `${q.name} rows`);
      expect(Object.fromEntries(await read[q.name]!()), q.name).toEqual(Object.fromEntries(want));
    }
    // The events themselves went to no output: the processor wrote no row of its own.
    expect(await metric(processor, 'eventrunner_sink_batch_rows_count')).toBe(0);
    for (const p of [processor, worker]) expect((await stopProcess(p)).code).toBe(0);
  });
});

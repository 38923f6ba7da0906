// An event JetStream gives up on while no processor is connected is not lost: the operator's
// advisory stream keeps the MAX_DELIVERIES advisory, and the processors read it when they start.
// Each event ends up in the dead-letter stream exactly once, also when one of them had already
// been dead-lettered by the processor that died, and when two processors read the advisories.
import { beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { EventSource, Pipeline } from '../../../api/generated/types.js';
import {
  ensureConsumer,
  ensurePipelineStreams,
  ensureStream,
  eventSourceStream,
  pipelineConsumer,
} from '../../../operator/jetstream.js';
import {
  advisoryStreamName,
  consumerName,
  deadLetterStreamName,
  deadLetterSubject,
  streamName,
  subjectPrefix,
} from '../../../operator/names.js';
import { DeadLetterPublisher } from '../../../runtime/process/deadletter.js';
import { natsEnv } from '../../stack/context.js';
import { consumerState } from './checks.js';
import { processConfig, shopEvents, type Targets } from './fixtures.js';
import { useStackTargets } from './stack-targets.js';
import {
  metric,
  publish,
  readDeadLetters,
  startProcess,
  stopProcess,
  waitFor,
  writeConfig,
} from './support.js';

function objects(ns: string): { es: EventSource; pl: Pipeline } {
  const es = {
    metadata: { name: 'shop', namespace: ns },
    spec: { stream: { maxAge: '1h', maxBytes: '64Mi', replicas: 1, storage: 'file', duplicateWindow: '2m' } },
  } as EventSource;
  const pl = {
    metadata: { name: 'orders', namespace: ns },
    spec: {
      sources: [{ eventSource: 'shop' }],
      delivery: { maxDeliver: 1, ackWait: '1s', maxAckPending: 1000 },
      deadLetter: { maxAge: '1h', maxBytes: '64Mi', deletionPolicy: 'Delete' },
    },
  } as Pipeline;
  return { es, pl };
}

describe('an event abandoned at maxDeliver while no processor runs', () => {
  const stack = useStackTargets('abandoff');
  let nc: NatsConnection;
  let targets: Targets;
  beforeAll(() => {
    ({ nc, targets } = stack);
  });

  it('is dead-lettered exactly once after processors start', async () => {
    const ns = `adv${randomUUID().slice(0, 6)}`;
    const { es, pl } = objects(ns);
    const n = {
      stream: streamName(ns, 'shop'),
      prefix: subjectPrefix(ns, 'shop'),
      consumer: consumerName(ns, 'orders'),
      dlqStream: deadLetterStreamName(ns, 'orders'),
      dlqSubject: deadLetterSubject(ns, 'orders'),
      advStream: advisoryStreamName(ns, 'orders'),
    };
    const jsm = await jetstreamManager(nc);
    await ensureStream(jsm, eventSourceStream(es));
    await ensureConsumer(jsm, n.stream, pipelineConsumer(pl, { eventSource: 'shop' }));
    await ensurePipelineStreams(jsm, pl, 1);

    const events = shopEvents(10);
    const seqs = await publish(
      nc,
      n.prefix,
      events.map((e) => e.event),
    );
    // A processor takes the only allowed delivery of every event, dead-letters the first one and
    // dies before terminating it, and before doing anything with the others.
    const dying = await connect({ servers: natsEnv().url });
    const batch = await jetstream(dying).consumers.get(n.stream, n.consumer);
    const taken = await batch.fetch({ max_messages: 10, expires: 5000 });
    let held = 0;
    for await (const m of taken) {
      if (m.seq === seqs[0])
        await new DeadLetterPublisher(jetstream(dying), n.dlqSubject, n.dlqStream, `${ns}/orders`).publish({
          reason: 'rejected by a sink',
          subject: m.subject,
          stream: n.stream,
          sequence: m.seq,
          deliveries: 1,
          data: m.data,
          headers: m.headers,
        });
      if (++held === 10) break;
    }
    await dying.close();
    expect(held).toBe(10);

    // JetStream gives up on all ten with nobody listening: the consumer moves past them, and the
    // advisories wait in the stream.
    await waitFor(
      async () => (await jsm.streams.info(n.advStream)).state.messages === 10,
      30_000,
      'ten max-deliveries advisories in the advisory stream',
    );
    const given = await consumerState(nc, n.stream, n.consumer);
    expect(given.ackPending).toBe(0);
    expect(given.pending).toBe(0);
    expect((await readDeadLetters(nc, n.dlqStream)).map((d) => d.id)).toEqual([events[0]!.event.id]);

    const config = writeConfig({
      ...processConfig(targets, n, { maxDeliver: 1, backoff: [] }),
      advisories: { stream: n.advStream, consumer: n.consumer },
    });
    const procs = await Promise.all([startProcess(config), startProcess(config)]);
    try {
      await waitFor(
        async () => (await jsm.streams.info(n.advStream)).state.messages === 0,
        60_000,
        'every advisory handled and acknowledged',
      );
      const dl = await readDeadLetters(nc, n.dlqStream);
      expect(dl.map((d) => d.id).sort()).toEqual(events.map((e) => e.event.id).sort());
      expect(
        dl.filter((d) => d.reason.startsWith('delivered 1 times (maxDeliver) without an outcome')),
      ).toHaveLength(9);
      const counted = await Promise.all(
        procs.map((p) => metric(p, 'eventrunner_processor_events_deadlettered_total')),
      );
      expect(counted.reduce((a, b) => a + b, 0)).toBe(9);
      const advConsumer = await jsm.consumers.info(n.advStream, n.consumer);
      expect(advConsumer.num_ack_pending).toBe(0);
    } finally {
      for (const p of procs) expect((await stopProcess(p)).code).toBe(0);
    }
    // A processor started later finds nothing left to do.
    const again = await startProcess(config);
    expect((await stopProcess(again)).code).toBe(0);
    expect(await readDeadLetters(nc, n.dlqStream)).toHaveLength(10);
    await jsm.streams.delete(n.stream);
    await jsm.streams.delete(n.dlqStream);
    await jsm.streams.delete(n.advStream);
  });
});

// Checkpoints in the state bucket of the stack's NATS: a state larger than one NATS message goes
// into chunks and comes back whole; a write by an owner that was fenced fails and leaves the
// state the head names intact; a new owner sweeps chunks no head names.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kvm, type KV } from '@nats-io/kv';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { QueryCheckpoint } from '../../../runtime/queries/index.js';
import { CheckpointStore, INLINE_MAX } from '../../../runtime/query-worker/checkpoint-store.js';
import { isWrongSequence } from '../../../runtime/query-worker/leases.js';
import { natsEnv } from '../../stack/context.js';

let nc: NatsConnection;
let kv: KV;
const bucket = `CPS_${Math.random().toString(36).slice(2, 8)}`;
beforeAll(async () => {
  nc = await connect({ servers: natsEnv().url });
  kv = await new Kvm(nc).create(bucket, { history: 1 });
});
afterAll(async () => {
  await kv.destroy().catch(() => undefined);
  await nc.close();
});

/** A checkpoint-shaped object of about `bytes` bytes of JSON. */
function state(bytes: number, mark: string): QueryCheckpoint {
  const keys = Array.from({ length: Math.ceil(bytes / 40) }, (_, i) => ({ key: `${mark}-${i}`, n: i }));
  return { version: 1, query: 'q', state: { keys } } as unknown as QueryCheckpoint;
}

describe('checkpoint store', () => {
  it('keeps a small state in the head and a large one in chunks, and reads both back whole', async () => {
    const a = new CheckpointStore(kv, 'q', 0, 'a');
    let { stored, revision } = await a.read();
    revision = await a.claim(stored, revision);
    const small = state(1000, 's');
    let w = await a.write(10, small, revision, undefined);
    ({ stored } = await a.read());
    expect(stored.chunks).toBeUndefined();
    expect(await a.load(stored)).toEqual(small);

    const large = state(3 * 1024 * 1024, 'l');
    w = await a.write(20, large, w.revision, w.chunks);
    ({ stored } = await a.read());
    expect(stored.seq).toBe(20);
    expect(stored.chunks!.bytes).toBeGreaterThan(INLINE_MAX);
    expect(stored.chunks!.count).toBeGreaterThan(4);
    expect(await a.load(stored)).toEqual(large);
    // The next large write goes to the other slot; the head names it and it reads back whole.
    const larger = state(3 * 1024 * 1024, 'm');
    const w2 = await a.write(30, larger, w.revision, w.chunks);
    expect(w2.chunks!.generation).not.toBe(w.chunks!.generation);
    expect(await a.load((await a.read()).stored)).toEqual(larger);
  });

  it('refuses a fenced owner’s write and keeps the state the new owner claimed', async () => {
    const a = new CheckpointStore(kv, 'q', 1, 'a');
    const first = await a.read();
    const ra = await a.claim(first.stored, first.revision);
    const wa = await a.write(5, state(2 * 1024 * 1024, 'a1'), ra, undefined);

    const b = new CheckpointStore(kv, 'q', 1, 'b');
    const seen = await b.read();
    await b.claim(seen.stored, seen.revision);
    // a did not notice and writes again: refused, and b's state is still a's first one.
    const err = await a
      .write(6, state(2 * 1024 * 1024, 'a2'), wa.revision, wa.chunks)
      .catch((e: unknown) => e);
    expect(isWrongSequence(err)).toBe(true);
    const now = await b.read();
    expect(now.stored.owner).toBe('b');
    expect(now.stored.seq).toBe(5);
    expect(await b.load(now.stored)).toEqual(state(2 * 1024 * 1024, 'a1'));
    // The chunks of a's refused write are named by no head: swept; the named ones stay.
    expect(await b.sweep(now.stored.chunks)).toBeGreaterThan(0);
    expect(await b.load((await b.read()).stored)).toEqual(state(2 * 1024 * 1024, 'a1'));
    expect(await b.sweep(now.stored.chunks)).toBe(0);
  });
});

// Partition ownership through a NATS KV bucket. Each (query, partition) has a lease key
// `lease.<query>.<partition>` holding its owner; the owner renews it every third of the lease
// duration with a revision-checked update, so a renewal after someone else took the key fails.
// A partition is free when its key is absent or deleted (released), and taken over when its
// revision has not changed for a whole lease duration as this worker observed it on its own
// monotonic clock — no wall clocks are compared across hosts. An owner counts its lease valid only
// until one lease duration (less a margin) after it sent its last successful renewal: a successor
// starts counting after seeing that renewal, so the owner stops writing before anyone takes over,
// and a process paused past that (SIGSTOP, a long GC, a frozen VM) finds its lease invalid when it
// resumes and writes nothing. Checkpoints are fenced separately (partition.ts).
import type { KV } from '@nats-io/kv';

/** A partition this worker owns. */
export interface Lease {
  query: string;
  partition: number;
  key: string;
  revision: number;
  /** performance.now() after which the lease must not be relied on. */
  validUntil: number;
  /** Set once a renewal failed: someone else owns the partition now. */
  lost: boolean;
}

export const leaseKey = (query: string, partition: number) => `lease.${query}.${partition}`;
export const checkpointKey = (query: string, partition: number) => `cp.${query}.${partition}`;
const memberKey = (id: string) => `member.${id.replace(/[^-\w]/g, '_')}`;

export class Leases {
  private readonly observed = new Map<string, { revision: number; since: number }>();
  private readonly margin: number;

  constructor(
    private readonly kv: KV,
    readonly workerId: string,
    readonly leaseMs: number,
  ) {
    this.margin = Math.min(1000, leaseMs / 5);
  }

  private value(): string {
    return JSON.stringify({ owner: this.workerId, at: new Date().toISOString() });
  }

  valid(lease: Lease): boolean {
    return !lease.lost && performance.now() < lease.validUntil;
  }

  /** Takes the partition when it is free, released, ours from an earlier run, or silent for a lease duration. */
  async tryAcquire(query: string, partition: number): Promise<Lease | undefined> {
    const key = leaseKey(query, partition);
    const sent = performance.now();
    const entry = await this.kv.get(key);
    let revision: number;
    try {
      if (!entry || entry.operation !== 'PUT') {
        revision = await this.kv.create(key, this.value());
      } else {
        const owner = (entry.json() as { owner?: string }).owner;
        if (owner !== this.workerId) {
          const seen = this.observed.get(key);
          if (!seen || seen.revision !== entry.revision) {
            this.observed.set(key, { revision: entry.revision, since: sent });
            return undefined;
          }
          if (sent - seen.since < this.leaseMs) return undefined;
        }
        revision = await this.kv.update(key, this.value(), entry.revision);
      }
    } catch {
      // Someone else wrote the key first (wrong last sequence): not ours.
      return undefined;
    }
    this.observed.delete(key);
    return { query, partition, key, revision, validUntil: sent + this.leaseMs - this.margin, lost: false };
  }

  /** Renews the lease; false (and `lost` set) when someone else owns it now. */
  async renew(lease: Lease): Promise<boolean> {
    if (lease.lost) return false;
    const sent = performance.now();
    try {
      lease.revision = await this.kv.update(lease.key, this.value(), lease.revision);
      lease.validUntil = sent + this.leaseMs - this.margin;
      return true;
    } catch (err) {
      if (isWrongSequence(err)) lease.lost = true;
      return false;
    }
  }

  /** Gives the partition up at once (after a last checkpoint) so a successor need not wait. */
  async release(lease: Lease): Promise<void> {
    if (lease.lost) return;
    lease.lost = true;
    await this.kv.delete(lease.key, { previousSeq: lease.revision }).catch(() => undefined);
  }

  /**
   * Records this worker as alive and returns how many workers are: those whose last record the
   * server stored less than one and a half lease durations before this one. Only the server's
   * timestamps are compared, so hosts' clocks do not matter, and a worker killed without leaving
   * stops counting soon after its leases expire, which lets the others take its share.
   */
  async heartbeat(): Promise<number> {
    const own = memberKey(this.workerId);
    await this.kv.put(own, JSON.stringify({ owner: this.workerId }));
    const entries = [];
    for await (const k of await this.kv.keys('member.*')) {
      const e = await this.kv.get(k);
      if (e?.operation === 'PUT') entries.push(e);
    }
    const now = entries.find((e) => e.key === own)?.created.getTime();
    if (now === undefined) return 1;
    const live = entries.filter((e) => now - e.created.getTime() < 1.5 * this.leaseMs).length;
    return Math.max(1, live);
  }

  async leave(): Promise<void> {
    await this.kv.delete(memberKey(this.workerId)).catch(() => undefined);
  }
}

/** The server refused an update because the key changed since the revision given. */
export function isWrongSequence(err: unknown): boolean {
  const text = `${(err as Error)?.message ?? ''} ${String((err as { code?: unknown })?.code ?? '')}`;
  return /wrong last sequence|10071/i.test(text);
}

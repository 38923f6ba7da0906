// What a partition's owner tells the operator: after each checkpoint it puts a small JSON value
// under `status.<query>.<partition>` in the Pipeline's state bucket — its owner, the watermark,
// the state keys and the late events counted so far — so the Pipeline status and `kubectl get`
// show how each query runs without reading checkpoints (which can be megabytes). Best effort: a
// status write that fails never fails the checkpoint it reports.
import type { KV } from '@nats-io/kv';

export const partitionStatusKey = (query: string, partition: number) => `status.${query}.${partition}`;

/** The value under a partition's status key (version 1). */
export interface PartitionStatus {
  v: 1;
  /** Worker that wrote it. */
  owner: string;
  /** Highest shuffle-stream sequence the last checkpoint covers. */
  seq: number;
  /** Watermark in ms since the epoch; null before the first event. */
  watermark: number | null;
  stateKeys: number;
  /**
   * Events dead-lettered with reason late over the partition's life (a replay after a crash may
   * count some twice).
   */
  late: number;
  /** Inputs refused because of maxStateKeys (dead-lettered with reason state-limit), from the checkpoint. */
  rejected: number;
  /** Whether the partition held maxStateKeys at the checkpoint, refusing inputs that need new state. */
  full?: boolean;
  /** When the checkpoint was written (ISO 8601, the owner's clock). */
  at: string;
}

/** One owner's status writes for one partition; the late count goes on from the previous owner's. */
export class PartitionStatusWriter {
  private base: number | undefined;

  constructor(
    private readonly kv: KV,
    private readonly key: string,
    private readonly owner: string,
  ) {}

  /** `late` counts this owner's late events only; `rejected` is the checkpointed state's count. */
  async write(s: {
    seq: number;
    watermark: number;
    stateKeys: number;
    late: number;
    rejected: number;
    full: boolean;
  }) {
    try {
      if (this.base === undefined) {
        const prev = await this.kv.get(this.key);
        const before = prev?.operation === 'PUT' ? (prev.json() as Partial<PartitionStatus>) : undefined;
        this.base = typeof before?.late === 'number' ? before.late : 0;
      }
      const value: PartitionStatus = {
        v: 1,
        owner: this.owner,
        seq: s.seq,
        watermark: Number.isFinite(s.watermark) ? s.watermark : null,
        stateKeys: s.stateKeys,
        late: this.base + s.late,
        rejected: s.rejected,
        full: s.full,
        at: new Date().toISOString(),
      };
      await this.kv.put(this.key, JSON.stringify(value));
    } catch {
      // Status is advisory; the next checkpoint writes it again.
    }
  }
}

// A partition's checkpoint in the state bucket. The key `cp.<query>.<partition>` holds a small
// head — { owner, seq, checkpoint } with the state inline, or { owner, seq, chunks } naming where
// a large state's JSON is — and every write of it is revision-checked, which is what fences an
// old owner. A state too large for one NATS message (1 MiB by default) is written first as
// chunks under `cpdata.<query>.<partition>.<owner>.<slot>.<i>`, in the slot of the two of this
// owner that the head does not name, and only then is the head pointed at it. Chunks of earlier
// owners that the head no longer names are deleted when a new owner claims the partition.
import type { KV, KvEntry } from '@nats-io/kv';
import type { QueryCheckpoint } from '../queries/index.js';
import { checkpointKey } from './leases.js';

/** The head of a checkpoint, as stored under its key. */
export interface StoredCheckpoint {
  owner: string;
  /** Highest shuffle-stream sequence the checkpoint covers (0: none). */
  seq: number;
  /** The state, when it fits in the head (null: no state yet). */
  checkpoint: QueryCheckpoint | null;
  /** Where the state's JSON is when it did not fit: its generation and number of chunks. */
  chunks?: { generation: string; count: number; bytes: number };
}

/** States up to this size (UTF-8 bytes of their JSON) stay in the head. */
export const INLINE_MAX = 256 * 1024;
/** Chunks stay well under NATS' default 1 MiB message limit. */
export const CHUNK_BYTES = 512 * 1024;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A state's JSON text and its UTF-8 bytes, as written. */
export interface SerializedCheckpoint {
  text: string;
  bytes: Uint8Array;
}

/** The state's JSON, once: its size decides between the head and chunks, and both reuse it. */
export function serializeCheckpoint(checkpoint: QueryCheckpoint): SerializedCheckpoint {
  const text = JSON.stringify(checkpoint);
  return { text, bytes: encoder.encode(text) };
}

const chunkPrefix = (query: string, partition: number) => `cpdata.${query}.${partition}`;

export class CheckpointStore {
  private readonly head: string;
  private readonly prefix: string;
  private writes = 0;

  constructor(
    private readonly kv: KV,
    readonly query: string,
    readonly partition: number,
    private readonly owner: string,
  ) {
    this.head = checkpointKey(query, partition);
    this.prefix = chunkPrefix(query, partition);
  }

  /** The head as stored now, with its revision (0: none). */
  async read(): Promise<{ stored: StoredCheckpoint; revision: number; entry: KvEntry | null }> {
    const entry = await this.kv.get(this.head);
    if (entry?.operation !== 'PUT')
      return { stored: { owner: '', seq: 0, checkpoint: null }, revision: 0, entry: null };
    return { stored: entry.json<StoredCheckpoint>(), revision: entry.revision, entry };
  }

  /** Puts this owner's name in the head, revision-checked; returns the new revision. */
  async claim(stored: StoredCheckpoint, revision: number): Promise<number> {
    const body = JSON.stringify({ ...stored, owner: this.owner });
    return revision ? this.kv.update(this.head, body, revision) : this.kv.create(this.head, body);
  }

  /** The state the head names: inline or reassembled from its chunks. */
  async load(stored: StoredCheckpoint): Promise<QueryCheckpoint | null> {
    if (!stored.chunks) return stored.checkpoint;
    const { generation, count, bytes } = stored.chunks;
    const parts = await Promise.all(
      Array.from({ length: count }, async (_, i) => {
        const e = await this.kv.get(`${this.prefix}.${generation}.${i}`);
        if (e?.operation !== 'PUT') throw new Error(`checkpoint chunk ${i} of ${generation} is missing`);
        return e.value;
      }),
    );
    const all = new Uint8Array(bytes);
    let at = 0;
    for (const p of parts) {
      all.set(p, at);
      at += p.length;
    }
    if (at !== bytes) throw new Error(`checkpoint ${generation} has ${at} bytes, its head says ${bytes}`);
    return JSON.parse(decoder.decode(all)) as QueryCheckpoint;
  }

  /**
   * Writes a checkpoint after `revision` (the head as this owner last wrote it); returns the new
   * revision and where the state went. `current` is what the head names now. Throws the server's
   * wrong-last-sequence error when someone else wrote the head since.
   */
  async write(
    seq: number,
    checkpoint: QueryCheckpoint | SerializedCheckpoint,
    revision: number,
    current: StoredCheckpoint['chunks'],
  ): Promise<{ revision: number; chunks: StoredCheckpoint['chunks'] }> {
    const { text, bytes } = 'bytes' in checkpoint ? checkpoint : serializeCheckpoint(checkpoint);
    if (bytes.length <= INLINE_MAX) {
      // The head as JSON.stringify({ owner, seq, checkpoint }) writes it, the state's text spliced in.
      const head = `{"owner":${JSON.stringify(this.owner)},"seq":${seq},"checkpoint":${text}}`;
      return { revision: await this.kv.update(this.head, head, revision), chunks: undefined };
    }
    // Two slots per owner, written in turn: never the one the head names, so a crash mid-write
    // leaves the named state whole, and the number of keys stays bounded.
    const generation = current?.generation === this.slot(0) ? this.slot(1) : this.slot(0);
    const count = Math.ceil(bytes.length / CHUNK_BYTES);
    await Promise.all(
      Array.from({ length: count }, (_, i) =>
        this.kv.put(
          `${this.prefix}.${generation}.${i}`,
          bytes.subarray(i * CHUNK_BYTES, Math.min(bytes.length, (i + 1) * CHUNK_BYTES)),
        ),
      ),
    );
    const chunks = { generation, count, bytes: bytes.length };
    const head: StoredCheckpoint = { owner: this.owner, seq, checkpoint: null, chunks };
    return { revision: await this.kv.update(this.head, JSON.stringify(head), revision), chunks };
  }

  private slot(n: 0 | 1): string {
    return `${this.owner.replace(/[^-\w]/g, '_')}.${n}`;
  }

  /** Deletes chunks no head names (left by a write that lost the race); keeps `keep`'s. */
  async sweep(keep: StoredCheckpoint['chunks']): Promise<number> {
    const stale: string[] = [];
    for await (const k of await this.kv.keys(`${this.prefix}.>`))
      if (!keep || !k.startsWith(`${this.prefix}.${keep.generation}.`)) stale.push(k);
    await Promise.all(stale.map((k) => this.kv.purge(k).catch(() => undefined)));
    return stale.length;
  }
}

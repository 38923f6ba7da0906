// The watermarks of a partition of a query that reads several sources, one per source (the rule is
// in state.ts): W_s = max(largest event time pushed from s − grace, idle floor of s), and the
// partition's watermark is the smallest W_s. Each source also has its own idle clock.
import { field, readNumber, readRecord } from './windows/read.js';

export interface SourceClock {
  readonly name: string;
  /** Largest event time pushed from this source (of events WHERE accepts). */
  maxTime: number;
  /** Idle floor of this source. */
  floor: number;
  /** Input of this source arrived since the last tick. */
  active: boolean;
  /** Wall-clock ms at which a tick last saw this source active. */
  idleSince: number | undefined;
}

/** A source's watermark as saved in a checkpoint's `sources` member. */
export interface SavedSourceWatermark {
  maxTime: number | null;
  watermarkFloor: number | null;
}

const orNull = (v: number): number | null => (Number.isFinite(v) ? v : null);

export class SourceWatermarks {
  readonly clocks: readonly SourceClock[];
  private readonly byName: ReadonlyMap<string, SourceClock>;

  constructor(
    sources: readonly string[],
    private readonly grace: number,
  ) {
    this.clocks = sources.map((name) => ({
      name,
      maxTime: -Infinity,
      floor: -Infinity,
      active: false,
      idleSince: undefined,
    }));
    this.byName = new Map(this.clocks.map((c) => [c.name, c]));
  }

  /** The clock of a source; undefined for a source the query does not read. */
  of(source: string): SourceClock | undefined {
    return this.byName.get(source);
  }

  /** The partition's watermark: the smallest of the sources' watermarks. */
  watermark(): number {
    let w = Infinity;
    for (const c of this.clocks) {
      const own = Math.max(c.maxTime - this.grace, c.floor);
      if (own < w) w = own;
    }
    return w;
  }

  /**
   * The idle rule, per source: a source with no input for `timeout` (by the ticks' wall clock)
   * moves its floor to `target` when that is above its watermark. True when a floor moved.
   */
  tick(now: number, timeout: number, target: number): boolean {
    let moved = false;
    for (const c of this.clocks) {
      if (c.active || c.idleSince === undefined) {
        c.active = false;
        c.idleSince = now;
        continue;
      }
      if (now - c.idleSince < timeout) continue;
      if (target > Math.max(c.maxTime - this.grace, c.floor)) {
        c.floor = target;
        moved = true;
      }
    }
    return moved;
  }

  save(): Record<string, SavedSourceWatermark> {
    return Object.fromEntries(
      this.clocks.map((c) => [c.name, { maxTime: orNull(c.maxTime), watermarkFloor: orNull(c.floor) }]),
    );
  }

  /**
   * Loads a checkpoint's `sources`. Without it (a checkpoint from before sources had watermarks of
   * their own) every source takes the partition's `maxTime` and `floor`: the watermark it had.
   */
  load(saved: unknown, maxTime: number, floor: number): void {
    if (saved === undefined || saved === null) {
      for (const c of this.clocks) {
        c.maxTime = maxTime;
        c.floor = floor;
      }
      return;
    }
    const all = readRecord(saved, 'sources');
    for (const c of this.clocks) {
      const own = field(all, c.name);
      if (own === undefined) continue; // never saved: nothing seen from it
      const o = readRecord(own, `sources.${c.name}`);
      const opt = (name: string): number => {
        const v = field(o, name);
        return v === null || v === undefined ? -Infinity : readNumber(v, `sources.${c.name}.${name}`);
      };
      c.maxTime = opt('maxTime');
      c.floor = opt('watermarkFloor');
    }
  }
}

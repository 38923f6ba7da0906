// Items by time, added in time order and taken from the front: a ring buffer, so a steady flow
// allocates nothing (an array consumed from its head and cut now and then would be copied, and the
// copies promoted by the collector, every few thousand items). An item can also be taken out where
// it is, by the index push() gave it; its place then stays empty until the front passes it.

export class TimeQueue<T> {
  private times = new Float64Array(1024);
  private items = new Array<T | undefined>(1024);
  private mask = 1023;
  private head = 0;
  /** Places queued, taken-out ones included. */
  size = 0;

  /** `moved` learns the new index of every item still queued when the buffer grows. */
  constructor(private readonly moved?: (item: T, index: number) => void) {}

  /** Time of the front place; Infinity when empty. */
  get firstTime(): number {
    return this.size === 0 ? Infinity : this.times[this.head]!;
  }

  /** Time of the back place; -Infinity when empty. */
  get lastTime(): number {
    return this.size === 0 ? -Infinity : this.times[(this.head + this.size - 1) & this.mask]!;
  }

  /** The front item; undefined when it was taken out. Only while not empty. */
  get first(): T | undefined {
    return this.items[this.head];
  }

  /** Adds an item at the back (`time` at least lastTime) and returns its index. */
  push(time: number, item: T): number {
    if (this.size > this.mask) this.grow();
    const at = (this.head + this.size) & this.mask;
    this.times[at] = time;
    this.items[at] = item;
    this.size++;
    return at;
  }

  /** Drops the front place. Only while not empty. */
  shift(): void {
    this.items[this.head] = undefined;
    this.head = (this.head + 1) & this.mask;
    this.size--;
  }

  /** Takes out the item at `index`, which must still be queued. */
  remove(index: number): void {
    this.items[index] = undefined;
  }

  private grow(): void {
    const n = this.mask + 1;
    const times = new Float64Array(2 * n);
    const items = new Array<T | undefined>(2 * n);
    for (let k = 0; k < n; k++) {
      const at = (this.head + k) & this.mask;
      const item = this.items[at];
      times[k] = this.times[at]!;
      items[k] = item;
      if (item !== undefined) this.moved?.(item, k);
    }
    this.times = times;
    this.items = items;
    this.mask = 2 * n - 1;
    this.head = 0;
  }
}

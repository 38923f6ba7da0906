/**
 * Items by time, added in time order and taken from the front: a ring buffer, so a steady flow
 * allocates nothing. (Arrays consumed from their head and cut now and then are copied every few
 * thousand items, and the collector promotes the copies, which live as long as the queue.)
 */
export class TimeQueue<T> {
  private times = new Float64Array(1024);
  private items = new Array<T | undefined>(1024);
  private mask = 1023;
  private head = 0;
  size = 0;

  /** Time of the front item; Infinity when empty. */
  get firstTime(): number {
    return this.size === 0 ? Infinity : this.times[this.head]!;
  }

  /** Time of the back item; -Infinity when empty. */
  get lastTime(): number {
    return this.size === 0 ? -Infinity : this.times[(this.head + this.size - 1) & this.mask]!;
  }

  /** The front item (size > 0). */
  get first(): T {
    return this.items[this.head]!;
  }

  push(time: number, item: T): void {
    if (this.size > this.mask) this.grow();
    const at = (this.head + this.size) & this.mask;
    this.times[at] = time;
    this.items[at] = item;
    this.size++;
  }

  /** Drops the front item (size > 0). */
  shift(): void {
    this.items[this.head] = undefined;
    this.head = (this.head + 1) & this.mask;
    this.size--;
  }

  private grow(): void {
    const n = this.mask + 1;
    const times = new Float64Array(2 * n);
    const items = new Array<T | undefined>(2 * n);
    for (let k = 0; k < n; k++) {
      const at = (this.head + k) & this.mask;
      times[k] = this.times[at]!;
      items[k] = this.items[at];
    }
    this.times = times;
    this.items = items;
    this.mask = 2 * n - 1;
    this.head = 0;
  }
}

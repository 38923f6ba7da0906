// A binary min-heap over an ordering function, for window ends and pending event rows.

export class MinHeap<T> {
  private readonly items: T[] = [];

  constructor(private readonly before: (a: T, b: T) => boolean) {}

  get size(): number {
    return this.items.length;
  }

  /** Every item, in no particular order. */
  toArray(): T[] {
    return this.items.slice();
  }

  peek(): T | undefined {
    return this.items[0];
  }

  push(item: T): void {
    const items = this.items;
    // Sift up by moving parents down into the hole, then place the item once.
    let i = items.length;
    items.push(item);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = items[parent]!;
      if (!this.before(item, p)) break;
      items[i] = p;
      i = parent;
    }
    items[i] = item;
  }

  pop(): T | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    const n = items.length;
    if (n > 0 && last !== undefined) {
      // Sift the last item down from the root by moving the smaller child up into the hole.
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        let m = l;
        let child = items[l]!;
        if (r < n && this.before(items[r]!, child)) {
          m = r;
          child = items[r]!;
        }
        if (!this.before(child, last)) break;
        items[i] = child;
        i = m;
      }
      items[i] = last;
    }
    return top;
  }
}

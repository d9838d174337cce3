/**
 * The most requested names (cached URLs, tags) in bounded memory: Space-Saving (Metwally, Agrawal, El Abbadi,
 * "Efficient Computation of Frequent and Top-k Elements in Data Streams", 2005). A table of `capacity` counters;
 * a name not in a full table takes over the smallest counter and inherits its count, so a count overestimates by
 * at most that inherited error, and any name seen more than total/capacity times is sure to be in the table.
 */
import { mergeTop, type TopEntry } from '../observability/stats.ts';

// mergeTop lives with sumSnapshots (observability imports nothing from cache); re-exported for callers here.
export { mergeTop, type TopEntry };

export const DEFAULT_TOP_CAPACITY = 64;

export class TopCounter {
  private readonly capacity: number;
  /** Slot of each name in the parallel arrays below. */
  private readonly slots = new Map<string, number>();
  private readonly names: string[] = [];
  private readonly counts: number[] = [];

  constructor(capacity = DEFAULT_TOP_CAPACITY) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
    this.capacity = capacity;
  }

  /** Counts one occurrence of `name`: O(1) when it is in the table or the table has room, O(capacity) otherwise. */
  add(name: string): void {
    const slot = this.slots.get(name);
    if (slot !== undefined) {
      this.counts[slot]!++;
      return;
    }
    if (this.names.length < this.capacity) {
      this.slots.set(name, this.names.length);
      this.names.push(name);
      this.counts.push(1);
      return;
    }
    let min = 0;
    for (let i = 1; i < this.counts.length; i++) if (this.counts[i]! < this.counts[min]!) min = i;
    this.slots.delete(this.names[min]!);
    this.slots.set(name, min);
    this.names[min] = name;
    this.counts[min]!++; // the newcomer inherits the evicted count (Space-Saving's overestimate)
  }

  /** The `n` largest counts, largest first (ties by name, so that the order is stable). */
  top(n: number): TopEntry[] {
    const all: TopEntry[] = this.names.map((name, i) => ({ name, count: this.counts[i]! }));
    return all.sort((a, b) => b.count - a.count || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)).slice(0, Math.max(0, n));
  }
}

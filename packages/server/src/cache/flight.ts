/**
 * Request coalescing: while one miss for a key is being fetched, concurrent misses for the same key wait for it
 * instead of going to the backend. They get the stored response when it lands, or are released at once (to fetch
 * for themselves) when the answer turned out not storable, failed, or took longer than the wait allows.
 */
import type { StoredResponse } from './store.ts';

export class Flight {
  private waiters: Array<(entry: StoredResponse | undefined) => void> = [];
  private settled = false;

  /** Waits for the leader's stored response; undefined means: go to the backend yourself. */
  wait(timeoutMs: number): Promise<StoredResponse | undefined> {
    if (this.settled) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== done);
        resolve(undefined);
      }, timeoutMs);
      const done = (entry: StoredResponse | undefined) => {
        clearTimeout(timer);
        resolve(entry);
      };
      this.waiters.push(done);
    });
  }

  get waiting(): number {
    return this.waiters.length;
  }

  /** The leader is done: waiters get `entry` (or are released when it is undefined). */
  settle(entry: StoredResponse | undefined): void {
    if (this.settled) return;
    this.settled = true;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w(entry);
  }
}

export class Flights {
  private readonly inProgress = new Map<string, Flight>();

  /** The flight in progress for `key`, if any. */
  find(key: string): Flight | undefined {
    return this.inProgress.get(key);
  }

  /** Starts the flight for `key`; the caller (the leader) must end it. */
  begin(key: string): Flight {
    const flight = new Flight();
    this.inProgress.set(key, flight);
    return flight;
  }

  end(key: string, flight: Flight, entry: StoredResponse | undefined): void {
    if (this.inProgress.get(key) === flight) this.inProgress.delete(key);
    flight.settle(entry);
  }
}

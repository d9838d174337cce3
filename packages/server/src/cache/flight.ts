/**
 * Request coalescing: while one miss for a key is being fetched, concurrent misses for the same key wait for it
 * instead of going to the backend. They get the stored response when it lands, or are released at once (to fetch
 * for themselves) when the answer turned out not storable, failed, or took longer than the wait allows. A waiter
 * takes the response only if its own lookup would have selected it (Vary: `sharedFor`).
 */
import { parseVary, varyKey } from './key.ts';
import type { StoredResponse } from './store.ts';

/** What a leader hands its waiters: the response it stored, and the key it stored it under. */
export interface Landed {
  readonly entry: StoredResponse;
  readonly key: string;
}

/**
 * The landed response if this request may take it: when the request's own key under the response's Vary is the
 * key the leader stored it under (RFC 9111 §4.1), which compares the request's values of the fields Vary names with
 * the leader's. `Vary: *` matches no request. Undefined means: go to the backend yourself.
 */
export function sharedFor(landed: Landed | undefined, primary: string, requestHeaders: readonly string[]): StoredResponse | undefined {
  if (landed === undefined) return undefined;
  const names = parseVary(landed.entry.headers);
  if (names === '*') return undefined;
  return varyKey(primary, names, requestHeaders) === landed.key ? landed.entry : undefined;
}

export class Flight {
  private waiters: Array<(landed: Landed | undefined) => void> = [];
  private settled = false;

  /** Waits for the leader's stored response; undefined means: go to the backend yourself. */
  wait(timeoutMs: number): Promise<Landed | undefined> {
    if (this.settled) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== done);
        resolve(undefined);
      }, timeoutMs);
      const done = (landed: Landed | undefined) => {
        clearTimeout(timer);
        resolve(landed);
      };
      this.waiters.push(done);
    });
  }

  get waiting(): number {
    return this.waiters.length;
  }

  /** The leader is done: waiters get what it stored (or are released when nothing was). */
  settle(landed: Landed | undefined): void {
    if (this.settled) return;
    this.settled = true;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w(landed);
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

  end(key: string, flight: Flight, landed: Landed | undefined): void {
    if (this.inProgress.get(key) === flight) this.inProgress.delete(key);
    flight.settle(landed);
  }
}

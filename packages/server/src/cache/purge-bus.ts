/**
 * How a purge reaches every Fulcrum instance sharing a store. A purge names entries by URL, URL prefix or tag,
 * with the time it was made; what a purge does to entries is the cache's business (http-cache.ts), the bus only
 * carries it.
 *
 * Every bus keeps one promise: a subscriber receives every purge published after it subscribed, on any instance
 * of the bus, including its own (delivered at once, in `publish`, before the purge goes out), at least once.
 * Purges are idempotent, so the rare duplicate (a replay meeting a live message) costs nothing. The shared buses
 * also replay, when they start, the purges of the last `replayMs` to the subscribers present by then, so an
 * instance started just after a purge still applies it.
 *
 * - LocalPurgeBus: one process (the memory store).
 * - RedisPurgeBus (stores/redis-purge-bus.ts): Redis pub/sub, plus a capped list for the replay.
 * - MemcachedPurgeBus (stores/memcached-purge-bus.ts): memcached has no pub/sub, so a key holding the recent
 *   purges, updated by compare-and-swap and read by every instance every pollMs.
 */
export interface Purge {
  readonly kind: 'url' | 'prefix' | 'tag';
  readonly value: string;
  /** Epoch milliseconds when it was made: entries stored before it are purged. */
  readonly at: number;
}

export interface PurgeBus {
  /**
   * Delivers to this instance's subscribers, then to the other instances. Rejects when the purge could not be
   * handed to the shared medium (Redis or memcached down): the caller should say that the purge was local only.
   */
  publish(p: Purge): Promise<void>;
  /** Returns the unsubscribe function. */
  subscribe(cb: (p: Purge) => void): () => void;
  close(): Promise<void>;
}

/** In-process: delivers each purge to the subscribers of this bus object, synchronously. */
export class LocalPurgeBus implements PurgeBus {
  private readonly subscribers = new PurgeSubscribers();

  publish(p: Purge): Promise<void> {
    this.subscribers.deliver(p);
    return Promise.resolve();
  }

  subscribe(cb: (p: Purge) => void): () => void {
    return this.subscribers.add(cb);
  }

  close(): Promise<void> {
    this.subscribers.clear();
    return Promise.resolve();
  }
}

/** The subscribers of one bus, as every bus keeps them. */
export class PurgeSubscribers {
  private readonly callbacks = new Set<(p: Purge) => void>();

  add(cb: (p: Purge) => void): () => void {
    // A wrapper, so that one function subscribed twice is two subscriptions.
    const entry = (p: Purge) => cb(p);
    this.callbacks.add(entry);
    return () => void this.callbacks.delete(entry);
  }

  /** Calls each subscriber; one that throws does not keep the purge from the others (its error is a warning). */
  deliver(p: Purge): void {
    for (const cb of this.callbacks) {
      try {
        cb(p);
      } catch (err) {
        process.emitWarning(`purge subscriber threw: ${String(err)}`, { code: 'FULCRUM_PURGE_SUBSCRIBER' });
      }
    }
  }

  clear(): void {
    this.callbacks.clear();
  }
}

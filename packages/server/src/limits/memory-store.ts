/**
 * Rate limit state in this process's memory: a Map from key to TAT. A key whose TAT has passed is as good as
 * unseen, so a sweep drops such keys; past `maxKeys` (a client spraying keys: header values, IPv6 addresses) the
 * oldest keys go first, and get their burst again, rather than memory growing without bound.
 */
import type { MonotonicClock as Clock } from '../time.ts';
import { gcra, type Decision, type GcraPolicy } from './gcra.ts';
import type { LimiterStore } from './store.ts';

/** Expired keys are dropped this often, and at most this often when the table is full. */
const SWEEP_MS = 10_000;

export class MemoryLimiterStore implements LimiterStore {
  private readonly tats = new Map<string, number>();
  private readonly clock: Clock;
  private readonly maxKeys: number;
  private lastSweep: number;
  private readonly timer: NodeJS.Timeout;
  /** Keys forgotten while still live because the table was full. */
  evicted = 0;

  constructor(clock: Clock, maxKeys: number) {
    this.clock = clock;
    this.maxKeys = maxKeys;
    this.lastSweep = clock.now();
    this.timer = setInterval(() => this.sweep(), SWEEP_MS).unref();
  }

  take(key: string, policy: GcraPolicy): Decision {
    const now = this.clock.now();
    const tat = this.tats.get(key);
    const next = gcra(tat, now, policy);
    if (next.decision.allowed) {
      if (tat === undefined && this.tats.size >= this.maxKeys) this.makeRoom(now);
      this.tats.set(key, next.tat);
    }
    return next.decision;
  }

  get size(): number {
    return this.tats.size;
  }

  /** Drops every key whose TAT has passed. */
  sweep(now = this.clock.now()): void {
    this.lastSweep = now;
    for (const [key, tat] of this.tats) if (tat <= now) this.tats.delete(key);
  }

  private makeRoom(now: number): void {
    if (now - this.lastSweep >= SWEEP_MS) this.sweep(now);
    // Insertion order: the first keys are the oldest (a key's later requests update it in place).
    for (const key of this.tats.keys()) {
      if (this.tats.size < this.maxKeys) break;
      this.tats.delete(key);
      this.evicted++;
    }
  }

  close(): Promise<void> {
    clearInterval(this.timer);
    return Promise.resolve();
  }
}

/**
 * Purges through memcached (see purge-bus.ts for the promise every bus keeps). Memcached has no pub/sub, so the
 * recent purges live in one key, `memcachedKey(keyPrefix, 'purges')`: a JSON list of at most `keep` records no
 * older than the replay window, on the server the store's hashing gives that key. Every instance reads it every
 * pollMs and delivers the records it has not delivered yet; on its first successful read it delivers those
 * younger than replayMs (the late joiner's replay) and only notes the older ones.
 *
 * Publishing is a read-modify-write made safe by compare-and-swap: read the list and its CAS, append, write back
 * only if nobody wrote in between (ADD when the key is absent), else read again, up to maxAttempts with a short
 * random pause. So two instances purging at the same moment both get into the list; a CAS conflict is a retry,
 * not a lost purge. What memcached cannot promise: the key may be evicted under memory pressure (it is small and
 * read twice a second, so it stays near the head of memcached's LRU), and a restart of its server forgets it;
 * then purges not yet read by an instance are lost to that instance.
 */
import type { Clock } from '../../time.ts';
import { systemRandom, type Random } from '../../time.ts';
import { PurgeSubscribers, type Purge, type PurgeBus } from '../purge-bus.ts';
import { HashRing } from './hash-ring.ts';
import { DEFAULT_MEMCACHED_TIMEOUT_MS, MemcachedConnection } from './memcached-connection.ts';
import { DEFAULT_KEY_PREFIX, memcachedKey, memcachedTtlSeconds } from './memcached-keys.ts';
import { DeliveredIds, parsePurgeRecord, purgeOf, PurgeRecorder, type PurgeRecord } from './purge-wire.ts';

export const DEFAULT_POLL_MS = 500;
export const DEFAULT_MEMCACHED_PURGES_KEPT = 100;
export const DEFAULT_MEMCACHED_PURGE_REPLAY_MS = 60_000;
const DEFAULT_MAX_ATTEMPTS = 8;

export interface MemcachedPurgeBusOptions {
  /** As the store's: the same list on every instance. */
  readonly servers: readonly string[];
  readonly keyPrefix?: string;
  /** Per memcached request. */
  readonly timeoutMs?: number;
  /** How often each instance reads the list. A purge takes up to this long to reach the others. */
  readonly pollMs?: number;
  /** How many recent purges the list holds at most (the list is read every pollMs: keep it small). */
  readonly keep?: number;
  /** How far back a starting instance replays purges; records older than this (or 10 polls) leave the list. */
  readonly replayMs?: number;
  /** CAS conflicts tolerated by one publish before it gives up. */
  readonly maxAttempts?: number;
  /** Epoch milliseconds, as in Purge.at. */
  readonly wallClock?: Clock;
  /** Jitter of the pause after a CAS conflict. */
  readonly random?: Random;
}

const epochClock: Clock = { now: () => Date.now() };

export class MemcachedPurgeBus implements PurgeBus {
  private readonly key: string;
  private readonly connection: MemcachedConnection;
  private readonly pollMs: number;
  private readonly keep: number;
  private readonly replayMs: number;
  /** Records older than this leave the list (at least 10 polls, so that every instance reads each one). */
  private readonly listWindowMs: number;
  private readonly maxAttempts: number;
  private readonly wallClock: Clock;
  private readonly random: Random;
  private readonly subscribers = new PurgeSubscribers();
  private readonly recorder = new PurgeRecorder();
  private readonly delivered: DeliveredIds;
  /** The CAS of the list as last read: an unchanged list is not parsed again. */
  private lastCas: Buffer | undefined = undefined;
  private replayed = false;
  private readonly readyWaiters: (() => void)[] = [];
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(options: MemcachedPurgeBusOptions) {
    if (options.servers.length === 0) throw new RangeError('MemcachedPurgeBus needs at least one server');
    this.key = memcachedKey(options.keyPrefix ?? DEFAULT_KEY_PREFIX, 'purges');
    const server = options.servers[new HashRing(options.servers).pick(this.key)]!;
    this.connection = new MemcachedConnection(server, options.timeoutMs ?? DEFAULT_MEMCACHED_TIMEOUT_MS);
    this.pollMs = options.pollMs ?? DEFAULT_POLL_MS;
    this.keep = options.keep ?? DEFAULT_MEMCACHED_PURGES_KEPT;
    this.replayMs = options.replayMs ?? DEFAULT_MEMCACHED_PURGE_REPLAY_MS;
    this.listWindowMs = Math.max(this.replayMs, 10 * this.pollMs);
    this.maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
    this.wallClock = options.wallClock ?? epochClock;
    this.random = options.random ?? systemRandom;
    this.delivered = new DeliveredIds(2 * this.listWindowMs + 60_000);
    // The first read runs at once, so that the subscribers added right after construction get the replay.
    this.timer = setTimeout(() => void this.poll(), 0);
    this.timer.unref();
  }

  /** Resolves true once the list has been read (and replayed) once, false after timeoutMs. */
  ready(timeoutMs = 5000): Promise<boolean> {
    if (this.replayed) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.readyWaiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  async publish(p: Purge): Promise<void> {
    const record = this.recorder.record(p);
    this.delivered.firstTime(record.id, this.wallClock.now());
    this.subscribers.deliver(p);
    try {
      for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
        const current = await this.connection.get(this.key);
        const list = this.withNewest(current === undefined ? [] : parseList(current.value), record);
        const value = Buffer.from(JSON.stringify(list));
        const ttl = memcachedTtlSeconds(this.listWindowMs + 1000);
        if (await this.connection.replaceIf(this.key, value, ttl, current?.cas)) return;
        await new Promise((resolve) => setTimeout(resolve, this.random.next() * 10 * attempt));
      }
    } catch (err) {
      throw new Error(`purge not published to memcached: ${(err as Error).message}`, { cause: err });
    }
    throw new Error(`purge not published to memcached: ${this.maxAttempts} concurrent updates in a row`);
  }

  subscribe(cb: (p: Purge) => void): () => void {
    return this.subscribers.add(cb);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.subscribers.clear();
    this.connection.close();
  }

  /** One read of the list; schedules the next. */
  private async poll(): Promise<void> {
    try {
      const current = await this.connection.get(this.key);
      if (this.closed) return;
      const changed = current === undefined || this.lastCas === undefined || !current.cas.equals(this.lastCas);
      if (changed) {
        this.lastCas = current?.cas;
        this.take(current === undefined ? [] : parseList(current.value));
      }
      if (!this.replayed) {
        this.replayed = true;
        for (const w of this.readyWaiters.splice(0)) w();
      }
    } catch {
      // Memcached down or slow: try again at the next poll; purges wait in the list meanwhile.
    }
    if (this.closed) return;
    this.timer = setTimeout(() => void this.poll(), this.pollMs);
    this.timer.unref();
  }

  /** Delivers the records not delivered yet; on the first read, only those within the replay window. */
  private take(list: readonly PurgeRecord[]): void {
    const now = this.wallClock.now();
    const horizon = this.replayed ? -Infinity : now - this.replayMs;
    for (const record of list) {
      if (this.delivered.firstTime(record.id, now) && record.at >= horizon) this.subscribers.deliver(purgeOf(record));
    }
  }

  /** The list's records still within its window, then the new one; the newest `keep` of them, oldest first. */
  private withNewest(list: readonly PurgeRecord[], record: PurgeRecord): PurgeRecord[] {
    const horizon = this.wallClock.now() - this.listWindowMs;
    const out = list.filter((r) => r.at >= horizon);
    out.push(record);
    return out.length > this.keep ? out.slice(out.length - this.keep) : out;
  }
}

/** The records of a stored list; anything unreadable counts as an empty list (and is overwritten by the next publish). */
function parseList(buf: Buffer): PurgeRecord[] {
  let raw: unknown;
  try {
    raw = JSON.parse(buf.toString('utf8'));
  } catch {
    return [];
  }
  if (!Array.isArray(raw)) return [];
  const out: PurgeRecord[] = [];
  for (const item of raw) {
    const record = parsePurgeRecord(item);
    if (record !== undefined) out.push(record);
  }
  return out;
}

/**
 * Purges through Redis (see purge-bus.ts for the promise every bus keeps). A purge is published on the channel
 * `${keyPrefix}purge` and pushed onto the list `${keyPrefix}purges`, capped at `keep` and expiring `replayMs`
 * after the last push, in one MULTI. Each instance listens on a connection of its own (a subscribed connection
 * is given over to the subscription), and ioredis subscribes again after a reconnect. When it starts, once
 * subscribed (so nothing falls between), an instance reads the list and replays the purges younger than replayMs.
 * Its own purges come back on the channel; they are recognised by their origin and dropped, as `publish`
 * delivered them already.
 */
import type { Redis } from 'ioredis';
import type { Clock } from '../../time.ts';
import { PurgeSubscribers, type Purge, type PurgeBus } from '../purge-bus.ts';
import { DeliveredIds, parsePurgeRecord, purgeOf, PurgeRecorder, type PurgeRecord } from './purge-wire.ts';
import { closeRedis, createRedisClient, createRedisSubscriber, DEFAULT_REDIS_TIMEOUT_MS, whenReady, type RedisConnectionOptions } from './redis-client.ts';
import { DEFAULT_KEY_PREFIX } from './redis.ts';

export const DEFAULT_PURGE_REPLAY_MS = 60_000;
export const DEFAULT_PURGES_KEPT = 1000;

export interface RedisPurgeBusOptions extends RedisConnectionOptions {
  /** As the store's (config: cache.redis.key_prefix). */
  readonly keyPrefix?: string;
  /** How far back a starting instance replays purges. */
  readonly replayMs?: number;
  /** How many recent purges the list holds at most. */
  readonly keep?: number;
  /** Epoch milliseconds, as in Purge.at. */
  readonly wallClock?: Clock;
}

const epochClock: Clock = { now: () => Date.now() };

export class RedisPurgeBus implements PurgeBus {
  private readonly channel: string;
  private readonly listKey: string;
  private readonly replayMs: number;
  private readonly keep: number;
  private readonly timeoutMs: number;
  private readonly wallClock: Clock;
  private readonly pub: Redis;
  private readonly sub: Redis;
  private readonly subscribers = new PurgeSubscribers();
  private readonly recorder = new PurgeRecorder();
  private readonly delivered: DeliveredIds;
  /** True once subscribed and replayed; false if closed first. */
  private readonly started: Promise<boolean>;
  private closed = false;

  constructor(options: RedisPurgeBusOptions) {
    const prefix = options.keyPrefix ?? DEFAULT_KEY_PREFIX;
    this.channel = `${prefix}purge`;
    this.listKey = `${prefix}purges`;
    this.replayMs = options.replayMs ?? DEFAULT_PURGE_REPLAY_MS;
    this.keep = options.keep ?? DEFAULT_PURGES_KEPT;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_REDIS_TIMEOUT_MS;
    this.wallClock = options.wallClock ?? epochClock;
    // A live message and the replay may carry the same purge; remember ids for longer than a replay reaches.
    this.delivered = new DeliveredIds(2 * this.replayMs + 60_000);
    this.pub = createRedisClient(options);
    this.sub = createRedisSubscriber(options);
    // Connection failures show as rejected commands (publish) or are retried (subscriber): no need to log.
    this.pub.on('error', () => {});
    this.sub.on('error', () => {});
    this.sub.on('message', (channel: string, message: string) => {
      if (channel === this.channel) this.receive(message);
    });
    this.started = this.start().catch(() => false);
  }

  /** Resolves true once subscribed and the recent purges replayed (false after timeoutMs): for startup, tests. */
  ready(timeoutMs = 5000): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    return Promise.race([
      this.started,
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs))),
    ]).finally(() => clearTimeout(timer));
  }

  async publish(p: Purge): Promise<void> {
    const record = this.recorder.record(p);
    this.delivered.firstTime(record.id, this.wallClock.now());
    this.subscribers.deliver(p);
    const json = JSON.stringify(record);
    // Unlike a cache read, a purge may wait a moment for the connection (just started, or reconnecting).
    await whenReady(this.pub, this.timeoutMs);
    let results: [Error | null, unknown][] | null;
    try {
      results = await this.pub
        .multi()
        .publish(this.channel, json)
        .lpush(this.listKey, json)
        .ltrim(this.listKey, 0, this.keep - 1)
        .pexpire(this.listKey, this.replayMs)
        .exec();
    } catch (err) {
      throw new Error(`purge not published to Redis: ${(err as Error).message}`, { cause: err });
    }
    const failed = results?.find(([err]) => err !== null)?.[0];
    if (results === null || failed) throw new Error(`purge not published to Redis: ${failed?.message ?? 'transaction aborted'}`, { cause: failed });
  }

  subscribe(cb: (p: Purge) => void): () => void {
    return this.subscribers.add(cb);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.subscribers.clear();
    await Promise.all([closeRedis(this.pub, this.timeoutMs), closeRedis(this.sub, this.timeoutMs)]);
  }

  /**
   * Subscribes (waiting for Redis as long as it takes), then replays the list once the publisher can read it.
   * The replay is best effort: a read that fails while connected (a timeout, another type under the key) gives up.
   */
  private async start(): Promise<boolean> {
    await this.sub.subscribe(this.channel);
    for (;;) {
      if (this.closed) return false;
      if (this.pub.status !== 'ready') await new Promise((resolve) => this.pub.once('ready', resolve));
      let items: string[];
      try {
        items = await this.pub.lrange(this.listKey, 0, this.keep - 1);
      } catch {
        if (this.pub.status === 'ready') return false;
        continue; // Dropped between 'ready' and the read: wait for the next connection.
      }
      const horizon = this.wallClock.now() - this.replayMs;
      // The list is newest first; replay oldest first.
      for (let i = items.length - 1; i >= 0; i--) {
        const record = parse(items[i]!);
        if (record !== undefined && record.at >= horizon) this.deliver(record);
      }
      return true;
    }
  }

  private receive(message: string): void {
    const record = parse(message);
    if (record === undefined || record.origin === this.recorder.origin) return;
    this.deliver(record);
  }

  private deliver(record: PurgeRecord): void {
    if (this.delivered.firstTime(record.id, this.wallClock.now())) this.subscribers.deliver(purgeOf(record));
  }
}

function parse(json: string): PurgeRecord | undefined {
  try {
    return parsePurgeRecord(JSON.parse(json));
  } catch {
    return undefined;
  }
}

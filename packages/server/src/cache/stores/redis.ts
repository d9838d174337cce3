/**
 * A Redis shared by several Fulcrum instances. Each entry is one string value (codec.ts) under
 * `keyPrefix + key`, set with `SET key value PX ttl` so Redis expires it. Fails open: while Redis is down or
 * slow, `get` answers undefined and `set`/`delete` do nothing, within timeoutMs, after counting the error; the
 * connection comes back by itself (redis-client.ts explains the connection's options).
 */
import type { Redis } from 'ioredis';
import { decodeStoredResponse, encodeStoredResponse } from '../codec.ts';
import type { CacheStore, StoreStats, StoredResponse } from '../store.ts';
import { closeRedis, createRedisClient, DEFAULT_REDIS_TIMEOUT_MS, whenReady, type RedisConnectionOptions } from './redis-client.ts';

/** As the config's cache.redis.key_prefix. */
export const DEFAULT_KEY_PREFIX = 'fulcrum:';

export interface RedisStoreOptions extends RedisConnectionOptions {
  /** Before every key (config: cache.redis.key_prefix), so instances of one deployment share, others do not. */
  readonly keyPrefix?: string;
}

export interface RedisStoreStats extends StoreStats {
  /** Of the errors, those that were timeouts (Redis connected but not answering in time). */
  readonly timeouts: number;
  /** Whether the connection is up and ready now. */
  readonly connected: boolean;
}

const TIMED_OUT = 'Command timed out';

export class RedisStore implements CacheStore {
  readonly name = 'redis' as const;
  private readonly client: Redis;
  private readonly prefix: string;
  private readonly timeoutMs: number;
  private errors = 0;
  private timeouts = 0;
  /** Bound once: the error counter the operations' catch handlers share. */
  private readonly failed = (err: unknown): undefined => {
    this.errors++;
    if (err instanceof Error && err.message === TIMED_OUT) this.timeouts++;
    return undefined;
  };

  constructor(options: RedisStoreOptions) {
    this.prefix = options.keyPrefix ?? DEFAULT_KEY_PREFIX;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_REDIS_TIMEOUT_MS;
    this.client = createRedisClient(options);
    // Connection errors come as events (and again as failed commands, counted there); without a listener
    // ioredis would print each reconnect failure.
    this.client.on('error', () => {});
  }

  /** Resolves true once connected (false after timeoutMs): for startup and tests; operations never wait. */
  ready(timeoutMs = 5000): Promise<boolean> {
    return whenReady(this.client, timeoutMs);
  }

  get(key: string): Promise<StoredResponse | undefined> {
    return this.client.getBuffer(this.prefix + key).then(decodeStoredResponse, this.failed);
  }

  set(key: string, value: StoredResponse, ttlMs: number): Promise<void> {
    // PX takes a positive integer; a response with no time left is not stored, and supersedes the old one.
    const px = Math.ceil(ttlMs);
    if (!(px > 0)) return this.delete(key);
    return this.client.set(this.prefix + key, encodeStoredResponse(value), 'PX', px).then(noop, this.failed);
  }

  delete(key: string): Promise<void> {
    return this.client.del(this.prefix + key).then(noop, this.failed);
  }

  stats(): RedisStoreStats {
    return {
      bytes: undefined,
      entries: undefined,
      evictions: 0,
      errors: this.errors,
      timeouts: this.timeouts,
      connected: this.client.status === 'ready',
    };
  }

  close(): Promise<void> {
    return closeRedis(this.client, this.timeoutMs);
  }
}

function noop(): void {}

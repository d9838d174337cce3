/**
 * ACME orders shared through the Redis the cache already uses (cache.store: redis): a lock per name (SET NX PX,
 * released only by its holder, expiring by itself should the holder die mid-order), and the certificate with its
 * key published under the cache's key prefix, where other instances adopt it instead of ordering their own.
 * Redis unreachable fails open: this instance orders by itself, as it would alone.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { closeRedis, createRedisClient, whenReady } from '../cache/stores/redis-client.ts';
import type { Logger } from '../observability/logger.ts';
import type { PemPair } from '../tls/certificates.ts';
import type { AcmeShare } from './share.ts';

/** Longer than an order takes (validation, finalisation, polling); a holder that died frees the name after it. */
const LOCK_MS = 10 * 60 * 1000;
const COMMAND_TIMEOUT_MS = 2000;

/** Deletes the lock only when it still holds our token: never another instance's lock taken after ours expired. */
const UNLOCK = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

export class RedisAcmeShare implements AcmeShare {
  private readonly redis: Redis;
  private readonly prefix: string;
  private readonly log: Logger;
  private readonly token = randomUUID();

  constructor(url: string, keyPrefix: string, log: Logger) {
    this.redis = createRedisClient({ url, timeoutMs: COMMAND_TIMEOUT_MS });
    this.redis.on('error', () => {}); // each command reports its own failure
    this.prefix = `${keyPrefix}acme:`;
    this.log = log;
  }

  async fetch(name: string): Promise<PemPair | undefined> {
    try {
      await this.ready();
      const text = await this.redis.get(`${this.prefix}cert:${name}`);
      if (text === null) return undefined;
      const value = JSON.parse(text) as Partial<PemPair>;
      return typeof value.cert === 'string' && typeof value.key === 'string' ? { cert: value.cert, key: value.key } : undefined;
    } catch (err) {
      this.log.warn({ err, domain: name }, 'acme: cannot read shared certificates from Redis');
      return undefined;
    }
  }

  async lock(name: string): Promise<boolean> {
    try {
      await this.ready();
      return (await this.redis.set(`${this.prefix}lock:${name}`, this.token, 'PX', LOCK_MS, 'NX')) === 'OK';
    } catch (err) {
      this.log.warn({ err, domain: name }, 'acme: Redis unreachable, ordering without the shared lock');
      return true;
    }
  }

  async unlock(name: string): Promise<void> {
    await this.redis.eval(UNLOCK, 1, `${this.prefix}lock:${name}`, this.token).catch(() => {});
  }

  async publish(name: string, pair: PemPair): Promise<void> {
    try {
      await this.ready();
      await this.redis.set(`${this.prefix}cert:${name}`, JSON.stringify({ cert: pair.cert, key: pair.key }));
    } catch (err) {
      this.log.warn({ err, domain: name }, 'acme: cannot publish the certificate to Redis');
    }
  }

  /** Orders are rare: wait for the connection (commands fail at once while it is down) rather than fail open early. */
  private async ready(): Promise<void> {
    if (!(await whenReady(this.redis, COMMAND_TIMEOUT_MS))) throw new Error('Redis is not reachable');
  }

  close(): Promise<void> {
    return closeRedis(this.redis, 1000);
  }
}

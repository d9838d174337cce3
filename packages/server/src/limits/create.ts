/** The rate limit store a process uses, chosen once at start from the config (like the cache store). */
import type { Config } from '../config/schema.ts';
import type { LimitStats } from '../observability/limit-stats.ts';
import type { ConnectionLimitsConfig } from './connections.ts';
import { RedisLimiterStore } from './redis-store.ts';
import type { LimiterStore } from './store.ts';

/** Whether counters are shared through Redis: `rate_limit.store: redis`, or `auto` with the cache in Redis. */
export function sharesThroughRedis(config: Config): boolean {
  const { store } = config.rate_limit;
  return store === 'redis' || (store === 'auto' && config.cache.store === 'redis');
}

/**
 * `local`: the instance's own limiter (this process's memory, or the cluster primary's). With Redis, it decides
 * whenever Redis cannot.
 */
export function createLimiterStore(config: Config, local: LimiterStore, stats: LimitStats): LimiterStore {
  if (!sharesThroughRedis(config)) return local;
  const { redis } = config.rate_limit;
  return new RedisLimiterStore({ url: redis.url ?? config.cache.redis.url, keyPrefix: redis.key_prefix, timeoutMs: redis.timeout, local, stats });
}

export function connectionLimitsOf(config: Config): ConnectionLimitsConfig {
  return { maxTotal: config.limits.max_connections, maxPerIp: config.limits.max_connections_per_ip };
}

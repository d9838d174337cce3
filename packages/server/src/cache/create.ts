/** Builds a process's cache from the config: the store, the optional first tier, and the purge bus. */
import type { CacheConfig } from '../config/schema.ts';
import type { Clock } from '../time.ts';
import { BAN_RETENTION_MS, HttpCache } from './http-cache.ts';
import { LocalPurgeBus, type PurgeBus } from './purge-bus.ts';
import { MemcachedPurgeBus } from './stores/memcached-purge-bus.ts';
import { RedisPurgeBus } from './stores/redis-purge-bus.ts';
import type { CacheStore } from './store.ts';
import { MemcachedStore } from './stores/memcached.ts';
import { MemoryStore } from './stores/memory.ts';
import { RedisStore } from './stores/redis.ts';

export function createCache(config: CacheConfig, wallClock: Clock): HttpCache {
  let store: CacheStore;
  let bus: PurgeBus;
  switch (config.store) {
    case 'memory':
      store = new MemoryStore({ maxBytes: config.memory.max_size });
      bus = new LocalPurgeBus();
      break;
    case 'redis': {
      const { url, key_prefix, timeout } = config.redis;
      store = new RedisStore({ url, keyPrefix: key_prefix, timeoutMs: timeout });
      // Recent purges are replayed by an instance that starts later, for as long as bans last.
      bus = new RedisPurgeBus({ url, keyPrefix: key_prefix, timeoutMs: timeout, replayMs: BAN_RETENTION_MS });
      break;
    }
    case 'memcached': {
      const { servers, key_prefix, timeout, max_item_size } = config.memcached;
      store = new MemcachedStore({ servers, keyPrefix: key_prefix, timeoutMs: timeout, maxItemBytes: max_item_size });
      bus = new MemcachedPurgeBus({ servers, keyPrefix: key_prefix, timeoutMs: timeout });
      break;
    }
  }
  const l1 = config.store !== 'memory' && config.l1_max_size > 0 ? new MemoryStore({ maxBytes: config.l1_max_size }) : undefined;
  return new HttpCache(store, l1, bus, { coalesceTimeoutMs: config.coalesce_timeout, wallClock });
}

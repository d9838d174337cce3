/**
 * Counters shared by every instance through Redis: one key per counter holding its TAT, updated by a Lua script
 * that runs GCRA atomically (gcra.ts's arithmetic, on Redis's clock so that instances' clocks need not agree) and
 * lets the key expire once its TAT has passed. A dead or slow Redis degrades the limit, never the traffic: a
 * command that fails or outlasts the timeout (and every request while the connection is down, without waiting)
 * is decided by the local store instead, and counted as a fallback (logged by the proxy process, in metrics).
 */
import type { Redis } from 'ioredis';
import { closeRedis, createRedisClient, whenReady, type RedisConnectionOptions } from '../cache/stores/redis-client.ts';
import type { LimitStats } from '../observability/limit-stats.ts';
import type { MonotonicClock as Clock } from '../time.ts';
import type { Decision, GcraPolicy } from './gcra.ts';
import type { LimiterStore } from './store.ts';

/**
 * KEYS[1] the counter; ARGV: interval ms, burst, and now in ms ('' for Redis's TIME). Returns allowed (0/1),
 * remaining, and retry-after and reset in ms as strings (an integer reply would lose the fractions). Numbers are
 * written with 17 digits: Lua's tostring keeps 14, a tenth of a millisecond of an epoch time, which is enough to
 * refuse the last request of a burst whose interval is not a whole number of ms.
 */
export const GCRA_LUA = `
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
if now == nil then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
end
local tat = tonumber(redis.call('GET', KEYS[1]))
if tat == nil or tat < now then tat = now end
local limit = burst * interval
local ahead = tat + interval - now
local function num(x) return string.format('%.17g', x) end
if ahead - limit > 1e-3 then
  return {0, 0, num(ahead - limit), num(tat - now)}
end
redis.call('SET', KEYS[1], num(tat + interval), 'PX', math.max(1, math.ceil(ahead)))
return {1, math.floor((limit - ahead) / interval + 1e-3), '0', num(ahead)}
`;

type GcraReply = [number, number, string, string];
interface GcraCommand {
  fulcrumGcra(key: string, intervalMs: number, burst: number, now: number | ''): Promise<GcraReply>;
}

export interface RedisLimiterOptions extends RedisConnectionOptions {
  readonly keyPrefix: string;
  /** Where decisions go while Redis cannot answer: the instance's own limiter. */
  readonly local: LimiterStore;
  readonly stats: LimitStats;
  /** For tests: the script's clock (epoch ms) instead of Redis's TIME. */
  readonly clock?: Clock;
}

export class RedisLimiterStore implements LimiterStore {
  private readonly client: Redis & GcraCommand;
  private readonly prefix: string;
  private readonly local: LimiterStore;
  private readonly stats: LimitStats;
  private readonly clock: Clock | undefined;
  private readonly timeoutMs: number;

  constructor(options: RedisLimiterOptions) {
    this.prefix = options.keyPrefix;
    this.local = options.local;
    this.stats = options.stats;
    this.clock = options.clock;
    this.timeoutMs = options.timeoutMs ?? 100;
    const client = createRedisClient(options);
    client.defineCommand('fulcrumGcra', { numberOfKeys: 1, lua: GCRA_LUA });
    // Failures are counted as fallbacks; without a listener ioredis would print each reconnect attempt.
    client.on('error', () => {});
    this.client = client as Redis & GcraCommand;
  }

  /** Resolves true once connected (false after timeoutMs): for startup and tests; decisions never wait for it. */
  ready(timeoutMs = 5000): Promise<boolean> {
    return whenReady(this.client, timeoutMs);
  }

  get connected(): boolean {
    return this.client.status === 'ready';
  }

  take(key: string, policy: GcraPolicy): Decision | Promise<Decision> {
    if (this.client.status !== 'ready') return this.fallback(key, policy);
    return this.client
      .fulcrumGcra(this.prefix + key, policy.intervalMs, policy.burst, this.clock?.now() ?? '')
      .then(decisionOf, () => this.fallback(key, policy));
  }

  private fallback(key: string, policy: GcraPolicy): Decision | Promise<Decision> {
    this.stats.fallbacks++;
    return this.local.take(key, policy);
  }

  async close(): Promise<void> {
    await closeRedis(this.client, this.timeoutMs);
    await this.local.close();
  }
}

function decisionOf([allowed, remaining, retryAfter, reset]: GcraReply): Decision {
  return { allowed: allowed === 1, remaining, retryAfterMs: Number(retryAfter), resetMs: Number(reset) };
}

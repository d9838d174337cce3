/**
 * How Fulcrum connects to Redis (the store and the purge bus share it): fail fast while the connection is down,
 * reconnect by itself with backoff.
 *
 * - `enableOfflineQueue: false`: a command issued while disconnected fails at once instead of waiting in a
 *   queue for a connection that may take seconds to come back; the request goes on as a miss.
 * - `maxRetriesPerRequest: 0`: commands in flight when the connection drops fail at once too, instead of being
 *   sent again after the reconnect. Their caller has moved on (the timeout is 250 ms, a reconnect takes longer),
 *   and a stale SET replayed later would only overwrite a newer one. (1 would hold them across one reconnect.)
 * - `commandTimeout`: each command is rejected after timeoutMs if Redis does not answer (a hung server, a full
 *   socket); the reply, if it comes, is discarded. ioredis arms the timer as the command is issued.
 * - `retryStrategy`: exponential backoff with jitter, never giving up; ioredis resets the attempt count once
 *   connected.
 */
import { Redis, type RedisOptions } from 'ioredis';
import { systemRandom, type Random } from '../../time.ts';

export const DEFAULT_REDIS_TIMEOUT_MS = 250;
export const DEFAULT_RECONNECT_MIN_MS = 50;
export const DEFAULT_RECONNECT_MAX_MS = 2000;

export interface RedisConnectionOptions {
  /** redis://[user:password@]host:port[/db] (rediss:// for TLS). */
  readonly url: string;
  /** Per command; slower counts as an error (config: cache.redis.timeout). */
  readonly timeoutMs?: number;
  /** First reconnect delay; doubles on each failed attempt up to reconnectMaxMs. */
  readonly reconnectMinMs?: number;
  readonly reconnectMaxMs?: number;
  /** Jitter of the reconnect delays. */
  readonly random?: Random;
}

/**
 * The delay before reconnect attempt `attempt` (1, 2, …): min × 2^(attempt−1) capped at max, then "equal
 * jitter" (half fixed, half random), so that instances cut off together do not reconnect in lockstep.
 */
export function reconnectDelay(attempt: number, minMs: number, maxMs: number, random: Random): number {
  const ceiling = Math.min(maxMs, minMs * 2 ** Math.min(attempt - 1, 30));
  return Math.round(ceiling / 2 + (random.next() * ceiling) / 2);
}

/** A command connection: fail fast, per-command timeout. */
export function createRedisClient(options: RedisConnectionOptions): Redis {
  return new Redis(options.url, {
    ...baseOptions(options),
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: options.timeoutMs ?? DEFAULT_REDIS_TIMEOUT_MS,
  });
}

/**
 * A subscriber connection: SUBSCRIBE waits (in the offline queue) for the first connection, however long Redis
 * takes to appear, and ioredis subscribes again after each reconnect (`autoResubscribe`).
 */
export function createRedisSubscriber(options: RedisConnectionOptions): Redis {
  return new Redis(options.url, { ...baseOptions(options), enableOfflineQueue: true, maxRetriesPerRequest: null, autoResubscribe: true });
}

function baseOptions(options: RedisConnectionOptions): RedisOptions {
  const min = options.reconnectMinMs ?? DEFAULT_RECONNECT_MIN_MS;
  const max = options.reconnectMaxMs ?? DEFAULT_RECONNECT_MAX_MS;
  const random = options.random ?? systemRandom;
  return {
    retryStrategy: (attempt) => reconnectDelay(attempt, min, max, random),
    connectTimeout: Math.max(1000, (options.timeoutMs ?? DEFAULT_REDIS_TIMEOUT_MS) * 4),
    // Redis before 7.2 answers CLIENT SETINFO with an error; the name is not worth the noise.
    disableClientInfo: true,
  };
}

/** Resolves true once the client is connected and ready, false if it is not after timeoutMs. */
export function whenReady(client: Redis, timeoutMs: number): Promise<boolean> {
  if (client.status === 'ready') return Promise.resolve(true);
  return new Promise((resolve) => {
    const onReady = () => {
      clearTimeout(timer);
      resolve(true);
    };
    const timer = setTimeout(() => {
      client.off('ready', onReady);
      resolve(false);
    }, timeoutMs);
    client.once('ready', onReady);
  });
}

/** Quits politely (pending replies first), but no longer than timeoutMs; then drops the connection. */
export async function closeRedis(client: Redis, timeoutMs: number): Promise<void> {
  if (client.status === 'end') return;
  let timer: NodeJS.Timeout | undefined;
  const quit = client.status === 'ready' ? client.quit().then(() => undefined, () => undefined) : Promise.resolve();
  await Promise.race([quit, new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
  clearTimeout(timer);
  client.disconnect();
}

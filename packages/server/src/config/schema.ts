/**
 * The one source of truth for Fulcrum's configuration: the TypeScript types, the validation, the JSON Schema
 * for editors (`fulcrum schema`) and the reference in docs/configuration.md all derive from this file.
 * Every object is strict: an unknown key is an error, so that a typo never passes silently.
 */
import { z } from 'zod';
import { address, duration, listenAddress, percent, size } from './fields.ts';
import { ListenerSchema, AcmeSchema, checkListeners } from './listeners.ts';

export { UNIT } from './fields.ts';

const backendUrl = z
  .string()
  .refine((v) => {
    try {
      const u = new URL(v);
      return u.protocol === 'http:' && u.pathname === '/' && !u.search && !u.hash;
    } catch {
      return false;
    }
  }, 'not a valid URL (expected http://host:port with no path)')
  .describe('The backend origin, http://host:port.');

export const ALGORITHMS = [
  'round-robin',
  'weighted-round-robin',
  'least-connections',
  'random',
  'p2c-ewma',
  'consistent-hash',
  'sticky',
  'least-load',
] as const;
export type AlgorithmName = (typeof ALGORITHMS)[number];

/** Bounds of a backend's weight. */
export const WEIGHT_MIN = 1;
export const WEIGHT_MAX = 1000;

/** An `admin.allowed_hosts` entry: a DNS name or IP literal (IPv6 in brackets), with an optional port. */
const ADMIN_HOST = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+)(:\d{1,5})?$/;

const HASH_KEY = /^(ip|path|header:[A-Za-z0-9!#$%&'*+.^_`|~-]+|cookie:[^\s;=,]+)$/;

export const BackendConfigSchema = z
  .strictObject({
    url: backendUrl,
    weight: z.number().int().min(WEIGHT_MIN).max(WEIGHT_MAX).default(1).describe(`Relative share of traffic (${WEIGHT_MIN} to ${WEIGHT_MAX}).`),
    max_connections: z
      .number()
      .int()
      .min(1)
      .optional()
      .describe('Circuit breaker: most concurrent requests to this backend. Defaults to the pool\'s.'),
    drain: z
      .boolean()
      .default(false)
      .describe('Graceful drain: no new requests go to this backend; those in flight finish. Set and reload.'),
  })
  .describe('One backend server.');

const ActiveHealthSchema = z
  .strictObject({
    path: z.string().startsWith('/').default('/healthz').describe('Path probed with GET.'),
    interval: duration('2s', true).describe('Time between probes of one backend (jittered by up to 10%).'),
    timeout: duration('1s', true).describe('A probe slower than this fails.'),
    healthy: z.number().int().min(1).default(2).describe('Consecutive passing probes that mark a backend healthy.'),
    unhealthy: z.number().int().min(1).default(3).describe('Consecutive failing probes that mark it unhealthy.'),
  })
  .describe('Active health checks: a probe per backend on a schedule. A status in 200-399 passes.');

const PassiveHealthSchema = z
  .strictObject({
    consecutive_failures: z
      .number()
      .int()
      .min(1)
      .default(5)
      .describe('Consecutive failed requests (connect errors, resets, timeouts, 5xx) that eject a backend.'),
    ejection: duration('30s', true).describe(
      'Base ejection time; it grows with each repeated ejection (up to 10x). With active checks, `healthy` passing probes after the ejection end it sooner (as HAProxy and Envoy do).',
    ),
    max_ejected: percent('50%').describe('Never eject more than this share of a pool\'s backends.'),
  })
  .describe('Passive outlier detection from real traffic.');

export const PoolConfigSchema = z
  .strictObject({
    algorithm: z.enum(ALGORITHMS).default('round-robin').describe('How a backend is picked for each request.'),
    hash: z
      .strictObject({
        key: z
          .string()
          .regex(HASH_KEY, 'expected ip, path, header:NAME or cookie:NAME')
          .default('ip')
          .describe('What is hashed: ip, path, header:NAME or cookie:NAME.'),
        bounded_load: z
          .number()
          .min(1)
          .default(1.25)
          .describe('No backend takes more than this factor times the mean in-flight load (Mirrokni et al.).'),
      })
      .prefault({})
      .describe('Settings of consistent-hash (a Maglev table with bounded loads).'),
    sticky: z
      .strictObject({
        cookie: z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/).default('fulcrum_backend').describe('Cookie name.'),
        ttl: duration('0s').describe('Cookie lifetime; 0 means a session cookie.'),
      })
      .prefault({})
      .describe('Settings of sticky: a cookie pins a client to its backend; new clients go round robin.'),
    backends: z.array(BackendConfigSchema).default([]).describe('The servers of this pool.'),
    health: z
      .strictObject({
        active: ActiveHealthSchema.optional(),
        passive: PassiveHealthSchema.optional(),
        slow_start: duration('0s').describe('A recovered or new backend\'s weight ramps from 10% to 100% over this time.'),
      })
      .prefault({})
      .describe('Health checking.'),
    retries: z
      .strictObject({
        attempts: z.number().int().min(0).max(10).default(2).describe('Extra tries on other backends after a failure.'),
        budget: percent('20%').describe('Retries may add at most this share of the pool\'s requests (over 10s).'),
        min_per_second: z.number().int().min(0).default(3).describe('Retries always allowed per second, whatever the budget.'),
      })
      .prefault({})
      .describe(
        'Retries on another backend, for requests without a body: any method after a failed connect, idempotent ones (or any on a reused connection) after a reset; never once the response has started.',
      ),
    timeouts: z
      .strictObject({
        connect: duration('5s', true).describe('Opening a connection to a backend.'),
        response: duration('30s', true).describe(
          'From the request fully sent (its body included) to the response headers; also how long a backend may leave the request body unread.',
        ),
        idle: duration('60s', true).describe('Idle keep-alive connections to backends are closed after this, and a response body stalled this long fails.'),
        request: duration('0s').describe('Whole request, headers to last body byte; 0 means no limit.'),
        client_body: duration('60s', true).describe(
          "Longest pause between two reads of a client's request body (nginx's client_body_timeout): past it the request gets 408 and the backend is not blamed. Also bounds the wait for an unread body after an early answer.",
        ),
      })
      .prefault({})
      .describe('Timeouts of requests through this pool, towards backends and clients.'),
    circuit_breaker: z
      .strictObject({
        max_connections: z.number().int().min(1).default(1024).describe('Most concurrent requests to one backend.'),
        max_pending: z.number().int().min(0).default(1024).describe('Most requests of this pool waiting for a free connection.'),
      })
      .prefault({})
      .describe('Limits that shed load with a 503 instead of piling it on a backend.'),
  })
  .describe('A pool of backends and how traffic is spread over them.');

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

export const CACHEABLE_BY_DEFAULT = [200, 203, 204, 300, 301, 308, 404, 405, 410, 414, 501];

export const RouteCacheSchema = z
  .strictObject({
    enabled: z.boolean().default(true).describe('Whether responses of this route go through the cache.'),
    ttl: duration('60s').describe('Freshness when the backend gives none (no Cache-Control max-age/s-maxage, no Expires).'),
    max_object_size: size('1mb').describe('Largest response body stored; larger ones pass through uncached.'),
    statuses: z
      .array(z.number().int().min(200).max(599))
      .default(CACHEABLE_BY_DEFAULT)
      .describe('Status codes that may be stored.'),
    key: z
      .strictObject({
        query: z
          .enum(['keep', 'sort', 'ignore'])
          .default('sort')
          .describe('The query string in the key: as sent, with parameters sorted, or left out.'),
        ignore_params: z.array(z.string()).default([]).describe('Query parameters left out of the key (e.g. utm_source).'),
        headers: z.array(z.string().regex(HEADER_NAME)).default([]).describe('Request headers whose values are part of the key.'),
        cookies: z.array(z.string()).default([]).describe('Cookies whose values are part of the key.'),
      })
      .prefault({})
      .describe('What makes two requests the same cache entry (method, host and path always do).'),
    stale_while_revalidate: duration('0s').describe('Serve stale this long while refreshing, when the response does not say (RFC 5861).'),
    stale_if_error: duration('0s').describe('Serve stale this long when the backend fails, when the response does not say (RFC 5861).'),
    tag_header: z
      .string()
      .regex(HEADER_NAME)
      .default('surrogate-key')
      .describe('Response header listing the tags a response can be purged by (Surrogate-Key: space-separated; Cache-Tag: commas).'),
  })
  .describe('Caching of this route\'s responses (RFC 9111 shared cache).');

export const RouteConfigSchema = z
  .strictObject({
    match: z
      .strictObject({
        host: z.string().optional().describe('Host header, without port, in any case, with or without a trailing dot; a leading "*." matches any subdomain.'),
        path_prefix: z.string().startsWith('/').optional().describe('Path prefix.'),
        methods: z.array(z.string().regex(/^[A-Z]+$/)).optional().describe('Request methods, upper case.'),
        headers: z
          .record(z.string().regex(HEADER_NAME), z.string())
          .optional()
          .describe('Headers that must be present with exactly these values.'),
      })
      .prefault({})
      .describe('All given conditions must hold; an empty match matches everything.'),
    pool: z.string().describe('Name of the pool that serves matching requests.'),
    cache: RouteCacheSchema.optional(),
  })
  .describe('A route; the first matching route wins.');

const CacheStoreSchema = z
  .strictObject({
    store: z.enum(['memory', 'redis', 'memcached']).default('memory').describe('Where responses are kept.'),
    memory: z
      .strictObject({ max_size: size('256mb').describe('Bytes held at most (headers and bodies); least recently used go first.') })
      .prefault({})
      .describe('The in-memory store (the default).'),
    redis: z
      .strictObject({
        url: z.string().default('redis://127.0.0.1:6379').describe('redis://[user:password@]host:port[/db]; use ${ENV} for secrets.'),
        key_prefix: z.string().default('fulcrum:').describe('Prefix of every key and of the purge channel.'),
        timeout: duration('250ms', true).describe('An operation slower than this counts as a miss (the request goes on).'),
      })
      .prefault({})
      .describe('A Redis shared by several Fulcrum instances.'),
    memcached: z
      .strictObject({
        servers: z.array(z.string()).default(['127.0.0.1:11211']).describe('host:port of each server; keys are spread by consistent hashing.'),
        key_prefix: z.string().default('fulcrum:').describe('Prefix of every key.'),
        timeout: duration('250ms', true).describe('An operation slower than this counts as a miss (the request goes on).'),
        max_item_size: size('1mb').describe('Memcached\'s item size limit: larger responses are not stored there.'),
      })
      .prefault({})
      .describe('One or more memcached servers.'),
    l1_max_size: size('0').describe('With redis or memcached: a small in-memory first tier of this many bytes (0: none).'),
    coalesce_timeout: duration('5s', true).describe('How long concurrent misses wait for the one request that fills the cache.'),
  })
  .describe('The response cache shared by the routes that enable it.');

export const ConfigSchema = z
  .strictObject({
    listen: address
      .optional()
      .describe('The one plain listener, as host:port (IPv6 in brackets: [::1]:8080; port 0 picks a free port): 127.0.0.1:8080 when neither this nor `listeners` is given.'),
    listeners: z
      .array(ListenerSchema)
      .min(1)
      .optional()
      .describe('Several listeners, plain or TLS, instead of `listen`: each serves the same routes. The first one is the main port.'),
    acme: AcmeSchema.optional(),
    admin: z
      .strictObject({
        listen: listenAddress('127.0.0.1:9090'),
        token: z.string().min(16).optional().describe('Bearer token for mutating admin endpoints; use ${ENV_VAR}.'),
        allowed_hosts: z
          .array(z.string().regex(ADMIN_HOST, 'not a host name, or host:port'))
          .default([])
          .describe(
            'Host names the admin listener answers to besides its own address (and localhost when on loopback): a name matches on any port, name:port on that one. Other Host values get 421 (DNS rebinding); add the name a reverse proxy or Prometheus uses.',
          ),
      })
      .prefault({})
      .describe('The admin listener: API and metrics.'),
    workers: z
      .union([z.literal('auto'), z.number().int().min(1).max(256)])
      .default('auto')
      .describe('Worker processes sharing the listener; auto means one per core.'),
    log: z
      .strictObject({
        level: z
          .enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'])
          .default('info')
          .describe('Least severe level written; silent writes nothing.'),
        access: z.boolean().default(true).describe('One JSON line per request.'),
      })
      .prefault({})
      .describe('Structured JSON logs on stdout.'),
    trusted_proxies: z
      .array(z.string())
      .default([])
      .describe('Addresses or CIDRs whose X-Forwarded-* headers are kept; from others they are replaced.'),
    limits: z
      .strictObject({
        max_header_size: size('16kb').describe('Largest request head; larger gets 431.'),
        max_body_size: size('10mb').describe('Largest request body; larger gets 413.'),
        header_timeout: duration('10s', true).describe('Time a client has to send the request head.'),
        keepalive_timeout: duration('5s').describe('Idle time before a client connection is closed.'),
        send_timeout: duration('60s', true).describe(
          'A client that takes none of its response for this long is disconnected (nginx\'s send_timeout). While it does not read, the backend is not read either, and not blamed for the wait.',
        ),
      })
      .prefault({})
      .describe('Limits on what clients send.'),
    drain_timeout: duration('30s').describe('On SIGTERM: how long in-flight requests may take to finish.'),
    cache: CacheStoreSchema.prefault({}),
    pools: z.record(z.string().regex(/^[A-Za-z0-9_-]+$/), PoolConfigSchema).describe('Named pools of backends.'),
    routes: z.array(RouteConfigSchema).default([]).describe('Routes, tried in order.'),
    default_pool: z
      .string()
      .optional()
      .describe('Pool for requests no route matches; when there is a single pool it is the default.'),
  })
  // Runs even when other fields failed (`when`), so that every problem is listed at once; hence the guards.
  .superRefine(
    (config, ctx) => {
    checkListeners(config, ctx);
    const names = new Set(Object.keys(config.pools ?? {}));
    if (names.size === 0) ctx.addIssue({ code: 'custom', path: ['pools'], message: 'at least one pool is needed' });
    (Array.isArray(config.routes) ? config.routes : []).forEach((route, i) => {
      if (typeof route?.pool === 'string' && !names.has(route.pool)) {
        ctx.addIssue({ code: 'custom', path: ['routes', i, 'pool'], message: `no pool named "${route.pool}"` });
      }
    });
    if (typeof config.default_pool === 'string' && !names.has(config.default_pool)) {
      ctx.addIssue({ code: 'custom', path: ['default_pool'], message: `no pool named "${config.default_pool}"` });
    }
    for (const [name, pool] of Object.entries(config.pools ?? {})) {
      const seen = new Set<string>();
      (Array.isArray(pool?.backends) ? pool.backends : []).forEach((b, i) => {
        const origin = URL.canParse(b?.url) ? new URL(b.url).origin : undefined;
        if (origin === undefined) return;
        if (seen.has(origin)) {
          ctx.addIssue({ code: 'custom', path: ['pools', name, 'backends', i, 'url'], message: `duplicate backend ${origin}` });
        }
        seen.add(origin);
      });
    }
    },
    { when: () => true },
  )
  .describe('Fulcrum configuration.');

export type Config = z.output<typeof ConfigSchema>;
export type ConfigInput = z.input<typeof ConfigSchema>;
export type PoolConfig = z.output<typeof PoolConfigSchema>;
export type BackendConfig = z.output<typeof BackendConfigSchema>;
export type RouteConfig = z.output<typeof RouteConfigSchema>;
export type RouteCacheConfig = z.output<typeof RouteCacheSchema>;
export type CacheConfig = z.output<typeof CacheStoreSchema>;
export type { AcmeConfig, ListenerConfig, TlsConfig } from './listeners.ts';

/** The JSON Schema for editors, of what a user writes (the input side: units as strings). */
export function configJsonSchema(): unknown {
  return z.toJSONSchema(ConfigSchema, { io: 'input', unrepresentable: 'any' });
}

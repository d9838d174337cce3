/**
 * GET /api/openapi.json: the admin API described in OpenAPI 3.1, kept by hand next to the route tables in
 * server.ts; a test checks that every route there appears here, so they cannot drift apart.
 */
import { ALGORITHMS } from '../config/schema.ts';

const json = (schema: object) => ({ 'application/json': { schema } });
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const error = (description: string) => ({ description, content: json(ref('Error')) });
const ok = (description: string, schema: object = { type: 'object' }) => ({ description, content: json(schema) });
const param = (name: string, description: string) => ({ name, in: 'path', required: true, description, schema: { type: 'string' } });
const POOL = param('pool', 'Pool name, as in the config.');
const BACKEND = param('id', 'Backend id: its origin (http://host:port), percent-encoded.');

/** Runtime changes answer `persisted: false`: they are not written to the config file, and a reload replaces them. */
const RUNTIME_NOTE = 'A runtime change: not written to the config file (`persisted: false`); a reload from disk replaces it.';

/** A mutating operation: bearer token, JSON request, JSON errors for 401, 403, 415 and the given statuses. */
function mutation(summary: string, responses: Record<string, object>, extra: object = {}): object {
  return {
    summary,
    security: [{ bearer: [] }],
    ...extra,
    responses: {
      ...responses,
      401: error('No valid bearer token (or none configured on a non-loopback listener).'),
      403: error('An Origin header that does not name this listener (a page of another site).'),
      415: error('Not `Content-Type: application/json` (required with or without a body).'),
    },
  };
}

function body(schema: object): object {
  return { requestBody: { required: true, content: json(schema) } };
}

const runtimeReply = (props: object) =>
  ok(RUNTIME_NOTE, { type: 'object', required: ['pool', 'persisted'], properties: { pool: { type: 'string' }, ...props, persisted: { const: false } } });

export const OPENAPI = {
  openapi: '3.1.0',
  info: {
    title: 'Fulcrum admin API',
    version: '1',
    description:
      'Read endpoints need no token; mutations need `Authorization: Bearer <admin.token>` (without a token, only a loopback listener accepts them), `Content-Type: application/json` even without a body, and no Origin or one naming this listener. Every request needs a Host naming this listener (its address, localhost on loopback, or `admin.allowed_hosts`): 421 otherwise. Errors: `{ "error": { "code", "message", "details" } }`.',
  },
  components: {
    securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
    schemas: {
      Error: {
        type: 'object',
        required: ['error'],
        properties: {
          error: {
            type: 'object',
            required: ['code', 'message'],
            properties: {
              code: { type: 'string', examples: ['FUL_ERR_ADMIN_NOT_FOUND'] },
              message: { type: 'string' },
              details: { description: 'For invalid input or config: the problems, by path.', type: 'array', items: ref('Problem') },
            },
          },
        },
      },
      TopEntry: { type: 'object', required: ['name', 'count'], properties: { name: { type: 'string' }, count: { type: 'integer' } } },
      Cache: {
        type: 'object',
        properties: {
          hits: { type: 'integer', description: 'Served fresh from the cache.' },
          misses: { type: 'integer' },
          stale: { type: 'integer', description: 'Served stale: while revalidating, or because the backend failed.' },
          revalidated: { type: 'integer' },
          coalesced: { type: 'integer' },
          stored: { type: 'integer' },
          bytes: { type: 'integer' },
          entries: { type: 'integer' },
          evictions: { type: 'integer' },
          storeErrors: { type: 'integer' },
          topUrls: {
            description: 'Up to 10 cached URLs (host and path, no scheme) with the most hits (fresh, stale or collapsed), largest first. Approximate: counted in bounded memory per process, then summed.',
            type: 'array',
            maxItems: 10,
            items: ref('TopEntry'),
          },
          topTags: { description: 'Up to 10 tags with the most hits, as topUrls; a hit counts once for each tag of its entry.', type: 'array', maxItems: 10, items: ref('TopEntry') },
        },
      },
      Limits: {
        type: 'object',
        properties: {
          store: { enum: ['memory', 'redis'], description: 'Where counters live: the instance\'s memory, or a Redis shared by the instances using it.' },
          fallbacks: { type: 'integer', description: 'Decisions the instance\'s own counters took because Redis failed or was slow.' },
          routes: {
            type: 'array',
            items: {
              type: 'object',
              properties: {
                name: { type: 'string', description: 'The policy name, as in RateLimit headers and the `route` label of metrics.' },
                route: { type: 'integer', description: 'The route\'s position in `routes`, from 0.' },
                pool: { type: 'string' },
                match: { type: 'object' },
                rate: { type: 'object', properties: { count: { type: 'integer' }, periodSeconds: { type: 'integer' } } },
                burst: { type: 'integer' },
                key: { type: 'string', examples: ['ip', 'route', 'header:x-api-key', 'cookie:session'] },
                headers: { type: 'boolean', description: 'RateLimit fields on allowed responses too.' },
                allowed: { type: 'integer' },
                limited: { type: 'integer', description: 'Requests answered 429 since start.' },
                limitedLastMinute: { type: 'integer', description: 'Requests answered 429 in the last minute.' },
              },
            },
          },
          connections: {
            type: 'object',
            properties: {
              max: { type: 'integer', description: 'limits.max_connections (0: none).' },
              maxPerIp: { type: 'integer', description: 'limits.max_connections_per_ip (0: none).' },
              open: { type: 'integer' },
              refused: { type: 'object', properties: { maxConnections: { type: 'integer' }, maxConnectionsPerIp: { type: 'integer' } } },
            },
          },
        },
      },
      Problem: { type: 'object', required: ['path', 'message'], properties: { path: { type: 'string' }, message: { type: 'string' } } },
      Pool: {
        type: 'object',
        properties: {
          name: { type: 'string' },
          algorithm: { enum: [...ALGORITHMS] },
          requests: { type: 'integer' },
          errorRate: { type: 'number' },
          latencyMs: { type: 'object' },
          backends: { type: 'array', items: ref('Backend') },
        },
      },
      Backend: {
        type: 'object',
        properties: {
          id: { type: 'string' },
          weight: { type: 'integer' },
          state: { enum: ['healthy', 'unhealthy', 'ejected', 'draining', 'slow-start'] },
          warmth: { type: 'number' },
          inFlight: { type: 'integer' },
          requests: { type: 'integer' },
          registered: { type: 'boolean', description: 'Added by self-registration (kept while it heartbeats), not by the config.' },
        },
      },
    },
  },
  paths: {
    '/healthz': { get: { summary: 'Liveness of the admin listener.', responses: { 200: ok('Always ok.') } } },
    '/metrics': { get: { summary: 'Prometheus metrics.', responses: { 200: { description: 'Text exposition format.', content: { 'text/plain': { schema: { type: 'string' } } } } } } },
    '/api/pools': { get: { summary: 'Every pool with its backends, states and statistics.', responses: { 200: ok('The pools.', { type: 'array', items: ref('Pool') }) } } },
    '/api/pools/{pool}': { get: { summary: 'One pool.', parameters: [POOL], responses: { 200: ok('The pool.', ref('Pool')), 404: error('No such pool.') } } },
    '/api/config': { get: { summary: 'The running config, secrets redacted (secret-named fields, URL passwords, credential headers).', responses: { 200: ok('The config.') } } },
    '/api/events': { get: { summary: 'The recent control plane events.', responses: { 200: ok('The events, oldest first.', { type: 'array', items: { type: 'object' } }) } } },
    '/api/events/stream': {
      get: {
        summary: 'Server-Sent Events: `stats` every second and each control plane event as it happens.',
        responses: { 200: { description: 'An event stream.', content: { 'text/event-stream': { schema: { type: 'string' } } } } },
      },
    },
    '/api/stats': { get: { summary: 'Traffic statistics, summed over the proxy processes.', responses: { 200: ok('The statistics.') } } },
    '/api/cache': {
      get: {
        summary: 'The response cache, summed over the proxy processes: hits, misses, stale, size, and the URLs and tags with the most hits.',
        responses: { 200: ok('The cache figures.', ref('Cache')) },
      },
    },
    '/api/limits': {
      get: {
        summary: 'Each route\'s rate limit (rate, burst, key) with its allowed and limited requests, and the connection limits with the connections they refused; summed over the proxy processes.',
        responses: { 200: ok('The limits.', ref('Limits')) },
      },
    },
    '/api/openapi.json': { get: { summary: 'This document.', responses: { 200: ok('OpenAPI 3.1.') } } },
    '/api/cache/purge': {
      post: mutation(
        'Purges cached responses by URL, prefix or tag, on every instance sharing the store.',
        { 202: ok('Purge accepted.'), 400: error('Not one of {"url"}, {"prefix"}, {"tag"}, or a URL no request can be cached under.') },
        body({ type: 'object', minProperties: 1, maxProperties: 1, properties: { url: { type: 'string' }, prefix: { type: 'string' }, tag: { type: 'string' } } }),
      ),
    },
    '/api/pools/{pool}/backends/{id}/drain': {
      post: mutation(`Drains a backend: no new requests; those in flight finish. ${RUNTIME_NOTE}`, { 200: runtimeReply({ backend: { type: 'string' }, state: { type: 'string' } }), 404: error('No such pool or backend.') }, { parameters: [POOL, BACKEND] }),
    },
    '/api/pools/{pool}/backends/{id}/undrain': {
      post: mutation(`Ends a drain. ${RUNTIME_NOTE}`, { 200: runtimeReply({ backend: { type: 'string' }, state: { type: 'string' } }), 404: error('No such pool or backend.') }, { parameters: [POOL, BACKEND] }),
    },
    '/api/pools/{pool}/backends/{id}/weight': {
      post: mutation(
        `Sets a backend's weight. ${RUNTIME_NOTE}`,
        { 200: runtimeReply({ backend: { type: 'string' }, weight: { type: 'integer' } }), 400: error('Not JSON.'), 404: error('No such pool or backend.'), 422: error('Invalid weight; details by path.') },
        { parameters: [POOL, BACKEND], ...body({ type: 'object', required: ['weight'], additionalProperties: false, properties: { weight: { type: 'integer', minimum: 1, maximum: 1000 } } }) },
      ),
    },
    '/api/pools/{pool}/backends': {
      post: mutation(
        `Adds a backend, validated as in the config file. ${RUNTIME_NOTE}`,
        { 200: runtimeReply({ backend: { type: 'string' }, weight: { type: 'integer' } }), 400: error('Not JSON.'), 404: error('No such pool.'), 409: error('The pool already has this backend.'), 422: error('Invalid backend; details by path.') },
        {
          parameters: [POOL],
          ...body({
            type: 'object',
            required: ['url'],
            additionalProperties: false,
            properties: { url: { type: 'string', examples: ['http://10.0.0.5:8080'] }, weight: { type: 'integer', minimum: 1, maximum: 1000, default: 1 }, max_connections: { type: 'integer', minimum: 1 }, drain: { type: 'boolean' } },
          }),
        },
      ),
    },
    '/api/pools/{pool}/backends/{id}': {
      delete: mutation(`Removes a backend; its requests in flight finish. ${RUNTIME_NOTE}`, { 200: runtimeReply({ backend: { type: 'string' }, removed: { const: true } }), 404: error('No such pool or backend.') }, { parameters: [POOL, BACKEND] }),
    },
    '/api/pools/{pool}/algorithm': {
      post: mutation(
        `Switches the pool's balancing algorithm. ${RUNTIME_NOTE}`,
        { 200: runtimeReply({ algorithm: { enum: [...ALGORITHMS] } }), 400: error('Not JSON.'), 404: error('No such pool.'), 422: error('Unknown algorithm; details by path.') },
        { parameters: [POOL], ...body({ type: 'object', required: ['algorithm'], additionalProperties: false, properties: { algorithm: { enum: [...ALGORITHMS] } } }) },
      ),
    },
    '/api/pools/{pool}/registrations': {
      post: mutation(
        'A backend registers itself, or renews its registration (a heartbeat); without one within the TTL it is removed. Not written to the config file (`persisted: false`), but kept across a reload from disk unless the new file lists the backend or drops its pool.',
        {
          200: runtimeReply({ backend: { type: 'string' }, ttlMs: { type: 'integer' }, renewed: { type: 'boolean', description: 'A heartbeat of a registration already there.' } }),
          400: error('Not JSON.'),
          404: error('No such pool.'),
          409: error('The pool has this backend from its config file or the admin API.'),
          422: error('Invalid registration (ttl from 100ms to 1h); details by path.'),
        },
        {
          parameters: [POOL],
          ...body({
            type: 'object',
            required: ['url'],
            additionalProperties: false,
            properties: { url: { type: 'string' }, weight: { type: 'integer', minimum: 1, maximum: 1000, default: 1 }, ttl: { type: ['string', 'integer'], default: '15s' } },
          }),
        },
      ),
    },
    '/api/pools/{pool}/registrations/{id}': {
      delete: mutation(`A registered backend leaves now; its requests in flight finish. ${RUNTIME_NOTE}`, { 200: runtimeReply({ backend: { type: 'string' }, removed: { const: true } }), 404: error('No such registration.') }, { parameters: [POOL, BACKEND] }),
    },
    '/api/reload': {
      post: mutation('Re-reads the config file; a bad one is refused and the running config stays.', { 200: ok('Applied.'), 422: error('The file is invalid; details by path.') }),
    },
  },
} as const;

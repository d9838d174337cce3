/**
 * The admin listener: a JSON API over pools, backends, config and events, a live event stream (events.ts),
 * Prometheus metrics, an OpenAPI document (openapi.ts), and the mutating endpoints (cache purges, drains, reloads,
 * runtime changes in runtime.ts), which need the admin token (auth.ts) and are logged with who and what. Every request
 * first passes guard.ts (Host names this listener; a mutation is JSON from no foreign Origin), token or not.
 * Errors: `{ "error": { "code", "message", "details"? } }`.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { Logger } from '../observability/logger.ts';
import type { ControlPlane } from '../workers/control-plane.ts';
import { splitHostPort } from '../config/listen.ts';
import { purgeUrl } from '../cache/http-cache.ts';
import { Refused } from '../uri.ts';
import { redactSecrets } from '../config/redact.ts';
import { EMPTY_CACHE } from '../observability/stats.ts';
import { authorizeMutation } from './auth.ts';
import { guardRequest, REFUSALS } from './guard.ts';
import { streamEvents } from './events.ts';
import { OPENAPI } from './openapi.ts';
import { errorReply, readBody, type Reply } from './reply.ts';
import { addBackend, deregister, register, removeBackend, setAlgorithm, setWeight } from './runtime.ts';
import { DEFAULT_DASHBOARD_DIR, isDashboardPath, serveDashboard } from './static.ts';
import { poolView, redactedConfig } from './views.ts';

type Route = (control: ControlPlane, params: string[]) => unknown;

/** `/api/pools/{pool}` → a pattern whose groups are the `{…}` parameters, in order. */
function compile(template: string): RegExp {
  return new RegExp(`^${template.replace(/\{[^}]+\}/g, '([^/]+)')}$`);
}

/** One pool's view, with which of its backends registered themselves. */
const poolOf = (c: ControlPlane, name: string) =>
  poolView(name, c.config, c.backendsOf(name), c.stats(), c.health(), (pool, backend) => c.registrations.isRegistered(pool, backend));

/** GET routes answering JSON, by OpenAPI path template (openapi.ts documents each; a test checks). */
export const ROUTES: ReadonlyArray<readonly [string, Route]> = [
  ['/api/pools', (c) => Object.keys(c.config.pools).map((name) => poolOf(c, name))],
  // Own properties only: `constructor` or `__proto__` are not pools.
  ['/api/pools/{pool}', (c, [name]) => (Object.hasOwn(c.config.pools, name!) ? poolOf(c, name!) : undefined)],
  ['/api/config', (c) => redactedConfig(c.config)],
  ['/api/events', (c) => c.events()],
  ['/api/stats', (c) => c.stats()],
  ['/api/cache', (c) => ({ ...(c.stats().cache ?? EMPTY_CACHE) })],
  ['/api/openapi.json', () => OPENAPI],
];

type Mutation = (control: ControlPlane, params: string[], req: http.IncomingMessage) => Reply | Promise<Reply>;

/** Mutating routes, by method and path template: each runs only once authorizeMutation allowed the request. */
export const MUTATIONS: ReadonlyArray<readonly ['POST' | 'DELETE', string, Mutation]> = [
  ['POST', '/api/cache/purge', (c, _, req) => purge(c, req)],
  ['POST', '/api/pools/{pool}/backends/{id}/drain', (c, [pool, id]) => drainBackend(c, pool!, id!, 'drain')],
  ['POST', '/api/pools/{pool}/backends/{id}/undrain', (c, [pool, id]) => drainBackend(c, pool!, id!, 'undrain')],
  ['POST', '/api/pools/{pool}/backends/{id}/weight', (c, [pool, id], req) => setWeight(c, pool!, id!, req)],
  ['POST', '/api/pools/{pool}/backends', (c, [pool], req) => addBackend(c, pool!, req)],
  ['DELETE', '/api/pools/{pool}/backends/{id}', (c, [pool, id], req) => removeBackend(c, pool!, id!, req)],
  ['POST', '/api/pools/{pool}/algorithm', (c, [pool], req) => setAlgorithm(c, pool!, req)],
  ['POST', '/api/pools/{pool}/registrations', (c, [pool], req) => register(c, pool!, req)],
  ['DELETE', '/api/pools/{pool}/registrations/{id}', (c, [pool, id], req) => deregister(c, pool!, id!, req)],
  ['POST', '/api/reload', (c) => reload(c)],
];

const COMPILED_ROUTES = ROUTES.map(([template, route]) => [compile(template), route] as const);
const COMPILED_MUTATIONS = MUTATIONS.map(([method, template, mutation]) => [method, compile(template), mutation] as const);

/** POST /api/cache/purge {"url"|"prefix"|"tag": value}: purges on every instance sharing the cache store. */
async function purge(control: ControlPlane, req: http.IncomingMessage): Promise<Reply> {
  let body: unknown;
  try {
    body = JSON.parse(await readBody(req, 64 * 1024));
  } catch {
    return errorReply(400, 'FUL_ERR_ADMIN_BAD_REQUEST', 'the body must be JSON');
  }
  const entries = body !== null && typeof body === 'object' ? Object.entries(body) : [];
  const [kind, value] = entries[0] ?? [];
  if (entries.length !== 1 || (kind !== 'url' && kind !== 'prefix' && kind !== 'tag') || typeof value !== 'string' || value === '') {
    return errorReply(400, 'FUL_ERR_ADMIN_BAD_REQUEST', 'expected one of {"url": …}, {"prefix": …}, {"tag": …}');
  }
  const target = kind === 'tag' ? value : purgeUrl(value);
  if (target instanceof Refused) return errorReply(400, 'FUL_ERR_ADMIN_BAD_REQUEST', `no request is cached under this ${kind}: ${target.reason}`);
  control.purge(kind, target);
  return { status: 202, body: { purged: { kind, value: target } }, did: { purge: { kind, value: target } } };
}

/**
 * POST /api/pools/:pool/backends/:origin/drain|undrain. A runtime change only: the config file is not
 * rewritten, so a reload applies the file's `drain:` flags again; the body says so with `persisted: false`.
 */
function drainBackend(control: ControlPlane, pool: string, id: string, action: 'drain' | 'undrain'): Reply {
  const state = Object.hasOwn(control.config.pools, pool) ? control[action](pool, id) : undefined;
  if (state === undefined) return errorReply(404, 'FUL_ERR_ADMIN_NOT_FOUND', `no backend ${id} in pool ${pool}`);
  return { status: 200, body: { pool, backend: id, state, persisted: false }, did: { [action]: { pool, backend: id } } };
}

/** POST /api/reload: re-reads the config file; a bad one is refused with its problems, by path. */
async function reload(control: ControlPlane): Promise<Reply> {
  const result = await control.reload();
  if (!result.ok) {
    const first = result.problems[0];
    const message = `config rejected, keeping the running one${first ? `: ${first.path ? `${first.path}: ` : ''}${first.message}` : ''}`;
    return { ...errorReply(422, 'FUL_ERR_CONFIG_INVALID', message, result.problems), did: { reload: 'rejected' } };
  }
  return { status: 200, body: { ok: true }, did: { reload: 'ok' } };
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
}

function sendError(res: http.ServerResponse, status: number, code: string, message: string): void {
  sendJson(res, status, { error: { code, message } });
}

/** The path parameters, percent-decoded; undefined when one is malformed (decodeURIComponent throws). */
function decodeParams(raw: readonly string[]): string[] | undefined {
  try {
    return raw.map(decodeURIComponent);
  } catch {
    return undefined;
  }
}

export class AdminServer {
  private readonly server: http.Server;

  /** `dashboardDir`: the built dashboard's folder (FULCRUM_DASHBOARD_DIR, else packages/dashboard/dist). */
  constructor(control: ControlPlane, metrics: Registry, log: Logger, dashboardDir = process.env.FULCRUM_DASHBOARD_DIR || DEFAULT_DASHBOARD_DIR) {
    this.server = http.createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0]!;
      const guard = guardRequest(req, control.config.admin.allowed_hosts);
      if (guard !== 'allowed') {
        const [status, code, message] = REFUSALS[guard];
        log.warn({ from: req.socket.remoteAddress, method: req.method, path, host: req.headers.host, origin: req.headers.origin, guard }, 'admin request refused');
        return sendError(res, status, code, message);
      }
      if (req.method === 'POST' || req.method === 'DELETE') {
        for (const [method, pattern, mutation] of COMPILED_MUTATIONS) {
          if (method !== req.method) continue;
          const m = pattern.exec(path);
          if (m) return void this.mutate(req, res, m.slice(1), mutation, control, log);
        }
      }
      if (req.method === 'GET' && path === '/api/events/stream') return streamEvents(res, control);
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        return sendError(res, 405, 'FUL_ERR_ADMIN_METHOD', `${req.method} is not allowed on ${path}`);
      }
      if (path === '/healthz') return sendJson(res, 200, { status: 'ok' });
      if (isDashboardPath(path)) return void serveDashboard(dashboardDir, path, req, res);
      if (path === '/metrics') {
        metrics.metrics().then(
          (text) => {
            res.writeHead(200, { 'content-type': metrics.contentType });
            res.end(text);
          },
          (err: unknown) => {
            log.error({ err }, 'metrics collection failed');
            sendError(res, 500, 'FUL_ERR_INTERNAL', 'metrics collection failed');
          },
        );
        return;
      }
      for (const [pattern, route] of COMPILED_ROUTES) {
        const m = pattern.exec(path);
        if (!m) continue;
        const params = decodeParams(m.slice(1));
        if (params === undefined) return sendError(res, 400, 'FUL_ERR_ADMIN_BAD_REQUEST', `malformed percent-encoding in ${path}`);
        let body: unknown;
        try {
          body = route(control, params);
        } catch (err) {
          // A throw here would be uncaught and end the process (and with it the proxy): answer 500 instead.
          log.error({ err, path }, 'admin request failed');
          return sendError(res, 500, 'FUL_ERR_INTERNAL', 'internal error');
        }
        if (body === undefined) return sendError(res, 404, 'FUL_ERR_ADMIN_NOT_FOUND', `no such resource: ${path}`);
        return sendJson(res, 200, body);
      }
      sendError(res, 404, 'FUL_ERR_ADMIN_NOT_FOUND', `no such resource: ${path}`);
    });
  }

  /** Runs a mutation once the request is authorized, and logs who did what. */
  private async mutate(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    rawParams: string[],
    mutation: Mutation,
    control: ControlPlane,
    log: Logger,
  ): Promise<void> {
    const from = req.socket.remoteAddress;
    const auth = authorizeMutation(req, control.config.admin.token, splitHostPort(control.config.admin.listen).host);
    if (auth !== 'allowed') {
      log.warn({ from, path: req.url, auth }, 'admin mutation refused');
      res.setHeader('www-authenticate', 'Bearer');
      return sendError(res, 401, 'FUL_ERR_ADMIN_UNAUTHORIZED', auth === 'no-token-configured'
        ? 'mutations need admin.token when the admin listener is not on loopback'
        : 'a valid bearer token is required');
    }
    const params = decodeParams(rawParams);
    if (params === undefined) return sendError(res, 400, 'FUL_ERR_ADMIN_BAD_REQUEST', `malformed percent-encoding in ${req.url}`);
    let reply: Reply;
    try {
      reply = await mutation(control, params, req);
    } catch (err) {
      log.error({ err, from, path: req.url }, 'admin mutation failed');
      return sendError(res, 500, 'FUL_ERR_INTERNAL', 'internal error');
    }
    // `did` may hold a backend's URL, credentials and all.
    if (reply.did !== undefined) log.info({ from, ...(redactSecrets(reply.did) as Record<string, unknown>) }, 'admin mutation');
    sendJson(res, reply.status, reply.body);
  }

  async listen(address: string): Promise<number> {
    const { host, port } = splitHostPort(address);
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => resolve());
    });
    return (this.server.address() as AddressInfo).port;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}

/**
 * The admin listener: a JSON API over pools, backends, config and events, Prometheus metrics, and the mutating
 * endpoints (cache purges), which need the admin token (auth.ts) and are logged with who and what.
 * Errors: `{ "error": { "code", "message" } }`.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { Logger } from '../observability/logger.ts';
import type { ControlPlane } from '../workers/control-plane.ts';
import { splitHostPort } from '../workers/proxy-process.ts';
import { purgeUrl } from '../cache/http-cache.ts';
import { authorizeMutation } from './auth.ts';
import { poolView, redactedConfig } from './views.ts';

type Route = (control: ControlPlane, params: string[]) => unknown;

const ROUTES: ReadonlyArray<readonly [RegExp, Route]> = [
  [/^\/api\/pools$/, (c) => Object.keys(c.config.pools).map((name) => poolView(name, c.config, c.backendsOf(name), c.stats(), c.health()))],
  [
    /^\/api\/pools\/([^/]+)$/,
    // Own properties only: `constructor` or `__proto__` are not pools.
    (c, [name]) => (Object.hasOwn(c.config.pools, name!) ? poolView(name!, c.config, c.backendsOf(name!), c.stats(), c.health()) : undefined),
  ],
  [/^\/api\/config$/, (c) => redactedConfig(c.config)],
  [/^\/api\/events$/, (c) => c.events()],
  [/^\/api\/stats$/, (c) => c.stats()],
];

function readBody(req: http.IncomingMessage, max: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      text += chunk;
      if (text.length > max) req.destroy(new Error('body too large'));
    });
    req.on('end', () => resolve(text));
    req.on('error', reject);
  });
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

  constructor(control: ControlPlane, metrics: Registry, log: Logger) {
    this.server = http.createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0]!;
      if (req.method === 'POST' && path === '/api/cache/purge') return void this.purge(req, res, control, log);
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        return sendError(res, 405, 'FUL_ERR_ADMIN_METHOD', `${req.method} is not allowed on ${path}`);
      }
      if (path === '/healthz') return sendJson(res, 200, { status: 'ok' });
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
      for (const [pattern, route] of ROUTES) {
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

  /** POST /api/cache/purge {"url"|"prefix"|"tag": value}: purges on every instance sharing the cache store. */
  private async purge(req: http.IncomingMessage, res: http.ServerResponse, control: ControlPlane, log: Logger): Promise<void> {
    const auth = authorizeMutation(req, control.config.admin.token, splitHostPort(control.config.admin.listen).host);
    if (auth !== 'allowed') {
      log.warn({ from: req.socket.remoteAddress, path: req.url, auth }, 'admin mutation refused');
      res.setHeader('www-authenticate', 'Bearer');
      return sendError(res, 401, 'FUL_ERR_ADMIN_UNAUTHORIZED', auth === 'no-token-configured'
        ? 'mutations need admin.token when the admin listener is not on loopback'
        : 'a valid bearer token is required');
    }
    let body: unknown;
    try {
      body = JSON.parse(await readBody(req, 64 * 1024));
    } catch {
      return sendError(res, 400, 'FUL_ERR_ADMIN_BAD_REQUEST', 'the body must be JSON');
    }
    const entries = body !== null && typeof body === 'object' ? Object.entries(body) : [];
    const [kind, value] = entries[0] ?? [];
    if (entries.length !== 1 || (kind !== 'url' && kind !== 'prefix' && kind !== 'tag') || typeof value !== 'string' || value === '') {
      return sendError(res, 400, 'FUL_ERR_ADMIN_BAD_REQUEST', 'expected one of {"url": …}, {"prefix": …}, {"tag": …}');
    }
    const target = kind === 'tag' ? value : purgeUrl(value);
    control.purge(kind, target);
    log.info({ from: req.socket.remoteAddress, purge: { kind, value: target } }, 'cache purged');
    sendJson(res, 202, { purged: { kind, value: target } });
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

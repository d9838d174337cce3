/**
 * The admin listener: a read-only JSON API over pools, backends, config and events, and Prometheus metrics.
 * Mutating endpoints and the dashboard will sit here too (they need the token checks of their own issue).
 * Errors: `{ "error": { "code", "message" } }`.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { Logger } from '../observability/logger.ts';
import type { ControlPlane } from '../workers/control-plane.ts';
import { splitHostPort } from '../workers/proxy-process.ts';
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
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        return sendError(res, 405, 'FUL_ERR_ADMIN_METHOD', 'the admin API is read-only for now');
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

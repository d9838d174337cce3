/**
 * The downstream side: an HTTP/1.1 server with client limits, handing requests to the pipeline and upgrades to
 * the tunnel, answering malformed requests with a 4xx, and draining gracefully.
 */
import http from 'node:http';
import type net from 'node:net';
import type { Socket } from 'node:net';
import type { Config } from '../config/schema.ts';
import { FulcrumError } from '../errors.ts';
import type { TrafficStats } from '../observability/stats.ts';
import type { Pipeline } from './pipeline.ts';
import type { UpgradeProxy } from './upgrade.ts';

export interface ProxyServerDeps {
  readonly pipeline: Pipeline;
  readonly upgrades: UpgradeProxy;
  readonly stats: TrafficStats;
}

/** Client limits are fixed at start: Node applies them per server (a reload keeps the listener). */
export function createProxyServer(limits: Config['limits'], deps: ProxyServerDeps): http.Server {
  const server = http.createServer({
    maxHeaderSize: limits.max_header_size,
    headersTimeout: limits.header_timeout,
    keepAliveTimeout: limits.keepalive_timeout,
    requestTimeout: 0, // per pool: timeouts.request
    requireHostHeader: true,
    connectionsCheckingInterval: 1000,
  });
  server.on('request', (req, res) => deps.pipeline.handle(req, res));
  server.on('upgrade', (req, socket, head) => deps.upgrades.handle(req, socket as net.Socket, head));
  server.on('connection', (socket: Socket) => {
    deps.stats.connections++;
    socket.once('close', () => deps.stats.connections--);
  });
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    if (!socket.writable || err.code === 'ECONNRESET') {
      socket.destroy();
      return;
    }
    if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
      // Not counted: a connection opened and left silent (a preconnect) is not a request.
      const body = '408 Request Timeout\n';
      socket.end(`HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`);
      return;
    }
    // Node's parser refused the head, so no request reached the pipeline: answered and counted here, like the
    // pipeline's own rejections (pool '-', no backend).
    const error = new FulcrumError(err.code === 'HPE_HEADER_OVERFLOW' ? 'FUL_ERR_HEADERS_TOO_LARGE' : 'FUL_ERR_BAD_REQUEST', { cause: err });
    deps.stats.record('-', undefined, error.status, 0, error.code);
    const body = `${error.status} ${error.message}\ncode: ${error.code}\n`;
    socket.end(
      `HTTP/1.1 ${error.status} ${http.STATUS_CODES[error.status]}\r\ncontent-type: text/plain\r\ncontent-length: ${body.length}\r\n` +
        `connection: close\r\n\r\n${body}`,
    );
  });
  return server;
}

/**
 * Stops accepting, lets in-flight requests and tunnels finish up to `deadlineMs`, then closes what is left.
 * Keep-alive clients get `connection: close` on their next response (the pipeline's draining flag).
 */
export async function drainServer(server: http.Server, deps: ProxyServerDeps, deadlineMs: number): Promise<'drained' | 'deadline'> {
  deps.pipeline.draining = true;
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const until = Date.now() + deadlineMs;
  while (deps.pipeline.inFlight > 0 || deps.upgrades.tunnels.size > 0) {
    if (Date.now() >= until) {
      server.closeAllConnections();
      for (const t of deps.upgrades.tunnels) t.destroy();
      return 'deadline';
    }
    server.closeIdleConnections();
    await new Promise((r) => setTimeout(r, 25));
  }
  server.closeIdleConnections();
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([closed, new Promise((r) => (timer = setTimeout(r, Math.max(0, until - Date.now()))))]);
  clearTimeout(timer);
  return 'drained';
}

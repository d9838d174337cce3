/**
 * Upgrade requests (WebSocket and others): after routing and picking a backend like any request, the request head
 * is written to a fresh connection and the two sockets are joined; the backend's answer (101 or a refusal) goes
 * back as it is. The tunnel counts as a request in flight on its backend until either side closes.
 */
import type { DownstreamRequest } from '../downstream/request.ts';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { FulcrumError, toFulcrumError } from '../errors.ts';
import type { Logger } from 'pino';
import { newRequestId, scanRequestHead, upstreamHeaders } from './forwarding.ts';
import type { Pipeline, PipelineDeps } from './pipeline.ts';
import { cookieValue } from './request-keys.ts';
import type { ProxyRuntime } from './runtime.ts';

export class UpgradeProxy {
  /** Open tunnels, so that a drain can wait for them and a deadline can close them. */
  readonly tunnels = new Set<Duplex>();
  private readonly pipeline: Pipeline;
  private readonly log: Logger;
  private readonly reportOutcome: PipelineDeps['reportOutcome'];
  private readonly stats: PipelineDeps['stats'];
  private readonly clock: PipelineDeps['clock'];

  constructor(pipeline: Pipeline, deps: Pick<PipelineDeps, 'log' | 'reportOutcome' | 'stats' | 'clock'>) {
    this.pipeline = pipeline;
    this.log = deps.log;
    this.reportOutcome = deps.reportOutcome;
    this.stats = deps.stats;
    this.clock = deps.clock;
  }

  handle(req: DownstreamRequest, client: net.Socket, head: Buffer): void {
    const runtime: ProxyRuntime = this.pipeline.runtime;
    const startedAt = this.clock.now();
    let poolName = '-';
    let backendId: string | undefined;
    const rawHead = scanRequestHead(req.url, req.rawHeaders);
    const requestId = rawHead?.requestId ?? newRequestId();
    const pool = rawHead === undefined ? undefined : runtime.route(req, rawHead)?.pool;
    const fail = (error: FulcrumError) => {
      this.log.warn({ reqId: requestId, code: error.code, url: req.url }, `upgrade failed: ${error.message}`);
      this.stats.record(poolName, backendId, error.status, this.clock.now() - startedAt, error.code);
      if (client.writable) {
        const body = `${error.status} ${error.message}\ncode: ${error.code}\nrequest-id: ${requestId}\n`;
        client.end(
          `HTTP/1.1 ${error.status} ${error.message}\r\ncontent-type: text/plain\r\ncontent-length: ${Buffer.byteLength(body)}\r\n` +
            `x-request-id: ${requestId}\r\nconnection: close\r\n\r\n${body}`,
        );
      } else client.destroy();
    };
    if (rawHead === undefined) return fail(new FulcrumError('FUL_ERR_BAD_REQUEST', { message: 'unsupported request target' }));
    if (pool === undefined) return fail(new FulcrumError('FUL_ERR_NO_ROUTE'));
    poolName = pool.name;
    const clientIp = req.remoteAddress;
    // The same affinity as plain requests: a WebSocket goes where the client's hash key or sticky cookie points.
    const keys = runtime.keysOf(pool);
    const picked = pool.select({
      hashKey: keys.hashKey?.(req, clientIp, rawHead.path),
      stickyValue: keys.stickyCookie === undefined ? undefined : cookieValue(req.header('cookie'), keys.stickyCookie),
    });
    if (picked === 'none') return fail(new FulcrumError('FUL_ERR_NO_BACKEND'));
    if (picked === 'circuit-open') return fail(new FulcrumError('FUL_ERR_CIRCUIT_OPEN'));
    const backend = picked;
    const headers = upstreamHeaders(req.rawHeaders, rawHead, {
      clientIp,
      trusted: runtime.isTrusted(clientIp),
      requestId,
    });
    // Upgrade and Connection are hop-by-hop, but here they are the point: the backend must see them.
    headers.push('connection', 'upgrade', 'upgrade', rawHead.upgrade ?? '');
    let lines = `${req.method} ${rawHead.target} HTTP/1.1\r\n`;
    for (let i = 0; i < headers.length; i += 2) lines += `${headers[i]}: ${headers[i + 1]}\r\n`;

    backendId = backend.id;
    backend.inFlight++;
    const upstream = net.connect({ host: backend.host, port: backend.port });
    const { connect, idle } = pool.config.timeouts;
    upstream.setTimeout(connect);
    let connected = false;
    let released = false;
    /** The backend's answer, read from its status line: 101, or a refusal passed on as it is. */
    let status = 0;
    upstream.once('data', (first: Buffer) => (status = Number(first.toString('latin1', 9, 12)) || 0));
    const release = (outcome: 'success' | 'failure') => {
      if (released) return;
      released = true;
      backend.inFlight--;
      this.tunnels.delete(client);
      this.reportOutcome(pool.name, backend, outcome);
      // A tunnel counts as one request, with the backend's status, lasting as long as it was open.
      if (outcome === 'success') this.stats.record(pool.name, backend.id, status, this.clock.now() - startedAt, undefined);
    };
    this.tunnels.add(client);
    upstream.once('connect', () => {
      connected = true;
      upstream.setTimeout(idle);
      client.setTimeout(idle);
      upstream.write(lines + '\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on('timeout', () => {
      if (!connected) {
        upstream.destroy();
        release('failure');
        fail(new FulcrumError('FUL_ERR_CONNECT_TIMEOUT'));
      } else {
        upstream.destroy();
        client.destroy();
      }
    });
    client.on('timeout', () => {
      upstream.destroy();
      client.destroy();
    });
    upstream.on('error', (err) => {
      if (!connected) {
        release('failure');
        fail(toFulcrumError(err));
      } else client.destroy();
    });
    client.on('error', () => upstream.destroy());
    upstream.on('close', () => {
      release('success');
      client.destroy();
    });
    client.on('close', () => upstream.destroy());
  }
}

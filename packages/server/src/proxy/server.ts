/**
 * The downstream side wired to the pipeline: Fulcrum's own HTTP/1.1 listener (downstream/) hands requests to the
 * pipeline and upgrades to the tunnel, after what the listener answers itself (edge.ts), counts refused heads,
 * and drains gracefully.
 */
import type { Config } from '../config/schema.ts';
import { DownstreamServer, type DownstreamTls } from '../downstream/server.ts';
import { answerAtEdge, type EdgeOptions } from './edge.ts';
import type { Logger } from '../observability/logger.ts';
import type { TrafficStats } from '../observability/stats.ts';
import type { Pipeline } from './pipeline.ts';
import type { UpgradeProxy } from './upgrade.ts';

export interface ProxyServerDeps {
  readonly pipeline: Pipeline;
  readonly upgrades: UpgradeProxy;
  readonly stats: TrafficStats;
  readonly log: Logger;
}

/** How one listener is wired: TLS (certificates) or plain, and what it answers before routing. */
export interface ListenerWiring {
  readonly tls: DownstreamTls | undefined;
  readonly edge: EdgeOptions;
}

/** Client limits are fixed at start (a reload keeps the listener). */
export function createProxyServer(limits: Config['limits'], deps: ProxyServerDeps, wiring: ListenerWiring): DownstreamServer {
  const edge = wiring.edge;
  return new DownstreamServer(
    {
      maxHeaderSize: limits.max_header_size,
      headerTimeout: limits.header_timeout,
      keepaliveTimeout: limits.keepalive_timeout,
      sendTimeout: limits.send_timeout,
      secure: wiring.tls !== undefined,
    },
    {
      onRequest: (req, res) => {
        if (answerAtEdge(req, res, edge) === 'pass') deps.pipeline.handle(req, res);
      },
      onUpgrade: (req, res, handoff) => {
        if (answerAtEdge(req, res, edge) === 'pass') deps.upgrades.handle(req, res, handoff);
      },
      // Refused before the pipeline: counted like its own rejections (pool '-', no backend). A connection opened
      // and left silent (a preconnect) is not a request, so a 408 is not counted.
      onRejected: (error) => {
        if (error.code !== 'FUL_ERR_CLIENT_TIMEOUT') deps.stats.record('-', undefined, error.status, 0, error.code);
      },
      onInternalError: (err) => deps.log.error({ err }, 'internal error on a client connection'),
    },
    (delta) => (deps.stats.connections += delta),
    wiring.tls,
  );
}

/**
 * Stops accepting, lets in-flight requests and tunnels finish up to `deadlineMs`, then closes what is left.
 * Keep-alive clients get `connection: close` on their last response.
 */
export async function drainServer(servers: readonly DownstreamServer[], deps: ProxyServerDeps, deadlineMs: number): Promise<'drained' | 'deadline'> {
  deps.pipeline.draining = true;
  const closed = Promise.all(servers.map((s) => s.stopAccepting()));
  const until = Date.now() + deadlineMs;
  while (deps.pipeline.inFlight > 0 || deps.upgrades.tunnels.size > 0) {
    if (Date.now() >= until) {
      for (const server of servers) server.closeAll();
      for (const t of deps.upgrades.tunnels) t.destroy();
      return 'deadline';
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  for (const server of servers) server.stop();
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([closed, new Promise((r) => (timer = setTimeout(r, Math.max(0, until - Date.now()))))]);
  clearTimeout(timer);
  return 'drained';
}

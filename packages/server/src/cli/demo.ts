/**
 * `fulcrum demo`: three local backends of different speeds and an embedded config that shows the balancer at
 * work (p2c-ewma, health checks, outlier ejection, slow start), a cached route (/catalogue/), and the dashboard
 * on the admin listener.
 */
import http from 'node:http';
import type { ConfigInput } from '../config/schema.ts';

export interface DemoBackend {
  readonly name: string;
  readonly port: number;
  /** Typical latency in ms. */
  readonly latencyMs: number;
}

export const DEMO_BACKENDS: readonly DemoBackend[] = [
  { name: 'fast', port: 8001, latencyMs: 2 },
  { name: 'medium', port: 8002, latencyMs: 15 },
  { name: 'slow', port: 8003, latencyMs: 60 },
];

export function demoConfig(backends: readonly { port: number }[]): ConfigInput {
  return {
    listen: '127.0.0.1:8080',
    admin: { listen: '127.0.0.1:9090' },
    workers: 'auto',
    log: { level: 'info', access: false },
    pools: {
      demo: {
        algorithm: 'p2c-ewma',
        backends: backends.map((b) => ({ url: `http://127.0.0.1:${b.port}` })),
        health: {
          active: { path: '/healthz', interval: '2s', timeout: '1s', healthy: 2, unhealthy: 3 },
          passive: { consecutive_failures: 5, ejection: '30s', max_ejected: '50%' },
          slow_start: '10s',
        },
        retries: { attempts: 2, budget: '20%' },
        timeouts: { connect: '1s', response: '10s', idle: '60s' },
      },
    },
    // /catalogue/ is cached (memory store, 10 s when the backend says nothing); everything else is balanced.
    routes: [
      { match: { path_prefix: '/catalogue/' }, pool: 'demo', cache: { ttl: '10s', stale_while_revalidate: '30s' } },
      { match: {}, pool: 'demo' },
    ],
  };
}

/** Starts the demo backends; each answers with its name after its latency (±50%), and /healthz. */
export async function startDemoBackends(): Promise<http.Server[]> {
  return Promise.all(
    DEMO_BACKENDS.map(
      (b) =>
        new Promise<http.Server>((resolve, reject) => {
          const server = http.createServer((req, res) => {
            if (req.url === '/healthz') return void res.writeHead(200).end('ok');
            const delay = b.latencyMs * (0.5 + Math.random());
            setTimeout(() => {
              const body = JSON.stringify({ backend: b.name, path: req.url, latencyMs: Math.round(delay) });
              res.writeHead(200, { 'content-type': 'application/json', 'x-demo-backend': b.name });
              res.end(body);
            }, delay);
          });
          server.once('error', reject);
          server.listen(b.port, '127.0.0.1', () => resolve(server));
        }),
    ),
  );
}

/**
 * A health checker is one stateless probe of one backend; thresholds, schedules and state belong to the
 * monitor. The HTTP checker sends `GET <path>` and passes on a 200-399 status, like HAProxy's `option httpchk`.
 */
import http from 'node:http';
import type { Backend } from '../upstream/backend.ts';

export interface HealthChecker {
  /**
   * Probes `backend` once. Resolves true when it passed, false when it failed for any reason (refused, reset,
   * bad status, aborted); never rejects. `signal` bounds the whole probe (connect, headers and body): when it
   * aborts the request and its socket are destroyed and the probe resolves false.
   */
  check(backend: Backend, path: string, signal: AbortSignal): Promise<boolean>;
}

export const HEALTH_USER_AGENT = 'fulcrum-health';

export interface HttpHealthCheckerOptions {
  /** Sockets per backend: probes of one backend run one at a time, so a pair is plenty. */
  readonly maxSocketsPerBackend?: number;
}

/**
 * Probes over HTTP/1.1 with its own small keep-alive agent: probes never take a socket from (or queue behind)
 * the traffic pools, and a reused connection saves a handshake per probe. Idle probe sockets do not keep the
 * process alive (node's agent unrefs free sockets).
 */
export class HttpHealthChecker implements HealthChecker {
  private readonly agent: http.Agent;

  constructor(options: HttpHealthCheckerOptions = {}) {
    const perBackend = options.maxSocketsPerBackend ?? 2;
    this.agent = new http.Agent({ keepAlive: true, maxSockets: perBackend, maxFreeSockets: 1, scheduling: 'lifo' });
  }

  async check(backend: Backend, path: string, signal: AbortSignal): Promise<boolean> {
    const first = await this.probe(backend, path, signal);
    // A keep-alive socket may have been closed by the backend just as we reused it: that says nothing about
    // the backend's health, so try once on a fresh connection (what Node's docs advise for reused sockets).
    if (first === 'reused-reset' && !signal.aborted) return (await this.probe(backend, path, signal)) === 'pass';
    return first === 'pass';
  }

  /** Destroys the probe sockets. */
  close(): void {
    this.agent.destroy();
  }

  private probe(backend: Backend, path: string, signal: AbortSignal): Promise<'pass' | 'fail' | 'reused-reset'> {
    return new Promise((resolve) => {
      if (signal.aborted) {
        resolve('fail');
        return;
      }
      const req = http.request({
        agent: this.agent,
        host: backend.host,
        port: backend.port,
        method: 'GET',
        path,
        setHost: false,
        headers: { host: backend.authority, 'user-agent': HEALTH_USER_AGENT, accept: '*/*' },
        // On abort node destroys the request and its socket: a probe that never answers holds nothing.
        signal,
      });
      req.on('error', (err: NodeJS.ErrnoException) => {
        resolve(req.reusedSocket && err.code === 'ECONNRESET' && !signal.aborted ? 'reused-reset' : 'fail');
      });
      req.once('response', (res) => {
        const passed = res.statusCode !== undefined && res.statusCode >= 200 && res.statusCode < 400;
        // The body is read and dropped, so that the socket can be reused; the verdict waits for its end so
        // that `signal` bounds the whole exchange (a body that stalls fails the probe).
        res.resume();
        res.once('end', () => resolve(passed ? 'pass' : 'fail'));
        res.on('error', () => resolve('fail'));
        res.once('close', () => resolve(res.complete && passed ? 'pass' : 'fail'));
      });
      req.end();
    });
  }
}

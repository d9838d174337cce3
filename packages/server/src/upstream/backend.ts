/** A backend: one server of a pool, with the state the health monitor decides and the counters the proxy keeps. */

/**
 * healthy: takes traffic. slow-start: takes a ramping share after recovering. unhealthy: failed active checks.
 * ejected: removed by passive outlier detection for a while. draining: takes no new requests, finishes its own.
 */
export type BackendState = 'healthy' | 'slow-start' | 'unhealthy' | 'ejected' | 'draining';

export const BACKEND_STATES: readonly BackendState[] = ['healthy', 'slow-start', 'unhealthy', 'ejected', 'draining'];

/** Whether a backend in this state may be picked for a new request. */
export function takesTraffic(state: BackendState): boolean {
  return state === 'healthy' || state === 'slow-start';
}

export interface BackendOptions {
  readonly url: string;
  readonly weight: number;
  /** Circuit breaker: most concurrent requests. */
  readonly maxConnections: number;
}

export class Backend {
  /** The origin, `http://127.0.0.1:8001`: unique in a pool, stable across reloads. */
  readonly id: string;
  readonly url: URL;
  /** host:port, for the Host header of probes and for logs. */
  readonly authority: string;
  /** The address to dial: a URL keeps an IPv6 literal's brackets (`[::1]`), a socket address must not. */
  readonly host: string;
  readonly port: number;
  /** Configured relative weight. */
  weight: number;
  maxConnections: number;
  state: BackendState = 'healthy';
  /** Slow start multiplier in (0, 1]: the share a recovering backend gets of its weight. */
  warmth = 1;
  /** Requests sent and not yet finished (including their response bodies). */
  inFlight = 0;

  constructor(options: BackendOptions) {
    this.url = new URL(options.url);
    this.id = this.url.origin;
    this.authority = this.url.host;
    this.host = this.url.hostname.replace(/^\[(.*)\]$/, '$1');
    this.port = Number(this.url.port || 80);
    this.weight = options.weight;
    this.maxConnections = options.maxConnections;
  }

  /** Weight the balancers use: configured weight scaled by slow start. */
  get effectiveWeight(): number {
    return this.weight * this.warmth;
  }
}

/**
 * Starting a try on a backend, the one way for every path that sends something upstream: a client's request
 * (pipeline.ts), a background refresh of a cached entry (cache-phases.ts) and an upgrade (upgrade.ts). Each try
 * is picked by the pool's balancer within the circuit breaker, counted in flight (and in the pool's queue beyond
 * max_connections), reported to the balancer at its start and end, and to passive health at its end.
 */
import type { Outcome } from '../balancing/balancer.ts';
import { FulcrumError } from '../errors.ts';
import type { Clock } from '../time.ts';
import type { Backend } from '../upstream/backend.ts';
import type { ExchangeHandler, UpstreamRequest } from '../upstream/http1/types.ts';
import type { Pool } from '../upstream/pool.ts';
import type { ScannedHead } from './forwarding.ts';

export interface AttemptDeps {
  readonly clock: Clock;
  /** Passive health: how a request to a backend went (a 5xx or an error is a failure). */
  readonly reportOutcome: (pool: string, backend: Backend, outcome: Outcome) => void;
}

/** Who the try is for: its affinity key and the backends it must avoid (those a retry already tried). */
export interface AttemptTarget {
  readonly key: string | undefined;
  readonly exclude?: ReadonlySet<Backend> | undefined;
}

/** One try on one backend, from its pick to its `end`, which must be called exactly once. */
export class Attempt {
  readonly pool: Pool;
  readonly backend: Backend;
  readonly startedAt: number;
  private readonly deps: AttemptDeps;
  /** When the latency the balancer learns from stops counting (`answered`), if before the end. */
  private answeredAt: number | undefined = undefined;
  /** Sent beyond the backend's max_connections: counted in the pool's queue until it leaves it. */
  private queued: boolean;
  private ended = false;

  constructor(pool: Pool, backend: Backend, deps: AttemptDeps) {
    this.pool = pool;
    this.backend = backend;
    this.deps = deps;
    this.startedAt = deps.clock.now();
    backend.inFlight++;
    this.queued = backend.inFlight > backend.maxConnections;
    if (this.queued) pool.pending++;
    pool.balancer.onRequestStart?.(backend);
  }

  /**
   * The head for this backend: the forwarded fields, with a Host for HTTP/1.0 clients that sent none (the backend
   * speaks HTTP/1.1 and needs one: RFC 9112 §3.2).
   */
  headersFor(head: ScannedHead, forwarded: readonly string[]): readonly string[] {
    return head.hostHeader === undefined ? [...forwarded, 'host', this.backend.authority] : forwarded;
  }

  /** Sends the request on one of the pool's pooled connections to the backend. */
  dispatch(request: UpstreamRequest, handler: ExchangeHandler): void {
    this.pool.clientOf(this.backend).dispatch(request, handler);
  }

  /** The backend answered: what follows (a tunnel's lifetime) says nothing of its latency. */
  answered(): void {
    this.answeredAt = this.deps.clock.now();
  }

  /** Leaves the queue if it waited there: the connection it waited for was granted. */
  leaveQueue(): void {
    if (!this.queued) return;
    this.queued = false;
    this.pool.pending--;
  }

  /** Releases the backend and reports the outcome, once. */
  end(outcome: Outcome): void {
    if (this.ended) return;
    this.ended = true;
    const { pool, backend } = this;
    backend.inFlight--;
    this.leaveQueue();
    pool.balancer.onRequestEnd?.(backend, outcome, (this.answeredAt ?? this.deps.clock.now()) - this.startedAt);
    if (pool.config.health.passive !== undefined) this.deps.reportOutcome(pool.name, backend, outcome);
  }
}

/** Picks a backend for a new try and starts counting it: the Attempt, or why there is none. */
export function startAttempt(pool: Pool, target: AttemptTarget, deps: AttemptDeps): Attempt | FulcrumError {
  const picked = pool.select(target);
  if (picked === 'none') return new FulcrumError('FUL_ERR_NO_BACKEND');
  if (picked === 'circuit-open') return new FulcrumError('FUL_ERR_CIRCUIT_OPEN');
  return new Attempt(pool, picked, deps);
}

/**
 * The one interface every balancing algorithm implements. A balancer only picks: it never probes or ejects.
 * It is told which backends may take traffic (`update`) and how each request went (`onRequestEnd`).
 */
import type { Backend } from '../upstream/backend.ts';
import type { MonotonicClock, Random } from '../time.ts';

export type Outcome = 'success' | 'failure';

export interface BalancerContext {
  /** The request's hash key (client IP, path, header or cookie value) for consistent-hash. */
  readonly hashKey?: string | undefined;
  /** Value of the sticky cookie, when the client sent one. */
  readonly stickyValue?: string | undefined;
  /** Backends already tried for this request: retries go elsewhere when another is available. */
  readonly exclude?: ReadonlySet<Backend> | undefined;
}

export interface Balancer {
  /** Picks a backend among those given to the last `update`, or undefined when none is eligible. */
  pick(ctx: BalancerContext): Backend | undefined;
  /** The backends that may take traffic now; rebuild tables here, never per request. Weights may have changed. */
  update(eligible: readonly Backend[]): void;
  onRequestStart?(backend: Backend): void;
  onRequestEnd?(backend: Backend, outcome: Outcome, durationMs: number): void;
  /** A backend's own load report, what it is left with as a share of its capacity (load-report.ts), for least-load. */
  onLoadReport?(backend: Backend, load: number): void;
}

export interface BalancerDeps {
  readonly clock: MonotonicClock;
  readonly random: Random;
}

/**
 * The one interface every balancing algorithm implements. A balancer only picks: it never probes or ejects.
 * It is told which backends may take traffic (`update`) and how each request went (`onRequestEnd`).
 */
import type { Backend } from '../upstream/backend.ts';
import type { MonotonicClock, Random } from '../time.ts';

export type Outcome = 'success' | 'failure';

/** What a balancer may read of a request (its `keyOf`). */
export interface RequestView {
  readonly clientIp: string;
  /** The path in normal form, without the query. */
  readonly path: string;
  /** A field's value by lower-case name. */
  header(name: string): string | undefined;
}

export interface BalancerContext {
  /** The request's affinity key, as the balancer's own `keyOf` read it (a hash key, a sticky token). */
  readonly key?: string | undefined;
  /** Backends already tried for this request: retries go elsewhere when another is available. */
  readonly exclude?: ReadonlySet<Backend> | undefined;
}

export interface Balancer {
  /** Picks a backend among those given to the last `update`, or undefined when none is eligible. */
  pick(ctx: BalancerContext): Backend | undefined;
  /** The backends that may take traffic now; rebuild tables here, never per request. Weights may have changed. */
  update(eligible: readonly Backend[]): void;
  /** Reads a request's affinity key once (retries reuse it); consistent-hash and sticky have one, others none. */
  keyOf?(req: RequestView): string | undefined;
  /** Fields to add to the response `backend` served to a request of `key` (sticky: the cookie that pins the client). */
  responseFields?(backend: Backend, key: string | undefined): readonly string[] | undefined;
  /** A request starts on `backend`, already counted in its `inFlight` (the latency model reads the count here). */
  onRequestStart?(backend: Backend): void;
  /** It ended, no longer counted in `inFlight`; a 5xx or an error is a failure; `durationMs` on the same clock. */
  onRequestEnd?(backend: Backend, outcome: Outcome, durationMs: number): void;
  /** A backend's own load report, what it is left with as a share of its capacity (load-report.ts), for least-load. */
  onLoadReport?(backend: Backend, load: number): void;
}

export interface BalancerDeps {
  readonly clock: MonotonicClock;
  readonly random: Random;
}

/**
 * Least load, from the backends' own load reports when they send them (the Python companion's
 * `X-Fulcrum-Load: inflight=3, utilization=0.42`, in the spirit of Envoy's ORCA): a backend knows its load from
 * every balancer and worker in front of it, which one worker's in-flight count cannot see. Fulcrum's own view is
 * in-flight requests over an assumed capacity of 8 per unit of weight (slow start included); a backend's load is
 * the larger of the two, so a backend that stopped answering, and so stopped reporting, still fills up in our
 * view. Two candidates are drawn at random and the less loaded wins (power of two choices), so that workers
 * acting on the same slightly old reports do not all herd onto one backend.
 */
import type { Backend } from '../upstream/backend.ts';
import type { MonotonicClock, Random } from '../time.ts';
import type { Balancer, BalancerContext, BalancerDeps } from './balancer.ts';

/** A report older than this no longer speaks for the backend. */
export const REPORT_TTL_MS = 5_000;
/** Fulcrum's own view: requests a unit of weight is assumed to take at once (the companion's default too). */
export const ASSUMED_CAPACITY = 8;

interface Report {
  /** The load the backend was left with after the response that carried the report (load-report.ts). */
  load: number;
  at: number;
}

export class LeastLoadBalancer implements Balancer {
  private readonly clock: MonotonicClock;
  private readonly random: Random;
  private backends: readonly Backend[] = [];
  private readonly reports = new Map<Backend, Report>();

  constructor(deps: BalancerDeps) {
    this.clock = deps.clock;
    this.random = deps.random;
  }

  update(eligible: readonly Backend[]): void {
    this.backends = eligible.slice();
    const kept = new Set(eligible);
    for (const backend of this.reports.keys()) if (!kept.has(backend)) this.reports.delete(backend);
  }

  /** A load report that came with a response of `backend`: what it is left with, as a share of its capacity. */
  onLoadReport(backend: Backend, load: number): void {
    const report = this.reports.get(backend);
    const now = this.clock.now();
    if (report === undefined) this.reports.set(backend, { load, at: now });
    else {
      report.load = load;
      report.at = now;
    }
  }

  pick(ctx: BalancerContext): Backend | undefined {
    const a = this.draw(ctx.exclude, undefined);
    if (a === undefined) return undefined;
    const b = this.draw(ctx.exclude, a);
    if (b === undefined) return a;
    const now = this.clock.now();
    return this.load(b, now) < this.load(a, now) ? b : a;
  }

  /** The load that decides: the larger of the backend's recent report and our in-flight share of its capacity. */
  private load(backend: Backend, now: number): number {
    const report = this.reports.get(backend);
    const ours = backend.inFlight / (ASSUMED_CAPACITY * Math.max(backend.effectiveWeight, 1e-9));
    return report !== undefined && now - report.at < REPORT_TTL_MS ? Math.max(report.load, ours) : ours;
  }

  /** A random backend that is neither excluded nor `not`; undefined when there is none. */
  private draw(exclude: ReadonlySet<Backend> | undefined, not: Backend | undefined): Backend | undefined {
    const n = this.backends.length;
    for (let tries = 0; tries < 8; tries++) {
      const candidate = this.backends[Math.floor(this.random.next() * n)];
      if (candidate !== undefined && candidate !== not && !exclude?.has(candidate)) return candidate;
    }
    // Few eligible among many excluded: scan from a random start.
    const start = Math.floor(this.random.next() * n);
    for (let i = 0; i < n; i++) {
      const candidate = this.backends[(start + i) % n]!;
      if (candidate !== not && !exclude?.has(candidate)) return candidate;
    }
    return undefined;
  }
}

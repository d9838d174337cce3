/**
 * Least load, from the backends' own load reports when they send them (the Python companion's
 * `X-Fulcrum-Load: inflight=3, utilization=0.42`, in the spirit of Envoy's ORCA): a backend knows its load from
 * every balancer and worker in front of it, which one worker's in-flight count cannot see. Two candidates are
 * drawn at random (power of two choices, so that workers acting on the same slightly old reports do not all
 * herd onto one backend), and:
 * - when either has a recent report, the less loaded wins. A backend's load is the larger of its report and
 *   Fulcrum's own view, in-flight requests over an assumed capacity of 8 per unit of weight (slow start
 *   included), so a backend that stopped answering, and so stopped reporting, still fills up in our view;
 * - when neither has, as p2c-ewma: the lower expected cost of latency-model.ts, so that without reports
 *   least-load still sends little to a backend that is slow or failing, not merely one with fewer in flight.
 */
import type { Backend } from '../upstream/backend.ts';
import type { MonotonicClock, Random } from '../time.ts';
import type { Balancer, BalancerContext, BalancerDeps, Outcome } from './balancer.ts';
import { LatencyModel } from './latency-model.ts';

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
  private readonly model: LatencyModel;

  constructor(deps: BalancerDeps) {
    this.clock = deps.clock;
    this.random = deps.random;
    this.model = new LatencyModel(deps.clock);
  }

  update(eligible: readonly Backend[]): void {
    this.backends = eligible.slice();
    this.model.update(this.backends);
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

  onRequestStart(backend: Backend): void {
    this.model.onRequestStart(backend);
  }

  onRequestEnd(backend: Backend, outcome: Outcome, durationMs: number): void {
    this.model.onRequestEnd(backend, outcome, durationMs);
  }

  pick(ctx: BalancerContext): Backend | undefined {
    const a = this.draw(ctx.exclude, undefined);
    if (a === undefined) return undefined;
    const b = this.draw(ctx.exclude, a);
    if (b === undefined) return a;
    const now = this.clock.now();
    const reportA = this.freshReport(a, now);
    const reportB = this.freshReport(b, now);
    if (reportA === undefined && reportB === undefined) return this.model.costOf(b, now) < this.model.costOf(a, now) ? b : a;
    return this.load(b, reportB) < this.load(a, reportA) ? b : a;
  }

  /** The backend's report when it is recent enough to speak for it. */
  private freshReport(backend: Backend, now: number): number | undefined {
    const report = this.reports.get(backend);
    return report !== undefined && now - report.at < REPORT_TTL_MS ? report.load : undefined;
  }

  /** The load that decides: the larger of the backend's report (if any) and our in-flight share of its capacity. */
  private load(backend: Backend, reported: number | undefined): number {
    const ours = backend.inFlight / (ASSUMED_CAPACITY * Math.max(backend.effectiveWeight, 1e-9));
    return reported !== undefined && reported > ours ? reported : ours;
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

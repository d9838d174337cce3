/**
 * What one more request is expected to cost on each backend: the view of p2c-ewma, and of least-load when
 * neither candidate sends load reports. Pure bookkeeping over the proxy's reports, on an injected clock.
 *
 *     cost = latency × max(1, (in flight + 1) / (usual in flight + 1)) / weight
 *
 * - latency: the backend's recent latency, an average over time (10 s) in which an answer slower than the
 *   estimate moves it 4 times faster than a quicker one. It leans towards the slow answers, so a backend slow
 *   on some of its requests looks slow. A pause of the proxy itself (GC, a busy core) holds back every answer
 *   in flight on every backend, then delivers them late, at once; a peak EWMA (Finagle's: a slower answer
 *   replaces the estimate) took that for the fast backends' latency, for seconds after each pause, and sent
 *   their traffic to the slow one. Here an answer counts as at most 4 times the estimate, and time in which
 *   requests were in flight but no backend answered, beyond 4 times the answering backend's latency, does not
 *   count in the average. A backend that really became 10 times slower still shows it within seconds, and its
 *   in-flight count rises meanwhile.
 * - usual in flight: the backend's in-flight count as requests start (this one included), averaged over about
 *   a second: the concurrency at which it showed that latency. Sending it more than that is assumed to slow it
 *   down in proportion, as it does a backend that queues (a Python server with few workers: latency = requests
 *   ahead × service time), and that counts at once, before any answer. Sending it as much, one more, or fewer
 *   is assumed to cost its latency: the one more is room to find out that a backend (new, recovered) can take
 *   more. So a backend that answers 15 requests at once in 5 ms costs 5 ms, where Finagle's latency × (in
 *   flight + 1) made it 80 ms, more than an idle backend that takes 50 ms.
 * - failures: a failure after a failure counts as an answer of at least `failurePenaltyMs` (1 s), so that a
 *   backend answering 503 at once is avoided, not taken for the fastest; an isolated one as twice the estimate,
 *   so that one error among successes does not take a backend out of rotation for the next minute.
 *
 * While a backend has nothing in flight its latency decays towards 0 (over 10 s), so that a backend that lost
 * its traffic is tried again, one request at a time, and its answer shows whether it recovered. It does not
 * decay while requests are in flight: a backend that holds requests without answering is not getting better.
 */
import type { Backend } from '../upstream/backend.ts';
import type { MonotonicClock as Clock } from '../time.ts';
import type { Outcome } from './balancer.ts';

export interface LatencyModelOptions {
  /** Time constant of the averages and of the decay when idle, in ms. */
  readonly tauMs?: number;
  /** How many times faster a sample above the estimate moves it than a sample below. */
  readonly rise?: number;
  /** A successful answer counts as at most this many times the estimate. */
  readonly clamp?: number;
  /** A failure after a failure counts as at least this slow. */
  readonly failurePenaltyMs?: number;
  /** Time constant of the usual in-flight count, in ms. */
  readonly concurrencyTauMs?: number;
}

export const LATENCY_MODEL_DEFAULTS = { tauMs: 10_000, rise: 4, clamp: 4, failurePenaltyMs: 1_000, concurrencyTauMs: 1_000 } as const;

/** The clamp applies to an estimate of at least this, in ms: a backend answering in microseconds may vary by more than 4 times. */
const CLAMP_FLOOR_MS = 1;

/** Latency assumed for a backend nobody has measured yet, when no backend has been measured. Any positive value works. */
const UNMEASURED_LATENCY_MS = 1;

class Estimate {
  /** ms, as of `stamp`; NaN until the first answer. */
  latency = Number.NaN;
  stamp = 0;
  /** The model's `paused` as of `stamp`. */
  pausedAtStamp = 0;
  /** The usual in-flight count at request starts, as of `started`. */
  concurrency: number;
  started: number;
  /** When the backend's in-flight count last fell to 0: its latency decays from then until a request starts. */
  idleSince = 0;
  /** The estimate before that decay, until the next answer: what the clamp is relative to. */
  beforeIdle = 0;
  /** Whether its last answer was a failure. */
  failedLast = false;

  constructor(concurrency: number, now: number) {
    this.concurrency = concurrency;
    this.started = now;
  }
}

export class LatencyModel {
  private readonly clock: Clock;
  private readonly tauMs: number;
  private readonly rise: number;
  private readonly clamp: number;
  private readonly failurePenaltyMs: number;
  private readonly concurrencyTauMs: number;
  private backends: readonly Backend[] = [];
  /** Aligned with `backends`, so that a pick by index needs no Map lookup. */
  private estimates: Estimate[] = [];
  private readonly byBackend = new Map<Backend, Estimate>();
  /** Requests started and not yet ended, over all backends. */
  private pending = 0;
  /** Since when `pending` has been above 0, and when the last answer came. */
  private busySince = 0;
  private lastAnswerAt = 0;
  /** Total time, in ms, in which requests were in flight and no backend answered for longer than it should have. */
  private paused = 0;

  constructor(clock: Clock, options: LatencyModelOptions = {}) {
    this.clock = clock;
    this.tauMs = options.tauMs ?? LATENCY_MODEL_DEFAULTS.tauMs;
    this.rise = options.rise ?? LATENCY_MODEL_DEFAULTS.rise;
    this.clamp = options.clamp ?? LATENCY_MODEL_DEFAULTS.clamp;
    this.failurePenaltyMs = options.failurePenaltyMs ?? LATENCY_MODEL_DEFAULTS.failurePenaltyMs;
    this.concurrencyTauMs = options.concurrencyTauMs ?? LATENCY_MODEL_DEFAULTS.concurrencyTauMs;
  }

  /** Backends that stay keep their history; one that left and comes back starts unmeasured. */
  update(eligible: readonly Backend[]): void {
    const kept = new Set(eligible);
    for (const backend of this.byBackend.keys()) if (!kept.has(backend)) this.byBackend.delete(backend);
    // A new backend is assumed to take as many at once as the others usually do, until it shows otherwise.
    let sum = 0;
    for (const estimate of this.byBackend.values()) sum += estimate.concurrency;
    const usual = this.byBackend.size === 0 ? 1 : sum / this.byBackend.size;
    const now = this.clock.now();
    this.backends = eligible.slice();
    this.estimates = eligible.map((backend) => {
      let estimate = this.byBackend.get(backend);
      if (estimate === undefined) this.byBackend.set(backend, (estimate = new Estimate(usual, now)));
      return estimate;
    });
  }

  /** A request starts on `backend`, already counted in its in-flight count. */
  onRequestStart(backend: Backend): void {
    const estimate = this.byBackend.get(backend);
    if (estimate === undefined) return;
    const now = this.clock.now();
    if (this.pending++ === 0) this.busySince = now;
    const inFlight = Math.max(backend.inFlight, 1);
    // The decay while it was idle becomes its estimate: what it was picked for, and what its answer corrects.
    if (inFlight === 1 && !Number.isNaN(estimate.latency)) {
      estimate.beforeIdle = Math.max(estimate.beforeIdle, estimate.latency);
      estimate.latency *= Math.exp(-Math.max(now - estimate.idleSince, 0) / this.tauMs);
    }
    const w = Math.exp(-Math.max(now - estimate.started, 0) / this.concurrencyTauMs);
    estimate.concurrency = estimate.concurrency * w + inFlight * (1 - w);
    estimate.started = now;
  }

  onRequestEnd(backend: Backend, outcome: Outcome, durationMs: number): void {
    const estimate = this.byBackend.get(backend);
    const now = this.clock.now();
    this.notePause(now, estimate?.latency ?? Number.NaN);
    // A request that ends after its backend left the pool tells nothing about the current pool.
    if (estimate === undefined) return;
    const sample = Math.max(durationMs, outcome === 'success' ? 0 : this.failurePenalty(estimate));
    estimate.failedLast = outcome === 'failure';
    if (Number.isNaN(estimate.latency)) estimate.latency = sample;
    else {
      const rate = sample > estimate.latency ? this.rise : 1;
      const elapsed = now - estimate.stamp - (this.paused - estimate.pausedAtStamp);
      const w = Math.exp((-rate * Math.max(elapsed, 0)) / this.tauMs);
      // Relative to the estimate before an idle time: after one, the first answer restores what the decay took.
      const reference = Math.max(estimate.latency, estimate.beforeIdle, CLAMP_FLOOR_MS);
      const counted = outcome === 'failure' ? sample : Math.min(sample, this.clamp * reference);
      estimate.latency = estimate.latency * w + counted * (1 - w);
    }
    estimate.stamp = now;
    estimate.pausedAtStamp = this.paused;
    estimate.beforeIdle = 0;
    if (backend.inFlight === 0) estimate.idleSince = now;
  }

  /**
   * A pause of the proxy itself, as the answers show it: requests were in flight, yet no backend answered for
   * longer than this one's answer could take (`clamp` × its estimate). That time does not count in the averages.
   */
  private notePause(now: number, latency: number): void {
    if (this.pending > 0) {
      const silence = now - Math.max(this.lastAnswerAt, this.busySince);
      if (silence > this.clamp * latency) this.paused += silence - this.clamp * latency;
      this.pending--;
    }
    this.lastAnswerAt = now;
  }

  /** What a failure counts as, at least: see the failures above. */
  private failurePenalty(estimate: Estimate): number {
    if (estimate.failedLast) return this.failurePenaltyMs;
    return Number.isNaN(estimate.latency) ? 0 : 2 * estimate.latency;
  }

  /** The cost of one more request on the i-th backend of the last update. */
  cost(i: number, now: number): number {
    const backend = this.backends[i]!;
    const estimate = this.estimates[i]!;
    const inFlight = backend.inFlight;
    const latency = this.latency(i, now) ?? this.neutralLatency(now);
    // One more than usual is free: room to find out that a backend (new, or recovered) can take more.
    const load = (inFlight + 1) / (estimate.concurrency + 1);
    return (latency * (load > 1 ? load : 1)) / backend.effectiveWeight;
  }

  /** The cost of one more request on `backend`, which must be one of the last update's. */
  costOf(backend: Backend, now: number): number {
    return this.cost(this.backends.indexOf(backend), now);
  }

  /** The latency estimate of backend i as of now, or undefined when it has no answer yet. */
  private latency(i: number, now: number): number | undefined {
    const estimate = this.estimates[i]!;
    if (Number.isNaN(estimate.latency)) return undefined;
    if (this.backends[i]!.inFlight > 0) return estimate.latency;
    return estimate.latency * Math.exp(-Math.max(now - estimate.idleSince, 0) / this.tauMs);
  }

  /**
   * What an unmeasured backend is assumed to answer in: the mean of the measured ones, so that a new backend
   * gets its share of traffic at once (its in-flight count then holds it back until its first answer).
   */
  private neutralLatency(now: number): number {
    let sum = 0;
    let count = 0;
    for (let i = 0; i < this.estimates.length; i++) {
      const latency = this.latency(i, now);
      if (latency === undefined) continue;
      sum += latency;
      count++;
    }
    return count === 0 ? UNMEASURED_LATENCY_MS : sum / count;
  }
}

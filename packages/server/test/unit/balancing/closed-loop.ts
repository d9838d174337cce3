/**
 * A closed loop on a manual clock, as wrk drives a proxy: each client sends a request, waits for its answer and
 * sends the next at once. In-flight counts and the balancer's hooks are kept as the proxy keeps them. What a
 * backend does is a function of its in-flight count when the request starts (itself included), which covers
 * backends that do not queue (a constant) and backends that do (service time × requests ahead per worker).
 */
import type { Balancer, Outcome } from '../../../src/balancing/balancer.ts';
import type { Backend } from '../../../src/upstream/backend.ts';
import type { ManualClock } from '../../support/fake-time.ts';

export interface Behaviour {
  /** Latency of a request that starts with `inFlight` requests on the backend, itself included. */
  latencyMs(inFlight: number): number;
  readonly outcome?: Outcome;
}

/** Answers after `ms`, however many are in flight: a backend that waits on something else. */
export const answersIn = (ms: number): Behaviour => ({ latencyMs: () => ms });

/** `workers` requests served at once, each taking `serviceMs`; the others wait their turn (FIFO). */
export const queueing = (workers: number, serviceMs: number): Behaviour => ({
  latencyMs: (inFlight) => serviceMs * Math.ceil(inFlight / workers),
});

/** Answers 503 at once. */
export const failsFast: Behaviour = { latencyMs: () => 0.2, outcome: 'failure' };

interface Running {
  readonly backend: Backend;
  readonly startedAt: number;
  end: number;
}

export interface LoopOptions {
  readonly clients: number;
  /** At the end of every `everyMs`, the proxy pauses for `forMs`: the answers due meanwhile are all seen at its end. */
  readonly pauses?: { readonly everyMs: number; readonly forMs: number };
}

export interface LoopResult {
  /** Requests started on each backend. */
  readonly picks: Map<Backend, number>;
  /** Each backend's in-flight count, averaged over the requests' starts. */
  readonly meanInFlight: Map<Backend, number>;
}

export class ClosedLoop {
  private readonly running: Running[] = [];
  private readonly balancer: Balancer;
  readonly clock: ManualClock;
  private readonly options: LoopOptions;
  behaviour: (backend: Backend) => Behaviour;

  constructor(balancer: Balancer, clock: ManualClock, behaviour: (backend: Backend) => Behaviour, options: LoopOptions) {
    this.balancer = balancer;
    this.clock = clock;
    this.behaviour = behaviour;
    this.options = options;
  }

  /** Runs the loop for `ms` (the clients start on the first call); returns what happened meanwhile. */
  run(ms: number): LoopResult {
    const picks = new Map<Backend, number>();
    const inFlightSum = new Map<Backend, number>();
    const start = () => {
      const backend = this.balancer.pick({})!;
      backend.inFlight++;
      this.balancer.onRequestStart?.(backend);
      picks.set(backend, (picks.get(backend) ?? 0) + 1);
      inFlightSum.set(backend, (inFlightSum.get(backend) ?? 0) + backend.inFlight);
      const now = this.clock.now();
      this.running.push({ backend, startedAt: now, end: this.seen(now + this.behaviour(backend).latencyMs(backend.inFlight)) });
    };
    if (this.running.length === 0) for (let i = 0; i < this.options.clients; i++) start();
    const until = this.clock.now() + ms;
    for (;;) {
      let next = 0;
      for (let i = 1; i < this.running.length; i++) if (this.running[i]!.end < this.running[next]!.end) next = i;
      const request = this.running[next]!;
      if (request.end > until) break;
      this.running.splice(next, 1);
      this.clock.advance(request.end - this.clock.now());
      request.backend.inFlight--;
      const outcome = this.behaviour(request.backend).outcome ?? 'success';
      this.balancer.onRequestEnd?.(request.backend, outcome, request.end - request.startedAt);
      start();
    }
    this.clock.advance(until - this.clock.now());
    const meanInFlight = new Map([...picks].map(([b, n]) => [b, inFlightSum.get(b)! / n]));
    return { picks, meanInFlight };
  }

  /** Lets the requests in flight finish, starting no new ones: the clients stop. */
  drain(): void {
    this.running.sort((a, b) => a.end - b.end);
    for (const request of this.running.splice(0)) {
      this.clock.advance(Math.max(request.end - this.clock.now(), 0));
      request.backend.inFlight--;
      this.balancer.onRequestEnd?.(request.backend, this.behaviour(request.backend).outcome ?? 'success', request.end - request.startedAt);
    }
  }

  /** When an answer due at `t` is seen: at once, or at the end of the pause it falls in (the last `forMs` of each period). */
  private seen(t: number): number {
    const pauses = this.options.pauses;
    if (pauses === undefined) return t;
    const offset = t % pauses.everyMs;
    return offset >= pauses.everyMs - pauses.forMs ? t - offset + pauses.everyMs : t;
  }
}

export function share(picks: ReadonlyMap<Backend, number>, backend: Backend): number {
  let total = 0;
  for (const n of picks.values()) total += n;
  return (picks.get(backend) ?? 0) / total;
}

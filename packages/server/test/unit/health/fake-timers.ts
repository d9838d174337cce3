/** Timers on a ManualClock for the monitor's tests: time moves only in `advance`, and nothing sleeps. */
import type { Timers } from '../../../src/health/monitor.ts';
import type { HealthChecker } from '../../../src/health/checker.ts';
import type { ManualClock } from '../../../src/time.ts';
import type { Backend } from '../../../src/upstream/backend.ts';

interface Pending {
  readonly at: number;
  readonly fn: () => void;
}

export class FakeTimers implements Timers {
  private readonly clock: ManualClock;
  private pending = new Set<Pending>();

  constructor(clock: ManualClock) {
    this.clock = clock;
  }

  set(fn: () => void, ms: number): unknown {
    const t: Pending = { at: this.clock.now() + ms, fn };
    this.pending.add(t);
    return t;
  }

  clear(handle: unknown): void {
    this.pending.delete(handle as Pending);
  }

  get count(): number {
    return this.pending.size;
  }

  /** Delays from now of the pending timers, soonest first. */
  delays(): number[] {
    return [...this.pending].map((t) => t.at - this.clock.now()).sort((a, b) => a - b);
  }

  /** Moves the clock by `ms`, running each timer that falls due at its time, with promise callbacks in between. */
  async advance(ms: number): Promise<void> {
    const end = this.clock.now() + ms;
    for (;;) {
      await settle();
      let next: Pending | undefined;
      for (const t of this.pending) if (t.at <= end && (next === undefined || t.at < next.at)) next = t;
      if (!next) break;
      this.pending.delete(next);
      this.clock.advance(Math.max(0, next.at - this.clock.now()));
      next.fn();
    }
    this.clock.advance(end - this.clock.now());
  }
}

/** Lets pending promise callbacks run (one turn of the event loop; no timer is waited for). */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export interface Call {
  readonly backend: Backend;
  readonly path: string;
  readonly signal: AbortSignal;
}

/** A checker whose verdicts the test sets per backend; `hang` leaves probes unanswered until aborted. */
export class ScriptedChecker implements HealthChecker {
  readonly calls: Call[] = [];
  readonly verdicts = new Map<string, boolean>();
  hang = false;

  check(backend: Backend, path: string, signal: AbortSignal): Promise<boolean> {
    this.calls.push({ backend, path, signal });
    if (this.hang) return new Promise(() => {});
    return Promise.resolve(this.verdicts.get(backend.id) ?? true);
  }
}

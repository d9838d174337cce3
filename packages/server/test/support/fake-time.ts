/**
 * Time that moves only when a test says so: clocks, and timers on them. Nothing sleeps: `advance` runs each timer
 * that falls due, at its own time and in order, and lets promise callbacks run between them, so what a schedule
 * does in an hour is checked in microseconds.
 */
import type { MonotonicClock, Time, TimerHandle, Timers, WallClock } from '../../src/time.ts';

export class ManualClock implements MonotonicClock {
  readonly kind = 'monotonic';
  private t: number;
  constructor(start = 0) {
    this.t = start;
  }
  now(): number {
    return this.t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
}

export class ManualWallClock implements WallClock {
  readonly kind = 'wall';
  private t: number;
  /** 2023-11-14T22:13:20Z unless told otherwise. */
  constructor(start = 1_700_000_000_000) {
    this.t = start;
  }
  now(): number {
    return this.t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
}

interface Scheduled {
  at: number;
  /** Set for an interval: its period. */
  readonly every: number | undefined;
  readonly fn: () => void;
}

/** Timers on a ManualClock; `advance` moves that clock, and any others given, by the same amount. */
export class FakeTimers implements Timers {
  private readonly clock: ManualClock;
  private readonly others: readonly { advance(ms: number): void }[];
  /** In the order they were set: of two timers due at once, the first set runs first (as in Node). */
  private readonly pending = new Set<Scheduled>();

  constructor(clock: ManualClock, ...others: { advance(ms: number): void }[]) {
    this.clock = clock;
    this.others = others;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    return this.add({ at: this.clock.now() + Math.max(0, ms), every: undefined, fn });
  }

  setInterval(fn: () => void, ms: number): TimerHandle {
    const every = Math.max(1, ms); // as Node: never a busy loop
    return this.add({ at: this.clock.now() + every, every, fn });
  }

  clearTimeout(handle: TimerHandle | undefined): void {
    this.pending.delete(handle as unknown as Scheduled);
  }

  clearInterval(handle: TimerHandle | undefined): void {
    this.pending.delete(handle as unknown as Scheduled);
  }

  /** Timers (and intervals) still pending. */
  get count(): number {
    return this.pending.size;
  }

  /** Delays from now of the pending timers, soonest first. */
  delays(): number[] {
    return [...this.pending].map((t) => t.at - this.clock.now()).sort((a, b) => a - b);
  }

  /** Moves time by `ms`, running each timer that falls due at its time, with promise callbacks in between. */
  async advance(ms: number): Promise<void> {
    const end = this.clock.now() + ms;
    for (;;) {
      await settle();
      let next: Scheduled | undefined;
      for (const t of this.pending) if (t.at <= end && (next === undefined || t.at < next.at)) next = t;
      if (next === undefined) break;
      this.move(Math.max(0, next.at - this.clock.now()));
      if (next.every === undefined) this.pending.delete(next);
      else {
        // Re-queued behind timers due at the same time, as Node does.
        this.pending.delete(next);
        next.at += next.every;
        this.pending.add(next);
      }
      next.fn();
    }
    this.move(end - this.clock.now());
  }

  private add(t: Scheduled): TimerHandle {
    this.pending.add(t);
    return t as unknown as TimerHandle;
  }

  private move(ms: number): void {
    this.clock.advance(ms);
    for (const o of this.others) o.advance(ms);
  }
}

/** A monotonic clock, a wall clock and timers that move together: what ControlPlane and the like take. */
export class FakeTime implements Time {
  readonly clock: ManualClock;
  readonly wallClock: ManualWallClock;
  readonly timers: FakeTimers;

  constructor(start: { monotonic?: number; wall?: number } = {}) {
    this.clock = new ManualClock(start.monotonic ?? 1000);
    this.wallClock = new ManualWallClock(start.wall);
    this.timers = new FakeTimers(this.clock, this.wallClock);
  }

  advance(ms: number): Promise<void> {
    return this.timers.advance(ms);
  }
}

/** Lets pending promise callbacks run (one turn of the event loop; no timer is waited for). */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Time and randomness are parameters, so that schedules, balancers and health logic are tested without sleeping
 * (the fakes are in test/support/fake-time.ts). The two clocks are distinct types: a monotonic reading is
 * meaningless as a date and a wall reading may jump, so passing one where the other is wanted does not compile.
 */

/** Milliseconds that never go back (performance.now): durations, deadlines, rates and expiries in one process. */
export interface MonotonicClock {
  readonly kind: 'monotonic';
  now(): number;
}

/**
 * Epoch milliseconds (Date.now), which may jump: for what must agree across processes and machines (cache
 * freshness, purge times, the dates of events).
 */
export interface WallClock {
  readonly kind: 'wall';
  now(): number;
}

declare const timerHandle: unique symbol;
/** What a Timers returns: to be passed back to the same Timers only. */
export type TimerHandle = { readonly [timerHandle]: true };

/** Scheduling, injectable so that what a schedule does is tested by moving a fake clock. */
export interface Timers {
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle | undefined): void;
  setInterval(fn: () => void, ms: number): TimerHandle;
  clearInterval(handle: TimerHandle | undefined): void;
}

/** The clocks and timers a scheduler uses, injected together so that a test moves them together. */
export interface Time {
  readonly clock: MonotonicClock;
  readonly wallClock: WallClock;
  readonly timers: Timers;
}

export interface Random {
  /** Uniform in [0, 1). */
  next(): number;
}

export const monotonicClock: MonotonicClock = { kind: 'monotonic', now: () => performance.now() };

export const wallClock: WallClock = { kind: 'wall', now: () => Date.now() };

/** Node's timers, unref'd: a schedule never keeps the process alive by itself (its servers and sockets do). */
export const systemTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref() as unknown as TimerHandle,
  clearTimeout: (handle) => clearTimeout(handle as unknown as NodeJS.Timeout | undefined),
  setInterval: (fn, ms) => setInterval(fn, ms).unref() as unknown as TimerHandle,
  clearInterval: (handle) => clearInterval(handle as unknown as NodeJS.Timeout | undefined),
};

export const systemTime: Time = { clock: monotonicClock, wallClock, timers: systemTimers };

export const systemRandom: Random = { next: Math.random };

/** Deterministic PRNG (mulberry32): for tests and for reproducible statistical checks. */
export function seededRandom(seed: number): Random {
  let a = seed >>> 0;
  return {
    next() {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    },
  };
}

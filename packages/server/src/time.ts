/** Time and randomness are parameters, so that balancers and health logic can be tested without sleeping. */

export interface Clock {
  /** Monotonic milliseconds. */
  now(): number;
}

export interface Random {
  /** Uniform in [0, 1). */
  next(): number;
}

export const systemClock: Clock = { now: () => performance.now() };

export const systemRandom: Random = { next: Math.random };

/** A clock that moves only when told to: for tests. */
export class ManualClock implements Clock {
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

/** Epoch milliseconds: for what must agree across processes and machines (cache freshness, purge times). */
export const wallClock: Clock = { now: () => Date.now() };

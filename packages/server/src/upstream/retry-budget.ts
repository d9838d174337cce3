/**
 * A retry budget (Finagle / Envoy style): retries may add at most `ratio` of the pool's requests over a sliding
 * window, plus a small floor per second so that a quiet pool can still retry. Counts live in one-second buckets.
 */
import type { MonotonicClock } from '../time.ts';

const WINDOW_SECONDS = 10;

export class RetryBudget {
  private readonly requests = new Float64Array(WINDOW_SECONDS);
  private readonly retries = new Float64Array(WINDOW_SECONDS);
  private currentSecond = -1;
  private readonly ratio: number;
  private readonly minPerSecond: number;
  private readonly clock: MonotonicClock;

  constructor(ratio: number, minPerSecond: number, clock: MonotonicClock) {
    this.ratio = ratio;
    this.minPerSecond = minPerSecond;
    this.clock = clock;
  }

  /** Records a first attempt. */
  recordRequest(): void {
    this.requests[this.rotate()]! += 1;
  }

  /** Takes one retry from the budget; false when the budget is spent. */
  tryAcquire(): boolean {
    const slot = this.rotate();
    let requests = 0;
    let retries = 0;
    for (let i = 0; i < WINDOW_SECONDS; i++) {
      requests += this.requests[i]!;
      retries += this.retries[i]!;
    }
    if (retries >= requests * this.ratio && this.retries[slot]! >= this.minPerSecond) return false;
    this.retries[slot]! += 1;
    return true;
  }

  private rotate(): number {
    const second = Math.floor(this.clock.now() / 1000);
    if (second !== this.currentSecond) {
      const gap = this.currentSecond < 0 ? WINDOW_SECONDS : Math.min(second - this.currentSecond, WINDOW_SECONDS);
      for (let i = 1; i <= gap; i++) {
        const slot = (this.currentSecond + i + WINDOW_SECONDS) % WINDOW_SECONDS;
        this.requests[slot] = 0;
        this.retries[slot] = 0;
      }
      this.currentSecond = second;
    }
    return second % WINDOW_SECONDS;
  }
}

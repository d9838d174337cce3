/** Helpers for the health unit tests: pools of real Backend objects, a state machine that records its events. */
import { ManualClock } from '../../support/fake-time.ts';
import { Backend } from '../../../src/upstream/backend.ts';
import { HealthState, type HealthConfig, type HealthEvent, type HealthPool } from '../../../src/health/state.ts';

export const ACTIVE = { path: '/healthz', interval: 2000, timeout: 1000, healthy: 2, unhealthy: 3 };
export const PASSIVE = { consecutive_failures: 5, ejection: 30_000, max_ejected: 0.5 };

export function backends(n: number, firstPort = 8001): Backend[] {
  return Array.from(
    { length: n },
    (_, i) => new Backend({ url: `http://127.0.0.1:${firstPort + i}`, weight: 1, maxConnections: 100 }),
  );
}

export function health(overrides: Partial<HealthConfig> = {}): HealthConfig {
  return { slow_start: 0, ...overrides };
}

export interface Harness {
  readonly clock: ManualClock;
  readonly state: HealthState;
  readonly events: HealthEvent[];
  readonly pool: HealthPool;
  /** The first backend of the pool. */
  readonly b: Backend;
  /** Advances the clock and ticks the state machine, as the monitor's timer would. */
  advance(ms: number): void;
  fail(times: number, backend?: Backend): void;
  succeed(times: number, backend?: Backend): void;
  probe(passed: boolean, times: number, backend?: Backend): void;
}

/** One pool "api" with `n` backends and the given health config, already set (the start of the process). */
export function harness(config: HealthConfig, n = 4): Harness {
  const clock = new ManualClock(1000);
  const events: HealthEvent[] = [];
  const state = new HealthState((e) => events.push(e));
  const pool: HealthPool = { name: 'api', backends: backends(n), health: config };
  state.setPools([pool], clock.now());
  const b = pool.backends[0]!;
  return {
    clock,
    state,
    events,
    pool,
    b,
    advance(ms) {
      clock.advance(ms);
      state.tick(clock.now());
    },
    fail(times, backend = b) {
      for (let i = 0; i < times; i++) state.report('api', backend, 'failure', clock.now());
    },
    succeed(times, backend = b) {
      for (let i = 0; i < times; i++) state.report('api', backend, 'success', clock.now());
    },
    probe(passed, times, backend = b) {
      for (let i = 0; i < times; i++) state.onProbeResult('api', backend, passed, clock.now());
    },
  };
}

/**
 * Where rate limit state lives: one TAT per key (gcra.ts). A store answers at once (memory) or later (Redis, or
 * the cluster's primary), so `take` returns a Decision or a promise of one; the pipeline awaits only a promise.
 */
import type { Decision, GcraPolicy } from './gcra.ts';

export interface LimiterStore {
  /** One request against `key` (the policy's name and the client's key): allowed or not, and what is left. */
  take(key: string, policy: GcraPolicy): Decision | Promise<Decision>;
  /** Releases connections and timers. */
  close(): Promise<void>;
}

/**
 * GCRA, the generic cell rate algorithm (ITU-T I.371; the form redis-cell and most API gateways use): a token
 * bucket kept as one number per key, the theoretical arrival time (TAT) of the next request at the sustained rate.
 * A request at `now` is allowed when the TAT it would leave is at most `burst` intervals ahead of now; allowing it
 * moves the TAT one interval on. No timer refills anything: time passing is the refill. Pure, clock passed in.
 * The Lua script in redis-store.ts is the same arithmetic; test/contract/limiter-store.contract.test.ts holds them to it.
 */

export interface GcraPolicy {
  /** Milliseconds between two requests at the sustained rate (the emission interval T): period / count. */
  readonly intervalMs: number;
  /** Requests that may arrive at once after a quiet spell (>= 1): the bucket's size. */
  readonly burst: number;
}

export interface Decision {
  readonly allowed: boolean;
  /** Requests that could still be made now, after this one. */
  readonly remaining: number;
  /** Refused: milliseconds until one request would be allowed. 0 when allowed. */
  readonly retryAfterMs: number;
  /** Milliseconds until the whole burst is available again (0: it is). */
  readonly resetMs: number;
}

/** Floating-point slack, in ms (one microsecond): T = 1000/3 added three times must still fit a burst of 3. */
const EPSILON_MS = 1e-3;

/**
 * One request at `now` against a key whose TAT is `tat` (undefined: unseen, or expired from the store). Returns the
 * decision and the TAT to keep (unchanged when refused: a refused request costs nothing, as in nginx's limit_req).
 */
export function gcra(tat: number | undefined, now: number, policy: GcraPolicy): { tat: number; decision: Decision } {
  const t = policy.intervalMs;
  const base = tat === undefined || tat < now ? now : tat;
  const limit = policy.burst * t;
  const ahead = base + t - now;
  if (ahead - limit > EPSILON_MS) {
    return { tat: base, decision: { allowed: false, remaining: 0, retryAfterMs: ahead - limit, resetMs: base - now } };
  }
  const remaining = Math.floor((limit - ahead) / t + EPSILON_MS);
  return { tat: base + t, decision: { allowed: true, remaining, retryAfterMs: 0, resetMs: ahead } };
}


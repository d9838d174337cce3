/** One route's rate limit at work: the request's key, one decision from the store, counted. */
import type { LimitStats, PolicyCount } from '../observability/limit-stats.ts';
import type { Decision } from './gcra.ts';
import type { IsTrusted, KeyedRequest } from './key.ts';
import type { RatePolicy } from './policy.ts';
import type { LimiterStore } from './store.ts';

export class RouteLimiter {
  readonly policy: RatePolicy;
  private readonly store: LimiterStore;
  private readonly stats: LimitStats;
  private readonly counts: PolicyCount;
  /** Bound once: counts a decision that came later (Redis, the primary). */
  private readonly count = (d: Decision): Decision => {
    if (d.allowed) this.counts.allowed++;
    else this.stats.limited(this.counts);
    return d;
  };

  constructor(policy: RatePolicy, store: LimiterStore, stats: LimitStats) {
    this.policy = policy;
    this.store = store;
    this.stats = stats;
    this.counts = stats.policy(policy.name);
  }

  /** A decision now (memory store) or later (a shared store); either way one request is counted against the key. */
  check(req: KeyedRequest, isTrusted: IsTrusted): Decision | Promise<Decision> {
    const d = this.store.take(this.policy.keyPrefix + this.policy.readKey(req, isTrusted), this.policy);
    return d instanceof Promise ? d.then(this.count) : this.count(d);
  }
}

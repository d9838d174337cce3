/**
 * A route's rate limit as the pipeline uses it: the GCRA parameters from the config, the key reader, and the
 * response fields of draft-ietf-httpapi-ratelimit-headers-11 (May 2026), whose structured-field form is:
 *
 *   RateLimit-Policy: "api";q=100;w=60;fulcrum-burst=20     §3: quota q per window w seconds (+ our burst)
 *   RateLimit: "api";r=42;t=10                               §4: r left now; t seconds until the burst is whole
 *
 * A 429 says r=0 and t = Retry-After (§6: Retry-After is not earlier than the end of the effective window).
 */
import type { Rate } from '../config/units.ts';
import type { RouteRateLimitConfig } from '../config/schema.ts';
import type { Decision, GcraPolicy } from './gcra.ts';
import { compileLimitKey, type LimitKeyReader } from './key.ts';

export interface RatePolicy extends GcraPolicy {
  readonly name: string;
  readonly rate: Rate;
  /** The key spec as configured (`ip`, `header:x-api-key`), for the admin API. */
  readonly keySpec: string;
  readonly readKey: LimitKeyReader;
  /** RateLimit headers on allowed responses too. */
  readonly headers: boolean;
  /** The RateLimit-Policy field's value, made once. */
  readonly policyField: string;
  /** Before each key of this policy in a store, so that two routes never share a counter. */
  readonly keyPrefix: string;
}

export function compilePolicy(name: string, config: RouteRateLimitConfig): RatePolicy {
  const { rate } = config;
  const burst = config.burst ?? rate.count;
  return {
    name,
    rate,
    intervalMs: rate.periodMs / rate.count,
    burst,
    keySpec: config.key,
    readKey: compileLimitKey(config.key),
    headers: config.headers,
    // The name is a plain token (schema): it needs no escaping inside an sf-string.
    policyField: `"${name}";q=${rate.count};w=${rate.periodMs / 1000};fulcrum-burst=${burst}`,
    keyPrefix: `${name}:`,
  };
}

/** Whole seconds, rounded up: a client told 0 while it must still wait would come back too early. */
const seconds = (ms: number) => Math.ceil(ms / 1000);

/** The RateLimit fields for a decision, as [name, value, …]; a refusal also gets Retry-After (RFC 9110 §10.2.3). */
export function rateLimitFields(policy: RatePolicy, d: Decision): string[] {
  if (!d.allowed) {
    const wait = String(Math.max(1, seconds(d.retryAfterMs)));
    return ['retry-after', wait, 'ratelimit-policy', policy.policyField, 'ratelimit', `"${policy.name}";r=0;t=${wait}`];
  }
  return ['ratelimit-policy', policy.policyField, 'ratelimit', `"${policy.name}";r=${d.remaining};t=${seconds(d.resetMs)}`];
}

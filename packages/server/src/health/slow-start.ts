/**
 * Slow start: a backend that recovers (from unhealthy or ejected) or joins after start gets a share of its
 * weight that ramps linearly from 10% to 100% (nginx `slow_start`, Envoy's slow start with aggression 1), so
 * that a cold cache or JIT is not handed a full share at once.
 *
 * The ramp moves in steps, not continuously: every change of warmth makes the pool rebuild its balancer, so
 * warmth changes at most once per step whoever asks (a timer tick or a request's report).
 */

/** Warmth at the start of a ramp. */
export const WARMTH_START = 0.1;
/** Steps per ramp... */
export const WARMTH_STEPS = 20;
/** ...but never more often than this: each step rebuilds a balancer. */
export const MIN_WARMTH_STEP_MS = 250;

/** Time between two warmth steps of a ramp lasting `durationMs`. */
export function warmthStepMs(durationMs: number): number {
  return Math.max(MIN_WARMTH_STEP_MS, durationMs / WARMTH_STEPS);
}

/** Warmth `elapsedMs` into a ramp of `durationMs`: linear from 0.1 to 1, held at the last step reached. */
export function warmthAt(elapsedMs: number, durationMs: number): number {
  if (durationMs <= 0 || elapsedMs >= durationMs) return 1;
  const step = warmthStepMs(durationMs);
  const reached = Math.max(0, Math.floor(elapsedMs / step) * step);
  return WARMTH_START + (1 - WARMTH_START) * (reached / durationMs);
}

/** When the warmth of a ramp started at `since` next changes: the next step, or the end of the ramp. */
export function nextWarmthChange(since: number, now: number, durationMs: number): number {
  const step = warmthStepMs(durationMs);
  const next = since + step * (Math.floor(Math.max(0, now - since) / step) + 1);
  return Math.min(next, since + durationMs);
}

/**
 * Passive outlier detection arithmetic, after Envoy's consecutive-5xx detector: how long an ejection lasts,
 * how the repeat count decays, and how many of a pool's backends may be out at once.
 */

/** The ejection time grows with each repeated ejection up to this multiple of the base time. */
export const MAX_EJECTION_MULTIPLIER = 10;

/**
 * Ejection count after decay: it drops by one for each full base ejection period the backend has spent back in
 * service (since `backSince`) without being ejected again. Envoy decrements it on each detector interval the
 * host is healthy; counting whole ejection periods keeps it free of a separate interval setting.
 */
export function decayedEjections(count: number, backSince: number, now: number, baseMs: number): number {
  if (count === 0) return 0;
  if (baseMs <= 0) return 0;
  return Math.max(0, count - Math.floor(Math.max(0, now - backSince) / baseMs));
}

/** Repeat count for a new ejection given the decayed count, capped so that no ejection exceeds 10x the base. */
export function nextEjectionCount(decayed: number): number {
  return Math.min(MAX_EJECTION_MULTIPLIER, decayed + 1);
}

/**
 * How many of a pool's `total` backends may be ejected at once: `maxEjected` (a fraction) of them, rounded
 * down, but at least one when `maxEjected` > 0, as Envoy does (else a pool of fewer than 1/maxEjected backends
 * could never eject its outlier). 0 disables ejection.
 */
export function ejectionLimit(total: number, maxEjected: number): number {
  if (maxEjected <= 0 || total === 0) return 0;
  return Math.max(1, Math.floor(total * maxEjected + 1e-9));
}

/**
 * When to renew a certificate and how long to wait after a failed order. Pure: times are epoch milliseconds
 * passed in, randomness a parameter (time.ts), so that the policy is table-tested without waiting.
 */
import type { Random } from '../time.ts';

/** The moment a certificate valid from `notBefore` to `notAfter` is due: `share` of its lifetime in (2/3 by default). */
export function renewalDue(notBefore: number, notAfter: number, share: number): number {
  return notBefore + (notAfter - notBefore) * share;
}

/**
 * The wait before the attempt after `failures` failed ones (1, 2, …): doubling from `minMs` up to `maxMs`, with
 * "equal jitter" (half fixed, half random) so that instances that failed together do not retry together.
 */
export function retryDelay(failures: number, minMs: number, maxMs: number, random: Random): number {
  const ceiling = Math.min(maxMs, minMs * 2 ** Math.max(0, failures - 1));
  return ceiling / 2 + random.next() * (ceiling / 2);
}

/**
 * Timers cannot wait longer than 2^31-1 ms (24.8 days; longer ones fire at once), and a machine may sleep: a due
 * time further away is checked again after this long.
 */
export const MAX_TIMER_MS = 12 * 60 * 60 * 1000;

export function nextCheckIn(dueAt: number, now: number): number {
  return Math.max(0, Math.min(dueAt - now, MAX_TIMER_MS));
}

/** Human units in the config: durations ("500ms", "2s", "1m"), sizes ("16kb", "10mb") and percentages ("20%"). */

const DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)$/;
const DURATION_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Milliseconds from "250ms", "2s", "1.5m", "1h", or a bare number of milliseconds; undefined when invalid. */
export function parseDuration(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value : undefined;
  const m = DURATION.exec(value.trim());
  return m ? Number(m[1]) * DURATION_MS[m[2]!]! : undefined;
}

const SIZE = /^(\d+(?:\.\d+)?)\s*(b|kb|mb|gb|kib|mib|gib)?$/i;
const SIZE_BYTES: Record<string, number> = {
  b: 1,
  kb: 1024,
  mb: 1024 ** 2,
  gb: 1024 ** 3,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
};

/** Bytes from "512b", "16kb", "10mb" (binary multiples, as nginx reads them), or a bare number of bytes. */
export function parseSize(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isInteger(value) && value >= 0 ? value : undefined;
  const m = SIZE.exec(value.trim());
  return m ? Math.floor(Number(m[1]) * SIZE_BYTES[(m[2] ?? 'b').toLowerCase()]!) : undefined;
}

/** A fraction in [0, 1] from "20%" or a number in [0, 1]. */
export function parsePercent(value: string | number): number | undefined {
  if (typeof value === 'number') return value >= 0 && value <= 1 ? value : undefined;
  const m = /^(\d+(?:\.\d+)?)\s*%$/.exec(value.trim());
  if (!m) return undefined;
  const n = Number(m[1]) / 100;
  return n <= 1 ? n : undefined;
}

/** A rate: so many requests per period. */
export interface Rate {
  readonly count: number;
  readonly periodMs: number;
}

const RATE = /^(\d+)\s*\/\s*(\d*)\s*(s|m|h|d)$/;
const RATE_UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * "100/s", "100/1m", "5/10s", "1000/h", "10000/d": a whole number of requests per a whole number of seconds,
 * minutes, hours or days (RateLimit-Policy states the window in whole seconds). Undefined when invalid or zero.
 */
export function parseRate(value: string): Rate | undefined {
  const m = RATE.exec(value.trim());
  if (!m) return undefined;
  const count = Number(m[1]);
  const periodMs = Number(m[2] === '' ? 1 : m[2]) * RATE_UNIT_MS[m[3]!]!;
  return count > 0 && periodMs > 0 && Number.isSafeInteger(count) ? { count, periodMs } : undefined;
}

/**
 * What memcached accepts, as pure functions: keys of at most 250 bytes without spaces or control characters,
 * and expiry times in whole seconds where anything above 30 days means a Unix timestamp.
 */
import { createHash } from 'node:crypto';

/** As the config's cache.memcached.key_prefix. */
export const DEFAULT_KEY_PREFIX = 'fulcrum:';
export const MAX_KEY_BYTES = 250;
/** memcached reads an expiry above this many seconds as an absolute Unix time. */
export const MAX_RELATIVE_TTL_SECONDS = 30 * 24 * 60 * 60;
/** Marks a hashed key. A key that starts with it is hashed too, so no raw key can equal a hashed one. */
export const HASHED_MARK = '#sha256:';
/** The longest prefix that still leaves room for a hashed key (43 characters of base64url). */
export const MAX_PREFIX_BYTES = MAX_KEY_BYTES - HASHED_MARK.length - 43;

/** Whether a key prefix is usable: printable ASCII, no space, short enough for hashed keys. */
export function isValidKeyPrefix(prefix: string): boolean {
  return prefix.length <= MAX_PREFIX_BYTES && isPlainAscii(prefix);
}

/**
 * The memcached key of a cache key: `prefix + key` when that is a legal key (at most 250 bytes of printable
 * ASCII without space, and not starting with the hash mark); otherwise `prefix + HASHED_MARK + sha256(key)`.
 * Cache keys carry URLs, which may be long or hold any byte; hashing keeps them apart (a collision needs a
 * SHA-256 collision). Non-ASCII is hashed too: memcached would take it, but its byte length differs from
 * its string length, and the rule stays one line.
 */
export function memcachedKey(prefix: string, key: string): string {
  if (prefix.length + key.length <= MAX_KEY_BYTES && isPlainAscii(key) && !key.startsWith(HASHED_MARK)) return prefix + key;
  return prefix + HASHED_MARK + createHash('sha256').update(key).digest('base64url');
}

/** Printable ASCII without space: 0x21 to 0x7e. */
function isPlainAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f) return false;
  }
  return true;
}

/**
 * Memcached's expiry for a time to live: whole seconds rounded up (memcached's clock ticks each second, so an
 * entry may still go up to a second early, which the store contract allows), capped at 30 days so that it is
 * never read as a timestamp. Returns 0 (do not store) when no time is left: 0 would mean "never expire".
 */
export function memcachedTtlSeconds(ttlMs: number): number {
  if (!(ttlMs > 0)) return 0;
  return Math.min(MAX_RELATIVE_TTL_SECONDS, Math.ceil(ttlMs / 1000));
}

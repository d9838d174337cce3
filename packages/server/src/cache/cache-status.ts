/**
 * The Cache-Status response field (RFC 9211): one list member per cache the response went through, the one nearest
 * the origin first, so Fulcrum's member goes after any the backend sent.
 */

export const CACHE_NAME = 'fulcrum';

/** RFC 9211 §2.2: why the request went to the next hop. */
export type CacheFwd = 'bypass' | 'method' | 'uri-miss' | 'vary-miss' | 'miss' | 'request' | 'stale' | 'partial';

export interface CacheStatusInput {
  /** Answered from the cache (with `fwd: 'stale'`: a stale entry served, revalidated or standing in for an error). */
  readonly hit?: boolean;
  readonly fwd?: CacheFwd;
  /** The status the next hop answered (fwd-status). */
  readonly fwdStatus?: number;
  /** Freshness left, in ms; negative when stale. Written in whole seconds, rounded down. */
  readonly ttlMs?: number;
  /** The response was stored. */
  readonly stored?: boolean;
  /** The request waited on another request's fetch (coalesced). */
  readonly collapsed?: boolean;
  /** The cache key, for debugging; non-printable characters are percent-encoded. */
  readonly key?: string;
  /** Anything else worth telling, e.g. an error code. */
  readonly detail?: string;
}

/**
 * Fulcrum's member, appended to `upstream` (the backend's Cache-Status, if any). Parameters in the RFC's order:
 * hit, fwd, fwd-status, ttl, stored, collapsed, key, detail; false booleans are left out.
 */
export function cacheStatus(s: CacheStatusInput, upstream?: string): string {
  let member = CACHE_NAME;
  if (s.hit === true) member += '; hit';
  if (s.fwd !== undefined) member += `; fwd=${s.fwd}`;
  if (s.fwdStatus !== undefined) member += `; fwd-status=${Math.trunc(s.fwdStatus)}`;
  if (s.ttlMs !== undefined && Number.isFinite(s.ttlMs)) member += `; ttl=${Math.floor(s.ttlMs / 1000)}`;
  if (s.stored === true) member += '; stored';
  if (s.collapsed === true) member += '; collapsed';
  if (s.key !== undefined) member += `; key=${sfString(s.key)}`;
  if (s.detail !== undefined) member += `; detail=${SF_TOKEN.test(s.detail) ? s.detail : sfString(s.detail)}`;
  const prior = upstream?.trim();
  return prior === undefined || prior === '' ? member : `${prior}, ${member}`;
}

/** RFC 8941 §3.3.4 token: written bare. */
const SF_TOKEN = /^[A-Za-z*][!#$%&'*+\-.^_`|~0-9A-Za-z:/]*$/;

/** RFC 8941 §3.3.3 string: printable ASCII, with `\` and `"` escaped; anything else percent-encoded. */
function sfString(value: string): string {
  let out = '"';
  for (const ch of value) {
    const c = ch.codePointAt(0)!;
    if (c === 0x22 || c === 0x5c) out += `\\${ch}`;
    else if (c >= 0x20 && c <= 0x7e) out += ch;
    else out += percentEncode(ch);
  }
  return `${out}"`;
}

function percentEncode(ch: string): string {
  try {
    return encodeURIComponent(ch);
  } catch {
    return '%EF%BF%BD'; // a lone surrogate: U+FFFD
  }
}

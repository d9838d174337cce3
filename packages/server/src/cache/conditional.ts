/**
 * A client's own conditional request answered from a stored response (RFC 9111 §4.3.2): If-None-Match is compared
 * with the stored ETag by the weak comparison (RFC 9110 §13.1.2) and takes precedence over If-Modified-Since, which
 * is compared with the stored Last-Modified, else its Date, else the time it was received. If-Match and
 * If-Unmodified-Since are for the origin: a request carrying them is forwarded, never evaluated here.
 */
import { fieldValue } from './key.ts';
import { parseHttpDate } from './http-date.ts';

/** The entity-tags of an If-None-Match value (RFC 9110 §8.8.3), or '*'; unquoted members are taken as sent. */
export function entityTags(value: string): string[] | '*' {
  const tags: string[] = [];
  const n = value.length;
  let i = 0;
  while (i < n) {
    while (i < n && (value[i] === ' ' || value[i] === '\t' || value[i] === ',')) i++;
    if (i >= n) break;
    if (value[i] === '*') return '*';
    const start = i;
    if (value.startsWith('W/', i) || value.startsWith('w/', i)) i += 2;
    if (value[i] === '"') {
      const end = value.indexOf('"', i + 1);
      i = end < 0 ? n : end + 1;
    } else {
      while (i < n && value[i] !== ',') i++;
    }
    tags.push(value.slice(start, i).trim());
  }
  return tags;
}

/** RFC 9110 §8.8.3.2 weak comparison: the opaque tags match, whether or not either is weak. */
export function weakMatch(a: string, b: string): boolean {
  return opaque(a) === opaque(b);
}

/** RFC 9110 §8.8.3.2 strong comparison: both strong, and the same opaque tag. */
export function strongMatch(a: string, b: string): boolean {
  return !isWeak(a) && !isWeak(b) && opaque(a) === opaque(b);
}

export function isWeak(tag: string): boolean {
  return tag.startsWith('W/') || tag.startsWith('w/');
}

function opaque(tag: string): string {
  const t = isWeak(tag) ? tag.slice(2) : tag;
  return t.length >= 2 && t.startsWith('"') && t.endsWith('"') ? t.slice(1, -1) : t;
}

/**
 * Whether the client's conditionals say it already has the stored response, so that a 304 answers it:
 * If-None-Match when present, else If-Modified-Since (GET and HEAD only; an invalid date or a list is ignored).
 */
export function clientHasCurrent(storedHeaders: readonly string[], storedAt: number, method: string, requestHeaders: readonly string[]): boolean {
  const inm = fieldValue(requestHeaders, 'if-none-match');
  if (inm !== undefined) {
    const tags = entityTags(inm);
    if (tags === '*') return true;
    const etag = fieldValue(storedHeaders, 'etag');
    return etag !== undefined && tags.some((t) => weakMatch(t, etag.trim()));
  }
  if (method !== 'GET' && method !== 'HEAD') return false;
  const ims = fieldValue(requestHeaders, 'if-modified-since');
  const since = parseHttpDate(ims);
  if (since === undefined) return false;
  const modified = parseHttpDate(fieldValue(storedHeaders, 'last-modified')) ?? parseHttpDate(fieldValue(storedHeaders, 'date')) ?? storedAt;
  return modified <= since;
}

/** RFC 9110 §15.4.5: what a 304 carries of the stored response (Last-Modified only when there is no ETag). */
const NOT_MODIFIED_FIELDS = new Set(['cache-control', 'content-location', 'date', 'etag', 'expires', 'vary']);

/** The stored fields a 304 generated from it repeats, as a new list (Age and the cache's own fields are added by the caller). */
export function notModifiedFields(storedHeaders: readonly string[]): string[] {
  const out: string[] = [];
  let etag = false;
  for (let i = 0; i < storedHeaders.length; i += 2) {
    const name = storedHeaders[i]!.toLowerCase();
    if (name === 'etag') etag = true;
    if (NOT_MODIFIED_FIELDS.has(name)) out.push(storedHeaders[i]!, storedHeaders[i + 1]!);
  }
  if (!etag) {
    for (let i = 0; i < storedHeaders.length; i += 2) {
      if (storedHeaders[i]!.toLowerCase() === 'last-modified') out.push(storedHeaders[i]!, storedHeaders[i + 1]!);
    }
  }
  return out;
}

/**
 * Freshness and age (RFC 9111 §4.2), as pure arithmetic on a response head. What a stored entry needs later is
 * reduced to a small record (PolicyRecord) when it is stored, so that answering a hit is a subtraction: no header is
 * parsed again on the hot path.
 */
import { deltaSeconds, directivesOf, type Directives } from './directives.ts';
import { parseHttpDate } from './http-date.ts';
import { targetedDirectives } from './targeted.ts';

/** RFC 9110 §15.1: statuses heuristically cacheable (206 aside: Fulcrum does not combine partial content). */
export const HEURISTICALLY_CACHEABLE: ReadonlySet<number> = new Set([200, 203, 204, 300, 301, 308, 404, 405, 410, 414, 501]);

/**
 * Statuses whose caching requirements Fulcrum understands (RFC 9111 §3, §5.2.2.3 must-understand): the final
 * statuses RFC 9110 §15 defines, but 206 (partial content is never stored: §3.4) and 304 (a validation answer).
 */
export const UNDERSTOOD: ReadonlySet<number> = new Set([
  200, 201, 202, 203, 204, 205, 300, 301, 302, 303, 307, 308,
  400, 401, 402, 403, 404, 405, 406, 407, 408, 409, 410, 411, 412, 413, 414, 415, 416, 417, 421, 422, 426,
  500, 501, 502, 503, 504, 505,
]);

/** What the cache reads of a response head, once. */
export interface ResponseFacts {
  /** The effective directives: the targeted field's when valid (RFC 9213), else Cache-Control. */
  readonly cc: Directives;
  /** A valid targeted field (CDN-Cache-Control) decided: Cache-Control and Expires are then ignored. */
  readonly targeted: boolean;
  /** Pragma: no-cache without Cache-Control (RFC 9111 §5.4, for HTTP/1.0 origins). */
  readonly pragmaNoCache: boolean;
  /** Epoch ms of Date; undefined when absent or not an HTTP-date. */
  readonly date: number | undefined;
  /** The first Expires line, as sent; undefined when absent. */
  readonly expires: string | undefined;
  readonly lastModified: number | undefined;
  /** Age in seconds (RFC 9111 §5.1: the first member of a list; an invalid value is ignored). */
  readonly age: number;
  readonly etag: string | undefined;
  readonly setCookie: boolean;
}

export function responseFacts(headers: readonly string[]): ResponseFacts {
  let hasCacheControl = false;
  let pragma = false;
  let date: string | undefined;
  let expires: string | undefined;
  let lastModified: string | undefined;
  let age: string | undefined;
  let etag: string | undefined;
  let setCookie = false;
  for (let i = 0; i < headers.length; i += 2) {
    switch (headers[i]!.toLowerCase()) {
      case 'cache-control':
        hasCacheControl = true;
        break;
      case 'pragma':
        if (/(^|,)\s*no-cache\s*(,|$)/i.test(headers[i + 1]!)) pragma = true;
        break;
      case 'date':
        date ??= headers[i + 1];
        break;
      case 'expires':
        expires ??= headers[i + 1];
        break;
      case 'last-modified':
        lastModified ??= headers[i + 1];
        break;
      case 'age':
        age ??= headers[i + 1];
        break;
      case 'etag':
        etag ??= headers[i + 1]!.trim();
        break;
      case 'set-cookie':
        setCookie = true;
        break;
    }
  }
  const targeted = targetedDirectives(headers);
  return {
    cc: targeted ?? directivesOf(headers, 'cache-control'),
    targeted: targeted !== undefined,
    pragmaNoCache: targeted === undefined && !hasCacheControl && pragma,
    date: parseHttpDate(date),
    expires,
    lastModified: parseHttpDate(lastModified),
    age: ageValue(age),
    etag,
    setCookie,
  };
}

/** RFC 9111 §5.1: the first member of the field; anything but a non-negative integer is ignored (0). */
export function ageValue(value: string | undefined): number {
  if (value === undefined) return 0;
  const comma = value.indexOf(',');
  return deltaSeconds((comma < 0 ? value : value.slice(0, comma)).trim()) ?? 0;
}

/**
 * RFC 9111 §4.2.1: the freshness lifetime in seconds, from s-maxage, max-age or Expires; undefined when the
 * response gives none (heuristics may then apply). An invalid or duplicated value makes the response stale, never
 * fresher (§4.2.1: "caches are encouraged to consider responses that have invalid freshness information to be stale").
 */
export function explicitLifetime(facts: ResponseFacts, responseTime: number): number | undefined {
  const cc = facts.cc;
  if (cc['s-maxage'] !== undefined) return deltaSeconds(cc['s-maxage']) ?? 0; // shared cache (§5.2.2.10)
  if (cc['max-age'] !== undefined) return deltaSeconds(cc['max-age']) ?? 0;
  if (facts.targeted || facts.expires === undefined) return undefined;
  // §5.3: an invalid date, "0" above all, is in the past. Expires counts from the origin's Date (§4.2.1).
  const expires = parseHttpDate(facts.expires);
  if (expires === undefined) return 0;
  return Math.max(0, Math.floor((expires - (facts.date ?? responseTime)) / 1000));
}

/** RFC 9111 §4.2.2: 10% of the time since Last-Modified, when it is before Date; undefined otherwise. */
export function lastModifiedHeuristic(facts: ResponseFacts, responseTime: number): number | undefined {
  const date = facts.date ?? responseTime;
  if (facts.lastModified === undefined || facts.lastModified >= date) return undefined;
  return Math.floor((date - facts.lastModified) / 10000);
}

/**
 * RFC 9111 §4.2.3: the age the response had when it arrived (corrected_initial_age), in seconds: the larger of the
 * apparent age (our clock against its Date; a Date in the future gives 0) and the Age it came with plus the time
 * the request took (response_delay).
 */
export function correctedInitialAge(facts: ResponseFacts, requestTime: number, responseTime: number): number {
  const apparentAge = facts.date === undefined ? 0 : Math.max(0, (responseTime - facts.date) / 1000);
  const responseDelay = Math.max(0, (responseTime - requestTime) / 1000);
  return Math.max(apparentAge, facts.age + responseDelay);
}

// --- the stored record ---

/** Flags of a stored record. */
export const ALWAYS_REVALIDATE = 1; // no-cache (§5.2.2.4): never served without a successful validation
export const NO_STALE = 2; // must-revalidate, proxy-revalidate or no-cache: never served stale (§4.2.4)
export const NO_MAX_STALE = 4; // s-maxage (§5.2.2.10, proxy-revalidate's meaning): a client's max-stale is not honoured

/** The route's defaults, in seconds, kept with the entry so that a 304 re-judges it alike in any worker. */
export interface RouteDefaults {
  readonly ttl: number;
  readonly swr: number;
  readonly sie: number;
  readonly keep: number;
  /** Whether the route lets this status have heuristic freshness. */
  readonly heuristic: boolean;
}

/** What a stored entry needs to be judged later (StoredResponse.policy). Seconds unless said. */
export interface PolicyRecord {
  readonly v: 2;
  /** response_time: epoch ms when the response (or the 304 that refreshed it) arrived. */
  readonly rt: number;
  /** corrected_initial_age. */
  readonly ia: number;
  /** Freshness lifetime. */
  readonly fl: number;
  /** stale-while-revalidate and stale-if-error windows in force. */
  readonly swr: number;
  readonly sie: number;
  readonly flags: number;
  /** The field names the response varies on (lower case, sorted), and the filling request's values, normalised. */
  readonly vary: readonly string[];
  readonly vals: readonly (string | null)[];
  readonly d: RouteDefaults;
}

export function isPolicyRecord(value: unknown): value is PolicyRecord {
  if (typeof value !== 'object' || value === null) return false;
  const r = value as Record<string, unknown>;
  return r.v === 2 && typeof r.rt === 'number' && typeof r.ia === 'number' && typeof r.fl === 'number' && Array.isArray(r.vary) && Array.isArray(r.vals) && typeof r.d === 'object' && r.d !== null;
}

/** current_age (RFC 9111 §4.2.3), in seconds. */
export function currentAge(rec: PolicyRecord, now: number): number {
  return rec.ia + Math.max(0, now - rec.rt) / 1000;
}

/** Freshness left in ms (negative once stale). */
export function freshnessLeftMs(rec: PolicyRecord, now: number): number {
  return Math.round((rec.fl - currentAge(rec, now)) * 1000);
}

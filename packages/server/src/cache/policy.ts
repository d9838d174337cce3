/**
 * The shared-cache rules of RFC 9111 (with RFC 5861's stale windows and RFC 9213's targeted fields), as pure
 * functions of heads, stored entries and a time (epoch ms). Fulcrum owns them: http-cache-semantics, used before,
 * computed age without the apparent age or the request's round trip (§4.2.3), read Cache-Control and Expires
 * loosely (a quoted `ext="max-age=100"` as a max-age, the last of two max-ages, any string Date.parse takes), forced
 * revalidation of fresh must-revalidate entries, refused explicit freshness to statuses outside a fixed list, and
 * stored no-cache responses not at all. Parsing lives in directives.ts, http-date.ts and targeted.ts, the
 * arithmetic in freshness.ts, client conditionals in conditional.ts.
 *
 * Choices where the RFCs leave room, each tested:
 * - Only GET responses are stored. A HEAD is answered from a stored GET (same key); a 200 to a HEAD updates or
 *   invalidates the stored GET (§4.3.5). POST responses are not stored, even with explicit freshness.
 * - Never stored: 206 (partial content is not combined, §3.4), 304, 412 and 416 (answers to a precondition or a
 *   range: stored under the URL they would answer requests that asked neither), and any status but 200 to a request
 *   with Range. With explicit freshness (s-maxage, max-age, Expires) any other final status may be stored; without
 *   it only those the route's `statuses` lists that are heuristically cacheable (RFC 9110 §15.1), or any of them
 *   under `public`, get heuristic freshness: 10% of the time since Last-Modified, else the route's `ttl` (§4.2.2).
 * - Set-Cookie: a response carrying it is stored only when it says shared caches may keep it (`public` or
 *   `s-maxage`), and the stored copy drops Set-Cookie: it was meant for the client whose request filled the cache.
 * - no-cache responses are stored when they have a validator, and revalidated on every use; qualified no-cache and
 *   private drop the fields they name from the stored copy (§5.2.2.4, §5.2.2.7). Proxy-Authenticate and
 *   Proxy-Authentication-Info are never stored (§3.1). A response without Date gets one (RFC 9110 §6.6.1).
 * - Stale windows: stale-while-revalidate / stale-if-error from the response, else the route's defaults. None at all
 *   under no-cache, must-revalidate or proxy-revalidate (§4.2.4); under s-maxage only the windows the response itself
 *   grants, and never a client's max-stale. A stale entry with a validator is kept the route's `keep_stale` longer,
 *   so that a conditional request (and a 304) can refresh it without the body.
 * - Request directives: no-cache (and Pragma: no-cache without Cache-Control), max-age, min-fresh, max-stale with or
 *   without a value; an invalid max-age or min-fresh is read as 0. no-store, If-Match and If-Unmodified-Since bypass
 *   the cache (the last two are the origin's to evaluate: §4.3.2). only-if-cached is the caller's: 504 unless the
 *   lookup can answer.
 */
import { deltaSeconds, directivesOf, fieldNames, NO_DIRECTIVES, parseDirectives, type Directives } from './directives.ts';
import {
  ALWAYS_REVALIDATE,
  correctedInitialAge,
  currentAge,
  explicitLifetime,
  freshnessLeftMs,
  HEURISTICALLY_CACHEABLE,
  isPolicyRecord,
  lastModifiedHeuristic,
  NO_MAX_STALE,
  NO_STALE,
  responseFacts,
  UNDERSTOOD,
  type PolicyRecord,
  type ResponseFacts,
  type RouteDefaults,
} from './freshness.ts';
import { clientHasCurrent, isWeak, notModifiedFields, strongMatch, weakMatch } from './conditional.ts';
import { formatHttpDate, parseHttpDate } from './http-date.ts';
import { fieldValue, normaliseFieldValue, varyNames, type CacheKeyConfig } from './key.ts';
import type { StoredResponse } from './store.ts';

/** A route's `cache` settings (durations in ms, sizes in bytes), as the config schema gives them. */
export interface CachePolicyConfig {
  readonly enabled: boolean;
  /** Heuristic freshness when the response gives none and has no usable Last-Modified (see above). */
  readonly ttl: number;
  readonly max_object_size: number;
  /** Statuses that may have heuristic freshness (only heuristically cacheable ones, or any under `public`). */
  readonly statuses: readonly number[];
  readonly key: CacheKeyConfig;
  readonly stale_while_revalidate: number;
  readonly stale_if_error: number;
  /** How long a stale entry with a validator is kept for revalidation (0: not past its stale windows). */
  readonly keep_stale?: number;
  /** 'surrogate-key' (space-separated) or 'cache-tag' (comma-separated; so is any other name). */
  readonly tag_header: string;
}

/** `url` is scheme-less (host + target), as StoredResponse.url; an origin-form target takes the Host field's host. */
export interface CacheRequestHead {
  readonly method: string;
  readonly url: string;
  readonly headers: readonly string[];
}

export interface CacheResponseHead {
  readonly status: number;
  readonly headers: readonly string[];
}

export type SkipReason =
  | 'disabled'
  | 'method'
  | 'status'
  | 'partial'
  | 'too-large'
  | 'no-store'
  | 'must-understand'
  | 'private'
  | 'authorization'
  | 'vary-star'
  | 'set-cookie'
  | 'no-cache'
  | 'not-cacheable'
  | 'expired';

export type StoreDecision =
  | {
      readonly store: true;
      /** Freshness left (ms), from now. */
      readonly ttlMs: number;
      readonly staleWhileRevalidateMs: number;
      readonly staleIfErrorMs: number;
      /** How long the store keeps it: ttlMs plus the larger stale window (or keep_stale, with a validator). */
      readonly storeTtlMs: number;
      /** The headers to store (see above for what is left out and added). */
      readonly headers: string[];
      readonly tags: readonly string[];
      readonly policy: PolicyRecord;
    }
  | { readonly store: false; readonly reason: SkipReason };

export type Lookup =
  /** ttlMs: freshness left, negative when a client's max-stale accepted a stale entry. */
  | { readonly state: 'fresh'; readonly ttlMs: number }
  /** Serve it, and revalidate in the background with these conditional fields. */
  | { readonly state: 'stale-while-revalidate'; readonly ttlMs: number; readonly revalidationHeaders: string[] }
  /**
   * Revalidate first: send these fields (If-None-Match / If-Modified-Since), replacing the client's own. `why`:
   * 'stale' past its freshness, 'request' a fresh entry the request's directives (or no-cache) do not let answer.
   */
  | { readonly state: 'stale'; readonly ttlMs: number; readonly revalidationHeaders: string[]; readonly why: 'stale' | 'request' }
  /** The request must go to the origin as it is, and its response is not stored (no-store, If-Match). */
  | { readonly state: 'bypass' }
  /** Not a match for this request (Vary, method, or an unreadable entry): treat as a miss. */
  | { readonly state: 'unusable' };

export type Revalidation =
  | { readonly modified: true }
  /**
   * storeTtlMs 0: serve the entry, but do not keep it (the 304 made it unstorable, or named another validator).
   * setCookie: the 304's Set-Cookie fields, for the client whose request it answers only.
   */
  | { readonly modified: false; readonly entry: StoredResponse; readonly ttlMs: number; readonly storeTtlMs: number; readonly setCookie: string[] };

/** RFC 9111 §3: statuses never stored, whatever the response says (see above). */
const NEVER_STORED = new Set([304, 412, 416]);

/** RFC 9111 §3.1: fields specific to the proxy a response went through, never stored. */
const NOT_STORED = new Set(['proxy-authenticate', 'proxy-authentication-info', 'proxy-authorization']);

/**
 * 8 cacheAdmit: whether a response may be stored, for how long, and what to store. Reads Content-Length when
 * present; a streamed body is cut off by the caller at max_object_size. `requestTime` is when the request went to
 * the backend (RFC 9111 §4.2.3), `now` when its response arrived.
 */
export function storable(
  req: CacheRequestHead,
  res: CacheResponseHead,
  cfg: CachePolicyConfig,
  now: number = Date.now(),
  requestTime: number = now,
): StoreDecision {
  if (!cfg.enabled) return skip('disabled');
  if (req.method !== 'GET') return skip('method');
  if (res.status === 206) return skip('partial');
  if (res.status < 200 || NEVER_STORED.has(res.status)) return skip('status');
  if (res.status !== 200 && fieldValue(req.headers, 'range') !== undefined) return skip('status');
  // A cheap refusal first: a miss that will not be stored should cost the cache next to nothing.
  const length = fieldValue(res.headers, 'content-length');
  if (length !== undefined && Number(length) > cfg.max_object_size) return skip('too-large');
  const defaults: RouteDefaults = {
    ttl: Math.floor(cfg.ttl / 1000),
    swr: Math.floor(cfg.stale_while_revalidate / 1000),
    sie: Math.floor(cfg.stale_if_error / 1000),
    keep: Math.floor((cfg.keep_stale ?? 0) / 1000),
    heuristic: cfg.statuses.includes(res.status),
  };
  return judge(req, res.status, res.headers, defaults, tagsOf(res, cfg.tag_header), requestTime, now);
}

/** RFC 9111 §3 and §4.2 for one response head, with the route's defaults (seconds). */
function judge(
  req: CacheRequestHead,
  status: number,
  headers: readonly string[],
  defaults: RouteDefaults,
  tags: readonly string[],
  requestTime: number,
  now: number,
): StoreDecision {
  if (directivesOf(req.headers, 'cache-control')['no-store'] !== undefined) return skip('no-store'); // §5.2.1.5
  const facts = responseFacts(headers);
  const cc = facts.cc;
  // §5.2.2.3: must-understand stores only what the cache understands, and then overrides no-store.
  const mustUnderstand = cc['must-understand'] !== undefined;
  if (mustUnderstand && !UNDERSTOOD.has(status)) return skip('must-understand');
  if (cc['no-store'] !== undefined && !mustUnderstand) return skip('no-store');
  const privateFields = fieldNames(cc['private']);
  if (cc['private'] !== undefined && privateFields.length === 0) return skip('private'); // §5.2.2.7
  const isPublic = cc['public'] !== undefined;
  const sMaxAge = cc['s-maxage'] !== undefined;
  const mustRevalidate = cc['must-revalidate'] !== undefined;
  // §3.5
  if (fieldValue(req.headers, 'authorization') !== undefined && !isPublic && !sMaxAge && !mustRevalidate) return skip('authorization');
  const vary = varyNames(varyValues(headers));
  if (vary === '*') return skip('vary-star'); // §4.1
  const noCacheFields = fieldNames(cc['no-cache']);
  const noCache = (cc['no-cache'] !== undefined && noCacheFields.length === 0) || facts.pragmaNoCache;
  const dropped = [...privateFields, ...noCacheFields];
  if (facts.setCookie && !isPublic && !sMaxAge && !dropped.includes('set-cookie')) return skip('set-cookie');
  if (noCache && facts.etag === undefined && facts.lastModified === undefined) return skip('no-cache'); // nothing to revalidate with

  let lifetime = explicitLifetime(facts, now);
  if (lifetime === undefined) {
    // §4.2.2: heuristics only for heuristically cacheable statuses, or under public; none otherwise (§3).
    if (!defaults.heuristic || (!HEURISTICALLY_CACHEABLE.has(status) && !isPublic)) return skip('not-cacheable');
    lifetime = lastModifiedHeuristic(facts, now) ?? defaults.ttl;
  }
  const noStale = noCache || mustRevalidate || cc['proxy-revalidate'] !== undefined;
  const window = (name: string, fallback: number): number =>
    noStale ? 0 : cc[name] !== undefined ? (deltaSeconds(cc[name]) ?? 0) : sMaxAge ? 0 : fallback;
  const swr = window('stale-while-revalidate', defaults.swr);
  const sie = window('stale-if-error', defaults.sie);
  const record: PolicyRecord = {
    v: 2,
    rt: now,
    ia: correctedInitialAge(facts, requestTime, now),
    fl: lifetime,
    swr,
    sie,
    flags: (noCache ? ALWAYS_REVALIDATE : 0) | (noStale ? NO_STALE : 0) | (noStale || sMaxAge ? NO_MAX_STALE : 0),
    vary,
    vals: vary.map((name) => varyValue(req.headers, name)),
    d: defaults,
  };
  const ttlMs = freshnessLeftMs(record, now);
  const validator = facts.etag !== undefined || facts.lastModified !== undefined;
  const storeTtlMs = Math.max(0, ttlMs) + Math.max(swr, sie, validator ? defaults.keep : 0) * 1000;
  if (storeTtlMs <= 0) return skip('expired');
  return {
    store: true,
    ttlMs,
    staleWhileRevalidateMs: swr * 1000,
    staleIfErrorMs: sie * 1000,
    storeTtlMs,
    headers: storedHeaders(headers, dropped, facts, now),
    tags,
    policy: record,
  };
}

/** The fields to store: without Set-Cookie, proxy fields and those qualified directives name; with a Date. */
function storedHeaders(headers: readonly string[], dropped: readonly string[], facts: ResponseFacts, now: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i]!.toLowerCase();
    if (name === 'set-cookie' || NOT_STORED.has(name) || (dropped.length > 0 && dropped.includes(name))) continue;
    out.push(headers[i]!, headers[i + 1]!);
  }
  // RFC 9110 §6.6.1: a recipient with a clock adds the Date a response lacks before caching it.
  if (facts.date === undefined && fieldValue(headers, 'date') === undefined) out.push('date', formatHttpDate(now));
  return out;
}

/** The entry to store for a response the decision admitted, once its body is complete. */
export function entryFor(
  url: string,
  status: number,
  decision: StoreDecision & { store: true },
  body: Buffer,
  now: number,
): StoredResponse {
  return { url, status, headers: decision.headers, body, storedAt: now, tags: decision.tags, policy: decision.policy as unknown as Record<string, unknown> };
}

/** What the lookup reads of a request, from one pass over its fields. */
interface RequestFacts {
  cc: Directives;
  pragmaNoCache: boolean;
  bypass: boolean;
}

function requestFacts(headers: readonly string[]): RequestFacts | undefined {
  let cc: Directives | undefined;
  let pragma = false;
  let bypass = false;
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i]!;
    // Cheap first-letter filter: c(ache-control), p(ragma), i(f-match, f-unmodified-since).
    const c = name.charCodeAt(0) | 0x20;
    if (c !== 0x63 && c !== 0x70 && c !== 0x69) continue;
    const lower = name.toLowerCase();
    if (lower === 'cache-control') cc = parseDirectives(headers[i + 1]!, cc);
    else if (lower === 'pragma') pragma ||= /(^|,)\s*no-cache\s*(,|$)/i.test(headers[i + 1]!);
    else if (lower === 'if-match' || lower === 'if-unmodified-since') bypass = true;
  }
  if (cc === undefined && !pragma && !bypass) return undefined; // the usual request: nothing special
  return { cc: cc ?? NO_DIRECTIVES, pragmaNoCache: pragma && cc === undefined, bypass: bypass || (cc !== undefined && cc['no-store'] !== undefined) };
}

/**
 * 3 cacheLookup: how a stored entry (found under the request's key) may answer the request (RFC 9111 §4): fresh,
 * stale within stale-while-revalidate, to be revalidated first, to be bypassed, or unusable.
 */
export function lookup(entry: StoredResponse, req: CacheRequestHead, now: number): Lookup {
  if (req.method !== 'GET' && req.method !== 'HEAD') return UNUSABLE;
  const rec = entry.policy as unknown;
  if (!isPolicyRecord(rec)) return UNUSABLE;
  if (rec.vary.length > 0 && !varyMatches(rec, req.headers)) return UNUSABLE;
  const facts = requestFacts(req.headers);
  const age = currentAge(rec, now);
  const ttlMs = Math.round((rec.fl - age) * 1000);
  // The common hit: a plain request for a fresh entry that does not always need revalidating.
  if (facts === undefined) {
    if (ttlMs > 0 && (rec.flags & ALWAYS_REVALIDATE) === 0) return { state: 'fresh', ttlMs };
    return staleOrWindow(entry, rec, ttlMs, 'stale');
  }
  if (facts.bypass) return BYPASS;
  const cc = facts.cc;
  if ((rec.flags & ALWAYS_REVALIDATE) !== 0) return revalidate(entry, ttlMs, ttlMs > 0 ? 'request' : 'stale');
  if (cc['no-cache'] !== undefined || facts.pragmaNoCache) return revalidate(entry, ttlMs, 'request'); // §5.2.1.4, §5.4
  if (cc['max-age'] !== undefined && age > (deltaSeconds(cc['max-age']) ?? 0)) return revalidate(entry, ttlMs, 'request'); // §5.2.1.1
  if (cc['min-fresh'] !== undefined && ttlMs < (deltaSeconds(cc['min-fresh']) ?? 0) * 1000) return revalidate(entry, ttlMs, 'request'); // §5.2.1.3
  if (ttlMs > 0) return { state: 'fresh', ttlMs };
  // §5.2.1.2: max-stale, with no value any staleness; never past must-revalidate, proxy-revalidate or s-maxage.
  const maxStale = cc['max-stale'];
  if (maxStale !== undefined && (rec.flags & NO_MAX_STALE) === 0) {
    const bound = maxStale === '' ? Infinity : deltaSeconds(maxStale);
    if (bound !== undefined && -ttlMs <= bound * 1000) return { state: 'fresh', ttlMs };
  }
  return staleOrWindow(entry, rec, ttlMs, 'stale');
}

function staleOrWindow(entry: StoredResponse, rec: PolicyRecord, ttlMs: number, why: 'stale' | 'request'): Lookup {
  if (ttlMs <= 0 && (rec.flags & NO_STALE) === 0 && rec.swr > 0 && -ttlMs < rec.swr * 1000) {
    return { state: 'stale-while-revalidate', ttlMs, revalidationHeaders: revalidationFields(entry.headers) };
  }
  return revalidate(entry, ttlMs, ttlMs > 0 ? 'request' : why);
}

function revalidate(entry: StoredResponse, ttlMs: number, why: 'stale' | 'request'): Lookup {
  return { state: 'stale', ttlMs, revalidationHeaders: revalidationFields(entry.headers), why };
}

/**
 * RFC 9111 §4.3.1: the conditional fields that revalidate a stored response: If-None-Match with its ETag, and
 * If-Modified-Since with its Last-Modified (an origin that knows ETags ignores the latter, RFC 9110 §13.1.3).
 */
function revalidationFields(headers: readonly string[]): string[] {
  const out: string[] = [];
  const etag = fieldValue(headers, 'etag');
  if (etag !== undefined) out.push('if-none-match', etag.split(/,(?=\s*(?:W\/)?")/)[0]!.trim());
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i]!.toLowerCase() === 'last-modified') {
      out.push('if-modified-since', headers[i + 1]!);
      break;
    }
  }
  return out;
}

/** The conditional fields that revalidate an entry (for a background refresh). */
export function revalidationHeadersOf(entry: StoredResponse, _req?: CacheRequestHead): string[] {
  return revalidationFields(entry.headers);
}

/** Freshness left (ms; negative once stale), for Cache-Status ttl. */
export function ttlOf(entry: StoredResponse, now: number): number {
  const rec = entry.policy as unknown;
  return isPolicyRecord(rec) ? freshnessLeftMs(rec, now) : 0;
}

/**
 * 11 failToProxy: whether the backend failing (no answer, or a 500, 502, 503 or 504) lets the entry answer
 * (RFC 5861 §4): within the response's (or the route's) stale-if-error, or the request's own; never under
 * no-cache, must-revalidate or proxy-revalidate (RFC 9111 §4.2.4), nor for a request that asked for no-cache.
 */
export function canServeStaleOnError(entry: StoredResponse, now: number, req?: CacheRequestHead): boolean {
  const rec = entry.policy as unknown;
  if (!isPolicyRecord(rec) || (rec.flags & NO_STALE) !== 0) return false;
  const reqcc = req === undefined ? NO_DIRECTIVES : directivesOf(req.headers, 'cache-control');
  if (reqcc['no-cache'] !== undefined) return false;
  const staleness = -freshnessLeftMs(rec, now);
  const requestWindow = deltaSeconds(reqcc['stale-if-error']) ?? 0;
  return staleness < Math.max(rec.sie, requestWindow) * 1000;
}

/** RFC 5861 §4: the answers from the backend that count as an error for stale-if-error. */
export function isErrorStatus(status: number): boolean {
  return status === 500 || status === 502 || status === 503 || status === 504;
}

/** 9 responseFilter: the stored headers with Age brought up to now (RFC 9111 §5.1, §4.2.3), as a new list. */
export function responseHeadersFor(entry: StoredResponse, now: number): string[] {
  const rec = entry.policy as unknown;
  const age = isPolicyRecord(rec) ? currentAge(rec, now) : (now - entry.storedAt) / 1000;
  const out: string[] = [];
  const stored = entry.headers;
  for (let i = 0; i < stored.length; i += 2) {
    const name = stored[i]!;
    if (name.length === 3 && name.toLowerCase() === 'age') continue;
    out.push(name, stored[i + 1]!);
  }
  out.push('age', String(Math.max(0, Math.floor(age))));
  return out;
}

/**
 * The response a stored entry gives a request: 304 with the fields RFC 9110 §15.4.5 lists when the client's own
 * conditionals say it has it already (RFC 9111 §4.3.2), else the stored status and fields; Age in either.
 */
export function servedResponse(entry: StoredResponse, req: CacheRequestHead, now: number): { status: number; headers: string[] } {
  if (hasClientConditional(req.headers) && clientHasCurrent(entry.headers, entry.storedAt, req.method, req.headers)) {
    const headers = notModifiedFields(entry.headers);
    const rec = entry.policy as unknown;
    const age = isPolicyRecord(rec) ? currentAge(rec, now) : (now - entry.storedAt) / 1000;
    headers.push('age', String(Math.max(0, Math.floor(age))));
    return { status: 304, headers };
  }
  return { status: entry.status, headers: responseHeadersFor(entry, now) };
}

/** Whether the request carries If-None-Match or If-Modified-Since (cheap: most requests carry neither). */
export function hasClientConditional(headers: readonly string[]): boolean {
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i]!;
    if ((name.charCodeAt(0) | 0x20) !== 0x69 || (name.length !== 13 && name.length !== 17)) continue;
    const lower = name.toLowerCase();
    if (lower === 'if-none-match' || lower === 'if-modified-since') return true;
  }
  return false;
}

/**
 * A 304 answered a revalidation. When it identifies the entry (RFC 9111 §4.3.4: the same strong ETag; a weak one
 * matching; a matching Last-Modified; or no validator at all, since the conditional came from this entry), the
 * entry's fields are updated from it (§3.2) and it is stored anew (same body, new freshness). A 304 naming another
 * validator updates nothing (§4.3.4 MUST NOT): the entry answers once and is not kept. A full response is
 * `{ modified: true }`: use it instead.
 */
export function revalidated(entry: StoredResponse, req: CacheRequestHead, res: CacheResponseHead, now: number, requestTime: number = now): Revalidation {
  if (res.status !== 304) return MODIFIED;
  const rec = entry.policy as unknown;
  if (!isPolicyRecord(rec)) return MODIFIED;
  const setCookie = fieldsNamed(res.headers, 'set-cookie');
  if (!identifies(entry.headers, res.headers)) return { modified: false, entry, ttlMs: freshnessLeftMs(rec, now), storeTtlMs: 0, setCookie };
  return { ...refresh(entry, rec, req, dated(res.headers, now), requestTime, now), setCookie };
}

function refresh(entry: StoredResponse, rec: PolicyRecord, req: CacheRequestHead, update: readonly string[], requestTime: number, now: number) {
  const headers = mergeHeaders(entry.headers, update);
  const decision = judge(req, entry.status, headers, rec.d, entry.tags, requestTime, now);
  const refreshed = { ...entry, headers, storedAt: now };
  if (!decision.store) {
    // Served once, not kept; its freshness as the 304 gave it, for Cache-Status.
    return { modified: false as const, entry: refreshed, ttlMs: 0, storeTtlMs: 0 };
  }
  const fresh: StoredResponse = { ...refreshed, headers: decision.headers, policy: decision.policy as unknown as Record<string, unknown> };
  return { modified: false as const, entry: fresh, ttlMs: decision.ttlMs, storeTtlMs: decision.storeTtlMs };
}

/** RFC 9111 §4.3.4: whether a 304 (or a HEAD response's validators, §4.3.5) identifies the stored response. */
function identifies(stored: readonly string[], update: readonly string[]): boolean {
  const etag = fieldValue(update, 'etag')?.trim();
  const storedEtag = fieldValue(stored, 'etag')?.trim();
  if (etag !== undefined) {
    if (storedEtag === undefined) return false;
    return isWeak(etag) ? weakMatch(etag, storedEtag) : strongMatch(etag, storedEtag);
  }
  const lastModified = fieldValue(update, 'last-modified');
  if (lastModified !== undefined) {
    const storedLm = fieldValue(stored, 'last-modified');
    return storedLm !== undefined && parseHttpDate(storedLm) === parseHttpDate(lastModified) && parseHttpDate(storedLm) !== undefined;
  }
  return true;
}

/**
 * RFC 9111 §4.3.5: a 200 to a HEAD for a stored GET. Matching validators (and Content-Length, when given) update the
 * stored fields as a 304 would ('update'); anything else makes the stored response unusable ('invalidate'). Other
 * statuses leave it alone ('none').
 */
export function headUpdated(
  entry: StoredResponse,
  req: CacheRequestHead,
  res: CacheResponseHead,
  now: number,
  requestTime: number = now,
): { readonly kind: 'update'; readonly entry: StoredResponse; readonly storeTtlMs: number } | { readonly kind: 'invalidate' } | { readonly kind: 'none' } {
  if (res.status !== 200) return NONE;
  const rec = entry.policy as unknown;
  if (!isPolicyRecord(rec)) return INVALIDATE;
  const length = fieldValue(res.headers, 'content-length');
  if (length !== undefined && Number(length) !== entry.body.length) return INVALIDATE;
  const hasValidator = fieldValue(res.headers, 'etag') !== undefined || fieldValue(res.headers, 'last-modified') !== undefined;
  if (!hasValidator || !identifies(entry.headers, res.headers)) return INVALIDATE;
  const result = refresh(entry, rec, { ...req, method: 'GET' }, dated(res.headers, now), requestTime, now);
  return result.storeTtlMs > 0 ? { kind: 'update', entry: result.entry, storeTtlMs: result.storeTtlMs } : INVALIDATE;
}

/**
 * Not taken from a 304 or a HEAD response (RFC 9111 §3.2): hop-by-hop fields; Content-Length (MUST), and the other
 * fields that describe the stored body's bytes, which a 304 cannot change; Set-Cookie and proxy fields (never stored).
 */
const NOT_MERGED = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade',
  'content-length', 'content-encoding', 'content-range', 'set-cookie', ...NOT_STORED,
]);

/** RFC 9111 §3.2: each field of the 304 replaces the stored field of that name, in its place, or is added. */
function mergeHeaders(stored: readonly string[], update: readonly string[]): string[] {
  const fresh = new Map<string, string[]>();
  for (let i = 0; i < update.length; i += 2) {
    const name = update[i]!.toLowerCase();
    if (!NOT_MERGED.has(name)) (fresh.get(name) ?? fresh.set(name, []).get(name)!).push(update[i]!, update[i + 1]!);
  }
  const out: string[] = [];
  const placed = new Set<string>();
  for (let i = 0; i < stored.length; i += 2) {
    const name = stored[i]!.toLowerCase();
    // The stored Age described the response as first received; the 304 is the new reception (RFC 9111 §4.3.4).
    if (name === 'age' && !fresh.has('age')) continue;
    const replacement = fresh.get(name);
    if (replacement === undefined) out.push(stored[i]!, stored[i + 1]!);
    else if (!placed.has(name)) {
      out.push(...replacement);
      placed.add(name);
    }
  }
  for (const [name, fields] of fresh) if (!placed.has(name)) out.push(...fields);
  return out;
}

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE']);

/** RFC 9111 §4.4: an unsafe method (any but GET, HEAD, OPTIONS, TRACE) answered with a 2xx or 3xx invalidates. */
export function invalidatesOnUnsafe(method: string, status: number): boolean {
  return !SAFE.has(method) && status >= 200 && status < 400;
}

/**
 * The scheme-less URLs (host + target) an unsafe request invalidates: its own, and those of Location and
 * Content-Location when on the same host (RFC 9111 §4.4: never another origin's, which a response could otherwise
 * evict at will). Scheme is not compared: keys have none, and Fulcrum may sit behind a TLS terminator.
 */
export function invalidatedUrls(req: CacheRequestHead, res: CacheResponseHead): string[] {
  if (!invalidatesOnUnsafe(req.method, res.status)) return [];
  const base = requestUrl(req);
  if (base === undefined) return [];
  // host, not hostname: entries are filed under the authority with its non-default port (cacheRequestOf).
  const urls = [req.url.startsWith('/') ? `${base.host}${req.url}` : req.url.replace(/^https?:\/\//i, '')];
  for (let i = 0; i < res.headers.length; i += 2) {
    const name = res.headers[i]!.toLowerCase();
    if (name !== 'location' && name !== 'content-location') continue;
    const target = URL.parse(res.headers[i + 1]!.trim(), base);
    if (target === null || (target.protocol !== 'http:' && target.protocol !== 'https:')) continue;
    if (target.host !== base.host) continue;
    const url = `${target.host}${target.pathname}${target.search}`;
    if (!urls.includes(url)) urls.push(url);
  }
  return urls;
}

function requestUrl(req: CacheRequestHead): URL | undefined {
  if (/^https?:\/\//i.test(req.url)) return URL.parse(req.url) ?? undefined;
  if (req.url.startsWith('/')) {
    const host = fieldValue(req.headers, 'host');
    return host === undefined ? undefined : (URL.parse(`http://${host}${req.url}`) ?? undefined);
  }
  return URL.parse(`http://${req.url}`) ?? undefined;
}

/** Purge tags: Surrogate-Key lists them space-separated; Cache-Tag (and any other header named) comma-separated. */
export function tagsOf(res: CacheResponseHead, tagHeader: string): string[] {
  const name = tagHeader.toLowerCase();
  const split = name === 'surrogate-key' ? /\s+/ : /\s*,\s*/;
  const tags: string[] = [];
  for (let i = 0; i < res.headers.length; i += 2) {
    if (res.headers[i]!.toLowerCase() !== name) continue;
    for (const tag of res.headers[i + 1]!.trim().split(split)) if (tag !== '' && !tags.includes(tag)) tags.push(tag);
  }
  return tags;
}

// --- helpers ---

const UNUSABLE: Lookup = { state: 'unusable' };
const BYPASS: Lookup = { state: 'bypass' };
const MODIFIED: Revalidation = { modified: true };
const NONE = { kind: 'none' } as const;
const INVALIDATE = { kind: 'invalidate' } as const;

function skip(reason: SkipReason): StoreDecision {
  return { store: false, reason };
}

/** The values of every Vary field of a response. */
function varyValues(headers: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < headers.length; i += 2) if (headers[i]!.toLowerCase() === 'vary') out.push(headers[i + 1]!);
  return out;
}

/** A request's value of a field the response varies on, normalised as in the Vary key (RFC 9111 §4.1); null when absent. */
function varyValue(headers: readonly string[], name: string): string | null {
  const value = fieldValue(headers, name);
  return value === undefined ? null : normaliseFieldValue(value);
}

/** RFC 9111 §4.1: every field the stored response varies on has the value the filling request had (absent alike). */
function varyMatches(rec: PolicyRecord, headers: readonly string[]): boolean {
  for (let i = 0; i < rec.vary.length; i++) if (varyValue(headers, rec.vary[i]!) !== rec.vals[i]) return false;
  return true;
}

/** RFC 9110 §6.6.1: an update without Date is dated when received (else the stored, older Date would age it). */
function dated(headers: readonly string[], now: number): readonly string[] {
  return fieldValue(headers, 'date') === undefined ? [...headers, 'date', formatHttpDate(now)] : headers;
}

function fieldsNamed(headers: readonly string[], lowerName: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < headers.length; i += 2) if (headers[i]!.toLowerCase() === lowerName) out.push(headers[i]!, headers[i + 1]!);
  return out;
}

/**
 * The shared-cache rules of RFC 9111, as pure functions of heads, stored entries and a time (epoch ms). The rule set
 * is http-cache-semantics' CachePolicy (`shared: true`); this module owns what sits around it: the route's
 * defaults, Set-Cookie, the stale windows of RFC 5861, header merging on 304, invalidation and tags.
 *
 * Choices where the RFCs leave room, each tested:
 * - Only GET responses are stored. A HEAD is answered from a stored GET (same key) but its own response, having no
 *   body, is never stored; POST responses with explicit freshness (RFC 9111 §3) are not stored either.
 * - Set-Cookie: a response carrying it is stored only when it says shared caches may keep it (`public` or
 *   `s-maxage`), and the stored copy drops Set-Cookie: it was meant for the client whose request filled the cache.
 * - Freshness: s-maxage, max-age or Expires when the response has one; otherwise, for a heuristically cacheable
 *   status (RFC 9110 §15.1) or a `public` response, 10% of the time since Last-Modified (RFC 9111 §4.2.2) when
 *   Last-Modified is earlier than Date; otherwise the route's `ttl`. Resolution is whole seconds, as on the wire.
 * - Stale windows: stale-while-revalidate / stale-if-error from the response, else the route's defaults. None at all
 *   under must-revalidate or proxy-revalidate; under s-maxage (which carries proxy-revalidate's meaning in a shared
 *   cache, RFC 9111 §5.2.2.10) only the windows the response itself grants, and never a client's max-stale.
 * - A response whose store time (freshness left plus the larger stale window) is zero is not stored, even with
 *   validators: no-cache and max-age=0 responses are fetched every time.
 * - Request directives: no-cache, max-age, min-fresh and max-stale are honoured; only-if-cached is left to the
 *   caller (answer 504 unless the state is 'fresh'); no-store stops storing the response, not serving a stored one.
 *
 * The stored policy object (CachePolicy.toObject()) carries the effective directives: the route's defaults are
 * written into its parsed Cache-Control, so that an entry decides alone, later, in any worker. Two library
 * behaviours are worked around there: must-revalidate forcing revalidation of fresh entries
 * (kornelski/http-cache-semantics#54) and proxy-revalidate zeroing freshness; both directives are replaced by
 * Fulcrum's own marks.
 *
 * http-cache-semantics is pinned to one version (package.json, no ^): this reads and rewrites its serialised form
 * (`toObject()`: `v`, `t`, `rescc`), subclasses it to override `now()`, and counts on it ignoring directives it does
 * not know; none of that is its documented API. Upgrade on purpose, with test/unit/cache/policy.test.ts.
 */
import CachePolicy from 'http-cache-semantics';
import { fieldValue, normaliseFieldValue, varyNames, type CacheKeyConfig } from './key.ts';
import type { StoredResponse } from './store.ts';

/** A route's `cache` settings (durations in ms, sizes in bytes), as the config schema gives them. */
export interface CacheRouteConfig {
  readonly enabled: boolean;
  /** Freshness when the response gives none (see above). */
  readonly ttl: number;
  readonly max_object_size: number;
  readonly statuses: readonly number[];
  readonly key: CacheKeyConfig;
  readonly stale_while_revalidate: number;
  readonly stale_if_error: number;
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
  | 'too-large'
  | 'no-store'
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
      /** How long the store keeps it: ttlMs plus the larger stale window. */
      readonly storeTtlMs: number;
      /** The headers to store: the response's, without Set-Cookie. */
      readonly headers: string[];
      readonly tags: readonly string[];
      readonly policy: CachePolicy;
    }
  | { readonly store: false; readonly reason: SkipReason };

export type Lookup =
  /** ttlMs: freshness left, negative when a client's max-stale accepted a stale entry. */
  | { readonly state: 'fresh'; readonly ttlMs: number }
  /** Serve it, and revalidate in the background with these conditional fields. */
  | { readonly state: 'stale-while-revalidate'; readonly ttlMs: number; readonly revalidationHeaders: string[] }
  /** Revalidate first: send these fields (If-None-Match / If-Modified-Since), replacing the client's own. */
  | { readonly state: 'stale'; readonly ttlMs: number; readonly revalidationHeaders: string[] }
  /** Not a match for this request (Vary, method, or an unreadable entry): treat as a miss. */
  | { readonly state: 'unusable' };

export type Revalidation =
  | { readonly modified: true }
  /** storeTtlMs 0: serve the refreshed entry, but do not keep it (the 304 made it unstorable). */
  | { readonly modified: false; readonly entry: StoredResponse; readonly ttlMs: number; readonly storeTtlMs: number };

type PolicyObject = CachePolicy.CachePolicyObject;
type Directives = Record<string, string | boolean>;

/** CachePolicy reading the given time instead of Date.now(). */
class ClockedPolicy extends CachePolicy {
  declare clock: number;
  now(): number {
    return this.clock;
  }
}

/** Policies rebuilt from stored objects, kept per object: a memory-store hit then rebuilds nothing. */
const rebuilt = new WeakMap<PolicyObject, ClockedPolicy>();

function at(obj: PolicyObject, now: number): ClockedPolicy {
  let policy = rebuilt.get(obj);
  if (policy === undefined) {
    policy = ClockedPolicy.fromObject(obj) as ClockedPolicy;
    rebuilt.set(obj, policy);
  }
  policy.clock = now;
  return policy;
}

// Fulcrum's marks in the stored policy's parsed Cache-Control (the library ignores directives it does not know).
const NO_STALE = 'fulcrum-no-stale'; // must-revalidate or proxy-revalidate: never served stale
const NO_MAX_STALE = 'fulcrum-no-max-stale'; // a client's max-stale is not honoured
const DEFAULT_TTL = 'fulcrum-ttl'; // the route's defaults, in seconds, for when a 304 refreshes the entry
const DEFAULT_SWR = 'fulcrum-swr';
const DEFAULT_SIE = 'fulcrum-sie';

/** RFC 9110 §15.1: statuses heuristically cacheable (206 aside: partial content is not stored). */
const HEURISTIC = new Set([200, 203, 204, 300, 301, 308, 404, 405, 410, 414, 501]);

/** The response fields the policy reads; only these are kept in the stored policy object. */
const POLICY_FIELDS = new Set(['cache-control', 'pragma', 'expires', 'date', 'last-modified', 'etag', 'age', 'vary']);
const LIST_FIELDS = new Set(['cache-control', 'pragma', 'vary']);

/**
 * 8 cacheAdmit: whether a response may be stored, for how long, and what to store. Reads Content-Length when
 * present; a streamed body is cut off by the caller at max_object_size.
 */
export function storable(
  req: CacheRequestHead,
  res: CacheResponseHead,
  cfg: CacheRouteConfig,
  now: number = Date.now(),
): StoreDecision {
  if (!cfg.enabled) return skip('disabled');
  if (req.method !== 'GET') return skip('method');
  if (!cfg.statuses.includes(res.status)) return skip('status');
  // The common refusals first, from one look at Cache-Control, before any other work on the response (a miss
  // that will not be stored should cost the cache next to nothing).
  const cc = directives(fieldValue(res.headers, 'cache-control'));
  if (cc['no-store'] !== undefined) return skip('no-store');
  if (cc['private'] !== undefined) return skip('private');
  const length = fieldValue(res.headers, 'content-length');
  if (length !== undefined && Number(length) > cfg.max_object_size) return skip('too-large');
  const defaults = {
    ttl: Math.floor(cfg.ttl / 1000),
    swr: Math.floor(cfg.stale_while_revalidate / 1000),
    sie: Math.floor(cfg.stale_if_error / 1000),
  };
  return judge(req, res.status, res.headers, defaults, tagsOf(res, cfg.tag_header), now);
}

interface Defaults {
  readonly ttl: number;
  readonly swr: number;
  readonly sie: number;
}

/** RFC 9111 §3 and §4.2 for one response head, with the route's defaults (seconds). */
function judge(
  req: CacheRequestHead,
  status: number,
  headers: readonly string[],
  defaults: Defaults,
  tags: readonly string[],
  now: number,
): StoreDecision {
  if (directives(fieldValue(req.headers, 'cache-control'))['no-store'] !== undefined) return skip('no-store');
  const res = responseFields(headers);
  const cc = directives(res.fields['cache-control']);
  if (cc['no-store'] !== undefined) return skip('no-store');
  if (cc['private'] !== undefined) return skip('private'); // qualified private="…" too: conservative
  const shared = cc['public'] !== undefined || cc['s-maxage'] !== undefined;
  // RFC 9111 §3.5
  if (fieldValue(req.headers, 'authorization') !== undefined && !shared && cc['must-revalidate'] === undefined) {
    return skip('authorization');
  }
  const vary = varyNames(res.fields['vary'] ?? []);
  if (vary === '*') return skip('vary-star');
  if (res.setCookie && !shared) return skip('set-cookie');
  const pragmaNoCache = res.fields['cache-control'] === undefined && /no-cache/.test(res.fields['pragma'] ?? '');
  if (cc['no-cache'] !== undefined || pragmaNoCache) return skip('no-cache');
  const libReq = { method: 'GET', headers: requestFields(req.headers, vary) };
  const policy = new ClockedPolicy(libReq, { status, headers: res.fields }, { shared: true });
  if (!policy.storable()) return skip('not-cacheable');

  const obj = policy.toObject();
  obj.t = now;
  const rescc: Directives = { ...obj.rescc };
  const explicit = cc['s-maxage'] !== undefined || cc['max-age'] !== undefined || res.fields['expires'] !== undefined;
  const heuristic = !explicit && (HEURISTIC.has(status) || cc['public'] !== undefined) && lastModifiedBeforeDate(res.fields, now);
  if (!explicit && !heuristic) rescc['max-age'] = String(defaults.ttl);
  const noStale = cc['must-revalidate'] !== undefined || cc['proxy-revalidate'] !== undefined;
  const sMaxAge = cc['s-maxage'] !== undefined;
  const window = (name: string, fallback: number): number =>
    noStale ? 0 : cc[name] !== undefined ? seconds(cc[name]) : sMaxAge ? 0 : fallback;
  const swr = window('stale-while-revalidate', defaults.swr);
  const sie = window('stale-if-error', defaults.sie);
  delete rescc['must-revalidate'];
  delete rescc['proxy-revalidate'];
  setDirective(rescc, 'stale-while-revalidate', swr);
  setDirective(rescc, 'stale-if-error', sie);
  if (noStale) rescc[NO_STALE] = true;
  if (noStale || sMaxAge) rescc[NO_MAX_STALE] = true;
  rescc[DEFAULT_TTL] = String(defaults.ttl);
  rescc[DEFAULT_SWR] = String(defaults.swr);
  rescc[DEFAULT_SIE] = String(defaults.sie);
  obj.rescc = rescc as PolicyObject['rescc'];

  const effective = at(obj, now);
  const ttlMs = freshnessMs(effective);
  const storeTtlMs = ttlMs + Math.max(swr, sie) * 1000;
  if (storeTtlMs <= 0) return skip('expired');
  return {
    store: true,
    ttlMs,
    staleWhileRevalidateMs: swr * 1000,
    staleIfErrorMs: sie * 1000,
    storeTtlMs,
    headers: res.setCookie ? withoutField(headers, 'set-cookie') : headers.slice(),
    tags,
    policy: effective,
  };
}

/** The entry to store for a response the decision admitted, once its body is complete. */
export function entryFor(
  url: string,
  status: number,
  decision: StoreDecision & { store: true },
  body: Buffer,
  now: number,
): StoredResponse {
  return { url, status, headers: decision.headers, body, storedAt: now, tags: decision.tags, policy: toRecord(decision.policy) };
}

/**
 * 3 cacheLookup: how a stored entry (found under the request's key) may answer the request (RFC 9111 §4): fresh,
 * stale within stale-while-revalidate, stale (revalidate first), or unusable.
 */
export function lookup(entry: StoredResponse, req: CacheRequestHead, now: number): Lookup {
  if (req.method !== 'GET' && req.method !== 'HEAD') return UNUSABLE;
  const obj = policyObjectOf(entry);
  if (obj === undefined) return UNUSABLE;
  const vary = storedVary(obj);
  if (vary === '*') return UNUSABLE;
  const headers = requestFields(req.headers, vary);
  if (!varyMatches(obj, headers, vary)) return UNUSABLE;
  // The common case of a hit: the client asks nothing special (no Cache-Control, no Pragma) and the entry is
  // within its freshness, not marked no-cache: fresh, without running the library's full request evaluation.
  if (headers['cache-control'] === undefined && headers['pragma'] === undefined && obj.rescc['no-cache'] === undefined) {
    const policy = at(obj, now);
    const ttlMs = freshnessMs(policy);
    if (ttlMs > 0) return { state: 'fresh', ttlMs };
  }
  const cc = headers['cache-control'];
  if (cc !== undefined && obj.rescc[NO_MAX_STALE] !== undefined && cc.includes('max-stale')) {
    headers['cache-control'] = cc.split(',').filter((d) => !d.trim().startsWith('max-stale')).join(',');
  }
  const policy = at(obj, now);
  // A HEAD is answered from the stored GET (RFC 9110 §9.3.2): asked as a GET.
  const result = policy.evaluateRequest({ method: 'GET', headers });
  const ttlMs = freshnessMs(policy);
  if (result.revalidation === undefined) return { state: 'fresh', ttlMs };
  const revalidationHeaders = conditionals(result.revalidation.headers);
  if (result.response !== undefined) return { state: 'stale-while-revalidate', ttlMs, revalidationHeaders };
  return { state: 'stale', ttlMs, revalidationHeaders };
}

/** The conditional fields that revalidate an entry (If-None-Match from ETag, If-Modified-Since from Last-Modified). */
export function revalidationHeadersOf(entry: StoredResponse, req: CacheRequestHead): string[] {
  const obj = policyObjectOf(entry);
  if (obj === undefined) return [];
  const vary = storedVary(obj);
  const headers = requestFields(req.headers, vary === '*' ? [] : vary);
  return conditionals(at(obj, entry.storedAt).revalidationHeaders({ method: 'GET', headers }));
}

/** Freshness left (ms; negative once stale), for Cache-Status ttl. */
export function ttlOf(entry: StoredResponse, now: number): number {
  const obj = policyObjectOf(entry);
  return obj === undefined ? 0 : freshnessMs(at(obj, now));
}

/** 11 failToProxy: whether the backend failing lets the entry answer (RFC 5861 §4), never under must-revalidate. */
export function canServeStaleOnError(entry: StoredResponse, now: number): boolean {
  const obj = policyObjectOf(entry);
  if (obj === undefined || obj.rescc[NO_STALE] !== undefined) return false;
  const policy = at(obj, now);
  return policy.age() < policy.maxAge() + seconds(obj.rescc['stale-if-error']);
}

/** 9 responseFilter: the stored headers with Age brought up to now (RFC 9111 §5.1, §4.2.3), as a new list. */
export function responseHeadersFor(entry: StoredResponse, now: number): string[] {
  const obj = policyObjectOf(entry);
  const age = Math.max(0, Math.floor(obj === undefined ? (now - entry.storedAt) / 1000 : at(obj, now).age()));
  const out = withoutField(entry.headers, 'age');
  out.push('age', String(age));
  return out;
}

/**
 * A 304 answered a revalidation: when it matches the entry's validators (RFC 9111 §4.3.4), the entry's headers are
 * updated from it (§3.2) and it is stored anew (same body, new freshness); otherwise `{ modified: true }`: the
 * entry cannot be used, fetch it in full.
 */
export function revalidated(entry: StoredResponse, req: CacheRequestHead, res: CacheResponseHead, now: number): Revalidation {
  if (res.status !== 304) return MODIFIED;
  const obj = policyObjectOf(entry);
  if (obj === undefined) return MODIFIED;
  const vary = storedVary(obj);
  const libReq = { method: 'GET', headers: requestFields(req.headers, vary === '*' ? [] : vary) };
  const check = at(obj, now).revalidatedPolicy(libReq, { status: 304, headers: responseFields(res.headers).fields });
  if (check.modified || !check.matches) return MODIFIED;
  const headers = mergeHeaders(entry.headers, res.headers);
  const rescc = obj.rescc as Directives;
  const defaults = { ttl: seconds(rescc[DEFAULT_TTL]), swr: seconds(rescc[DEFAULT_SWR]), sie: seconds(rescc[DEFAULT_SIE]) };
  const decision = judge(req, entry.status, headers, defaults, entry.tags, now);
  const refreshed = { ...entry, headers, storedAt: now };
  if (!decision.store) return { modified: false, entry: { ...refreshed, policy: entry.policy }, ttlMs: 0, storeTtlMs: 0 };
  const fresh = { ...refreshed, policy: toRecord(decision.policy) };
  return { modified: false, entry: fresh, ttlMs: decision.ttlMs, storeTtlMs: decision.storeTtlMs };
}

/** Not taken from a 304: hop-by-hop fields, the body's own (the body is kept), and Set-Cookie (never stored). */
const NOT_MERGED = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade',
  'content-length', 'content-encoding', 'content-range', 'set-cookie',
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
    if (name === 'age') continue;
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
const MODIFIED: Revalidation = { modified: true };

function skip(reason: SkipReason): StoreDecision {
  return { store: false, reason };
}

function toRecord(policy: CachePolicy): Record<string, unknown> {
  return policy.toObject() as unknown as Record<string, unknown>;
}

function policyObjectOf(entry: StoredResponse): PolicyObject | undefined {
  const obj = entry.policy as unknown as PolicyObject | undefined;
  return obj !== undefined && obj !== null && obj.v === 1 && typeof obj.rescc === 'object' ? obj : undefined;
}

function freshnessMs(policy: CachePolicy): number {
  return Math.round((policy.maxAge() - policy.age()) * 1000);
}

function storedVary(obj: PolicyObject): readonly string[] | '*' {
  const vary = obj.resh['vary'];
  return vary === undefined ? [] : varyNames(vary);
}

/** RFC 9111 §4.1, on values normalised alike at store and lookup. */
function varyMatches(obj: PolicyObject, headers: CachePolicy.Headers, vary: readonly string[]): boolean {
  for (const name of vary) if ((obj.reqh?.[name] ?? undefined) !== headers[name]) return false;
  return true;
}

/** The response's policy fields (singletons: the first line; lists: joined) and whether it sets a cookie. */
function responseFields(headers: readonly string[]): { fields: Record<string, string>; setCookie: boolean } {
  const fields: Record<string, string> = {};
  let setCookie = false;
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i]!.toLowerCase();
    if (name === 'set-cookie') setCookie = true;
    if (!POLICY_FIELDS.has(name)) continue;
    // Directive names are case-insensitive (RFC 9111 §5.2); the library compares them as written.
    const value = name === 'cache-control' || name === 'pragma' ? headers[i + 1]!.toLowerCase() : headers[i + 1]!;
    const prior = fields[name];
    if (prior === undefined) fields[name] = value;
    else if (LIST_FIELDS.has(name)) fields[name] = `${prior}, ${value}`;
  }
  return { fields, setCookie };
}

/**
 * The request fields the policy reads: its directives, the preconditions that rule out weak validators, and the
 * fields the response varies on (normalised as in the Vary key). Never the client's If-None-Match or
 * If-Modified-Since: the conditionals sent upstream are the cache's own. Nothing else: the stored object would
 * otherwise keep the filling client's Cookie or Authorization.
 */
const REQUEST_FIELDS = new Set(['cache-control', 'pragma', 'if-match', 'if-unmodified-since']);

function requestFields(headers: readonly string[], vary: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i]!.toLowerCase();
    if (!REQUEST_FIELDS.has(name) && !vary.includes(name)) continue;
    const value = name === 'cache-control' || name === 'pragma' ? headers[i + 1]!.toLowerCase() : headers[i + 1]!;
    out[name] = out[name] === undefined ? value : `${out[name]}, ${value}`;
  }
  for (const name of vary) if (out[name] !== undefined) out[name] = normaliseFieldValue(out[name]);
  return out;
}

function conditionals(headers: CachePolicy.Headers): string[] {
  const out: string[] = [];
  for (const name of ['if-none-match', 'if-modified-since']) {
    const value = headers[name];
    if (typeof value === 'string' && value !== '') out.push(name, value);
  }
  return out;
}

/** Cache-Control directives, lower case, values unquoted (the value of a bare directive is ''). */
function directives(value: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (value === undefined) return out;
  for (const part of value.split(',')) {
    const eq = part.indexOf('=');
    const name = (eq < 0 ? part : part.slice(0, eq)).trim().toLowerCase();
    if (name !== '' && out[name] === undefined) out[name] = eq < 0 ? '' : part.slice(eq + 1).trim().replace(/^"|"$/g, '');
  }
  return out;
}

function seconds(value: string | boolean | undefined): number {
  const n = typeof value === 'string' ? parseInt(value, 10) : NaN;
  return Number.isFinite(n) && n > 0 ? n : 0;
}

function setDirective(cc: Directives, name: string, value: number): void {
  if (value > 0) cc[name] = String(value);
  else delete cc[name];
}

function lastModifiedBeforeDate(fields: Record<string, string>, now: number): boolean {
  const lastModified = Date.parse(fields['last-modified'] ?? '');
  const date = Date.parse(fields['date'] ?? '');
  return Number.isFinite(lastModified) && lastModified < (Number.isFinite(date) ? date : now);
}

function withoutField(headers: readonly string[], lowerName: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < headers.length; i += 2) if (headers[i]!.toLowerCase() !== lowerName) out.push(headers[i]!, headers[i + 1]!);
  return out;
}

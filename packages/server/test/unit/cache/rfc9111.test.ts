/**
 * The cache policy clause by clause (RFC 9111, with RFC 9110 where it governs caching, RFC 5861 and RFC 9213): each
 * test is named after the clause it checks. End-to-end counterparts are in test/integration/cache-rfc9111.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  type CacheRequestHead,
  type CachePolicyConfig,
  canServeStaleOnError,
  entryFor,
  headUpdated,
  lookup,
  responseHeadersFor,
  revalidated,
  servedResponse,
  storable,
  ttlOf,
} from '../../../src/cache/policy.ts';
import type { StoredResponse } from '../../../src/cache/store.ts';

const NOW = Date.parse('2025-03-01T12:00:00Z');
const S = 1000;
const httpDate = (ms: number): string => new Date(ms).toUTCString();

function cfg(over: Partial<CachePolicyConfig> = {}): CachePolicyConfig {
  return {
    enabled: true,
    ttl: 60 * S,
    max_object_size: 1048576,
    statuses: [200, 203, 204, 300, 301, 308, 404, 405, 410, 414, 501],
    key: { query: 'keep', ignore_params: [], headers: [], cookies: [] },
    stale_while_revalidate: 0,
    stale_if_error: 0,
    keep_stale: 0,
    tag_header: 'surrogate-key',
    ...over,
  };
}

function req(headers: string[] = [], method = 'GET'): CacheRequestHead {
  return { method, url: 'example.com/a', headers: ['Host', 'example.com', ...headers] };
}

interface Options {
  config?: CachePolicyConfig;
  request?: CacheRequestHead;
  status?: number;
  /** Leave out the Date field the helpers add. */
  undated?: boolean;
  requestTime?: number;
}

const head = (headers: string[], o: Options) => ({ status: o.status ?? 200, headers: o.undated ? headers : ['Date', httpDate(NOW), ...headers] });

function decide(headers: string[], o: Options = {}) {
  return storable(o.request ?? req(), head(headers, o), o.config ?? cfg(), NOW, o.requestTime ?? NOW);
}

function reason(headers: string[], o: Options = {}): string {
  const d = decide(headers, o);
  return d.store ? 'stored' : d.reason;
}

function stored(headers: string[], o: Options = {}): StoredResponse {
  const d = decide(headers, o);
  assert.ok(d.store, `expected storable, got ${JSON.stringify(d)}`);
  return entryFor('example.com/a', o.status ?? 200, d, Buffer.from('body'), NOW);
}

/** Freshness left (s) right after storing, or the skip reason. */
function freshness(headers: string[], o: Options = {}): number | string {
  const d = decide(headers, o);
  return d.store ? d.ttlMs / 1000 : d.reason;
}

function field(headers: readonly string[], name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < headers.length; i += 2) if (headers[i]!.toLowerCase() === name) out.push(headers[i + 1]!);
  return out;
}

const state = (entry: StoredResponse, headers: string[] = [], at = NOW + S, method = 'GET') => lookup(entry, req(headers, method), at).state;

describe('RFC 9111 §3: storing responses', () => {
  const notStored: Array<[string, string[], string, Options?]> = [
    ['RFC 9111 §5.2.2.5: a no-store response is not stored', ['Cache-Control', 'no-store'], 'no-store'],
    ['RFC 9111 §5.2.2.5: no-store is read in any case', ['Cache-Control', 'No-StOrE'], 'no-store'],
    ['RFC 9111 §5.2.2.5: no-store wins over max-age and Expires', ['Cache-Control', 'max-age=10000, no-store', 'Expires', httpDate(NOW + 10000 * S)], 'no-store'],
    ['RFC 9111 §5.2.1.5: a response to a no-store request is not stored', ['Cache-Control', 'max-age=60'], 'no-store', { request: req(['Cache-Control', 'no-store']) }],
    ['RFC 9111 §5.2.2.7: a private response is not stored in a shared cache', ['Cache-Control', 'private, max-age=3600'], 'private'],
    ['RFC 9111 §3.5: a response to a request with Authorization is not stored without public, s-maxage or must-revalidate', ['Expires', httpDate(NOW + 3600 * S)], 'authorization', { request: req(['Authorization', 'FOO']) }],
    ['RFC 9111 §3.4: a 206 is never stored, even when the route lists it', ['Cache-Control', 'max-age=60', 'Content-Range', 'bytes 0-4/10'], 'partial', { status: 206, config: cfg({ statuses: [200, 206] }) }],
    ['RFC 9111 §3: a 304 is never stored in place of the response it validates', ['Cache-Control', 'max-age=60'], 'status', { status: 304 }],
    ['RFC 9111 §3: a 412 (an answer to a precondition) is never stored under the URL', ['Cache-Control', 'max-age=60'], 'status', { status: 412 }],
    ['RFC 9111 §3: a 416 (an answer to a range) is never stored under the URL', ['Cache-Control', 'max-age=60'], 'status', { status: 416 }],
    ['RFC 9111 §3: only a 200 to a request with Range is stored (it is then the whole)', ['Cache-Control', 'max-age=60'], 'status', { status: 404, request: req(['Range', 'bytes=0-1']) }],
    ['RFC 9111 §4.1: Vary: * is not stored', ['Cache-Control', 'max-age=60', 'Vary', 'Accept, *'], 'vary-star'],
    ['RFC 9111 §4.1: Vary: * on a line of its own is not stored', ['Cache-Control', 'max-age=60', 'Vary', '', 'Vary', '*'], 'vary-star'],
    ['RFC 9111 §5.2.2.3: must-understand with a status not understood is not stored', ['Cache-Control', 'max-age=60, must-understand, no-store'], 'must-understand', { status: 299 }],
    ['RFC 9111 §4.2.2: no heuristic freshness for a status not heuristically cacheable (201)', ['Last-Modified', httpDate(NOW - 86400 * S)], 'not-cacheable', { status: 201, config: cfg({ statuses: [200, 201] }) }],
    ['RFC 9111 §4.2.2: no heuristic freshness for 403, 502, 503, 504', ['Last-Modified', httpDate(NOW - 86400 * S)], 'not-cacheable', { status: 503 }],
    ['RFC 9111 §4.2.2: no heuristic freshness for an unknown status (599) without public', ['Last-Modified', httpDate(NOW - 86400 * S)], 'not-cacheable', { status: 599 }],
    ['RFC 9111 §5.2.2.4: a no-cache response without a validator is not stored (it could only be refetched)', ['Cache-Control', 'max-age=10000, no-cache'], 'no-cache'],
    ['RFC 9111 §5.3: an Expires in the past is not fresh, and without a validator not worth storing', ['Expires', httpDate(NOW - 30 * 86400 * S)], 'expired'],
  ];
  for (const [name, headers, why, o] of notStored) test(name, () => assert.equal(reason(headers, o), why));

  const storedCases: Array<[string, string[], Options?]> = [
    ['RFC 9111 §3.5: with public, a response to a request with Authorization is stored', ['Cache-Control', 'max-age=3600, public'], { request: req(['Authorization', 'FOO']) }],
    ['RFC 9111 §3.5: with must-revalidate, a response to a request with Authorization is stored', ['Cache-Control', 'max-age=3600, must-revalidate'], { request: req(['Authorization', 'FOO']) }],
    ['RFC 9111 §3.5: with s-maxage, a response to a request with Authorization is stored', ['Cache-Control', 's-maxage=3600'], { request: req(['Authorization', 'FOO']) }],
    ['RFC 9111 §5.2.2.3: must-understand with an understood status overrides no-store', ['Cache-Control', 'max-age=60, must-understand, no-store'], { status: 200 }],
    ['RFC 9111 §3: a 200 to a request with Range is stored', ['Cache-Control', 'max-age=60'], { request: req(['Range', 'bytes=0-1']) }],
  ];
  for (const [name, headers, o] of storedCases) test(name, () => assert.equal(reason(headers, o), 'stored'));

  for (const status of [200, 203, 204, 299, 301, 302, 303, 307, 308, 400, 404, 410, 499, 500, 502, 503, 504, 599]) {
    test(`RFC 9111 §3: a ${status} with explicit freshness is stored, whatever the route's heuristic statuses`, () => {
      assert.equal(freshness(['Cache-Control', 'max-age=3600'], { status }), 3600);
    });
  }

  for (const status of [200, 203, 204, 404, 405, 410, 414, 501]) {
    test(`RFC 9111 §4.2.2: a ${status} with Last-Modified gets heuristic freshness (10% of its age)`, () => {
      assert.equal(freshness(['Last-Modified', httpDate(NOW - 86400 * S)], { status }), 8640);
    });
  }

  test('RFC 9111 §4.2.2: public makes an unknown status heuristically cacheable', () => {
    assert.equal(freshness(['Cache-Control', 'public', 'Last-Modified', httpDate(NOW - 86400 * S)], { status: 599, config: cfg({ statuses: [599] }) }), 8640);
  });

  test('RFC 9111 §3.1: Proxy-Authenticate and Proxy-Authentication-Info are not stored', () => {
    const entry = stored(['Cache-Control', 'max-age=60', 'Proxy-Authenticate', 'Basic', 'Proxy-Authentication-Info', 'x', 'WWW-Authenticate', 'Basic']);
    assert.deepEqual(field(entry.headers, 'proxy-authenticate'), []);
    assert.deepEqual(field(entry.headers, 'proxy-authentication-info'), []);
    assert.deepEqual(field(entry.headers, 'www-authenticate'), ['Basic']);
  });

  test('RFC 9111 §5.2.2.4: a qualified no-cache stores the response without the fields it names, and serves it fresh', () => {
    const entry = stored(['Cache-Control', 'no-cache="a, B"', 'a', '1', 'b', '2', 'c', '3', 'Cache-Control', 'max-age=3600']);
    assert.deepEqual([field(entry.headers, 'a'), field(entry.headers, 'b'), field(entry.headers, 'c')], [[], [], ['3']]);
    assert.equal(state(entry), 'fresh');
  });

  test('RFC 9111 §5.2.2.7: a qualified private stores the response without the fields it names', () => {
    const entry = stored(['Cache-Control', 'private="x-user", max-age=60', 'X-User', 'alice', 'X-Other', 'o']);
    assert.deepEqual(field(entry.headers, 'x-user'), []);
    assert.deepEqual(field(entry.headers, 'x-other'), ['o']);
  });

  test('RFC 9111 §5.2.2.4: no-cache="set-cookie" lets a response with Set-Cookie be stored, without the cookie', () => {
    const entry = stored(['Cache-Control', 'max-age=60, no-cache="Set-Cookie"', 'Set-Cookie', 'sid=1']);
    assert.deepEqual(field(entry.headers, 'set-cookie'), []);
  });

  test('RFC 9110 §6.6.1: a response stored without Date gets the time it was received', () => {
    const entry = stored(['Cache-Control', 'max-age=60'], { undated: true });
    assert.deepEqual(field(entry.headers, 'date'), [httpDate(NOW)]);
  });

  test('RFC 9111 §5.2.2.4: a no-cache response with a validator is stored, and every use revalidates it', () => {
    const entry = stored(['Cache-Control', 'max-age=10000, no-cache', 'ETag', '"abcd"']);
    const found = lookup(entry, req(), NOW + S);
    assert.deepEqual(found, { state: 'stale', ttlMs: 9999 * S, revalidationHeaders: ['if-none-match', '"abcd"'], why: 'request' });
  });

  test('RFC 9111 §5.4: Pragma: no-cache in a response without Cache-Control acts as no-cache', () => {
    const entry = stored(['Pragma', 'no-cache', 'ETag', '"a"', 'Expires', httpDate(NOW + 60 * S)]);
    assert.equal(state(entry), 'stale');
  });

  test('RFC 9111 §5.4: Pragma is ignored when Cache-Control is present', () => {
    assert.equal(state(stored(['Cache-Control', 'max-age=3600', 'Pragma', 'no-cache'])), 'fresh');
  });
});

describe('RFC 9111 §4.2.1: freshness lifetime', () => {
  const cases: Array<[string, string[], number | string, Options?]> = [
    ['RFC 9111 §4.2.1: s-maxage overrides a longer max-age in a shared cache', ['Cache-Control', 'max-age=3600, s-maxage=1'], 1],
    ['RFC 9111 §4.2.1: s-maxage overrides a longer max-age, in either order', ['Cache-Control', 's-maxage=1, max-age=3600'], 1],
    ['RFC 9111 §4.2.1: s-maxage overrides max-age given on another line', ['Cache-Control', 'max-age=3600', 'Cache-Control', 's-maxage=1'], 1],
    ['RFC 9111 §4.2.1: s-maxage overrides a shorter max-age in a shared cache', ['Cache-Control', 'max-age=1, s-maxage=3600'], 3600],
    ['RFC 9111 §5.3: max-age overrides an Expires in the past', ['Cache-Control', 'max-age=3600', 'Expires', httpDate(NOW - 10000 * S)], 3600],
    ['RFC 9111 §5.3: max-age overrides an invalid Expires', ['Cache-Control', 'max-age=3600', 'Expires', '0'], 3600],
    ['RFC 9111 §5.2.2.1: max-age=0 is stale even with a future Expires (kept with its validator)', ['Cache-Control', 'max-age=0', 'Expires', httpDate(NOW + 10000 * S), 'ETag', '"a"'], 0, { config: cfg({ keep_stale: 60 * S }) }],
    ['RFC 9111 §4.2.1: the first of two max-age directives is used', ['Cache-Control', 'max-age=1800, max-age=1'], 1800],
    ['RFC 9111 §4.2.1: the first of two max-age lines is used', ['Cache-Control', 'max-age=1', 'Cache-Control', 'max-age=1800'], 1],
    ['RFC 9111 §5.2: a quoted max-age is read', ['Cache-Control', 'max-age="3600"'], 3600],
    ['RFC 9111 §5.2: "max-age" inside a quoted extension is not a max-age', ['Cache-Control', 'extension="max-age=3600", max-age=1'], 1],
    ['RFC 9111 §1.2.2: a max-age beyond 2^31 is read as 2^31', ['Cache-Control', 'max-age=99999999999'], 2147483648],
    ['RFC 9111 §1.2.2: leading zeros are fine', ['Cache-Control', 'max-age=003600'], 3600],
    ['RFC 9111 §4.2.1: a negative max-age makes the response stale', ['Cache-Control', 'max-age=-100', 'ETag', '"a"'], 0, { config: cfg({ keep_stale: 60 * S }) }],
    ['RFC 9111 §4.2.1: a max-age with a letter (100a) makes the response stale', ['Cache-Control', 'max-age=100a', 'ETag', '"a"'], 0, { config: cfg({ keep_stale: 60 * S }) }],
    ['RFC 9111 §4.2.1: a max-age with a letter (a100) makes the response stale', ['Cache-Control', 'max-age=a100'], 'expired'],
    ['RFC 9111 §5.2: max-age with a space before = is no max-age (route ttl applies)', ['Cache-Control', 'max-age =100'], 60],
    ['RFC 9111 §5.2: a single-quoted max-age makes the response stale', ['Cache-Control', "max-age='3600'"], 'expired'],
    ['RFC 9111 §5.3: Expires counts from Date', ['Expires', httpDate(NOW + 300 * S)], 300],
    ['RFC 9111 §5.3: an Expires of "0" is already expired', ['Expires', '0'], 'expired'],
    ['RFC 9111 §5.3: an Expires that is not an HTTP-date is already expired', ['Expires', 'Thu, 18 Aug 2050 02:01:18 UTC'], 'expired'],
    ['RFC 9111 §5.3: an Expires before Date is already expired', ['Expires', httpDate(NOW - 100 * S)], 'expired'],
    ['RFC 9111 §4.2.1: the first Expires line is used', ['Expires', httpDate(NOW + 300 * S), 'Expires', httpDate(NOW - 300 * S)], 300],
    ['RFC 9110 §5.6.7: an Expires with names in another case is read', ['Expires', httpDate(NOW + 300 * S).toUpperCase()], 300],
    ['RFC 9111 §4.2.2: no heuristic when max-age=0 says otherwise', ['Cache-Control', 'max-age=0', 'Last-Modified', httpDate(NOW - 86400 * S)], 'expired'],
    ['RFC 9111 §4.2.2: no heuristic when Expires says otherwise', ['Expires', httpDate(NOW + 10 * S), 'Last-Modified', httpDate(NOW - 86400 * S)], 10],
    ['RFC 9111 §4.2.2: without Last-Modified the route ttl is the heuristic', [], 60],
    ['RFC 9111 §4.2.2: a Last-Modified after Date gives no 10% heuristic: the route ttl', ['Last-Modified', httpDate(NOW + 86400 * S)], 60],
  ];
  for (const [name, headers, expected, o] of cases) test(name, () => assert.equal(freshness(headers, o), expected));

  test('RFC 9111 §5.3: Expires with an invalid Date counts from when the response arrived', () => {
    assert.equal(freshness(['Date', 'foo', 'Expires', httpDate(NOW + 10 * S)], { undated: true }), 10);
  });

  test('RFC 9111 §5.3: Expires with Date in the future is still a lifetime of Expires minus Date', () => {
    // The origin's clock runs 10 s ahead: the lifetime is 10 s, and the apparent age 0 (not negative).
    assert.equal(freshness(['Date', httpDate(NOW + 10 * S), 'Expires', httpDate(NOW + 20 * S)], { undated: true }), 10);
  });
});

describe('RFC 9111 §4.2.3: age', () => {
  test('RFC 9111 §4.2.3: an Age beyond max-age leaves the response stale', () => {
    assert.equal(freshness(['Cache-Control', 'max-age=10', 'Age', '15']), 'expired');
  });

  test('RFC 9111 §4.2.3: an Age beyond Expires minus Date leaves the response stale (slow Date)', () => {
    assert.equal(freshness(['Date', httpDate(NOW - 10 * S), 'Expires', httpDate(NOW + 10 * S), 'Age', '25'], { undated: true }), 'expired');
  });

  test('RFC 9111 §4.2.3: an Age beyond Expires minus Date leaves the response stale (fast Date)', () => {
    assert.equal(freshness(['Date', httpDate(NOW + 10 * S), 'Expires', httpDate(NOW + 20 * S), 'Age', '15'], { undated: true }), 'expired');
  });

  test('RFC 9111 §4.2.3: the apparent age counts when Date is older than Age says', () => {
    assert.equal(freshness(['Date', httpDate(NOW - 100 * S), 'Cache-Control', 'max-age=600', 'Age', '30'], { undated: true }), 500);
  });

  test('RFC 9111 §4.2.3: the corrected age adds the time the request took to the Age received', () => {
    assert.equal(freshness(['Cache-Control', 'max-age=600', 'Age', '30'], { requestTime: NOW - 5 * S }), 565);
  });

  test('RFC 9111 §4.2.3: a Date in the future gives no negative age', () => {
    const entry = stored(['Date', httpDate(NOW + 3600 * S), 'Cache-Control', 'max-age=60'], { undated: true });
    assert.deepEqual(field(responseHeadersFor(entry, NOW), 'age'), ['0']);
    assert.equal(ttlOf(entry, NOW), 60 * S);
  });

  test('RFC 9111 §5.1: the Age sent from the cache is the corrected initial age plus the time resident, in one field', () => {
    const entry = stored(['Cache-Control', 'max-age=600', 'Age', '30', 'Age', '7']);
    assert.deepEqual(field(responseHeadersFor(entry, NOW + 12_500), 'age'), ['42']);
  });

  test('RFC 9111 §5.1: an invalid Age from upstream is ignored', () => {
    assert.equal(freshness(['Cache-Control', 'max-age=3600', 'Age', '-7200']), 3600);
    assert.equal(freshness(['Cache-Control', 'max-age=3600', 'Age', 'abc']), 3600);
  });

  test('RFC 9110 §6.6.1: the stored Date is the origin\'s, never rewritten when served', () => {
    const entry = stored(['Cache-Control', 'max-age=600']);
    assert.deepEqual(field(responseHeadersFor(entry, NOW + 100 * S), 'date'), [httpDate(NOW)]);
  });
});

describe('RFC 9111 §4.1: Vary', () => {
  const varied = (vary: string[], request: string[]) => stored(['Cache-Control', 'max-age=60', ...vary], { request: req(request) });

  test('RFC 9111 §4.1: values differing only in whitespace match', () => {
    assert.equal(state(varied(['Vary', 'Foo'], ['Foo', '1,2']), ['Foo', ' 1, 2 ']), 'fresh');
  });
  test('RFC 9111 §4.1: several field lines combine into one value', () => {
    assert.equal(state(varied(['Vary', 'Foo'], ['Foo', '1, 2']), ['Foo', '1', 'Foo', '2']), 'fresh');
  });
  test('RFC 9111 §4.1: field names in Vary are matched without regard to case', () => {
    assert.equal(state(varied(['Vary', 'ACCEPT-language'], ['accept-language', 'en']), ['Accept-Language', 'en']), 'fresh');
  });
  test('RFC 9111 §4.1: several Vary fields are read as one list', () => {
    const entry = varied(['Vary', 'Foo', 'Vary', 'Bar'], ['Foo', '1', 'Bar', 'abc']);
    assert.equal(state(entry, ['Foo', '1', 'Bar', 'abc']), 'fresh');
    assert.equal(state(entry, ['Foo', '1', 'Bar', 'xyz']), 'unusable');
  });
  test('RFC 9111 §4.1: a field absent from both requests matches; absent from one does not', () => {
    const entry = varied(['Vary', 'Foo, Bar, Baz'], ['Foo', '1', 'Baz', '789']);
    assert.equal(state(entry, ['Foo', '1', 'Baz', '789']), 'fresh');
    assert.equal(state(entry, ['Foo', '1']), 'unusable');
    assert.equal(state(entry, ['Foo', '1', 'Bar', '', 'Baz', '789']), 'unusable');
  });
  test('RFC 9111 §4.1: fields not named in Vary do not matter', () => {
    assert.equal(state(varied(['Vary', 'Foo'], ['Foo', '1', 'Other', '2']), ['Foo', '1', 'Other', '3']), 'fresh');
  });
});

describe('RFC 9111 §5.2.1: request directives', () => {
  const entry = () => stored(['Cache-Control', 'max-age=3600', 'ETag', '"v1"']);
  const cases: Array<[string, string[], number, string]> = [
    ['RFC 9111 §5.2.1.1: max-age=0 revalidates a fresh entry', ['Cache-Control', 'max-age=0'], NOW + S, 'stale'],
    ['RFC 9111 §5.2.1.1: a max-age below the age revalidates', ['Cache-Control', 'max-age=600'], NOW + 1800 * S, 'stale'],
    ['RFC 9111 §5.2.1.1: a max-age above the age is served', ['Cache-Control', 'max-age=600'], NOW + 60 * S, 'fresh'],
    ['RFC 9111 §5.2.1.3: a min-fresh beyond the freshness left revalidates', ['Cache-Control', 'min-fresh=2000'], NOW + 1800 * S, 'stale'],
    ['RFC 9111 §5.2.1.3: a min-fresh within the freshness left is served', ['Cache-Control', 'min-fresh=100'], NOW + 1800 * S, 'fresh'],
    ['RFC 9111 §5.2.1.4: no-cache revalidates a fresh entry', ['Cache-Control', 'no-cache'], NOW + S, 'stale'],
    ['RFC 9111 §5.4: Pragma: no-cache without Cache-Control revalidates a fresh entry', ['Pragma', 'no-cache'], NOW + S, 'stale'],
    ['RFC 9111 §5.4: Pragma is ignored when the request has Cache-Control', ['Pragma', 'no-cache', 'Cache-Control', 'max-stale'], NOW + S, 'fresh'],
    ['RFC 9111 §5.2.1.2: max-stale with a value accepts that much staleness', ['Cache-Control', 'max-stale=1000'], NOW + 4000 * S, 'fresh'],
    ['RFC 9111 §5.2.1.2: max-stale with a value accepts no more', ['Cache-Control', 'max-stale=100'], NOW + 4000 * S, 'stale'],
    ['RFC 9111 §5.2.1.2: max-stale without a value accepts any staleness', ['Cache-Control', 'max-stale'], NOW + 86400 * S, 'fresh'],
    ['RFC 9111 §5.2.1.5: a no-store request bypasses a fresh entry', ['Cache-Control', 'no-store'], NOW + S, 'bypass'],
    ['RFC 9111 §4.3.2: If-Match is the origin\'s to evaluate: the request bypasses the cache', ['If-Match', '"v1"'], NOW + S, 'bypass'],
    ['RFC 9111 §4.3.2: If-Unmodified-Since is the origin\'s to evaluate: the request bypasses the cache', ['If-Unmodified-Since', httpDate(NOW)], NOW + S, 'bypass'],
    ['RFC 9111 §5.2.1: an invalid request max-age is read as 0', ['Cache-Control', 'max-age=abc'], NOW + S, 'stale'],
  ];
  for (const [name, headers, at, expected] of cases) test(name, () => assert.equal(state(entry(), headers, at), expected));

  test('RFC 9111 §5.2.1.2: max-stale applies to an Age\'d response', () => {
    const aged = stored(['Cache-Control', 'max-age=1500', 'Age', '2000', 'ETag', '"a"'], { config: cfg({ keep_stale: 3600 * S }) });
    assert.equal(state(aged, ['Cache-Control', 'max-stale=1000']), 'fresh');
  });

  test('RFC 9111 §5.2.1.3: min-fresh applies to an Age\'d response', () => {
    const aged = stored(['Cache-Control', 'max-age=1500', 'Age', '1000']);
    assert.equal(state(aged, ['Cache-Control', 'min-fresh=1000']), 'stale');
  });

  for (const cc of ['must-revalidate', 'proxy-revalidate', 's-maxage=60']) {
    test(`RFC 9111 §5.2.2: max-stale is not honoured under ${cc}`, () => {
      const e = stored(['Cache-Control', cc.startsWith('s-maxage') ? cc : `max-age=60, ${cc}`, 'ETag', '"a"'], { config: cfg({ keep_stale: 3600 * S }) });
      assert.equal(state(e, ['Cache-Control', 'max-stale'], NOW + 120 * S), 'stale');
    });
  }
});

describe('RFC 9111 §4.2.4 and RFC 5861: serving stale', () => {
  const defaults = cfg({ stale_while_revalidate: 30 * S, stale_if_error: 300 * S });
  for (const cc of ['max-age=60, must-revalidate', 'max-age=60, proxy-revalidate', 'max-age=60, no-cache', 's-maxage=60']) {
    test(`RFC 9111 §4.2.4: ${cc} forbids the route's stale defaults`, () => {
      const e = stored(['Cache-Control', cc, 'ETag', '"a"'], { config: defaults });
      assert.equal(state(e, [], NOW + 70 * S), 'stale');
      assert.equal(canServeStaleOnError(e, NOW + 70 * S), false);
    });
  }

  for (const cc of ['must-revalidate', 'proxy-revalidate']) {
    test(`RFC 9111 §5.2.2.2: ${cc} forbids serving stale even with stale-if-error and stale-while-revalidate`, () => {
      const e = stored(['Cache-Control', `max-age=60, ${cc}, stale-if-error=600, stale-while-revalidate=600`]);
      assert.equal(state(e, [], NOW + 70 * S), 'stale');
      assert.equal(canServeStaleOnError(e, NOW + 70 * S), false);
    });
  }

  test('RFC 5861 §3: within stale-while-revalidate a stale entry is served while it is refreshed', () => {
    const e = stored(['Cache-Control', 'max-age=0, stale-while-revalidate=3600', 'ETag', '"abc"']);
    assert.equal(state(e, [], NOW + 10 * S), 'stale-while-revalidate');
  });

  test('RFC 5861 §4: within stale-if-error a stale entry may stand in for an error, and not after', () => {
    const e = stored(['Cache-Control', 'max-age=0, stale-if-error=60']);
    assert.equal(canServeStaleOnError(e, NOW + 59 * S), true);
    assert.equal(canServeStaleOnError(e, NOW + 61 * S), false);
  });

  test('RFC 5861 §4: a request\'s own stale-if-error lets a stale entry stand in, within its bound', () => {
    const e = stored(['Cache-Control', 'max-age=0', 'ETag', '"a"'], { config: cfg({ keep_stale: 3600 * S }) });
    assert.equal(canServeStaleOnError(e, NOW + 10 * S, req(['Cache-Control', 'stale-if-error=3600'])), true);
    assert.equal(canServeStaleOnError(e, NOW + 10 * S, req(['Cache-Control', 'stale-if-error=1'])), false);
    assert.equal(canServeStaleOnError(e, NOW + 10 * S), false);
  });

  test('RFC 9111 §5.2.2.10: s-maxage keeps the response\'s own stale windows', () => {
    const e = stored(['Cache-Control', 's-maxage=60, stale-if-error=30']);
    assert.equal(canServeStaleOnError(e, NOW + 80 * S), true);
  });

  test('RFC 9111 §5.5: nothing served from the cache carries a generated Warning', () => {
    const e = stored(['Cache-Control', 'max-age=0, stale-while-revalidate=3600']);
    assert.deepEqual(field(responseHeadersFor(e, NOW + 100 * S), 'warning'), []);
  });
});

describe('RFC 9111 §4.3: validation', () => {
  const base = ['Cache-Control', 'max-age=1', 'ETag', '"v1"', 'Last-Modified', httpDate(NOW - 86400 * S), 'Content-Type', 'text/plain', 'Content-Length', '4', 'Test-Header', 'A'];
  const refreshed = (update: string[]) => {
    const r = revalidated(stored(base), req(), { status: 304, headers: ['Date', httpDate(NOW + 10 * S), ...update] }, NOW + 10 * S);
    assert.ok(!r.modified);
    return r;
  };

  test('RFC 9111 §4.3.1: a stale entry is revalidated with its ETag and Last-Modified', () => {
    const e = stored(base);
    const found = lookup(e, req(), NOW + 10 * S);
    assert.deepEqual(found.state === 'stale' && found.revalidationHeaders, ['if-none-match', '"v1"', 'if-modified-since', httpDate(NOW - 86400 * S)]);
  });

  test('RFC 9111 §3.2: a 304 replaces the stored fields it carries and keeps the others', () => {
    const r = refreshed(['ETag', '"v1"', 'Cache-Control', 'max-age=3600', 'Test-Header', 'B', 'Content-Type', 'text/plain;charset=utf-8']);
    assert.deepEqual(field(r.entry.headers, 'test-header'), ['B']);
    assert.deepEqual(field(r.entry.headers, 'content-type'), ['text/plain;charset=utf-8']);
    assert.deepEqual(field(r.entry.headers, 'cache-control'), ['max-age=3600']);
    assert.equal(r.ttlMs, 3600 * S);
    assert.equal(lookup(r.entry, req(), NOW + 100 * S).state, 'fresh');
  });

  test('RFC 9111 §3.2: a field the 304 omits keeps its stored value', () => {
    assert.deepEqual(field(refreshed(['ETag', '"v1"']).entry.headers, 'test-header'), ['A']);
  });

  test('RFC 9111 §3.2: Content-Length is never updated from a 304', () => {
    assert.deepEqual(field(refreshed(['ETag', '"v1"', 'Content-Length', '0']).entry.headers, 'content-length'), ['4']);
  });

  test('RFC 9111 §3.2: a Set-Cookie in a 304 goes to the client it answers, and is not stored', () => {
    const r = refreshed(['ETag', '"v1"', 'Set-Cookie', 'a=c']);
    assert.deepEqual(r.setCookie, ['Set-Cookie', 'a=c']);
    assert.deepEqual(field(r.entry.headers, 'set-cookie'), []);
  });

  test('RFC 9111 §4.3.4: a 304 matched by Last-Modified alone updates the entry', () => {
    assert.equal(refreshed(['Last-Modified', httpDate(NOW - 86400 * S), 'Cache-Control', 'max-age=3600']).storeTtlMs, 3600 * S);
  });

  test('RFC 9111 §4.3.4: a 304 with a weak ETag matches a stored weak ETag by weak comparison', () => {
    const e = stored(['Cache-Control', 'max-age=1', 'ETag', 'W/"w"']);
    const r = revalidated(e, req(), { status: 304, headers: ['ETag', 'W/"w"', 'Cache-Control', 'max-age=60'] }, NOW + 10 * S);
    assert.ok(!r.modified && r.storeTtlMs === 60 * S);
  });

  test('RFC 9111 §4.3.4: a strong ETag in a 304 does not match a weak stored one: nothing is updated', () => {
    const e = stored(['Cache-Control', 'max-age=1', 'ETag', 'W/"w"']);
    const r = revalidated(e, req(), { status: 304, headers: ['ETag', '"w"', 'Cache-Control', 'max-age=60'] }, NOW + 10 * S);
    assert.ok(!r.modified && r.storeTtlMs === 0);
  });

  test('RFC 9110 §6.6.1: a 304 without Date is dated on arrival, so the stored Date does not age the refreshed entry', () => {
    const r = revalidated(stored(base), req(), { status: 304, headers: ['ETag', '"v1"', 'Cache-Control', 'max-age=60'] }, NOW + 100 * S);
    assert.ok(!r.modified);
    assert.equal(r.ttlMs, 60 * S);
  });

  test('RFC 9111 §4.3.5: a 200 to a HEAD with the same validators updates the stored GET\'s fields', () => {
    const e = stored(base);
    const r = headUpdated(e, req([], 'HEAD'), { status: 200, headers: ['Date', httpDate(NOW + 10 * S), 'ETag', '"v1"', 'Cache-Control', 'max-age=1000', 'Test-Header', 'B', 'Content-Length', '4'] }, NOW + 10 * S);
    assert.equal(r.kind, 'update');
    assert.ok(r.kind === 'update');
    assert.deepEqual(field(r.entry.headers, 'test-header'), ['B']);
    assert.equal(r.entry.body, e.body);
    assert.equal(lookup(r.entry, req(), NOW + 100 * S).state, 'fresh');
  });

  test('RFC 9111 §4.3.5: a 200 to a HEAD with other validators or another length invalidates the stored GET', () => {
    const e = stored(base);
    assert.equal(headUpdated(e, req([], 'HEAD'), { status: 200, headers: ['ETag', '"v2"'] }, NOW + 10 * S).kind, 'invalidate');
    assert.equal(headUpdated(e, req([], 'HEAD'), { status: 200, headers: ['ETag', '"v1"', 'Content-Length', '99'] }, NOW + 10 * S).kind, 'invalidate');
    assert.equal(headUpdated(e, req([], 'HEAD'), { status: 404, headers: [] }, NOW + 10 * S).kind, 'none');
  });
});

describe('RFC 9111 §4.3.2: a client\'s conditional request answered from the cache', () => {
  const lm = httpDate(NOW - 3000 * S);
  const e = () => stored(['Cache-Control', 'max-age=100000', 'ETag', '"abcdef"', 'Last-Modified', lm, 'Content-Type', 'text/plain', 'Vary', 'Foo', 'X-Other', 'o']);
  const served = (headers: string[], method = 'GET') => servedResponse(e(), req(headers, method), NOW + S);

  const cases: Array<[string, string[], number]> = [
    ['RFC 9110 §13.1.2: If-None-Match with the stored strong ETag gets 304', ['If-None-Match', '"abcdef"'], 304],
    ['RFC 9110 §13.1.2: If-None-Match is compared weakly', ['If-None-Match', 'W/"abcdef"'], 304],
    ['RFC 9110 §13.1.2: If-None-Match with the ETag among others gets 304', ['If-None-Match', '"1234", "abcdef", "5678"'], 304],
    ['RFC 9110 §13.1.2: If-None-Match: * gets 304', ['If-None-Match', '*'], 304],
    ['RFC 9110 §13.1.2: If-None-Match with another ETag gets the stored 200', ['If-None-Match', '"other"'], 200],
    ['RFC 9110 §13.1.3: If-Modified-Since equal to Last-Modified gets 304', ['If-Modified-Since', lm], 304],
    ['RFC 9110 §13.1.3: If-Modified-Since after Last-Modified gets 304', ['If-Modified-Since', httpDate(NOW - 2000 * S)], 304],
    ['RFC 9110 §13.1.3: If-Modified-Since before Last-Modified gets the stored 200', ['If-Modified-Since', httpDate(NOW - 4000 * S)], 200],
    ['RFC 9110 §13.1.3: an If-Modified-Since that is not a date is ignored', ['If-Modified-Since', 'yesterday'], 200],
    ['RFC 9110 §13.2.2: If-None-Match takes precedence over If-Modified-Since', ['If-None-Match', '"other"', 'If-Modified-Since', httpDate(NOW)], 200],
    ['RFC 9110 §13.1.3: If-Modified-Since in rfc850 form is read', ['If-Modified-Since', 'Saturday, 01-Mar-25 11:10:00 GMT'], 304],
  ];
  for (const [name, headers, status] of cases) test(name, () => assert.equal(served(['Foo', '1', ...headers]).status, status));

  test('RFC 9111 §4.3.2: without Last-Modified, If-Modified-Since is compared with the stored Date', () => {
    const noLm = stored(['Cache-Control', 'max-age=10000']);
    assert.equal(servedResponse(noLm, req(['If-Modified-Since', httpDate(NOW - 3000 * S)]), NOW + S).status, 200);
    assert.equal(servedResponse(noLm, req(['If-Modified-Since', httpDate(NOW)]), NOW + S).status, 304);
  });

  test('RFC 9110 §15.4.5: a 304 from the cache carries ETag, Cache-Control, Date, Vary and Age, and not the body\'s fields', () => {
    const r = served(['If-None-Match', '"abcdef"']);
    assert.deepEqual(field(r.headers, 'etag'), ['"abcdef"']);
    assert.deepEqual(field(r.headers, 'cache-control'), ['max-age=100000']);
    assert.deepEqual(field(r.headers, 'vary'), ['Foo']);
    assert.deepEqual(field(r.headers, 'date'), [httpDate(NOW)]);
    assert.deepEqual(field(r.headers, 'age'), ['1']);
    assert.deepEqual(field(r.headers, 'content-type'), []);
    assert.deepEqual(field(r.headers, 'x-other'), []);
    assert.deepEqual(field(r.headers, 'last-modified'), [], 'Last-Modified only without ETag');
  });

  test('RFC 9110 §13.1.3: If-Modified-Since is ignored for a method other than GET and HEAD; HEAD gets 304 too', () => {
    assert.equal(served(['If-Modified-Since', lm], 'HEAD').status, 304);
  });
});

describe('RFC 9213: targeted cache-control (CDN-Cache-Control)', () => {
  const cases: Array<[string, string[], number | string]> = [
    ['RFC 9213 §2.1: CDN-Cache-Control max-age is used', ['CDN-Cache-Control', 'max-age=3600'], 3600],
    ['RFC 9213 §2.1: a long CDN-Cache-Control max-age wins over a short Cache-Control max-age', ['Cache-Control', 'max-age=1', 'CDN-Cache-Control', 'max-age=3600'], 3600],
    ['RFC 9213 §2.1: a short CDN-Cache-Control max-age wins over a long Cache-Control max-age', ['Cache-Control', 'max-age=3600', 'CDN-Cache-Control', 'max-age=1'], 1],
    ['RFC 9213 §2.1: CDN-Cache-Control max-age wins over a past Expires', ['CDN-Cache-Control', 'max-age=3600', 'Expires', httpDate(NOW - 10000 * S)], 3600],
    ['RFC 9213 §2.1: CDN-Cache-Control max-age=0 wins over a future Expires', ['CDN-Cache-Control', 'max-age=0', 'Expires', httpDate(NOW + 10000 * S)], 'expired'],
    ['RFC 9213 §2.1: CDN-Cache-Control no-store wins over Cache-Control max-age', ['Cache-Control', 'max-age=10000', 'CDN-Cache-Control', 'no-store'], 'no-store'],
    ['RFC 9213 §2.1: CDN-Cache-Control max-age lets a Cache-Control: no-store response be stored', ['Cache-Control', 'no-store', 'CDN-Cache-Control', 'max-age=10000'], 10000],
    ['RFC 9213 §2.1: CDN-Cache-Control private is not stored', ['CDN-Cache-Control', 'private', 'Cache-Control', 'max-age=10000'], 'private'],
    ['RFC 9213 §2.2: an invalid CDN-Cache-Control falls back to Cache-Control', ['CDN-Cache-Control', 'max-age=10000, &&&&&', 'Cache-Control', 'no-store'], 'no-store'],
    ['RFC 9213 §2.2: a CDN-Cache-Control of the wrong type falls back to Cache-Control', ['CDN-Cache-Control', 'max-age="10000"', 'Cache-Control', 'no-store'], 'no-store'],
    ['RFC 9213 §2.1: an Age beyond CDN-Cache-Control max-age leaves the response stale', ['CDN-Cache-Control', 'max-age=3600', 'Age', '7200'], 'expired'],
  ];
  for (const [name, headers, expected] of cases) test(name, () => assert.equal(freshness(headers), expected));

  test('RFC 9213 §2.1: CDN-Cache-Control no-cache revalidates on every use, whatever Cache-Control says', () => {
    const e = stored(['CDN-Cache-Control', 'no-cache', 'Cache-Control', 'max-age=10000', 'ETag', '"a"']);
    assert.equal(state(e), 'stale');
  });

  test('RFC 9213 §2.1: the targeted field is passed on with the response', () => {
    const e = stored(['CDN-Cache-Control', 'max-age=60']);
    assert.deepEqual(field(e.headers, 'cdn-cache-control'), ['max-age=60']);
  });
});

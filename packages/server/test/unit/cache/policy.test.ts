import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  type CacheRequestHead,
  type CachePolicyConfig,
  canServeStaleOnError,
  entryFor,
  invalidatedUrls,
  invalidatesOnUnsafe,
  lookup,
  responseHeadersFor,
  revalidated,
  revalidationHeadersOf,
  storable,
  tagsOf,
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
    statuses: [200, 203, 204, 300, 301, 404, 405, 410, 414, 501],
    key: { query: 'keep', ignore_params: [], headers: [], cookies: [] },
    stale_while_revalidate: 0,
    stale_if_error: 0,
    tag_header: 'surrogate-key',
    ...over,
  };
}

function req(headers: string[] = [], method = 'GET'): CacheRequestHead {
  return { method, url: 'example.com/a', headers: ['Host', 'example.com', ...headers] };
}

/** A response head dated NOW, plus the given fields. */
function res(headers: string[], status = 200): { status: number; headers: string[] } {
  return { status, headers: ['Date', httpDate(NOW), ...headers] };
}

/** Stores a response at NOW and gives the entry; fails the test when it is not storable. */
function stored(headers: string[], options: { config?: CachePolicyConfig; request?: CacheRequestHead; status?: number } = {}): StoredResponse {
  const status = options.status ?? 200;
  const decision = storable(options.request ?? req(), res(headers, status), options.config ?? cfg(), NOW);
  assert.ok(decision.store, `expected storable, got ${JSON.stringify(decision)}`);
  return entryFor('example.com/a', status, decision, Buffer.from('body'), NOW);
}

function reasonOf(headers: string[], options: { config?: CachePolicyConfig; request?: CacheRequestHead; status?: number } = {}): string {
  const decision = storable(options.request ?? req(), res(headers, options.status ?? 200), options.config ?? cfg(), NOW);
  return decision.store ? 'stored' : decision.reason;
}

function ttlsOf(headers: string[], config = cfg()): [number, number, number, number] {
  const d = storable(req(), res(headers), config, NOW);
  assert.ok(d.store, `expected storable, got ${JSON.stringify(d)}`);
  return [d.ttlMs, d.staleWhileRevalidateMs, d.staleIfErrorMs, d.storeTtlMs];
}

function field(headers: readonly string[], name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < headers.length; i += 2) if (headers[i]!.toLowerCase() === name) out.push(headers[i + 1]!);
  return out;
}

describe('storable: what is not stored', () => {
  const cases: Array<[string, string[], string, { config?: CachePolicyConfig; request?: CacheRequestHead; status?: number }?]> = [
    ['a private response is not stored', ['Cache-Control', 'private, max-age=60'], 'private'],
    ['a no-store response is not stored', ['Cache-Control', 'no-store'], 'no-store'],
    ['a response to a no-store request is not stored', ['Cache-Control', 'max-age=60'], 'no-store', { request: req(['Cache-Control', 'no-store']) }],
    ['a no-cache response without a validator is not stored: it could never be revalidated', ['Cache-Control', 'no-cache'], 'no-cache'],
    ['Pragma: no-cache without Cache-Control is no-cache', ['Pragma', 'no-cache'], 'no-cache'],
    ['Authorization without public, s-maxage or must-revalidate is not stored', ['Cache-Control', 'max-age=60'], 'authorization', { request: req(['Authorization', 'Bearer t']) }],
    ['Vary: * is not stored', ['Cache-Control', 'max-age=60', 'Vary', 'Accept, *'], 'vary-star'],
    ['Set-Cookie without public or s-maxage is not stored', ['Cache-Control', 'max-age=60', 'Set-Cookie', 'sid=1'], 'set-cookie'],
    ['a status outside the route\'s statuses gets no heuristic freshness', [], 'not-cacheable', { status: 500 }],
    ['a HEAD response is not stored: it has no body for the GET it shares a key with', [], 'method', { request: req([], 'HEAD') }],
    ['a POST response is not stored, even with explicit freshness', ['Cache-Control', 'max-age=60'], 'method', { request: req([], 'POST') }],
    ['a Content-Length over max_object_size is not stored', ['Content-Length', '101'], 'too-large', { config: cfg({ max_object_size: 100 }) }],
    ['a route with caching disabled stores nothing', [], 'disabled', { config: cfg({ enabled: false }) }],
    ['a status with no default cacheability needs explicit freshness', [], 'not-cacheable', { status: 302, config: cfg({ statuses: [302] }) }],
    ['max-age=0 without stale windows is not worth storing', ['Cache-Control', 'max-age=0', 'ETag', '"a"'], 'expired'],
    ['an Expires in the past is not worth storing', ['Expires', httpDate(NOW - 10 * S)], 'expired'],
    ['an Age beyond max-age is not worth storing', ['Cache-Control', 'max-age=60', 'Age', '61'], 'expired'],
  ];
  for (const [name, headers, reason, options] of cases) {
    test(name, () => assert.equal(reasonOf(headers, options), reason));
  }
});

describe('storable: what is stored', () => {
  const cases: Array<[string, string[], { config?: CachePolicyConfig; request?: CacheRequestHead; status?: number }?]> = [
    ['Authorization with public is stored', ['Cache-Control', 'public, max-age=60'], { request: req(['Authorization', 'Bearer t']) }],
    ['Authorization with s-maxage is stored', ['Cache-Control', 's-maxage=60'], { request: req(['Authorization', 'Bearer t']) }],
    ['Authorization with must-revalidate is stored', ['Cache-Control', 'max-age=60, must-revalidate'], { request: req(['Authorization', 'Bearer t']) }],
    ['Set-Cookie with public is stored', ['Cache-Control', 'public, max-age=60', 'Set-Cookie', 'sid=1']],
    ['Set-Cookie with s-maxage is stored', ['Cache-Control', 's-maxage=60', 'Set-Cookie', 'sid=1']],
    ['a Content-Length equal to max_object_size is stored', ['Content-Length', '100'], { config: cfg({ max_object_size: 100 }) }],
    ['a response with no caching fields is stored for the route ttl', []],
    ['an added status with explicit freshness is stored', ['Cache-Control', 'max-age=60'], { status: 302, config: cfg({ statuses: [302] }) }],
  ];
  for (const [name, headers, options] of cases) {
    test(name, () => assert.equal(reasonOf(headers, options), 'stored'));
  }

  test('a stored Set-Cookie response drops Set-Cookie: it was for the client that filled the cache', () => {
    const entry = stored(['Cache-Control', 'public, max-age=60', 'Set-Cookie', 'sid=1', 'ETag', '"a"']);
    assert.deepEqual(field(entry.headers, 'set-cookie'), []);
    assert.deepEqual(field(entry.headers, 'etag'), ['"a"']);
  });

  test('the stored policy keeps no request field beyond those the response varies on', () => {
    const entry = stored(['Cache-Control', 'public, max-age=60', 'Vary', 'Accept'], {
      request: req(['Authorization', 'secret', 'Cookie', 'sid=1', 'Accept', 'text/html']),
    });
    const text = JSON.stringify(entry.policy);
    assert.ok(!text.includes('secret') && !text.includes('sid=1'), text);
    assert.ok(text.includes('text/html'));
  });

  test('tags come from the route\'s tag header', () => {
    const d = storable(req(), res(['Cache-Tag', 'a, b', 'Surrogate-Key', 'x y']), cfg({ tag_header: 'cache-tag' }), NOW);
    assert.ok(d.store);
    assert.deepEqual(d.tags, ['a', 'b']);
  });
});

describe('storable: freshness and stale windows', () => {
  const cases: Array<[string, string[], CachePolicyConfig, [number, number, number, number]]> = [
    ['s-maxage beats max-age in a shared cache', ['Cache-Control', 'max-age=10, s-maxage=100'], cfg(), [100 * S, 0, 0, 100 * S]],
    ['max-age beats Expires', ['Cache-Control', 'max-age=10', 'Expires', httpDate(NOW + 500 * S)], cfg(), [10 * S, 0, 0, 10 * S]],
    ['Expires counts from Date', ['Expires', httpDate(NOW + 300 * S)], cfg(), [300 * S, 0, 0, 300 * S]],
    ['Age already spent shortens freshness', ['Cache-Control', 'max-age=100', 'Age', '30'], cfg(), [70 * S, 0, 0, 70 * S]],
    ['directive names are read in any case', ['Cache-Control', 'Max-Age=42'], cfg(), [42 * S, 0, 0, 42 * S]],
    ['with no Cache-Control freshness, no Expires and no Last-Modified, the route ttl applies', ['ETag', '"a"'], cfg({ ttl: 90 * S }), [90 * S, 0, 0, 90 * S]],
    ['public alone gives no freshness: the route ttl applies', ['Cache-Control', 'public'], cfg({ ttl: 90 * S }), [90 * S, 0, 0, 90 * S]],
    ['must-revalidate alone gives no freshness: the route ttl applies', ['Cache-Control', 'must-revalidate'], cfg({ ttl: 90 * S }), [90 * S, 0, 0, 90 * S]],
    [
      'Last-Modified gives heuristic freshness, 10% of its age (RFC 9111 §4.2.2)',
      ['Last-Modified', httpDate(NOW - 10 * 86400 * S)],
      cfg(),
      [86400 * S, 0, 0, 86400 * S],
    ],
    ['the route ttl rounds down to whole seconds', [], cfg({ ttl: 1500 }), [1 * S, 0, 0, 1 * S]],
    [
      'stale windows come from the response',
      ['Cache-Control', 'max-age=60, stale-while-revalidate=30, stale-if-error=300'],
      cfg(),
      [60 * S, 30 * S, 300 * S, 360 * S],
    ],
    ['stale windows come from the route defaults when the response has none', ['Cache-Control', 'max-age=60'], cfg({ stale_while_revalidate: 10 * S, stale_if_error: 20 * S }), [60 * S, 10 * S, 20 * S, 80 * S]],
    [
      'the response\'s stale windows beat the route defaults',
      ['Cache-Control', 'max-age=60, stale-while-revalidate=5'],
      cfg({ stale_while_revalidate: 10 * S, stale_if_error: 20 * S }),
      [60 * S, 5 * S, 20 * S, 80 * S],
    ],
    [
      'must-revalidate allows no stale window at all',
      ['Cache-Control', 'max-age=60, must-revalidate, stale-while-revalidate=30, stale-if-error=30'],
      cfg({ stale_while_revalidate: 10 * S, stale_if_error: 20 * S }),
      [60 * S, 0, 0, 60 * S],
    ],
    ['proxy-revalidate allows no stale window at all', ['Cache-Control', 'max-age=60, proxy-revalidate'], cfg({ stale_if_error: 20 * S }), [60 * S, 0, 0, 60 * S]],
    ['under s-maxage the route defaults do not apply', ['Cache-Control', 's-maxage=60'], cfg({ stale_while_revalidate: 10 * S, stale_if_error: 20 * S }), [60 * S, 0, 0, 60 * S]],
    ['under s-maxage the response\'s own windows apply', ['Cache-Control', 's-maxage=60, stale-if-error=30'], cfg({ stale_while_revalidate: 10 * S }), [60 * S, 0, 30 * S, 90 * S]],
    ['max-age=0 with stale-while-revalidate is kept for the window', ['Cache-Control', 'max-age=0, stale-while-revalidate=30'], cfg(), [0, 30 * S, 0, 30 * S]],
  ];
  for (const [name, headers, config, expected] of cases) {
    test(name, () => assert.deepEqual(ttlsOf(headers, config), expected));
  }
});

describe('lookup', () => {
  test('an entry within its freshness is fresh, with the freshness left', () => {
    const entry = stored(['Cache-Control', 'max-age=60']);
    assert.deepEqual(lookup(entry, req(), NOW + 20 * S), { state: 'fresh', ttlMs: 40 * S });
  });

  test('a HEAD is answered by the stored GET', () => {
    const entry = stored(['Cache-Control', 'max-age=60']);
    assert.equal(lookup(entry, req([], 'HEAD'), NOW + S).state, 'fresh');
  });

  test('other methods cannot use an entry', () => {
    const entry = stored(['Cache-Control', 'max-age=60']);
    assert.equal(lookup(entry, req([], 'POST'), NOW + S).state, 'unusable');
  });

  test('a stale entry must be revalidated with If-None-Match from its ETag', () => {
    const entry = stored(['Cache-Control', 'max-age=60', 'ETag', '"v1"']);
    assert.deepEqual(lookup(entry, req(), NOW + 61 * S), { state: 'stale', ttlMs: -1 * S, revalidationHeaders: ['if-none-match', '"v1"'], why: 'stale' });
  });

  test('a stale entry with Last-Modified is revalidated with If-Modified-Since', () => {
    const lastModified = httpDate(NOW - 60 * S);
    const entry = stored(['Cache-Control', 'max-age=60', 'Last-Modified', lastModified, 'ETag', '"v1"']);
    const found = lookup(entry, req(), NOW + 61 * S);
    assert.equal(found.state, 'stale');
    assert.deepEqual(found.state === 'stale' && found.revalidationHeaders, ['if-none-match', '"v1"', 'if-modified-since', lastModified]);
  });

  test('the client\'s own conditionals are replaced by the cache\'s', () => {
    const entry = stored(['Cache-Control', 'max-age=60', 'ETag', '"v1"']);
    const found = lookup(entry, req(['If-None-Match', '"other"', 'If-Modified-Since', httpDate(NOW)]), NOW + 61 * S);
    assert.deepEqual(found.state === 'stale' && found.revalidationHeaders, ['if-none-match', '"v1"']);
  });

  test('a stale entry without validators is revalidated with no conditionals', () => {
    const entry = stored(['Cache-Control', 'max-age=60']);
    assert.deepEqual(lookup(entry, req(), NOW + 61 * S), { state: 'stale', ttlMs: -1 * S, revalidationHeaders: [], why: 'stale' });
  });

  test('within the response\'s stale-while-revalidate, a stale entry is served and refreshed', () => {
    const entry = stored(['Cache-Control', 'max-age=60, stale-while-revalidate=30', 'ETag', '"v1"']);
    assert.deepEqual(lookup(entry, req(), NOW + 70 * S), {
      state: 'stale-while-revalidate',
      ttlMs: -10 * S,
      revalidationHeaders: ['if-none-match', '"v1"'],
    });
    assert.equal(lookup(entry, req(), NOW + 91 * S).state, 'stale');
  });

  test('the route\'s default stale-while-revalidate applies when the response has none', () => {
    const entry = stored(['Cache-Control', 'max-age=60'], { config: cfg({ stale_while_revalidate: 30 * S }) });
    assert.equal(lookup(entry, req(), NOW + 70 * S).state, 'stale-while-revalidate');
    assert.equal(lookup(entry, req(), NOW + 91 * S).state, 'stale');
  });

  test('RFC 9111 §5.2.2.2: must-revalidate still lets a fresh entry be served', () => {
    const entry = stored(['Cache-Control', 'max-age=60, must-revalidate']);
    assert.equal(lookup(entry, req(), NOW + 10 * S).state, 'fresh');
  });

  test('proxy-revalidate still lets a fresh entry be served', () => {
    const entry = stored(['Cache-Control', 'max-age=60, proxy-revalidate']);
    assert.equal(lookup(entry, req(), NOW + 10 * S).state, 'fresh');
  });

  test('must-revalidate forbids serving stale, even to a client asking for max-stale', () => {
    const entry = stored(['Cache-Control', 'max-age=60, must-revalidate'], { config: cfg({ stale_while_revalidate: 30 * S }) });
    assert.equal(lookup(entry, req(), NOW + 70 * S).state, 'stale');
    assert.equal(lookup(entry, req(['Cache-Control', 'max-stale']), NOW + 70 * S).state, 'stale');
  });

  test('a client\'s max-stale accepts a stale entry within its bound', () => {
    const entry = stored(['Cache-Control', 'max-age=60']);
    assert.deepEqual(lookup(entry, req(['Cache-Control', 'max-stale=20']), NOW + 70 * S), { state: 'fresh', ttlMs: -10 * S });
    assert.equal(lookup(entry, req(['Cache-Control', 'max-stale=5']), NOW + 70 * S).state, 'stale');
  });

  test('a client\'s max-stale is not honoured under s-maxage', () => {
    const entry = stored(['Cache-Control', 's-maxage=60']);
    assert.equal(lookup(entry, req(['Cache-Control', 'max-stale']), NOW + 70 * S).state, 'stale');
  });

  const requestDirectives: Array<[string, string[]]> = [
    ['a request with no-cache revalidates a fresh entry', ['Cache-Control', 'no-cache']],
    ['a request with Pragma: no-cache revalidates a fresh entry', ['Pragma', 'no-cache']],
    ['a request with a max-age below the entry\'s age revalidates it', ['Cache-Control', 'max-age=5']],
    ['a request with a min-fresh beyond the freshness left revalidates', ['Cache-Control', 'min-fresh=50']],
  ];
  for (const [name, headers] of requestDirectives) {
    test(name, () => {
      const entry = stored(['Cache-Control', 'max-age=60', 'ETag', '"v1"']);
      const found = lookup(entry, req(headers), NOW + 20 * S);
      assert.deepEqual(found, { state: 'stale', ttlMs: 40 * S, revalidationHeaders: ['if-none-match', '"v1"'], why: 'request' });
    });
  }

  test('a request with a max-age above the entry\'s age is served fresh', () => {
    const entry = stored(['Cache-Control', 'max-age=60']);
    assert.equal(lookup(entry, req(['Cache-Control', 'max-age=30']), NOW + 20 * S).state, 'fresh');
  });

  test('Vary keeps representations apart: another value of a varied field cannot use the entry', () => {
    const entry = stored(['Cache-Control', 'max-age=60', 'Vary', 'Accept-Language'], { request: req(['Accept-Language', 'en']) });
    assert.equal(lookup(entry, req(['Accept-Language', 'fr']), NOW + S).state, 'unusable');
    assert.equal(lookup(entry, req([]), NOW + S).state, 'unusable');
    assert.equal(lookup(entry, req(['accept-language', ' en ']), NOW + S).state, 'fresh');
  });

  test('an entry whose policy cannot be read is unusable', () => {
    const entry = { ...stored(['Cache-Control', 'max-age=60']), policy: { v: 2 } };
    assert.equal(lookup(entry, req(), NOW).state, 'unusable');
  });

  test('ttlOf gives the freshness left, negative once stale', () => {
    const entry = stored(['Cache-Control', 'max-age=60']);
    assert.equal(ttlOf(entry, NOW + 15 * S), 45 * S);
    assert.equal(ttlOf(entry, NOW + 75 * S), -15 * S);
  });

  test('revalidationHeadersOf gives the conditionals for a background refresh', () => {
    const entry = stored(['Cache-Control', 'max-age=60', 'ETag', 'W/"w"']);
    assert.deepEqual(revalidationHeadersOf(entry, req()), ['if-none-match', 'W/"w"']);
  });
});

describe('canServeStaleOnError', () => {
  test('within the response\'s stale-if-error a stale entry may stand in for an error', () => {
    const entry = stored(['Cache-Control', 'max-age=60, stale-if-error=30']);
    assert.equal(canServeStaleOnError(entry, NOW + 80 * S), true);
    assert.equal(canServeStaleOnError(entry, NOW + 91 * S), false);
  });

  test('the route\'s default stale-if-error applies when the response has none', () => {
    const entry = stored(['Cache-Control', 'max-age=60'], { config: cfg({ stale_if_error: 30 * S }) });
    assert.equal(canServeStaleOnError(entry, NOW + 80 * S), true);
    assert.equal(canServeStaleOnError(entry, NOW + 91 * S), false);
  });

  test('without stale-if-error a stale entry may not stand in', () => {
    const entry = stored(['Cache-Control', 'max-age=60']);
    assert.equal(canServeStaleOnError(entry, NOW + 61 * S), false);
  });

  test('must-revalidate forbids standing in, whatever the windows', () => {
    const entry = stored(['Cache-Control', 'max-age=60, must-revalidate, stale-if-error=30'], { config: cfg({ stale_if_error: 30 * S }) });
    assert.equal(canServeStaleOnError(entry, NOW + 61 * S), false);
  });
});

describe('responseHeadersFor', () => {
  test('Age grows with time', () => {
    const entry = stored(['Cache-Control', 'max-age=600']);
    assert.deepEqual(field(responseHeadersFor(entry, NOW), 'age'), ['0']);
    assert.deepEqual(field(responseHeadersFor(entry, NOW + 5500), 'age'), ['5']);
    assert.deepEqual(field(responseHeadersFor(entry, NOW + 100 * S), 'age'), ['100']);
  });

  test('an Age received from upstream is added to the time spent here, in one Age field', () => {
    const entry = stored(['Cache-Control', 'max-age=600', 'Age', '30']);
    const headers = responseHeadersFor(entry, NOW + 10 * S);
    assert.deepEqual(field(headers, 'age'), ['40']);
  });

  test('the other stored headers are kept as they are, and the entry is not changed', () => {
    const entry = stored(['Cache-Control', 'max-age=600', 'X-Thing', 'a']);
    const before = [...entry.headers];
    const headers = responseHeadersFor(entry, NOW + S);
    assert.deepEqual(field(headers, 'x-thing'), ['a']);
    assert.deepEqual(entry.headers, before);
  });
});

describe('revalidated', () => {
  const base = ['Cache-Control', 'max-age=60', 'ETag', '"v1"', 'Content-Length', '4', 'Content-Type', 'text/plain', 'X-Old', 'kept'];

  test('a matching 304 refreshes the stored headers and freshness, and keeps the body', () => {
    const entry = stored(base);
    const at = NOW + 100 * S;
    const result = revalidated(entry, req(), { status: 304, headers: ['Date', httpDate(at), 'ETag', '"v1"', 'Cache-Control', 'max-age=120', 'X-New', 'n'] }, at);
    assert.equal(result.modified, false);
    if (result.modified) return;
    assert.equal(result.ttlMs, 120 * S);
    assert.equal(result.storeTtlMs, 120 * S);
    assert.equal(result.entry.body, entry.body);
    assert.equal(result.entry.storedAt, at);
    assert.deepEqual(field(result.entry.headers, 'cache-control'), ['max-age=120']);
    assert.deepEqual(field(result.entry.headers, 'date'), [httpDate(at)]);
    assert.deepEqual(field(result.entry.headers, 'x-old'), ['kept']);
    assert.deepEqual(field(result.entry.headers, 'x-new'), ['n']);
    assert.equal(lookup(result.entry, req(), at + 100 * S).state, 'fresh');
  });

  test('a 304 does not change what describes the body, nor set a cookie', () => {
    const entry = stored(base);
    const result = revalidated(
      entry,
      req(),
      { status: 304, headers: ['ETag', '"v1"', 'Content-Length', '0', 'Content-Encoding', 'gzip', 'Set-Cookie', 'a=1', 'Connection', 'close'] },
      NOW + 61 * S,
    );
    assert.ok(!result.modified);
    assert.deepEqual(field(result.entry.headers, 'content-length'), ['4']);
    assert.deepEqual(field(result.entry.headers, 'content-encoding'), []);
    assert.deepEqual(field(result.entry.headers, 'set-cookie'), []);
    assert.deepEqual(field(result.entry.headers, 'connection'), []);
  });

  test('a 304 matched by Last-Modified (no ETag) refreshes the entry', () => {
    const lastModified = httpDate(NOW - 3600 * S);
    const entry = stored(['Cache-Control', 'max-age=60', 'Last-Modified', lastModified]);
    const result = revalidated(entry, req(), { status: 304, headers: ['Last-Modified', lastModified] }, NOW + 61 * S);
    assert.equal(result.modified, false);
  });

  test('RFC 9111 §4.3.4: a 304 with another strong ETag updates nothing: the entry answers once and is not kept', () => {
    const entry = stored(base);
    const result = revalidated(entry, req(), { status: 304, headers: ['ETag', '"v2"', 'X-New', 'n'] }, NOW + 61 * S);
    assert.ok(!result.modified);
    assert.equal(result.storeTtlMs, 0);
    assert.equal(result.entry, entry);
  });

  test('a full response is a modification', () => {
    const entry = stored(base);
    assert.deepEqual(revalidated(entry, req(), { status: 200, headers: ['ETag', '"v1"'] }, NOW + 61 * S), { modified: true });
  });

  test('the stored Age is dropped: the 304 is the new reception', () => {
    const entry = stored([...base, 'Age', '30']);
    const result = revalidated(entry, req(), { status: 304, headers: ['ETag', '"v1"'] }, NOW + 61 * S);
    assert.ok(!result.modified);
    assert.deepEqual(field(result.entry.headers, 'age'), []);
    assert.equal(result.ttlMs, 60 * S);
  });

  test('the route defaults carry over to the refreshed entry', () => {
    const entry = stored(['ETag', '"v1"'], { config: cfg({ ttl: 90 * S, stale_if_error: 30 * S }) });
    const result = revalidated(entry, req(), { status: 304, headers: ['ETag', '"v1"'] }, NOW + 100 * S);
    assert.ok(!result.modified);
    assert.equal(result.ttlMs, 90 * S);
    assert.equal(result.storeTtlMs, 120 * S);
  });

  test('a 304 that forbids storing leaves an entry to serve once but not to keep', () => {
    const entry = stored(base);
    const result = revalidated(entry, req(), { status: 304, headers: ['ETag', '"v1"', 'Cache-Control', 'no-store'] }, NOW + 61 * S);
    assert.ok(!result.modified);
    assert.equal(result.storeTtlMs, 0);
    assert.deepEqual(field(result.entry.headers, 'cache-control'), ['no-store']);
  });
});

describe('invalidation by unsafe methods', () => {
  const cases: Array<[string, number, boolean]> = [
    ['POST', 200, true],
    ['PUT', 204, true],
    ['DELETE', 301, true],
    ['PATCH', 200, true],
    ['PURGE', 200, true],
    ['POST', 404, false],
    ['POST', 500, false],
    ['GET', 200, false],
    ['HEAD', 200, false],
    ['OPTIONS', 200, false],
  ];
  for (const [method, status, expected] of cases) {
    test(`${method} answered ${status} ${expected ? 'invalidates' : 'does not invalidate'}`, () => {
      assert.equal(invalidatesOnUnsafe(method, status), expected);
    });
  }

  test('the target and same-origin Location and Content-Location are invalidated', () => {
    const urls = invalidatedUrls(
      { method: 'POST', url: 'example.com/items?x=1', headers: ['Host', 'example.com'] },
      { status: 201, headers: ['Location', '/items/7', 'Content-Location', 'http://EXAMPLE.com/items/7?v=2'] },
    );
    assert.deepEqual(urls, ['example.com/items?x=1', 'example.com/items/7', 'example.com/items/7?v=2']);
  });

  test('Location on another host or port is not invalidated', () => {
    const urls = invalidatedUrls(
      { method: 'PUT', url: 'example.com/a', headers: ['Host', 'example.com'] },
      { status: 200, headers: ['Location', 'http://other.example/a', 'Content-Location', 'http://example.com:8080/a'] },
    );
    assert.deepEqual(urls, ['example.com/a']);
  });

  test('an https Location on the same host is invalidated: keys carry no scheme', () => {
    const urls = invalidatedUrls({ method: 'POST', url: 'example.com/a', headers: [] }, { status: 303, headers: ['Location', 'https://example.com/b'] });
    assert.deepEqual(urls, ['example.com/a', 'example.com/b']);
  });

  test('an origin-form url takes its host from the Host field', () => {
    const urls = invalidatedUrls({ method: 'DELETE', url: '/a', headers: ['Host', 'example.com'] }, { status: 204, headers: ['Location', '/b'] });
    assert.deepEqual(urls, ['example.com/a', 'example.com/b']);
  });

  test('an error answer invalidates nothing', () => {
    assert.deepEqual(invalidatedUrls({ method: 'POST', url: 'example.com/a', headers: [] }, { status: 500, headers: ['Location', '/b'] }), []);
  });
});

describe('tagsOf', () => {
  const cases: Array<[string, string[], string, string[]]> = [
    ['Surrogate-Key lists tags separated by spaces', ['Surrogate-Key', ' a  b\tc '], 'surrogate-key', ['a', 'b', 'c']],
    ['Cache-Tag lists tags separated by commas', ['Cache-Tag', 'a, b ,c'], 'cache-tag', ['a', 'b', 'c']],
    ['tags from several fields are gathered once each', ['surrogate-key', 'a b', 'SURROGATE-KEY', 'b c'], 'surrogate-key', ['a', 'b', 'c']],
    ['the configured header name is matched in any case', ['Cache-Tag', 'x'], 'Cache-Tag', ['x']],
    ['other headers give no tags', ['Cache-Tag', 'x'], 'surrogate-key', []],
  ];
  for (const [name, headers, tagHeader, expected] of cases) {
    test(name, () => assert.deepEqual(tagsOf({ status: 200, headers }, tagHeader), expected));
  }
});

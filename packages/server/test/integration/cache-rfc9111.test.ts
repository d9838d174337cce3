/**
 * RFC 9111 end to end: a real Fulcrum with the memory store in front of a real backend whose every answer a test
 * scripts, named after the clause each checks. No test waits for time to pass: staleness comes from Age and Date.
 */
import assert from 'node:assert/strict';
import type http from 'node:http';
import { after, before, describe, test } from 'node:test';
import { startBackend, type TestBackend } from '../support/backend.ts';
import { request, type Reply } from '../support/client.ts';
import { eventually, startFulcrum, type InProcessFulcrum } from '../support/fulcrum.ts';

interface Answer {
  status?: number;
  /** Flat [name, value, …], sent as they are. */
  headers?: string[];
  body?: string;
  /** Leave out the Date field node:http adds. */
  noDate?: boolean;
  /** Send the head and this much of the body, then cut the connection. */
  cutAfter?: number;
  /** Close the connection without answering. */
  fail?: boolean;
}

/** path → how the backend answers its n-th request for it (n from 1). */
const scripts = new Map<string, (req: http.IncomingMessage, n: number) => Answer>();
let backend: TestBackend;
let fulcrum: InProcessFulcrum;

before(async () => {
  backend = await startBackend('origin');
  backend.handle((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    const n = backend.requests.filter((r) => r.url.split('?')[0] === path).length;
    const a = scripts.get(path)?.(req, n) ?? {};
    if (a.fail) return void res.socket?.destroy();
    if (a.noDate) res.sendDate = false;
    const body = a.body ?? `${path} #${n}`;
    const headers = a.headers ?? [];
    const status = a.status ?? 200;
    if (a.cutAfter !== undefined) {
      res.writeHead(status, [...headers, 'content-length', String(body.length)]);
      res.write(body.slice(0, a.cutAfter));
      setImmediate(() => res.socket?.destroy());
      return;
    }
    res.writeHead(status, headers);
    res.end(status === 304 || status === 204 || req.method === 'HEAD' ? undefined : body);
  });
  fulcrum = await startFulcrum({
    pools: { p: { backends: [{ url: backend.url }], retries: { attempts: 0 } } },
    routes: [{ match: {}, pool: 'p', cache: { ttl: '60s', stale_if_error: '60s', keep_stale: '1h' } }],
  });
});

after(async () => {
  await fulcrum.stop();
  await backend.close();
});

let n = 0;
/** A fresh path per test, scripted. */
function path(name: string, script: (req: http.IncomingMessage, n: number) => Answer): string {
  const p = `/${name}-${++n}`;
  scripts.set(p, script);
  return p;
}

/** A raw header list (repeated and oddly cased fields as they are); node:http then adds no Host of its own. */
const send = (p: string, headers: string[] = [], method = 'GET'): Promise<Reply> =>
  request(`${fulcrum.url}${p}`, { method, headers: ['host', `127.0.0.1:${fulcrum.proxyPort}`, ...headers] });
const hits = (p: string) => backend.requests.filter((r) => r.url.split('?')[0] === p).length;
const last = (p: string) => backend.requests.filter((r) => r.url.split('?')[0] === p).at(-1)!;
const status = (r: Reply) => String(r.headers['cache-status'] ?? '');
const past = (s: number) => new Date(Date.now() - s * 1000).toUTCString();
const future = (s: number) => new Date(Date.now() + s * 1000).toUTCString();

describe('RFC 9111 end to end: freshness', () => {
  test('RFC 9111 §4.2.1: s-maxage overrides max-age in a shared cache', async () => {
    const longer = path('smaxage', () => ({ headers: ['cache-control', 'max-age=0, s-maxage=600'] }));
    await send(longer);
    assert.match(status(await send(longer)), /hit/);
    const shorter = path('smaxage0', () => ({ headers: ['cache-control', 'max-age=600, s-maxage=0'] }));
    await send(shorter);
    await send(shorter);
    assert.equal(hits(shorter), 2);
  });

  test('RFC 9111 §4.2.1: of two max-age directives the first is used', async () => {
    const p = path('dup', () => ({ headers: ['cache-control', 'max-age=1800', 'cache-control', 'max-age=0'] }));
    await send(p);
    assert.match(status(await send(p)), /hit/);
  });

  test('RFC 9111 §5.2: "max-age" in a quoted extension is not a max-age', async () => {
    const p = path('quoted', () => ({ headers: ['cache-control', 'extension="max-age=3600", max-age=0'] }));
    await send(p);
    await send(p);
    assert.equal(hits(p), 2);
  });

  test('RFC 9111 §5.3: an invalid Expires is in the past, and a past one too', async () => {
    for (const expires of ['0', 'Thu, 18 Aug 2050 02:01:18 UTC', past(3600)]) {
      const p = path('expires', () => ({ headers: ['expires', expires] }));
      await send(p);
      await send(p);
      assert.equal(hits(p), 2, expires);
    }
  });

  test('RFC 9111 §3: a 302 and a 500 with explicit freshness are stored and reused', async () => {
    for (const code of [302, 307, 500]) {
      const p = path(`status${code}`, () => ({ status: code, headers: ['cache-control', 'max-age=600', 'location', '/elsewhere'] }));
      await send(p);
      const again = await send(p);
      assert.equal(again.status, code);
      assert.equal(hits(p), 1, String(code));
    }
  });

  test('RFC 9111 §4.2.2: no heuristic freshness for a status not heuristically cacheable', async () => {
    const p = path('heur403', () => ({ status: 403, headers: ['last-modified', past(86400)] }));
    await send(p);
    await send(p);
    assert.equal(hits(p), 2);
  });

  test('RFC 9111 §5.1: the Age received from upstream is carried on, growing, and an Age beyond max-age is stale', async () => {
    const aged = path('aged', () => ({ headers: ['cache-control', 'max-age=600', 'age', '100'] }));
    await send(aged);
    const r = await send(aged);
    assert.match(status(r), /hit/);
    assert.ok(Number(r.headers.age) >= 100, String(r.headers.age));
    const old = path('old', () => ({ headers: ['cache-control', 'max-age=10', 'age', '15'] }));
    await send(old);
    await send(old);
    assert.equal(hits(old), 2);
  });

  test('RFC 9111 §4.2.3: the apparent age from an old Date counts', async () => {
    const p = path('olddate', () => ({ headers: ['date', past(700), 'cache-control', 'max-age=600'] }));
    await send(p);
    await send(p);
    assert.equal(hits(p), 2);
  });

  test('RFC 9110 §6.6.1: a response without Date gets one, and the stored one is served unchanged from then on', async () => {
    const p = path('nodate', () => ({ noDate: true, headers: ['cache-control', 'max-age=600'] }));
    const first = await send(p);
    assert.ok(first.headers.date !== undefined);
    const a = await send(p);
    const b = await send(p);
    assert.match(status(a), /hit/);
    assert.ok(a.headers.date !== undefined);
    assert.equal(a.headers.date, b.headers.date);
  });
});

describe('RFC 9111 end to end: what is stored', () => {
  test('RFC 9111 §3.5: a response to a request with Authorization is reused only with public, s-maxage or must-revalidate', async () => {
    const plain = path('auth', () => ({ headers: ['expires', future(3600)] }));
    await send(plain, ['authorization', 'FOO']);
    await send(plain);
    assert.equal(hits(plain), 2);
    for (const cc of ['max-age=3600, public', 's-maxage=3600', 'max-age=3600, must-revalidate']) {
      const p = path('authok', () => ({ headers: ['cache-control', cc] }));
      await send(p, ['authorization', 'FOO']);
      assert.match(status(await send(p)), /hit/, cc);
    }
  });

  test('RFC 9111 §5.2.2.7: a qualified private response is stored without the fields it names', async () => {
    const p = path('qprivate', () => ({ headers: ['cache-control', 'private="x-user", max-age=600', 'x-user', 'alice', 'x-other', 'o'] }));
    assert.equal((await send(p)).headers['x-user'], 'alice');
    const r = await send(p);
    assert.match(status(r), /hit/);
    assert.equal(r.headers['x-user'], undefined);
    assert.equal(r.headers['x-other'], 'o');
  });

  test('RFC 9111 §5.2.2.4: a qualified no-cache response is stored without the fields it names', async () => {
    const p = path('qnocache', () => ({ headers: ['cache-control', 'no-cache="a"', 'a', '1', 'b', '2', 'cache-control', 'max-age=3600'] }));
    await send(p);
    const r = await send(p);
    assert.match(status(r), /hit/);
    assert.deepEqual([r.headers.a, r.headers.b], [undefined, '2']);
  });

  test('RFC 9111 §3.1: Connection-nominated fields and Proxy-Authenticate are not stored', async () => {
    const p = path('hop', () => ({ headers: ['cache-control', 'max-age=600', 'connection', 'x-hop', 'x-hop', '1', 'proxy-authenticate', 'Basic', 'x-end', 'e'] }));
    await send(p);
    const r = await send(p);
    assert.match(status(r), /hit/);
    assert.deepEqual([r.headers['x-hop'], r.headers['proxy-authenticate'], r.headers['x-end']], [undefined, undefined, 'e']);
  });

  test('RFC 9111 §3.4: a 206 is never stored, so never served as the whole', async () => {
    const p = path('partial', (req) =>
      req.headers.range !== undefined
        ? { status: 206, headers: ['cache-control', 'max-age=600', 'content-range', 'bytes 0-1/10'], body: '01' }
        : { headers: ['cache-control', 'max-age=600'], body: '0123456789' },
    );
    assert.equal((await send(p, ['range', 'bytes=0-1'])).status, 206);
    const whole = await send(p);
    assert.equal(whole.status, 200);
    assert.equal(whole.text, '0123456789');
    assert.equal(hits(p), 2);
  });

  test('RFC 9111 §3.3: a response cut short is not stored', async () => {
    const p = path('cut', (_req, k) => (k === 1 ? { headers: ['cache-control', 'max-age=600'], body: 'x'.repeat(100), cutAfter: 10 } : { headers: ['cache-control', 'max-age=600'] }));
    await send(p).catch(() => undefined);
    const r = await send(p);
    assert.equal(r.status, 200);
    assert.equal(hits(p), 2);
  });

  test('RFC 9111 §5.2.1.5: a request with no-store is answered by the backend, and its response not stored', async () => {
    const p = path('reqnostore', () => ({ headers: ['cache-control', 'max-age=600'] }));
    await send(p, ['cache-control', 'no-store']);
    await send(p);
    assert.equal(hits(p), 2);
    await send(p, ['cache-control', 'no-store']);
    assert.equal(hits(p), 3, 'a fresh entry does not answer a no-store request');
  });

  test('RFC 9213 §2.1: CDN-Cache-Control overrides Cache-Control, and is passed on', async () => {
    const p = path('cdncc', () => ({ headers: ['cache-control', 'no-store', 'cdn-cache-control', 'max-age=600'] }));
    await send(p);
    const r = await send(p);
    assert.match(status(r), /hit/);
    assert.equal(r.headers['cdn-cache-control'], 'max-age=600');
    const q = path('cdnnostore', () => ({ headers: ['cache-control', 'max-age=600', 'cdn-cache-control', 'no-store'] }));
    await send(q);
    await send(q);
    assert.equal(hits(q), 2);
  });
});

describe('RFC 9111 end to end: Vary', () => {
  const varying = (name: string, vary: string[]) => path(name, (req) => ({ headers: ['cache-control', 'max-age=600', ...vary], body: `foo=${String(req.headers.foo)}` }));

  test('RFC 9111 §4.1: selecting values that differ only in whitespace, or split over lines, match', async () => {
    const p = varying('vary-ws', ['vary', 'Foo']);
    await send(p, ['foo', '1,2']);
    assert.match(status(await send(p, ['Foo', ' 1, 2 '])), /hit/);
    assert.match(status(await send(p, ['foo', '1', 'foo', '2'])), /hit/);
  });

  test('RFC 9111 §4.1: Vary field names in any case and over several lines select alike', async () => {
    const p = varying('vary-case', ['Vary', 'FOO', 'vary', 'bar']);
    await send(p, ['foo', '1', 'bar', '2']);
    assert.match(status(await send(p, ['Foo', '1', 'Bar', '2'])), /hit/);
    const other = await send(p, ['Foo', '1', 'Bar', '3']);
    assert.doesNotMatch(status(other), /hit/);
  });

  test('RFC 9111 §4.1: a request without a varied field does not match one that had it', async () => {
    const p = varying('vary-omit', ['vary', 'foo']);
    await send(p, ['foo', '1']);
    const r = await send(p);
    assert.equal(r.text, 'foo=undefined');
    assert.equal(hits(p), 2);
  });

  test('RFC 9111 §4.1: Vary: * is never reused', async () => {
    for (const vary of [['vary', '*'], ['vary', 'foo, *'], ['vary', '', 'vary', '*']]) {
      const p = varying('vary-star', vary);
      await send(p, ['foo', '1']);
      await send(p, ['foo', '1']);
      assert.equal(hits(p), 2, JSON.stringify(vary));
    }
  });

  test('RFC 9111 §4.1: a second variant does not evict the first', async () => {
    const p = varying('vary-two', ['vary', 'foo']);
    await send(p, ['foo', '1']);
    await send(p, ['foo', '2']);
    const one = await send(p, ['foo', '1']);
    assert.equal(one.text, 'foo=1');
    assert.match(status(one), /hit/);
  });
});

describe('RFC 9111 end to end: validation and stale', () => {
  const validating = (name: string, cc: string, extra: string[] = []) =>
    path(name, (req) => (req.headers['if-none-match'] === '"v1"' ? { status: 304, headers: ['etag', '"v1"', 'cache-control', cc] } : { headers: ['etag', '"v1"', 'cache-control', cc, ...extra], body: 'v1 body' }));

  test('RFC 9111 §5.2.2.4: a no-cache response with an ETag is stored and revalidated on every use', async () => {
    const p = validating('nocache', 'no-cache');
    await send(p);
    const r = await send(p);
    assert.equal(r.status, 200);
    assert.equal(r.text, 'v1 body');
    assert.equal(last(p).headers['if-none-match'], '"v1"');
    assert.equal(hits(p), 2);
  });

  test('RFC 9111 §5.2.1.1: a request with max-age=0 revalidates a fresh entry', async () => {
    const p = validating('reqmaxage', 'max-age=600');
    await send(p);
    await send(p, ['cache-control', 'max-age=0']);
    assert.equal(hits(p), 2);
    assert.equal(last(p).headers['if-none-match'], '"v1"');
  });

  test('RFC 9111 §5.2.1.4: Pragma: no-cache in a request without Cache-Control revalidates', async () => {
    const p = validating('pragma', 'max-age=600');
    await send(p);
    await send(p, ['pragma', 'no-cache']);
    assert.equal(last(p).headers['if-none-match'], '"v1"');
  });

  test('RFC 9111 §5.2.1.2: max-stale lets a stale entry answer; without it the entry is revalidated', async () => {
    const p = validating('maxstale', 'max-age=10', ['age', '20']);
    await send(p);
    assert.match(status(await send(p, ['cache-control', 'max-stale=60'])), /hit/);
    assert.equal(hits(p), 1);
    await send(p, ['cache-control', 'max-stale=5']);
    assert.equal(hits(p), 2);
  });

  test('RFC 9111 §4.2.4: must-revalidate forbids serving stale when the backend fails, even with stale-if-error', async () => {
    const p = path('mustreval', (_req, k) => (k === 1 ? { headers: ['cache-control', 'max-age=10, must-revalidate, stale-if-error=600', 'age', '20', 'etag', '"a"'] } : { fail: true }));
    await send(p);
    const r = await send(p);
    assert.ok(r.status >= 500, String(r.status));
  });

  test('RFC 5861 §4: stale-if-error lets a stale entry answer when the backend fails', async () => {
    const p = path('sie', (_req, k) => (k === 1 ? { headers: ['cache-control', 'max-age=10, stale-if-error=600', 'age', '20'], body: 'kept' } : { fail: true }));
    await send(p);
    const r = await send(p);
    assert.equal(r.status, 200);
    assert.equal(r.text, 'kept');
    assert.equal(r.headers.warning, undefined);
    assert.ok(Number(r.headers.age) >= 20);
  });

  test('RFC 9111 §3.2: a 304 updates the stored fields, keeps the others, and never changes Content-Length', async () => {
    const p = path('update304', (req) =>
      req.headers['if-none-match'] === '"v1"'
        ? { status: 304, headers: ['etag', '"v1"', 'cache-control', 'max-age=600', 'x-test', 'B'] }
        : { headers: ['etag', '"v1"', 'cache-control', 'max-age=10', 'age', '20', 'x-test', 'A', 'x-kept', 'k'], body: 'v1 body' },
    );
    await send(p);
    const r = await send(p);
    assert.equal(r.headers['x-test'], 'B');
    assert.equal(r.headers['x-kept'], 'k');
    assert.equal(r.headers['content-length'], String('v1 body'.length));
    const again = await send(p);
    assert.match(status(again), /hit/);
    assert.equal(again.headers['x-test'], 'B');
    assert.equal(hits(p), 2);
  });

  test('RFC 5861 §3: within stale-while-revalidate the stale entry answers at once and is refreshed', async () => {
    const p = path('swr', (_req, k) => ({ headers: ['cache-control', 'max-age=0, stale-while-revalidate=600', 'etag', `"${k}"`], body: `v${k}` }));
    await send(p);
    assert.equal((await send(p)).text, 'v1');
    await eventually(async () => (await send(p)).text !== 'v1', 3000, 'the refreshed entry');
  });
});

describe('RFC 9111 end to end: HEAD and invalidation', () => {
  test('RFC 9110 §9.3.2: HEAD is answered from a stored GET, without a body', async () => {
    const p = path('head', () => ({ headers: ['cache-control', 'max-age=600'] }));
    await send(p);
    const r = await send(p, [], 'HEAD');
    assert.equal(r.status, 200);
    assert.equal(r.text, '');
    assert.match(status(r), /hit/);
    assert.equal(hits(p), 1);
  });

  const invalidating = (name: string) => path(name, (req) => (req.method === 'GET' ? { headers: ['cache-control', 'max-age=600'] } : {}));

  test('RFC 9111 §4.4: a successful unsafe method invalidates its target, and Location and Content-Location of the same origin', async () => {
    const target = invalidating('inv-target');
    const loc = invalidating('inv-loc');
    const cl = invalidating('inv-cl');
    scripts.set(target, (req) => (req.method === 'GET' ? { headers: ['cache-control', 'max-age=600'] } : { status: 201, headers: ['location', loc, 'content-location', `http://127.0.0.1:${fulcrum.proxyPort}${cl}`] }));
    for (const p of [target, loc, cl]) await send(p);
    await send(target, ['content-type', 'text/plain'], 'POST');
    for (const p of [target, loc, cl]) await send(p);
    assert.deepEqual([hits(target), hits(loc), hits(cl)], [3, 2, 2]);
  });

  test('RFC 9111 §4.4: Location on another origin is not invalidated', async () => {
    const target = invalidating('inv-other');
    const loc = invalidating('inv-other-loc');
    scripts.set(target, (req) => (req.method === 'GET' ? { headers: ['cache-control', 'max-age=600'] } : { headers: ['location', `http://elsewhere.example${loc}`] }));
    await send(loc);
    await send(target, [], 'PUT');
    await send(loc);
    assert.equal(hits(loc), 1);
  });

  test('RFC 9111 §4.4: an unsafe method answered with an error invalidates nothing', async () => {
    const p = path('inv-error', (req) => (req.method === 'GET' ? { headers: ['cache-control', 'max-age=600'] } : { status: 500 }));
    await send(p);
    await send(p, [], 'DELETE');
    assert.match(status(await send(p)), /hit/);
  });

  test('RFC 9111 §4.4: a method of unknown safety invalidates', async () => {
    const p = invalidating('inv-unknown');
    await send(p);
    await send(p, [], 'M-SEARCH');
    await send(p);
    assert.equal(hits(p), 3);
  });
});

describe('RFC 9111 end to end: answering from the cache', () => {
  const etagged = (name: string, cc = 'max-age=600') =>
    path(name, (req) => (req.headers['if-none-match'] === '"abc"' ? { status: 304, headers: ['etag', '"abc"', 'cache-control', cc] } : { headers: ['etag', '"abc"', 'cache-control', cc, 'last-modified', past(3000)], body: 'full body' }));

  test('RFC 9111 §4.3.2: If-None-Match matching a fresh entry is answered 304 by the cache, with ETag and Age', async () => {
    const p = etagged('inm');
    await send(p);
    const r = await send(p, ['if-none-match', '"1234", "abc"']);
    assert.equal(r.status, 304);
    assert.equal(r.text, '');
    assert.equal(r.headers.etag, '"abc"');
    assert.ok(r.headers.age !== undefined);
    assert.match(status(r), /hit/);
    assert.equal(hits(p), 1);
    assert.equal((await send(p, ['if-none-match', '"other"'])).status, 200);
  });

  test('RFC 9111 §4.3.2: If-Modified-Since not before Last-Modified is answered 304 by the cache', async () => {
    const p = etagged('ims');
    await send(p);
    assert.equal((await send(p, ['if-modified-since', past(1000)])).status, 304);
    assert.equal((await send(p, ['if-modified-since', past(5000)])).status, 200);
    assert.equal(hits(p), 1);
  });

  test('RFC 9111 §4.3.2: a client conditional on a stale entry is answered 304 after the cache revalidates it', async () => {
    const p = path('inm-stale', (req) => (req.headers['if-none-match'] === '"abc"' ? { status: 304, headers: ['etag', '"abc"', 'cache-control', 'max-age=600'] } : { headers: ['etag', '"abc"', 'cache-control', 'max-age=10', 'age', '20'] }));
    await send(p);
    const r = await send(p, ['if-none-match', '"abc"']);
    assert.equal(r.status, 304);
    assert.equal(hits(p), 2);
  });

  test('RFC 9111 §4.3.3: a 304 to a client that sent no conditional is never passed on: the stored body answers', async () => {
    const p = path('odd304', (_req, k) => (k === 1 ? { headers: ['etag', '"abc"', 'cache-control', 'max-age=10', 'age', '20'], body: 'stored' } : { status: 304, headers: ['etag', '"zzz"'] }));
    await send(p);
    const r = await send(p);
    assert.equal(r.status, 200);
    assert.equal(r.text, 'stored');
  });

  test('RFC 9111 §5.2.1.7: only-if-cached is answered 504 when nothing is stored, and from the cache when it is', async () => {
    const p = path('oic', () => ({ headers: ['cache-control', 'max-age=600'] }));
    const miss = await send(p, ['cache-control', 'only-if-cached']);
    assert.equal(miss.status, 504);
    assert.equal(hits(p), 0);
    await send(p);
    assert.equal((await send(p, ['cache-control', 'only-if-cached'])).status, 200);
    assert.equal(hits(p), 1);
  });

  test('RFC 5861 §4: a 500, 502, 503 or 504 answer lets a stale entry stand in within stale-if-error', async () => {
    for (const code of [500, 503]) {
      const p = path(`sie${code}`, (_req, k) => (k === 1 ? { headers: ['cache-control', 'max-age=10, stale-if-error=600', 'age', '20'], body: 'kept' } : { status: code }));
      await send(p);
      const r = await send(p);
      assert.equal(r.status, 200, String(code));
      assert.equal(r.text, 'kept');
      assert.match(status(r), new RegExp(`fwd=stale; fwd-status=${code}`));
    }
  });

  test('RFC 5861 §4: a request\'s own stale-if-error lets a stale entry stand in', async () => {
    const p = path('sie-req', (_req, k) => (k === 1 ? { headers: ['cache-control', 'max-age=10', 'age', '20', 'etag', '"a"'], body: 'kept' } : { status: 500 }));
    await send(p);
    const r = await send(p, ['cache-control', 'stale-if-error=600']);
    assert.equal(r.status, 200);
    assert.equal(r.text, 'kept');
  });

  test('RFC 9111 §4.2.4: must-revalidate forbids standing in for a 503 answer too', async () => {
    const p = path('mr503', (_req, k) => (k === 1 ? { headers: ['cache-control', 'max-age=10, must-revalidate, stale-if-error=600', 'age', '20'] } : { status: 503 }));
    await send(p);
    assert.equal((await send(p)).status, 503);
  });

  test('RFC 9111 §4.3.5: a 200 to a HEAD updates the stored GET\'s fields', async () => {
    const p = path('headupdate', (req, k) =>
      req.method === 'HEAD'
        ? { headers: ['etag', '"h"', 'cache-control', 'max-age=600', 'x-test', 'B', 'content-length', '8'] }
        : { headers: ['etag', '"h"', 'cache-control', 'max-age=10', 'age', '20', 'x-test', 'A'], body: `get #${k}..` },
    );
    await send(p);
    const head = await send(p, [], 'HEAD');
    assert.equal(head.status, 200);
    const get = await send(p);
    assert.match(status(get), /hit/);
    assert.equal(get.headers['x-test'], 'B');
    assert.equal(get.text, 'get #1..');
  });

  test('RFC 9111 §4.3.5: a 200 to a HEAD with other validators makes the stored GET unusable', async () => {
    const p = path('headinval', (req, k) =>
      req.method === 'HEAD' ? { headers: ['etag', '"new"', 'cache-control', 'max-age=600'] } : { headers: ['etag', `"${k}"`, 'cache-control', 'max-age=600'] },
    );
    await send(p);
    await send(p, ['cache-control', 'no-cache'], 'HEAD');
    await send(p);
    assert.equal(backend.requests.filter((r) => r.url === p && r.method === 'GET').length, 2);
  });

  test('RFC 9211 §2: Cache-Status tells a hit, a URI miss, a Vary miss, a request-forced forward and a method', async () => {
    const p = path('cs', () => ({ headers: ['cache-control', 'max-age=600', 'vary', 'foo', 'etag', '"e"'] }));
    assert.match(status(await send(p, ['foo', '1'])), /^fulcrum; fwd=uri-miss; fwd-status=200; ttl=\d+; stored$/);
    assert.match(status(await send(p, ['foo', '1'])), /^fulcrum; hit; ttl=\d+$/);
    assert.match(status(await send(p, ['foo', '2'])), /^fulcrum; fwd=vary-miss; fwd-status=200; ttl=\d+; stored$/);
    assert.match(status(await send(p, ['foo', '1', 'cache-control', 'no-cache'])), /^fulcrum; fwd=request; fwd-status=(200|304)/);
    assert.match(status(await send(p, ['foo', '1'], 'POST')), /^fulcrum; fwd=method; fwd-status=200/);
  });

  test('RFC 9211 §2.1: a revalidated response is not a hit: fwd=stale with the 304', async () => {
    const p = path('cs-stale', (req) => (req.headers['if-none-match'] === '"e"' ? { status: 304, headers: ['etag', '"e"', 'cache-control', 'max-age=600'] } : { headers: ['etag', '"e"', 'cache-control', 'max-age=10', 'age', '20'] }));
    await send(p);
    const r = await send(p);
    assert.match(status(r), /^fulcrum; fwd=stale; fwd-status=304; ttl=\d+; stored/);
    assert.doesNotMatch(status(r), /hit/);
  });

  test('RFC 9111 §4.4: invalidation reaches the entry of every query the key reads as the same', async () => {
    const p = path('inv-query', (req) => (req.method === 'GET' ? { headers: ['cache-control', 'max-age=600'] } : {}));
    await send(`${p}?a=1&b=2`);
    await send(`${p}?b=2&a=1`, [], 'POST');
    await send(`${p}?a=1&b=2`);
    assert.equal(backend.requests.filter((r) => r.url.startsWith(p) && r.method === 'GET').length, 2);
  });

  test('RFC 9111 §4.4: invalidation reaches every stored variant', async () => {
    const p = path('inv-vary', (req) => (req.method === 'GET' ? { headers: ['cache-control', 'max-age=600', 'vary', 'foo'] } : {}));
    await send(p, ['foo', '1']);
    await send(p, ['foo', '2']);
    await send(p, [], 'DELETE');
    await send(p, ['foo', '1']);
    await send(p, ['foo', '2']);
    assert.equal(backend.requests.filter((r) => r.url === p && r.method === 'GET').length, 4);
  });
});

describe('RFC 5861 end to end: a refresh triggered by a HEAD', () => {
  test('RFC 5861 §3: a HEAD served stale within stale-while-revalidate refreshes the stored GET', async () => {
    const p = path('swr-head', (_req, k) => ({ headers: ['cache-control', 'max-age=0, stale-while-revalidate=600', 'etag', `"${k}"`], body: `v${k}` }));
    await send(p);
    assert.equal((await send(p, [], 'HEAD')).status, 200);
    // max-stale takes what is stored without triggering refreshes of its own: only the HEAD's can bring v2.
    await eventually(async () => (await send(p, ['cache-control', 'max-stale'])).text === 'v2', 3000, 'the entry refreshed by the HEAD\'s background GET');
    assert.equal(hits(p), 2);
  });
});

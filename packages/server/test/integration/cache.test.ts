/** The response cache end to end, with the memory store: RFC 9111 semantics, coalescing, stale serving, purges. */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { startBackend, type TestBackend } from '../support/backend.ts';
import { eventually } from '../support/eventually.ts';
import { startFulcrum, type InProcessFulcrum } from '../support/fulcrum.ts';

const TOKEN = 'test-admin-token-0123456789';
let backend: TestBackend;
let fulcrum: InProcessFulcrum;
/** What the backend answers, per path: status, headers, body; and how long it waits. */
let answers: Map<string, { status?: number; headers?: Record<string, string>; body?: string; delay?: number; fail?: boolean }>;

before(async () => {
  backend = await startBackend('origin');
  backend.handle((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    const a = answers.get(path) ?? {};
    if (a.fail) return void res.socket?.destroy();
    const send = () => {
      if (a.headers?.etag && req.headers['if-none-match'] === a.headers.etag) {
        res.writeHead(304, { etag: a.headers.etag, 'cache-control': a.headers['cache-control'] ?? '' }).end();
        return;
      }
      res.writeHead(a.status ?? 200, { 'content-type': 'text/plain', ...a.headers });
      res.end(a.body ?? `${path} #${backend.count()} lang=${req.headers['accept-language'] ?? ''}`);
    };
    if (a.delay) setTimeout(send, a.delay);
    else send();
  });
  fulcrum = await startFulcrum({
    admin: { listen: '127.0.0.1:0', token: TOKEN },
    pools: { p: { backends: [{ url: backend.url }], retries: { attempts: 0 } } },
    routes: [{ match: {}, pool: 'p', cache: { ttl: '60s', stale_if_error: '0s', key: { ignore_params: ['utm_source'] } } }],
  });
});

after(async () => {
  await fulcrum.stop();
  await backend.close();
});

beforeEach(() => {
  answers = new Map();
});

let n = 0;
/** A fresh path per test, so that tests do not see each other's entries. */
const fresh = (name: string) => `/${name}-${++n}`;

async function get(path: string, headers: Record<string, string> = {}, method = 'GET') {
  const res = await fetch(`${fulcrum.url}${path}`, { headers, method });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

const backendHits = (path: string) => backend.requests.filter((r) => r.url.split('?')[0] === path).length;

describe('the response cache', () => {
  test('a cacheable response is served from the cache after the first request, with Cache-Status and Age', async () => {
    const path = fresh('hit');
    answers.set(path, { headers: { 'cache-control': 'max-age=60' } });
    const first = await get(path);
    assert.match(first.headers.get('cache-status')!, /fulcrum; fwd=uri-miss; fwd-status=200; ttl=\d+; stored/);
    const second = await get(path);
    assert.equal(second.text, first.text);
    assert.match(second.headers.get('cache-status')!, /fulcrum; hit/);
    assert.ok(Number(second.headers.get('age')) >= 0);
    assert.equal(backendHits(path), 1);
  });

  test('no-store and private responses are not stored', async () => {
    for (const cc of ['no-store', 'private, max-age=60']) {
      const path = fresh('nostore');
      answers.set(path, { headers: { 'cache-control': cc } });
      await get(path);
      await get(path);
      assert.equal(backendHits(path), 2, cc);
    }
  });

  test('200 concurrent cold requests for one URL make exactly one backend request', async () => {
    const path = fresh('coalesce');
    answers.set(path, { headers: { 'cache-control': 'max-age=60' }, delay: 100 });
    const all = await Promise.all(Array.from({ length: 200 }, () => get(path)));
    assert.ok(all.every((r) => r.status === 200 && r.text === all[0]!.text));
    assert.equal(backendHits(path), 1);
  });

  test('concurrent misses for an uncacheable answer are released at once, each fetching for itself', async () => {
    const path = fresh('uncacheable');
    answers.set(path, { headers: { 'cache-control': 'no-store' }, delay: 50 });
    const all = await Promise.all(Array.from({ length: 5 }, () => get(path)));
    assert.ok(all.every((r) => r.status === 200));
    assert.equal(backendHits(path), 5);
  });

  test('Vary keeps two representations apart', async () => {
    const path = fresh('vary');
    answers.set(path, { headers: { 'cache-control': 'max-age=60', vary: 'Accept-Language' } });
    const en = await get(path, { 'accept-language': 'en' });
    const fr = await get(path, { 'accept-language': 'fr' });
    assert.match(en.text, /lang=en/);
    assert.match(fr.text, /lang=fr/);
    assert.match((await get(path, { 'accept-language': 'en' })).text, /lang=en/);
    assert.match((await get(path, { 'accept-language': 'fr' })).text, /lang=fr/);
    assert.equal(backendHits(path), 2);
  });

  test('HEAD is answered from a stored GET', async () => {
    const path = fresh('head');
    answers.set(path, { headers: { 'cache-control': 'max-age=60' } });
    await get(path);
    const head = await get(path, {}, 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(head.text, '');
    assert.match(head.headers.get('cache-status')!, /hit/);
    assert.equal(backendHits(path), 1);
  });

  test('a stale entry with an ETag is revalidated, and the 304 answers from the cache', async () => {
    const path = fresh('revalidate');
    // Stored for its stale-if-error window; past max-age it must be revalidated before use.
    answers.set(path, { headers: { 'cache-control': 'max-age=0, stale-if-error=60', etag: '"v1"' }, body: 'version one' });
    assert.equal((await get(path)).text, 'version one');
    const again = await get(path);
    assert.equal(again.text, 'version one');
    assert.match(again.headers.get('cache-status')!, /fwd=stale/);
    const last = backend.requests.filter((r) => r.url === path).at(-1)!;
    assert.equal(last.headers['if-none-match'], '"v1"');
  });

  test('a stale entry is served while the backend is down when stale-if-error allows', async () => {
    const path = fresh('sie');
    answers.set(path, { headers: { 'cache-control': 'max-age=0, stale-if-error=60' }, body: 'kept' });
    assert.equal((await get(path)).text, 'kept');
    answers.set(path, { fail: true });
    const during = await get(path);
    assert.equal(during.status, 200);
    assert.equal(during.text, 'kept');
    assert.match(during.headers.get('cache-status')!, /fwd=stale/);
  });

  test('stale-while-revalidate answers at once from the cache and refreshes in the background', async () => {
    const path = fresh('swr');
    answers.set(path, { headers: { 'cache-control': 'max-age=0, stale-while-revalidate=60' }, body: 'old' });
    await get(path);
    answers.set(path, { headers: { 'cache-control': 'max-age=0, stale-while-revalidate=60' }, body: 'new' });
    assert.equal((await get(path)).text, 'old');
    await eventually(async () => (await get(path)).text === 'new', 3000, 'the refreshed entry');
  });

  test('a successful POST invalidates the stored response of its URL', async () => {
    const path = fresh('invalidate');
    answers.set(path, { headers: { 'cache-control': 'max-age=60' } });
    await get(path);
    await get(path);
    assert.equal(backendHits(path), 1);
    await get(path, {}, 'POST');
    await get(path);
    assert.equal(backendHits(path), 3);
  });

  test('purges by URL, prefix and tag through the admin API need the token and drop what they name', async () => {
    const a = fresh('purge-a');
    const b = `${a}/child`;
    const c = fresh('purge-c');
    answers.set(a, { headers: { 'cache-control': 'max-age=60' } });
    answers.set(b, { headers: { 'cache-control': 'max-age=60' } });
    answers.set(c, { headers: { 'cache-control': 'max-age=60', 'surrogate-key': 'red blue' } });
    for (const p of [a, b, c]) await get(p);
    const purge = (body: unknown, token: string | null = TOKEN) =>
      fetch(`${fulcrum.adminUrl}/api/cache/purge`, {
        method: 'POST',
        headers: token === null ? { 'content-type': 'application/json' } : { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify(body),
      });
    assert.equal((await purge({ tag: 'blue' }, null)).status, 401);
    assert.equal((await purge({ tag: 'blue' }, 'wrong-token-wrong-token')).status, 401);
    assert.equal((await purge({ tag: 'blue' })).status, 202);
    await get(c);
    assert.equal(backendHits(c), 2, 'tag purge');
    assert.equal((await purge({ prefix: `http://127.0.0.1:${fulcrum.proxyPort}${a}` })).status, 202);
    await get(a);
    await get(b);
    assert.equal(backendHits(a), 2, 'prefix purge: the URL');
    assert.equal(backendHits(b), 2, 'prefix purge: below it');
  });

  test('a body larger than max_object_size passes through and is not stored; a 500 without freshness is not stored, one with it is (RFC 9111 §3), a 404 is', async () => {
    const big = fresh('big');
    answers.set(big, { headers: { 'cache-control': 'max-age=60' }, body: 'x'.repeat(2 * 1024 * 1024) });
    assert.equal((await get(big)).text.length, 2 * 1024 * 1024);
    await get(big);
    assert.equal(backendHits(big), 2);
    const broken = fresh('500');
    answers.set(broken, { status: 500, headers: { 'last-modified': new Date(Date.now() - 86400_000).toUTCString() } });
    await get(broken);
    await get(broken);
    assert.equal(backendHits(broken), 2, 'no heuristic freshness for a 500');
    const explicit = fresh('500-fresh');
    answers.set(explicit, { status: 500, headers: { 'cache-control': 'max-age=60' } });
    await get(explicit);
    assert.equal((await get(explicit)).status, 500);
    assert.equal(backendHits(explicit), 1, 'explicit freshness stores any final status');
    const missing = fresh('404');
    answers.set(missing, { status: 404, headers: { 'cache-control': 'max-age=60' } });
    await get(missing);
    assert.equal((await get(missing)).status, 404);
    assert.equal(backendHits(missing), 1);
  });

  test('the key leaves out ignored query parameters and sorts the rest', async () => {
    const path = fresh('query');
    answers.set(path, { headers: { 'cache-control': 'max-age=60' } });
    await get(`${path}?b=2&a=1&utm_source=x`);
    await get(`${path}?a=1&b=2`);
    assert.equal(backendHits(path), 1);
  });

  test('cache counters show in /metrics', async () => {
    const metrics = await (await fetch(`${fulcrum.adminUrl}/metrics`)).text();
    assert.match(metrics, /fulcrum_cache_requests_total\{result="hit"\} [1-9]/);
    assert.match(metrics, /fulcrum_cache_requests_total\{result="coalesced"\} [1-9]/);
    assert.match(metrics, /fulcrum_cache_stored_total [1-9]/);
    assert.match(metrics, /fulcrum_cache_bytes [1-9]/);
  });
});

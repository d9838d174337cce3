/**
 * Rate limits on one instance, over real sockets: bursts then 429 with Retry-After and RateLimit fields, keys by
 * client address (directly, and through a trusted proxy's X-Forwarded-For), by header, by cookie and by route; cache
 * hits counted; upgrades limited; what the backend, /metrics and /api/limits see.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startBackend, type TestBackend } from '../support/backend.ts';
import { getJson, rawExchange, sample, scrape, statusOf } from '../support/client.ts';
import { startFulcrum, type InProcessFulcrum } from '../support/fulcrum.ts';
import { getFrom } from '../support/limits.ts';
import { h2connect, h2request } from '../support/h2-client.ts';
import type { LimitsView } from '../../src/admin/views.ts';

describe('rate limits', () => {
  let backend: TestBackend;
  let fulcrum: InProcessFulcrum;

  before(async () => {
    backend = await startBackend('origin');
    backend.handle((req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain', 'cache-control': req.url?.startsWith('/cached/') ? 'max-age=300' : 'no-store' });
      res.end(`ok ${req.url}`);
    });
    fulcrum = await startFulcrum({
      // 127.0.0.1 plays the proxy in front of Fulcrum; the other loopback addresses are clients.
      trusted_proxies: ['127.0.0.1', '10.0.0.0/8'],
      http2: { h2c: true },
      pools: { web: { backends: [{ url: backend.url }] } },
      routes: [
        { match: { path_prefix: '/ip/' }, pool: 'web', rate_limit: { name: 'by-ip', rate: '3/1m' } },
        { match: { path_prefix: '/key/' }, pool: 'web', rate_limit: { name: 'by-key', rate: '2/1m', key: 'header:x-api-key', headers: true } },
        { match: { path_prefix: '/session/' }, pool: 'web', rate_limit: { name: 'by-session', rate: '2/1m', key: 'cookie:session' } },
        { match: { path_prefix: '/all/' }, pool: 'web', rate_limit: { rate: '100/1m', burst: 2, key: 'route' } },
        { match: { path_prefix: '/cached/' }, pool: 'web', cache: {}, rate_limit: { name: 'cached', rate: '3/1m', headers: true } },
        { match: {}, pool: 'web' },
      ],
    });
  });

  after(async () => {
    await fulcrum?.stop();
    await backend?.close();
  });

  const seen = (prefix: string) => backend.requests.filter((r) => r.url.startsWith(prefix)).length;

  test('a burst is allowed, then 429 with Retry-After and RateLimit fields, and nothing more reaches the backend', async () => {
    const from = '127.0.0.2';
    const ok = [];
    for (let i = 0; i < 3; i++) ok.push(await getFrom(`${fulcrum.url}/ip/a${i}`, { from }));
    assert.deepEqual(ok.map((r) => r.status), [200, 200, 200]);
    assert.equal(ok[0]!.headers.ratelimit, undefined, 'no RateLimit fields on allowed answers unless configured');
    const refused = await getFrom(`${fulcrum.url}/ip/a3`, { from });
    assert.equal(refused.status, 429);
    assert.match(refused.text, /code: FUL_ERR_RATE_LIMITED/);
    assert.ok(refused.headers['x-request-id']);
    // 3 per minute: one more every 20 s, and the burst was just spent.
    const retry = Number(refused.headers['retry-after']);
    assert.ok(retry >= 1 && retry <= 20, `Retry-After ${retry}`);
    assert.equal(refused.headers['ratelimit-policy'], '"by-ip";q=3;w=60;fulcrum-burst=3');
    assert.equal(refused.headers.ratelimit, `"by-ip";r=0;t=${retry}`);
    assert.equal(seen('/ip/'), 3);
  });

  test('an untrusted peer is counted by its own address whatever X-Forwarded-For it sends', async () => {
    const from = '127.0.0.3';
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await getFrom(`${fulcrum.url}/ip/`, { from, headers: { 'x-forwarded-for': `198.51.100.${i}` } })).status);
    assert.deepEqual(statuses, [200, 200, 200, 429]);
  });

  test("behind a trusted proxy, the right-most untrusted X-Forwarded-For address is the client; what the client wrote left of it is not", async () => {
    const via = (xff: string) => getFrom(`${fulcrum.url}/ip/`, { from: '127.0.0.1', headers: { 'x-forwarded-for': xff } });
    const statuses = [];
    for (const spoof of ['6.6.6.1', '6.6.6.2', '6.6.6.3', '6.6.6.4']) statuses.push((await via(`${spoof}, 203.0.113.7, 10.1.2.3`)).status);
    assert.deepEqual(statuses, [200, 200, 200, 429], 'one client (203.0.113.7) behind two proxies');
    assert.equal((await via('203.0.113.8')).status, 200, 'another client behind the same proxy has its own budget');
    assert.equal((await via('garbage, 10.0.0.9')).status, 200, 'a malformed entry is no crash');
  });

  test('keyed by a header: each value has its own budget; without the header, the address counts', async () => {
    const withKey = (key: string | undefined, from = '127.0.0.4') => getFrom(`${fulcrum.url}/key/`, { from, headers: key === undefined ? {} : { 'x-api-key': key } });
    const first = await withKey('k1');
    assert.equal(first.headers['ratelimit-policy'], '"by-key";q=2;w=60;fulcrum-burst=2', 'fields on allowed answers when configured');
    assert.match(String(first.headers.ratelimit), /^"by-key";r=1;t=(30|31)$/);
    assert.match(String((await withKey('k1')).headers.ratelimit), /^"by-key";r=0;/);
    assert.equal((await withKey('k1')).status, 429);
    assert.equal((await withKey('k2')).status, 200);
    assert.deepEqual([(await withKey(undefined)).status, (await withKey(undefined)).status, (await withKey(undefined)).status], [200, 200, 429]);
    assert.equal((await withKey(undefined, '127.0.0.5')).status, 200, 'another address without the header');
  });

  test('keyed by a cookie: each session has its own budget', async () => {
    const withSession = (s: string) => getFrom(`${fulcrum.url}/session/`, { from: '127.0.0.6', headers: { cookie: `theme=dark; session=${s}` } });
    assert.deepEqual([(await withSession('s1')).status, (await withSession('s1')).status, (await withSession('s1')).status], [200, 200, 429]);
    assert.equal((await withSession('s2')).status, 200);
  });

  test('keyed by the route: every client shares one budget, and the policy is named after the route\'s position', async () => {
    const a = await getFrom(`${fulcrum.url}/all/`, { from: '127.0.0.7' });
    const b = await getFrom(`${fulcrum.url}/all/`, { from: '127.0.0.8' });
    const c = await getFrom(`${fulcrum.url}/all/`, { from: '127.0.0.9' });
    assert.deepEqual([a.status, b.status, c.status], [200, 200, 429]);
    assert.equal(c.headers['ratelimit-policy'], '"route-3";q=100;w=60;fulcrum-burst=2');
    assert.equal(c.headers['retry-after'], '1', '100 per minute: one more within a second');
  });

  test('a cache hit costs the client its quota too, and carries the RateLimit fields', async () => {
    const get = () => getFrom(`${fulcrum.url}/cached/page`, { from: '127.0.0.10' });
    const miss = await get();
    const hit = await get();
    assert.match(String(hit.headers['cache-status']), /hit/);
    assert.match(String(hit.headers.ratelimit), /^"cached";r=1;/);
    assert.equal((await get()).status, 200);
    const refused = await get();
    assert.equal(refused.status, 429);
    assert.equal(refused.headers['cache-status'], undefined, 'refused before the cache');
    assert.equal(miss.status, 200);
    assert.equal(seen('/cached/'), 1);
  });

  test('a WebSocket handshake counts against its route like any request', async () => {
    const headers = 'Host: a.example\r\nX-Forwarded-For: 203.0.113.50\r\n';
    for (let i = 0; i < 3; i++) await getFrom(`${fulcrum.url}/ip/`, { from: '127.0.0.1', headers: { 'x-forwarded-for': '203.0.113.50' } });
    const before = seen('/ip/');
    const raw = await rawExchange(
      fulcrum.proxyPort,
      `GET /ip/ws HTTP/1.1\r\n${headers}Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nConnection: close\r\n\r\n`,
    );
    assert.equal(statusOf(raw), 429, raw);
    assert.match(raw, /\r\nretry-after: \d+\r\n/);
    assert.match(raw, /\r\nratelimit: "by-ip";r=0;t=\d+\r\n/);
    assert.equal(seen('/ip/'), before);
  });

  test('HTTP/2 requests go through the same limit: streams of one session spend one budget, the refused stream gets 429 and the fields', async () => {
    const session = await h2connect(fulcrum.url);
    try {
      const get = () => h2request(session, { ':path': '/key/h2', 'x-api-key': 'h2-key' });
      const [a, b] = [await get(), await get()];
      assert.deepEqual([a.status, b.status], [200, 200]);
      assert.match(String(b.headers.ratelimit), /^"by-key";r=0;/);
      const refused = await get();
      assert.equal(refused.status, 429);
      assert.match(refused.body, /code: FUL_ERR_RATE_LIMITED/);
      assert.ok(Number(refused.headers['retry-after']) >= 1);
      assert.match(String(refused.headers.ratelimit), /^"by-key";r=0;t=\d+$/);
    } finally {
      session.close();
    }
  });

  test('/metrics counts allowed and limited requests per route; /api/limits shows each limit and its recent 429s', async () => {
    const text = await scrape(fulcrum.adminUrl);
    assert.ok(sample(text, 'fulcrum_rate_limit_requests_total', { route: 'by-ip', result: 'limited' })! >= 3);
    assert.ok(sample(text, 'fulcrum_rate_limit_requests_total', { route: 'by-ip', result: 'allowed' })! >= 9);
    assert.equal(sample(text, 'fulcrum_proxy_errors_total', { pool: 'web', code: 'FUL_ERR_RATE_LIMITED' })! >= 3, true);
    const { status, body } = await getJson<LimitsView>(`${fulcrum.adminUrl}/api/limits`);
    assert.equal(status, 200);
    assert.equal(body.store, 'memory');
    assert.deepEqual(body.routes.map((r) => r.name), ['by-ip', 'by-key', 'by-session', 'route-3', 'cached']);
    const byIp = body.routes[0]!;
    assert.deepEqual({ ...byIp, allowed: 0, limited: 0, limitedLastMinute: 0 }, {
      name: 'by-ip',
      route: 0,
      pool: 'web',
      match: { path_prefix: '/ip/' },
      rate: { count: 3, periodSeconds: 60 },
      burst: 3,
      key: 'ip',
      headers: false,
      allowed: 0,
      limited: 0,
      limitedLastMinute: 0,
    });
    assert.ok(byIp.limited >= 3 && byIp.limitedLastMinute === byIp.limited);
    assert.deepEqual(body.connections, { max: 10_000, maxPerIp: 0, open: body.connections.open, refused: { maxConnections: 0, maxConnectionsPerIp: 0 } });
  });
});

/** Routing end to end: which pool's backend a request reaches, by host, path, method and headers. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startBackend, type TestBackend } from '../support/backend.ts';
import { rawExchange, request, type RequestOptions } from '../support/client.ts';
import { startFulcrum, type InProcessFulcrum } from '../support/fulcrum.ts';

const POOLS = ['api', 'assets', 'writes', 'canary', 'web'] as const;
type PoolName = (typeof POOLS)[number];

const backends = new Map<PoolName, TestBackend>();
let fulcrum: InProcessFulcrum;

before(async () => {
  for (const name of POOLS) backends.set(name, await startBackend(name));
  const pool = (name: PoolName) => ({ backends: [{ url: backends.get(name)!.url }] });
  fulcrum = await startFulcrum({
    pools: Object.fromEntries(POOLS.map((name) => [name, pool(name)])),
    routes: [
      { match: { host: 'api.example.com' }, pool: 'api' },
      { match: { host: '*.assets.example.com' }, pool: 'assets' },
      { match: { path_prefix: '/admin/', methods: ['POST', 'PUT'] }, pool: 'writes' },
      { match: { headers: { 'X-Canary': 'yes' } }, pool: 'canary' },
    ],
    default_pool: 'web',
  });
});

after(async () => {
  await fulcrum?.stop();
  await Promise.all([...backends.values()].map((b) => b.close()));
});

/** The name of the backend (one per pool, named after it) that answered. */
async function poolOf(path: string, options: RequestOptions = {}): Promise<string> {
  const res = await request(`${fulcrum.url}${path}`, options);
  assert.equal(res.status, 200, res.text);
  return res.text;
}

describe('host', () => {
  test('a request for an exact host goes to that route\'s pool', async () => {
    assert.equal(await poolOf('/', { headers: { host: 'api.example.com' } }), 'api');
  });

  test('the host matches whatever its port and letter case', async () => {
    assert.equal(await poolOf('/', { headers: { host: 'API.Example.com:8080' } }), 'api');
  });

  test('an exact host does not match its subdomains', async () => {
    assert.equal(await poolOf('/', { headers: { host: 'v2.api.example.com' } }), 'web');
  });

  test('a *.wildcard host matches subdomains at any depth', async () => {
    assert.equal(await poolOf('/', { headers: { host: 'cdn.assets.example.com' } }), 'assets');
    assert.equal(await poolOf('/', { headers: { host: 'eu.cdn.assets.example.com' } }), 'assets');
  });

  test('a *.wildcard host does not match the bare domain nor a name that merely ends like it', async () => {
    assert.equal(await poolOf('/', { headers: { host: 'assets.example.com' } }), 'web');
    assert.equal(await poolOf('/', { headers: { host: 'evilassets.example.com' } }), 'web');
  });
});

describe('path and method', () => {
  test('a request whose path starts with the prefix and whose method is listed goes to that pool', async () => {
    assert.equal(await poolOf('/admin/users', { method: 'POST' }), 'writes');
    assert.equal(await poolOf('/admin/users?id=1', { method: 'PUT' }), 'writes');
  });

  test('a request with the path prefix but another method does not match', async () => {
    assert.equal(await poolOf('/admin/users', { method: 'GET' }), 'web');
  });

  test('a request with a listed method but another path does not match', async () => {
    assert.equal(await poolOf('/public/admin/', { method: 'POST' }), 'web');
  });

  test('dot segments and doubled slashes cannot slip a request past a path_prefix route', async () => {
    const raw = await rawExchange(fulcrum.proxyPort, 'POST /public/../admin//users HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
    assert.match(raw, /x-backend: writes/);
    assert.equal(backends.get('writes')!.requests.at(-1)!.url, '/admin/users', 'the target is forwarded as it was routed');
  });

  test('the query string is not part of the path that is matched', async () => {
    assert.equal(await poolOf('/search?next=/admin/', { method: 'POST' }), 'web');
  });

  test(
    'a request whose target is in absolute form is routed by the target\'s path and reaches the backend in origin form',
    async () => {
      const before = backends.get('writes')!.count();
      const raw = await rawExchange(
        fulcrum.proxyPort,
        'POST http://www.example.com/admin/users HTTP/1.1\r\nHost: www.example.com\r\nContent-Length: 0\r\nConnection: close\r\n\r\n',
      );
      assert.match(raw, /\r\n\r\n[\s\S]*writes/);
      assert.equal(backends.get('writes')!.count(), before + 1);
      assert.equal(backends.get('writes')!.requests.at(-1)!.url, '/admin/users');
    },
  );
});

describe('headers', () => {
  test('a request carrying the header with the exact value goes to that pool', async () => {
    assert.equal(await poolOf('/', { headers: { 'x-canary': 'yes' } }), 'canary');
  });

  test('a request carrying the header with another value does not match', async () => {
    assert.equal(await poolOf('/', { headers: { 'x-canary': 'no' } }), 'web');
    assert.equal(await poolOf('/', { headers: { 'x-canary': 'YES' } }), 'web');
  });
});

test('the first matching route wins when several match', async () => {
  assert.equal(await poolOf('/admin/x', { method: 'POST', headers: { host: 'api.example.com', 'x-canary': 'yes' } }), 'api');
  assert.equal(await poolOf('/admin/x', { method: 'POST', headers: { 'x-canary': 'yes' } }), 'writes');
});

test('a request no route matches goes to default_pool', async () => {
  const before = backends.get('web')!.count();
  assert.equal(await poolOf('/anything', { headers: { host: 'unknown.example.org' } }), 'web');
  assert.equal(backends.get('web')!.count(), before + 1);
});

describe('without default_pool', () => {
  let a: TestBackend;
  let b: TestBackend;
  let single: InProcessFulcrum;
  let twoPools: InProcessFulcrum;

  before(async () => {
    a = await startBackend('a');
    b = await startBackend('b');
    single = await startFulcrum({
      pools: { only: { backends: [{ url: a.url }] } },
      routes: [{ match: { host: 'only.example.com' }, pool: 'only' }],
    });
    twoPools = await startFulcrum({
      pools: { a: { backends: [{ url: a.url }] }, b: { backends: [{ url: b.url }] } },
      routes: [{ match: { host: 'a.example.com' }, pool: 'a' }, { match: { host: 'b.example.com' }, pool: 'b' }],
    });
  });

  after(async () => {
    await single?.stop();
    await twoPools?.stop();
    await a?.close();
    await b?.close();
  });

  test('with a single pool, a request no route matches goes to that pool', async () => {
    const res = await request(single.url, { headers: { host: 'elsewhere.example.com' } });
    assert.equal(res.status, 200);
    assert.equal(res.text, 'a');
  });

  test('with several pools and no default_pool, a request no route matches gets 404 FUL_ERR_NO_ROUTE', async () => {
    const countBefore = a.count() + b.count();
    const res = await request(twoPools.url, { headers: { host: 'c.example.com' } });
    assert.equal(res.status, 404);
    assert.match(res.text, /code: FUL_ERR_NO_ROUTE/);
    assert.match(res.text, new RegExp(`request-id: ${res.headers['x-request-id']}`));
    assert.equal(a.count() + b.count(), countBefore, 'no backend saw the request');
  });

  test('with several pools, each route still reaches its own pool', async () => {
    assert.equal((await request(twoPools.url, { headers: { host: 'a.example.com' } })).text, 'a');
    assert.equal((await request(twoPools.url, { headers: { host: 'b.example.com' } })).text, 'b');
  });
});

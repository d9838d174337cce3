/** Backends that register themselves through the admin API, and leave when they stop renewing. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startBackends, type TestBackend } from '../support/backend.ts';
import { eventually } from '../support/eventually.ts';
import { FakeTime } from '../support/fake-time.ts';
import { startFulcrum, testConfig, writeConfigFile, type InProcessFulcrum } from '../support/fulcrum.ts';

const TOKEN = 'registration-admin-token-0123';
let backends: TestBackend[];
let fulcrum: InProcessFulcrum;
/** The control plane's time: registrations expire when the test moves it. */
const time = new FakeTime();

before(async () => {
  backends = await startBackends(3, 'reg');
  fulcrum = await startFulcrum(
    { admin: { listen: '127.0.0.1:0', token: TOKEN }, pools: { api: { backends: [{ url: backends[0]!.url }] } } },
    undefined,
    { controlTime: time },
  );
});

after(async () => {
  await fulcrum.stop();
  for (const b of backends) await b.close();
});

function call(method: string, path: string, body?: unknown, token: string | null = TOKEN) {
  return fetch(`${fulcrum.adminUrl}${path}`, {
    method,
    headers: token === null ? { 'content-type': 'application/json' } : { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

const register = (url: string, ttl: string, token?: string | null) => call('POST', '/api/pools/api/registrations', { url, ttl }, token);

async function servedBy(n: number): Promise<Set<string>> {
  const seen = new Set<string>();
  for (let i = 0; i < n; i++) seen.add(await (await fetch(`${fulcrum.url}/`)).text());
  return seen;
}

describe('self-registration', () => {
  test('a registered backend receives traffic within two seconds and shows in the API like a configured one', async () => {
    const res = await register(backends[1]!.url, '10s');
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { pool: 'api', backend: backends[1]!.url, ttlMs: 10_000, renewed: false, persisted: false });
    await eventually(async () => (await servedBy(6)).has(backends[1]!.name), 2000, 'traffic to the registered backend');
    const [pool] = (await (await fetch(`${fulcrum.adminUrl}/api/pools`)).json()) as Array<{ backends: Array<{ id: string; registered: boolean }> }>;
    assert.deepEqual(
      pool!.backends.map((b) => [b.id, b.registered]),
      [
        [backends[0]!.url, false],
        [backends[1]!.url, true],
      ],
    );
  });

  test('a registration that is not renewed is removed after its TTL, and heartbeats keep one alive', async () => {
    const kept = backends[1]!.url;
    const lapsing = backends[2]!.url;
    assert.equal((await register(lapsing, '400ms')).status, 200);
    assert.equal((await register(kept, '400ms')).status, 200);
    assert.ok((await servedBy(6)).has(backends[2]!.name), 'registered');
    for (let heartbeat = 0; heartbeat < 4; heartbeat++) {
      await time.advance(200);
      assert.equal((await register(kept, '400ms')).status, 200);
    }
    const served = await servedBy(6);
    assert.ok(!served.has(backends[2]!.name), 'the lapsed one is gone');
    assert.ok(served.has(backends[1]!.name), 'the renewed one stays');
  });

  test('a heartbeat renews quietly (no admin mutation logged) and applies a changed weight; a TTL over 1h is refused', async () => {
    const url = backends[2]!.url;
    const mutations = () => fulcrum.logs.filter((l) => l.msg === 'admin mutation').length;
    assert.equal((await register(url, '10s')).status, 200);
    const afterAdd = mutations();
    const renewal = await call('POST', '/api/pools/api/registrations', { url, ttl: '10s' });
    assert.equal(((await renewal.json()) as { renewed: boolean }).renewed, true);
    assert.equal(mutations(), afterAdd, 'a heartbeat is not an admin mutation');
    assert.equal((await call('POST', '/api/pools/api/registrations', { url, ttl: '10s', weight: 5 })).status, 200);
    const [pool] = (await (await fetch(`${fulcrum.adminUrl}/api/pools`)).json()) as Array<{ backends: Array<{ id: string; weight: number }> }>;
    assert.equal(pool!.backends.find((b) => b.id === url)!.weight, 5);
    assert.equal((await register(url, '2h')).status, 422);
    assert.equal((await call('DELETE', `/api/pools/api/registrations/${encodeURIComponent(url)}`)).status, 200);
  });

  test('deregistering removes a backend at once; a backend of the config file cannot register; the token is needed', async () => {
    assert.equal((await register(backends[2]!.url, '10s')).status, 200);
    assert.equal((await call('DELETE', `/api/pools/api/registrations/${encodeURIComponent(backends[2]!.url)}`)).status, 200);
    assert.ok(!(await servedBy(6)).has(backends[2]!.name));
    assert.equal((await register(backends[0]!.url, '10s')).status, 409);
    assert.equal((await register(backends[2]!.url, '10s', null)).status, 401);
    assert.equal((await call('DELETE', '/api/pools/api/registrations/http%3A%2F%2F127.0.0.1%3A1')).status, 404);
    assert.equal((await call('POST', '/api/pools/api/registrations', { url: 'not a url' })).status, 422);
  });
});

describe('self-registration across a reload from disk', () => {
  test('issue 13 #17: registrations outlive a reload from disk: a pool of only registered backends keeps answering, weight and drain kept; a removed pool forgets its own', async () => {
    const input = (pools: Record<string, object>) => ({ admin: { listen: '127.0.0.1:0', token: TOKEN }, default_pool: 'api', pools });
    const file = await writeConfigFile(testConfig(input({ api: {}, other: {} })));
    const reloading = await startFulcrum(input({ api: {}, other: {} }), file);
    const send = (method: string, path: string, body?: unknown) =>
      fetch(`${reloading.adminUrl}${path}`, {
        method,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    const view = async () => {
      const pools = (await (await fetch(`${reloading.adminUrl}/api/pools`)).json()) as Array<{ name: string; backends: Array<{ id: string; registered: boolean; weight: number; state: string }> }>;
      return Object.fromEntries(pools.map((p) => [p.name, p.backends.map((b) => [b.id, b.registered, b.weight, b.state])]));
    };
    try {
      assert.equal((await send('POST', '/api/pools/api/registrations', { url: backends[1]!.url, ttl: '30s', weight: 3 })).status, 200);
      assert.equal((await send('POST', '/api/pools/api/registrations', { url: backends[2]!.url, ttl: '30s' })).status, 200);
      assert.equal((await send('POST', '/api/pools/other/registrations', { url: backends[0]!.url, ttl: '30s' })).status, 200);
      assert.equal((await send('POST', `/api/pools/api/backends/${encodeURIComponent(backends[2]!.url)}/drain`)).status, 200);

      // The file changes (the pool `other` goes, a timeout changes): none of these instances heartbeats in between.
      await writeConfigFile(testConfig(input({ api: { timeouts: { connect: '2s' } } })), file);
      assert.equal((await send('POST', '/api/reload')).status, 200);
      const statuses = [];
      for (let i = 0; i < 6; i++) statuses.push((await fetch(`${reloading.url}/`)).status);
      assert.deepEqual(statuses, [200, 200, 200, 200, 200, 200], 'the registered backend answers right after the reload');
      assert.deepEqual(await view(), {
        api: [
          [backends[1]!.url, true, 3, 'healthy'],
          [backends[2]!.url, true, 1, 'draining'],
        ],
      });
      assert.equal((await send('DELETE', `/api/pools/other/registrations/${encodeURIComponent(backends[0]!.url)}`)).status, 404, 'the removed pool\'s registration is forgotten');
      // Still registrations: a deregistration removes one at once.
      assert.equal((await send('DELETE', `/api/pools/api/registrations/${encodeURIComponent(backends[2]!.url)}`)).status, 200);
      assert.deepEqual((await view()).api!.map(([id]) => id), [backends[1]!.url]);
    } finally {
      await reloading.stop();
    }
  });

  test('a registered backend that the new file lists stays when its registration would have expired', async () => {
    const pool = (urls: string[]) => ({ api: { backends: urls.map((url) => ({ url })) } });
    const input = { admin: { listen: '127.0.0.1:0', token: TOKEN }, pools: pool([backends[0]!.url]) };
    const file = await writeConfigFile(testConfig(input));
    const reloadingTime = new FakeTime();
    const reloading = await startFulcrum(input, file, { controlTime: reloadingTime });
    try {
      const res = await fetch(`${reloading.adminUrl}/api/pools/api/registrations`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
        body: JSON.stringify({ url: backends[1]!.url, ttl: '300ms' }),
      });
      assert.equal(res.status, 200);
      await writeConfigFile(testConfig({ ...input, pools: pool([backends[0]!.url, backends[1]!.url]) }), file);
      const reload = await fetch(`${reloading.adminUrl}/api/reload`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` } });
      assert.equal(reload.status, 200);
      await reloadingTime.advance(800); // past the old registration's TTL and a sweep
      const [view] = (await (await fetch(`${reloading.adminUrl}/api/pools`)).json()) as Array<{ backends: Array<{ id: string; registered: boolean }> }>;
      assert.deepEqual(
        view!.backends.map((b) => [b.id, b.registered]),
        [
          [backends[0]!.url, false],
          [backends[1]!.url, false],
        ],
      );
    } finally {
      await reloading.stop();
    }
  });
});

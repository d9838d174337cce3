/** Backends that register themselves through the admin API, and leave when they stop renewing. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startBackends, type TestBackend } from '../support/backend.ts';
import { eventually, startFulcrum, type InProcessFulcrum } from '../support/fulcrum.ts';

const TOKEN = 'registration-admin-token-0123';
let backends: TestBackend[];
let fulcrum: InProcessFulcrum;

before(async () => {
  backends = await startBackends(3, 'reg');
  fulcrum = await startFulcrum({
    admin: { listen: '127.0.0.1:0', token: TOKEN },
    pools: { api: { backends: [{ url: backends[0]!.url }] } },
  });
});

after(async () => {
  await fulcrum.stop();
  for (const b of backends) await b.close();
});

function call(method: string, path: string, body?: unknown, token: string | null = TOKEN) {
  return fetch(`${fulcrum.adminUrl}${path}`, {
    method,
    headers: token === null ? {} : { authorization: `Bearer ${token}` },
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
    assert.deepEqual(await res.json(), { pool: 'api', backend: backends[1]!.url, ttlMs: 10_000, persisted: false });
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
    const heartbeat = setInterval(() => void register(kept, '400ms'), 100);
    try {
      await eventually(async () => !(await servedBy(6)).has(backends[2]!.name), 3000, 'the lapsed backend to be removed');
      assert.ok((await servedBy(6)).has(backends[1]!.name), 'the renewed one stays');
    } finally {
      clearInterval(heartbeat);
    }
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

/** The admin API's mutating endpoints end to end: drain and undrain a backend, reload the config file, and auth. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { PoolView } from '../../src/admin/views.ts';
import type { ConfigInput } from '../../src/config/schema.ts';
import { startBackends, type TestBackend } from '../support/backend.ts';
import { getJson } from '../support/client.ts';
import { eventually } from '../support/eventually.ts';
import { spawnFulcrum, startFulcrum, testConfig, type InProcessFulcrum, type SpawnedFulcrum } from '../support/fulcrum.ts';

const TOKEN = 'a-very-secret-admin-token-0123456789';

interface AdminError {
  error: { code: string; message: string; details?: Array<{ path: string; message: string }> };
}

/** POSTs (as JSON, as every mutation must be) with the admin token, another one, or none (null). */
function post(url: string, token: string | null = TOKEN): Promise<Response> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token !== null) headers.authorization = `Bearer ${token}`;
  return fetch(url, { method: 'POST', headers });
}

async function namesServed(url: string, n: number): Promise<Set<string>> {
  const seen = new Set<string>();
  for (let i = 0; i < n; i++) seen.add(await (await fetch(`${url}/`)).text());
  return seen;
}

let bs: TestBackend[];
let fulcrum: InProcessFulcrum;
const drainUrl = (action: string, pool = 'web', id = bs[1]!.url) =>
  `${fulcrum.adminUrl}/api/pools/${encodeURIComponent(pool)}/backends/${encodeURIComponent(id)}/${action}`;

before(async () => {
  bs = await startBackends(2);
  fulcrum = await startFulcrum({
    admin: { listen: '127.0.0.1:0', token: TOKEN },
    pools: { web: { algorithm: 'round-robin', backends: bs.map((b) => ({ url: b.url })) } },
  });
});

after(async () => {
  await fulcrum?.stop();
  for (const b of bs ?? []) await b.close();
});

describe('POST /api/pools/:pool/backends/:id/drain and /undrain', () => {
  test('draining a backend sends every request to the other one and shows it draining; undrain brings traffic back', async () => {
    assert.deepEqual(await namesServed(fulcrum.url, 4), new Set(bs.map((b) => b.name)));

    const res = await post(drainUrl('drain'));
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { pool: 'web', backend: bs[1]!.url, state: 'draining', persisted: false });
    assert.deepEqual(await namesServed(fulcrum.url, 6), new Set([bs[0]!.name]));
    const web = (await getJson<PoolView[]>(`${fulcrum.adminUrl}/api/pools`)).body[0]!;
    assert.deepEqual(web.backends.map((b) => b.state), ['healthy', 'draining']);

    const back = await post(drainUrl('undrain'));
    assert.equal(back.status, 200);
    assert.equal(((await back.json()) as { state: string }).state, 'healthy');
    assert.deepEqual(await namesServed(fulcrum.url, 4), new Set(bs.map((b) => b.name)));
  });

  test('each drain is logged with who and what', async () => {
    await post(drainUrl('drain'));
    await post(drainUrl('undrain'));
    const lines = fulcrum.logs.filter((l) => l.msg === 'admin mutation' && l.drain !== undefined);
    assert.ok(lines.length > 0, 'no log line for the drain');
    assert.equal(lines.at(-1)!.from, '127.0.0.1');
    assert.deepEqual(lines.at(-1)!.drain, { pool: 'web', backend: bs[1]!.url });
  });

  test('an unknown pool or backend is a 404 JSON error', async () => {
    for (const url of [drainUrl('drain', 'nope'), drainUrl('drain', 'web', 'http://127.0.0.1:1'), drainUrl('undrain', 'constructor')]) {
      const res = await post(url);
      assert.equal(res.status, 404, url);
      assert.equal(((await res.json()) as AdminError).error.code, 'FUL_ERR_ADMIN_NOT_FOUND');
    }
  });

  test('without a token or with a wrong one the answer is a 401 JSON error and nothing changes', async () => {
    for (const token of [null, 'wrong-token']) {
      const res = await post(drainUrl('drain'), token);
      assert.equal(res.status, 401, String(token));
      assert.equal(res.headers.get('www-authenticate'), 'Bearer');
      assert.equal(((await res.json()) as AdminError).error.code, 'FUL_ERR_ADMIN_UNAUTHORIZED');
    }
    const web = (await getJson<PoolView[]>(`${fulcrum.adminUrl}/api/pools`)).body[0]!;
    assert.deepEqual(web.backends.map((b) => b.state), ['healthy', 'healthy']);
  });
});

describe('drain in cluster mode', () => {
  let spawned: SpawnedFulcrum | undefined;
  after(async () => void (await spawned?.stop()));

  test('a drain through the API reaches every worker: no worker sends the drained backend new requests', async () => {
    spawned = await spawnFulcrum(testConfig({ workers: 2, pools: { web: { algorithm: 'round-robin', backends: bs.map((b) => ({ url: b.url })) } } }));
    const id = encodeURIComponent(bs[1]!.url);
    const res = await fetch(`${spawned.adminUrl}/api/pools/web/backends/${id}/drain`, { method: 'POST', headers: { 'content-type': 'application/json' } });
    assert.equal(res.status, 200);
    // The states travel to the workers over IPC: soon, not at once.
    await eventually(async () => (await namesServed(spawned!.url, 8)).size === 1, 5000, 'the drain to reach the workers');
    assert.deepEqual(await namesServed(spawned.url, 12), new Set([bs[0]!.name]));
  });
});

describe('POST /api/reload', () => {
  let spawned: SpawnedFulcrum | undefined;
  after(async () => void (await spawned?.stop()));

  const configOver = (url: string): ConfigInput =>
    testConfig({ admin: { listen: '127.0.0.1:0', token: TOKEN }, pools: { p: { backends: [{ url }] } } });

  test('a bad config file is a 422 listing its problems by path, and the old config keeps serving; a good one is applied', async () => {
    spawned = await spawnFulcrum(configOver(bs[0]!.url));
    assert.equal((await post(`${spawned.adminUrl}/api/reload`, null)).status, 401);

    await spawned.writeConfig({ ...configOver(bs[1]!.url), pools: { p: { backends: [{ url: 'htp://nope' }] } } } as ConfigInput);
    const res = await post(`${spawned.adminUrl}/api/reload`);
    assert.equal(res.status, 422);
    const body = (await res.json()) as AdminError;
    assert.equal(body.error.code, 'FUL_ERR_CONFIG_INVALID');
    assert.deepEqual(body.error.details?.map((p) => p.path), ['pools.p.backends[0].url']);
    assert.deepEqual(await namesServed(spawned.url, 3), new Set([bs[0]!.name]));

    await spawned.writeConfig(configOver(bs[1]!.url));
    const ok = await post(`${spawned.adminUrl}/api/reload`);
    assert.equal(ok.status, 200);
    assert.deepEqual(await ok.json(), { ok: true });
    assert.deepEqual(await namesServed(spawned.url, 3), new Set([bs[1]!.name]));
  });
});

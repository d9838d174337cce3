/**
 * The admin API's runtime changes end to end: a backend's weight, adding and removing backends, the algorithm;
 * their validation, auth, events, and a reload from disk replacing them.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { PoolView } from '../../src/admin/views.ts';
import type { ConfigInput } from '../../src/config/schema.ts';
import { startBackend, startBackends, type TestBackend } from '../support/backend.ts';
import { getJson } from '../support/client.ts';
import { eventually } from '../support/eventually.ts';
import { spawnFulcrum, startFulcrum, testConfig, type InProcessFulcrum, type SpawnedFulcrum } from '../support/fulcrum.ts';

const TOKEN = 'a-very-secret-admin-token-0123456789';

interface AdminError {
  error: { code: string; message: string; details?: Array<{ path: string; message: string }> };
}

/** Sends JSON (a mutation must be, with a body or without) with the admin token, another one, or none (null). */
function send(method: string, url: string, body?: unknown, token: string | null = TOKEN): Promise<Response> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token !== null) headers.authorization = `Bearer ${token}`;
  return fetch(url, { method, headers, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
}

async function namesServed(url: string, n: number): Promise<string[]> {
  const names: string[] = [];
  for (let i = 0; i < n; i++) names.push(await (await fetch(`${url}/`)).text());
  return names;
}

const tally = (names: readonly string[]) => names.reduce<Record<string, number>>((t, n) => ({ ...t, [n]: (t[n] ?? 0) + 1 }), {});

let bs: TestBackend[];
let extra: TestBackend;
let fulcrum: InProcessFulcrum;
const api = (path: string) => `${fulcrum.adminUrl}/api/pools/web${path}`;
const backendPath = (b: TestBackend) => `/backends/${encodeURIComponent(b.url)}`;
const web = async () => (await getJson<PoolView>(api(''))).body;

before(async () => {
  bs = await startBackends(2);
  extra = await startBackend('extra');
  fulcrum = await startFulcrum({
    admin: { listen: '127.0.0.1:0', token: TOKEN },
    pools: { web: { algorithm: 'weighted-round-robin', backends: bs.map((b) => ({ url: b.url })) } },
  });
});

after(async () => {
  await fulcrum?.stop();
  for (const b of [...(bs ?? []), extra]) await b?.close();
});

describe('POST /api/pools/:pool/backends/:id/weight', () => {
  test('weights 1 and 9 with weighted-round-robin send about 90% of requests to the heavy backend', async () => {
    const res = await send('POST', api(`${backendPath(bs[1]!)}/weight`), { weight: 9 });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { pool: 'web', backend: bs[1]!.url, weight: 9, persisted: false });
    assert.deepEqual((await web()).backends.map((b) => b.weight), [1, 9]);
    const counts = tally(await namesServed(fulcrum.url, 100));
    assert.ok((counts[bs[1]!.name] ?? 0) >= 85, JSON.stringify(counts));
    assert.ok((counts[bs[0]!.name] ?? 0) >= 5, JSON.stringify(counts));

    assert.equal((await send('POST', api(`${backendPath(bs[1]!)}/weight`), { weight: 1 })).status, 200);
    const even = tally(await namesServed(fulcrum.url, 20));
    assert.deepEqual(even, { [bs[0]!.name]: 10, [bs[1]!.name]: 10 });
  });

  test('a weight change keeps the backend\'s counters: it is the same backend, not a new one', async () => {
    const before = (await web()).backends[0]!.requests;
    assert.ok(before > 0);
    assert.equal((await send('POST', api(`${backendPath(bs[0]!)}/weight`), { weight: 2 })).status, 200);
    assert.ok((await web()).backends[0]!.requests >= before);
    assert.equal((await send('POST', api(`${backendPath(bs[0]!)}/weight`), { weight: 1 })).status, 200);
  });

  test('a weight outside 1..1000, of the wrong type, or with unknown keys is a 422 naming the field; a non-JSON body a 400', async () => {
    for (const body of [{ weight: 0 }, { weight: 1001 }, { weight: 2.5 }, { weight: '3' }, {}, { weight: 3, extra: 1 }]) {
      const res = await send('POST', api(`${backendPath(bs[1]!)}/weight`), body);
      assert.equal(res.status, 422, JSON.stringify(body));
      const error = ((await res.json()) as AdminError).error;
      assert.equal(error.code, 'FUL_ERR_ADMIN_INVALID');
      assert.ok(error.details!.length > 0 && error.details!.every((d) => typeof d.message === 'string'));
    }
    const zero = (await (await send('POST', api(`${backendPath(bs[1]!)}/weight`), { weight: 0 })).json()) as AdminError;
    assert.deepEqual(zero.error.details!.map((d) => d.path), ['weight']);
    const bad = await send('POST', api(`${backendPath(bs[1]!)}/weight`), '{not json');
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as AdminError).error.code, 'FUL_ERR_ADMIN_BAD_REQUEST');
    assert.deepEqual((await web()).backends.map((b) => b.weight), [1, 1]);
  });

  test('an unknown pool or backend is a 404', async () => {
    for (const url of [`${fulcrum.adminUrl}/api/pools/nope${backendPath(bs[0]!)}/weight`, api(`/backends/${encodeURIComponent('http://127.0.0.1:1')}/weight`)]) {
      const res = await send('POST', url, { weight: 2 });
      assert.equal(res.status, 404, url);
      assert.equal(((await res.json()) as AdminError).error.code, 'FUL_ERR_ADMIN_NOT_FOUND');
    }
  });
});

describe('POST /api/pools/:pool/backends and DELETE /api/pools/:pool/backends/:id', () => {
  test('an added backend appears in /api/pools and receives traffic; once removed it receives none', async () => {
    const res = await send('POST', api('/backends'), { url: extra.url, weight: 1 });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { pool: 'web', backend: extra.url, weight: 1, persisted: false });
    assert.deepEqual((await web()).backends.map((b) => b.id), [bs[0]!.url, bs[1]!.url, extra.url]);
    assert.equal(tally(await namesServed(fulcrum.url, 9))[extra.name], 3);

    const again = await send('POST', api('/backends'), { url: extra.url });
    assert.equal(again.status, 409);
    assert.equal(((await again.json()) as AdminError).error.code, 'FUL_ERR_ADMIN_CONFLICT');

    const removed = await send('DELETE', api(backendPath(extra)));
    assert.equal(removed.status, 200);
    assert.deepEqual(await removed.json(), { pool: 'web', backend: extra.url, removed: true, persisted: false });
    assert.deepEqual((await web()).backends.map((b) => b.id), [bs[0]!.url, bs[1]!.url]);
    const seen = extra.count();
    assert.deepEqual(new Set(await namesServed(fulcrum.url, 10)), new Set(bs.map((b) => b.name)));
    assert.equal(extra.count(), seen);

    const gone = await send('DELETE', api(backendPath(extra)));
    assert.equal(gone.status, 404);
  });

  test('requests in flight to a removed backend finish', async () => {
    assert.equal((await send('POST', api('/backends'), { url: extra.url })).status, 200);
    extra.delay = 300;
    try {
      const seen = extra.count();
      const replies = Array.from({ length: 6 }, () => fetch(`${fulcrum.url}/`).then(async (r) => [r.status, await r.text()] as const));
      await eventually(() => extra.count() > seen, 2000, 'a request to reach the slow backend');
      assert.equal((await send('DELETE', api(backendPath(extra)))).status, 200);
      const done = await Promise.all(replies);
      assert.ok(done.every(([status]) => status === 200), JSON.stringify(done));
      assert.ok(done.some(([, name]) => name === extra.name));
    } finally {
      extra.delay = 0;
    }
  });

  test('an invalid backend is a 422 listing its problems by path, as in the config file', async () => {
    for (const [body, paths] of [
      [{ url: 'htp://nope' }, ['url']],
      [{ url: 'http://127.0.0.1:1/path' }, ['url']],
      [{}, ['url']],
      [{ url: extra.url, weight: 0 }, ['weight']],
      [{ url: extra.url, colour: 'red' }, ['']],
    ] as const) {
      const res = await send('POST', api('/backends'), body);
      assert.equal(res.status, 422, JSON.stringify(body));
      const error = ((await res.json()) as AdminError).error;
      assert.equal(error.code, 'FUL_ERR_ADMIN_INVALID');
      assert.deepEqual(error.details!.map((d) => d.path), paths, JSON.stringify(body));
    }
    assert.equal((await web()).backends.length, 2);
  });
});

describe('POST /api/pools/:pool/algorithm', () => {
  test('switching to consistent-hash on the client address sends every request from one client to one backend, and shows in /api/pools', async () => {
    assert.equal(new Set(await namesServed(fulcrum.url, 4)).size, 2);
    const res = await send('POST', api('/algorithm'), { algorithm: 'consistent-hash' });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { pool: 'web', algorithm: 'consistent-hash', persisted: false });
    assert.equal((await web()).algorithm, 'consistent-hash');
    assert.equal(new Set(await namesServed(fulcrum.url, 10)).size, 1);

    assert.equal((await send('POST', api('/algorithm'), { algorithm: 'weighted-round-robin' })).status, 200);
    assert.equal((await web()).algorithm, 'weighted-round-robin');
    assert.equal(new Set(await namesServed(fulcrum.url, 4)).size, 2);
  });

  test('an unknown algorithm is a 422 naming the field', async () => {
    const res = await send('POST', api('/algorithm'), { algorithm: 'fastest' });
    assert.equal(res.status, 422);
    const error = ((await res.json()) as AdminError).error;
    assert.deepEqual(error.details!.map((d) => d.path), ['algorithm']);
    assert.equal((await web()).algorithm, 'weighted-round-robin');
  });
});

describe('every runtime change', () => {
  test('without a token or with a wrong one is a 401 and changes nothing', async () => {
    const attempts: Array<[string, string, unknown]> = [
      ['POST', api(`${backendPath(bs[1]!)}/weight`), { weight: 5 }],
      ['POST', api('/backends'), { url: extra.url }],
      ['DELETE', api(backendPath(bs[1]!)), undefined],
      ['POST', api('/algorithm'), { algorithm: 'random' }],
    ];
    for (const [method, url, body] of attempts) {
      for (const token of [null, 'wrong-token']) {
        const res = await send(method, url, body, token);
        assert.equal(res.status, 401, `${method} ${url} ${token}`);
        assert.equal(res.headers.get('www-authenticate'), 'Bearer');
        assert.equal(((await res.json()) as AdminError).error.code, 'FUL_ERR_ADMIN_UNAUTHORIZED');
      }
    }
    const pool = await web();
    assert.equal(pool.algorithm, 'weighted-round-robin');
    assert.deepEqual(pool.backends.map((b) => [b.id, b.weight]), bs.map((b) => [b.url, 1]));
  });

  test('is logged with who and what, and recorded as a runtime-change event', async () => {
    assert.equal((await send('POST', api(`${backendPath(bs[0]!)}/weight`), { weight: 3 })).status, 200);
    const line = fulcrum.logs.filter((l) => l.msg === 'admin mutation' && l.change !== undefined).at(-1);
    assert.equal(line?.from, '127.0.0.1');
    assert.deepEqual(line?.change, { kind: 'weight', pool: 'web', backend: bs[0]!.url, weight: 3 });
    const events = (await getJson<Array<Record<string, unknown>>>(`${fulcrum.adminUrl}/api/events`)).body;
    const event = events.filter((e) => e.type === 'runtime-change').at(-1);
    assert.equal(event?.by, '127.0.0.1');
    assert.deepEqual(event?.change, { kind: 'weight', pool: 'web', backend: bs[0]!.url, weight: 3 });
    assert.equal((await send('POST', api(`${backendPath(bs[0]!)}/weight`), { weight: 1 })).status, 200);
  });

  test('keeps a drain done through the API', async () => {
    assert.equal((await send('POST', api(`${backendPath(bs[1]!)}/drain`))).status, 200);
    try {
      assert.equal((await send('POST', api(`${backendPath(bs[0]!)}/weight`), { weight: 2 })).status, 200);
      assert.deepEqual((await web()).backends.map((b) => b.state), ['healthy', 'draining']);
      assert.deepEqual(new Set(await namesServed(fulcrum.url, 6)), new Set([bs[0]!.name]));
    } finally {
      await send('POST', api(`${backendPath(bs[1]!)}/undrain`));
      await send('POST', api(`${backendPath(bs[0]!)}/weight`), { weight: 1 });
    }
  });
});

describe('runtime changes in cluster mode, then a reload from disk', () => {
  let spawned: SpawnedFulcrum | undefined;
  after(async () => void (await spawned?.stop()));

  test('an added backend reaches every worker; a reload from disk restores the file\'s backends, weights and algorithm', async () => {
    const file: ConfigInput = testConfig({
      workers: 2,
      admin: { listen: '127.0.0.1:0', token: TOKEN },
      pools: { web: { algorithm: 'round-robin', backends: [{ url: bs[0]!.url }] } },
    });
    spawned = await spawnFulcrum(file);
    const at = (path: string) => `${spawned!.adminUrl}/api/pools/web${path}`;
    assert.equal((await send('POST', at('/backends'), { url: bs[1]!.url, weight: 4 })).status, 200);
    assert.equal((await send('POST', at(`${backendPath(bs[0]!)}/weight`), { weight: 7 })).status, 200);
    assert.equal((await send('POST', at('/algorithm'), { algorithm: 'weighted-round-robin' })).status, 200);
    // The config travels to the workers over IPC: soon, not at once.
    await eventually(async () => new Set(await namesServed(spawned!.url, 12)).size === 2, 5000, 'the new backend to get traffic from the workers');
    const changed = (await getJson<PoolView>(at(''))).body;
    assert.equal(changed.algorithm, 'weighted-round-robin');
    assert.deepEqual(changed.backends.map((b) => [b.id, b.weight]), [[bs[0]!.url, 7], [bs[1]!.url, 4]]);

    assert.equal((await send('POST', `${spawned.adminUrl}/api/reload`)).status, 200);
    const restored = (await getJson<PoolView>(at(''))).body;
    assert.equal(restored.algorithm, 'round-robin');
    assert.deepEqual(restored.backends.map((b) => [b.id, b.weight]), [[bs[0]!.url, 1]]);
    await eventually(async () => new Set(await namesServed(spawned!.url, 8)).size === 1, 5000, 'the reload to reach the workers');
    assert.deepEqual(new Set(await namesServed(spawned.url, 12)), new Set([bs[0]!.name]));
  });
});

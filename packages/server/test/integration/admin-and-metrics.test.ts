/** The admin listener end to end: the JSON API over pools and config, its errors, and Prometheus metrics. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { PoolView } from '../../src/admin/views.ts';
import { closedPort, startBackend, type TestBackend } from '../support/backend.ts';
import { getJson, request, sample } from '../support/client.ts';
import { eventually, startFulcrum, type InProcessFulcrum } from '../support/fulcrum.ts';

const TOKEN = 'a-very-secret-admin-token-0123456789';

interface AdminError {
  error: { code: string; message: string };
}

let live: TestBackend;
let drained: TestBackend;
let deadUrl: string;
let fulcrum: InProcessFulcrum;

before(async () => {
  live = await startBackend('live');
  drained = await startBackend('drained');
  deadUrl = `http://127.0.0.1:${await closedPort()}`;
  fulcrum = await startFulcrum({
    admin: { listen: '127.0.0.1:0', token: TOKEN },
    pools: {
      web: { backends: [{ url: live.url }, { url: drained.url, drain: true }] },
      dead: { algorithm: 'least-connections', backends: [{ url: deadUrl }] },
    },
    routes: [{ match: { path_prefix: '/dead' }, pool: 'dead' }],
    default_pool: 'web',
  });
  // Traffic the assertions below count: 5 answered by `live`, 1 failing on `dead`.
  for (let i = 0; i < 5; i++) assert.equal((await request(`${fulcrum.url}/page/${i}`)).status, 200);
  assert.equal((await request(`${fulcrum.url}/dead`)).status, 502);
  // Stats are recorded when a response closes, just after the client has it.
  await eventually(async () => (await getJson<PoolView[]>(`${fulcrum.adminUrl}/api/pools`)).body[0]!.requests === 5, 2000, 'stats recorded');
});

after(async () => {
  await fulcrum?.stop();
  await live?.close();
  await drained?.close();
});

describe('/api/pools', () => {
  test('lists every pool with its algorithm and its backends', async () => {
    const { status, body } = await getJson<PoolView[]>(`${fulcrum.adminUrl}/api/pools`);
    assert.equal(status, 200);
    assert.deepEqual(
      body.map((p) => [p.name, p.algorithm, p.backends.map((b) => b.id)]),
      [
        ['web', 'round-robin', [live.url, drained.url]],
        ['dead', 'least-connections', [deadUrl]],
      ],
    );
  });

  test('shows each backend\'s state', async () => {
    const web = (await getJson<PoolView[]>(`${fulcrum.adminUrl}/api/pools`)).body[0]!;
    assert.deepEqual(
      web.backends.map((b) => [b.id, b.state]),
      [
        [live.url, 'healthy'],
        [drained.url, 'draining'],
      ],
    );
  });

  test('counts requests and responses by class per pool and per backend', async () => {
    const [web, dead] = (await getJson<PoolView[]>(`${fulcrum.adminUrl}/api/pools`)).body;
    assert.equal(web!.requests, 5);
    assert.equal(web!.errorRate, 0);
    const [l, d] = web!.backends;
    assert.equal(l!.requests, 5);
    assert.equal(l!.responses['2xx'], 5);
    assert.equal(l!.inFlight, 0);
    assert.equal(d!.requests, 0);
    assert.equal(dead!.requests, 1);
    assert.equal(dead!.errorRate, 1);
    assert.equal(dead!.backends[0]!.responses['5xx'], 1);
    assert.deepEqual(dead!.backends[0]!.errors, { FUL_ERR_CONNECT_FAILED: 1 });
  });

  test('/api/pools/NAME shows one pool', async () => {
    const { status, body } = await getJson<PoolView>(`${fulcrum.adminUrl}/api/pools/dead`);
    assert.equal(status, 200);
    assert.equal(body.name, 'dead');
    assert.equal(body.backends[0]!.id, deadUrl);
  });

  test('/api/pools/NAME of an unknown pool is a 404 JSON error', async () => {
    const { status, body } = await getJson<AdminError>(`${fulcrum.adminUrl}/api/pools/nope`);
    assert.equal(status, 404);
    assert.equal(body.error.code, 'FUL_ERR_ADMIN_NOT_FOUND');
  });
  test('/api/pools/NAME of a name that is not a pool but an Object property is a 404 JSON error', async () => {
    for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
      const { status, body } = await getJson<AdminError>(`${fulcrum.adminUrl}/api/pools/${name}`);
      assert.equal(status, 404, name);
      assert.equal(body.error.code, 'FUL_ERR_ADMIN_NOT_FOUND');
    }
  });

  test('/api/pools/NAME with a malformed percent-encoding is a 400 JSON error and the admin API goes on serving', async () => {
    const { status, body } = await getJson<AdminError>(`${fulcrum.adminUrl}/api/pools/%E0%A4%A`);
    assert.equal(status, 400);
    assert.equal(body.error.code, 'FUL_ERR_ADMIN_BAD_REQUEST');
    assert.equal((await getJson(`${fulcrum.adminUrl}/api/pools`)).status, 200);
  });
});

describe('/api/config', () => {
  test('shows the running config with admin.token redacted', async () => {
    const res = await fetch(`${fulcrum.adminUrl}/api/config`);
    const text = await res.text();
    assert.equal(res.status, 200);
    assert.ok(!text.includes(TOKEN), 'the token is in the response');
    const config = JSON.parse(text) as { admin: { token: string }; pools: Record<string, unknown>; default_pool: string };
    assert.equal(config.admin.token, '[redacted]');
    assert.deepEqual(Object.keys(config.pools), ['web', 'dead']);
    assert.equal(config.default_pool, 'web');
  });
});

describe('admin errors', () => {
  test('a method other than GET is a 405 JSON error', async () => {
    for (const method of ['POST', 'PUT', 'DELETE']) {
      const res = await fetch(`${fulcrum.adminUrl}/api/pools`, { method, headers: { 'content-type': 'application/json' } });
      assert.equal(res.status, 405, method);
      assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
      const body = (await res.json()) as AdminError;
      assert.equal(body.error.code, 'FUL_ERR_ADMIN_METHOD');
      assert.equal(typeof body.error.message, 'string');
    }
  });

  test('an unknown path is a 404 JSON error', async () => {
    const res = await fetch(`${fulcrum.adminUrl}/api/nothing-here`);
    assert.equal(res.status, 404);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    const body = (await res.json()) as AdminError;
    assert.equal(body.error.code, 'FUL_ERR_ADMIN_NOT_FOUND');
    assert.match(body.error.message, /\/api\/nothing-here/);
  });

  test('/healthz answers ok', async () => {
    const { status, body } = await getJson<{ status: string }>(`${fulcrum.adminUrl}/healthz`);
    assert.equal(status, 200);
    assert.deepEqual(body, { status: 'ok' });
  });
});

describe('/metrics', () => {
  let text: string;

  before(async () => {
    const res = await fetch(`${fulcrum.adminUrl}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    text = await res.text();
  });

  test('fulcrum_http_requests_total counts requests by pool, backend and code class', async () => {
    assert.equal(sample(text, 'fulcrum_http_requests_total', { pool: 'web', backend: live.url, code_class: '2xx' }), 5);
    assert.equal(sample(text, 'fulcrum_http_requests_total', { pool: 'dead', backend: deadUrl, code_class: '5xx' }), 1);
    assert.equal(sample(text, 'fulcrum_http_requests_total', { pool: 'web', backend: drained.url }), undefined);
  });

  test('fulcrum_backend_up is 1 for a backend taking traffic and 0 for a drained one', async () => {
    assert.equal(sample(text, 'fulcrum_backend_up', { pool: 'web', backend: live.url }), 1);
    assert.equal(sample(text, 'fulcrum_backend_up', { pool: 'web', backend: drained.url }), 0);
    assert.equal(sample(text, 'fulcrum_backend_state', { pool: 'web', backend: drained.url, state: 'draining' }), 1);
    assert.equal(sample(text, 'fulcrum_backend_state', { pool: 'web', backend: drained.url, state: 'healthy' }), 0);
  });

  test('fulcrum_http_request_duration_seconds has cumulative buckets per pool that end at the request count', async () => {
    const buckets = text
      .split('\n')
      .filter((l) => l.startsWith('fulcrum_http_request_duration_seconds_bucket{') && l.includes('pool="web"'))
      .map((l) => Number(l.split(' ').at(-1)));
    assert.ok(buckets.length > 5, `buckets: ${buckets.length}`);
    assert.deepEqual(buckets, [...buckets].sort((a, b) => a - b), 'buckets are cumulative');
    assert.equal(sample(text, 'fulcrum_http_request_duration_seconds_bucket', { pool: 'web', le: '+Inf' }), 5);
    assert.equal(sample(text, 'fulcrum_http_request_duration_seconds_count', { pool: 'web' }), 5);
    assert.ok(sample(text, 'fulcrum_http_request_duration_seconds_sum', { pool: 'web' })! > 0);
  });

  test('fulcrum_proxy_errors_total counts a failed request under its pool and error code', async () => {
    assert.equal(sample(text, 'fulcrum_proxy_errors_total', { pool: 'dead', code: 'FUL_ERR_CONNECT_FAILED' }), 1);
    assert.equal(sample(text, 'fulcrum_proxy_errors_total', { pool: 'web' }), undefined);
  });

  test('every metric family is documented with HELP and TYPE', async () => {
    for (const name of ['fulcrum_http_requests_total', 'fulcrum_backend_up', 'fulcrum_http_request_duration_seconds', 'fulcrum_proxy_errors_total']) {
      assert.match(text, new RegExp(`^# HELP ${name} \\S`, 'm'), name);
      assert.match(text, new RegExp(`^# TYPE ${name} (counter|gauge|histogram)$`, 'm'), name);
    }
  });

  test('no label value is a request URL', async () => {
    assert.doesNotMatch(text, /\/page\//);
  });
});

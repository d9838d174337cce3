/**
 * The admin listener against cross-site requests and DNS rebinding (issue 13 #9): a mutation must be JSON and come
 * from no foreign Origin, and every request must name this listener in its Host, with or without a token.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PoolView } from '../../src/admin/views.ts';
import { startBackends, type TestBackend } from '../support/backend.ts';
import { rawExchange, request, statusOf, type Reply } from '../support/client.ts';
import { startFulcrum, type InProcessFulcrum } from '../support/fulcrum.ts';

const TOKEN = 'a-very-secret-admin-token-0123456789';

let bs: TestBackend[];
let dir: string;
/** Loopback, no token: mutations are open to this host's processes, and to nothing else. */
let open: InProcessFulcrum;
let guarded: InProcessFulcrum;

before(async () => {
  bs = await startBackends(3);
  dir = await mkdtemp(join(tmpdir(), 'fulcrum-guard-'));
  await mkdir(join(dir, 'assets'));
  await writeFile(join(dir, 'index.html'), '<!doctype html><title>Fulcrum</title>');
  await writeFile(join(dir, 'assets', 'app-1.js'), 'console.log(1)');
  const pools = { web: { backends: bs.slice(0, 2).map((b) => ({ url: b.url })) } };
  process.env.FULCRUM_DASHBOARD_DIR = dir;
  try {
    open = await startFulcrum({ admin: { listen: '127.0.0.1:0', allowed_hosts: ['admin.example.com', 'fulcrum.internal:9443'] }, pools });
    guarded = await startFulcrum({ admin: { listen: '127.0.0.1:0', token: TOKEN }, pools });
  } finally {
    delete process.env.FULCRUM_DASHBOARD_DIR;
  }
});

after(async () => {
  await open?.stop();
  await guarded?.stop();
  for (const b of bs ?? []) await b.close();
  await rm(dir, { recursive: true, force: true });
});

const port = (f: InProcessFulcrum) => f.adminPort;
const drainPath = (id: string) => `/api/pools/web/backends/${encodeURIComponent(id)}/drain`;

function send(f: InProcessFulcrum, method: string, path: string, headers: Record<string, string>, body?: string): Promise<Reply> {
  return request(`${f.adminUrl}${path}`, { method, headers: { host: `127.0.0.1:${port(f)}`, ...headers }, body });
}

async function backends(f: InProcessFulcrum): Promise<Array<[string, string]>> {
  const res = await send(f, 'GET', '/api/pools/web', {});
  return (JSON.parse(res.text) as PoolView).backends.map((b) => [b.id, b.state]);
}

const codeOf = (res: Reply) => (JSON.parse(res.text) as { error: { code: string } }).error.code;

describe('issue 13 #9: mutations are JSON from no foreign Origin', () => {
  test('issue 13 #9: a text/plain POST from a foreign Origin adds no backend, drains nothing and purges nothing', async () => {
    const before = await backends(open);
    const attacker = { origin: 'http://evil.example', 'content-type': 'text/plain' };
    const attempts = [
      await send(open, 'POST', '/api/pools/web/backends', attacker, JSON.stringify({ url: bs[2]!.url })),
      await send(open, 'POST', drainPath(bs[0]!.url), attacker),
      await send(open, 'POST', '/api/cache/purge', attacker, JSON.stringify({ prefix: '/' })),
      await send(open, 'POST', '/api/reload', attacker),
      await send(open, 'DELETE', `/api/pools/web/backends/${encodeURIComponent(bs[1]!.url)}`, attacker),
    ];
    for (const res of attempts) {
      assert.equal(res.status, 403);
      assert.equal(codeOf(res), 'FUL_ERR_ADMIN_FOREIGN_ORIGIN');
    }
    assert.deepEqual(await backends(open), before);
    assert.equal(open.control.events().filter((e) => e.type === 'cache-purge' || e.type === 'runtime-change').length, 0);
  });

  test('issue 13 #9: a foreign Origin is refused even when it sends JSON, and even with the admin token', async () => {
    for (const origin of ['http://evil.example', `http://evil.example:${port(guarded)}`, 'null', `https://127.0.0.1.evil.example:${port(guarded)}`]) {
      const res = await send(guarded, 'POST', drainPath(bs[0]!.url), { origin, 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` });
      assert.equal(res.status, 403, origin);
    }
    assert.deepEqual((await backends(guarded)).map(([, state]) => state), ['healthy', 'healthy']);
  });

  test('issue 13 #9: a mutation that is not application/json is refused with 415, with a body or without', async () => {
    for (const [headers, body] of [
      [{}, undefined],
      [{ 'content-type': 'text/plain' }, undefined],
      [{ 'content-type': 'application/x-www-form-urlencoded' }, 'a=b'],
      [{ 'content-type': 'multipart/form-data; boundary=x' }, '--x--'],
      [{ 'content-type': 'text/plain;charset=UTF-8' }, '{}'],
    ] as const) {
      const res = await send(open, 'POST', drainPath(bs[0]!.url), headers, body);
      assert.equal(res.status, 415, JSON.stringify(headers));
      assert.equal(codeOf(res), 'FUL_ERR_ADMIN_NOT_JSON');
    }
    assert.deepEqual((await backends(open)).map(([, state]) => state), ['healthy', 'healthy']);
  });

  test('JSON from the listener\'s own origin, or from a client that sends no Origin, is carried out', async () => {
    const id = bs[0]!.url;
    for (const headers of [
      { 'content-type': 'application/json' } as Record<string, string>,
      { 'content-type': 'Application/JSON; charset=utf-8', origin: `http://127.0.0.1:${port(open)}` },
      { 'content-type': 'application/json', origin: `http://localhost:${port(open)}` },
    ]) {
      const drained = await send(open, 'POST', drainPath(id), headers);
      assert.equal(drained.status, 200, JSON.stringify(headers));
      const undrained = await send(open, 'POST', `/api/pools/web/backends/${encodeURIComponent(id)}/undrain`, headers);
      assert.equal(undrained.status, 200, JSON.stringify(headers));
    }
    const purge = await send(guarded, 'POST', '/api/cache/purge', { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` }, '{"tag":"t"}');
    assert.equal(purge.status, 202);
  });
});

describe('issue 13 #9: the admin listener answers only to its own Host', () => {
  test('issue 13 #9: a rebound Host is refused with 421 on every path: API, live stream, dashboard, metrics, mutations', async () => {
    for (const f of [open, guarded]) {
      for (const [method, path] of [
        ['GET', '/api/config'],
        ['GET', '/api/pools'],
        ['GET', '/api/events/stream'],
        ['GET', '/'],
        ['GET', '/assets/app-1.js'],
        ['GET', '/metrics'],
        ['HEAD', '/api/stats'],
        ['POST', drainPath(bs[0]!.url)],
      ] as const) {
        for (const host of ['rebind.example', `rebind.example:${port(f)}`, `127.0.0.1:${port(f) + 1}`, '127.0.0.1', `admin.example.com.evil:${port(f)}`]) {
          const headers = { host, 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` };
          const res = await send(f, method, path, headers);
          assert.equal(res.status, 421, `${method} ${path} Host: ${host}`);
          if (method !== 'HEAD') assert.equal(codeOf(res), 'FUL_ERR_ADMIN_MISDIRECTED');
        }
      }
    }
    assert.deepEqual((await backends(guarded)).map(([, state]) => state), ['healthy', 'healthy']);
  });

  test('a Host that is malformed or carries userinfo is refused', async () => {
    for (const host of [`evil@127.0.0.1:${port(open)}`, `127.0.0.1:${port(open)}/x`, `127.0.0.1:${port(open)}:1`, `127.0.0.1:${port(open)} x`]) {
      const res = await send(open, 'GET', '/api/pools', { host });
      assert.equal(res.status, 421, host);
    }
    // node:http fills in a Host when given none or an empty one: these go raw.
    assert.equal(statusOf(await rawExchange(port(open), 'GET /api/pools HTTP/1.0\r\n\r\n')), 421, 'no Host');
    assert.equal(statusOf(await rawExchange(port(open), 'GET /api/pools HTTP/1.1\r\nHost: \r\nConnection: close\r\n\r\n')), 421, 'empty Host');
  });

  test('the listener\'s address, the loopback names with its port, and admin.allowed_hosts are accepted', async () => {
    const p = port(open);
    for (const host of [`127.0.0.1:${p}`, `localhost:${p}`, `LOCALHOST.:${p}`, `[::1]:${p}`, `[0:0:0:0:0:0:0:1]:${p}`, 'admin.example.com', `admin.example.com:${p}`, 'fulcrum.internal:9443']) {
      for (const path of ['/api/pools', '/', '/metrics']) {
        const res = await send(open, 'GET', path, { host });
        assert.equal(res.status, 200, `${path} Host: ${host}`);
      }
    }
    assert.equal((await send(open, 'GET', '/api/pools', { host: 'fulcrum.internal:9444' })).status, 421);
    const drained = await send(open, 'POST', drainPath(bs[0]!.url), { host: 'admin.example.com', origin: 'https://admin.example.com', 'content-type': 'application/json' });
    assert.equal(drained.status, 200);
    await send(open, 'POST', `/api/pools/web/backends/${encodeURIComponent(bs[0]!.url)}/undrain`, { 'content-type': 'application/json' });
  });
});

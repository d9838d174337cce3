/** The admin listener serves the built dashboard (index.html and /assets/*) from a folder, and nothing outside it. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBackends, type TestBackend } from '../support/backend.ts';
import { startFulcrum, type InProcessFulcrum } from '../support/fulcrum.ts';

let dir: string;
let bs: TestBackend[];
let fulcrum: InProcessFulcrum;
let missing: InProcessFulcrum;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fulcrum-dashboard-'));
  await mkdir(join(dir, 'assets'));
  await writeFile(join(dir, 'index.html'), '<!doctype html><title>Fulcrum</title>');
  await writeFile(join(dir, 'assets', 'app-1234.js'), 'console.log(1)');
  await writeFile(join(dir, 'assets', 'app-1234.css'), 'body{}');
  await writeFile(join(dir, '..', `secret-${process.pid}.txt`), 'secret');
  bs = await startBackends(1);
  const pools = { web: { backends: bs.map((b) => ({ url: b.url })) } };
  process.env.FULCRUM_DASHBOARD_DIR = dir;
  try {
    fulcrum = await startFulcrum({ pools });
    process.env.FULCRUM_DASHBOARD_DIR = join(dir, 'not-built');
    missing = await startFulcrum({ pools });
  } finally {
    delete process.env.FULCRUM_DASHBOARD_DIR;
  }
});

after(async () => {
  await fulcrum?.stop();
  await missing?.stop();
  for (const b of bs ?? []) await b.close();
  await rm(join(dir, '..', `secret-${process.pid}.txt`), { force: true });
  await rm(dir, { recursive: true, force: true });
});

test('GET / serves index.html and /assets/* the built files, each with its content type', async () => {
  const index = await fetch(`${fulcrum.adminUrl}/`);
  assert.equal(index.status, 200);
  assert.equal(index.headers.get('content-type'), 'text/html; charset=utf-8');
  assert.match(await index.text(), /<title>Fulcrum<\/title>/);
  const js = await fetch(`${fulcrum.adminUrl}/assets/app-1234.js`);
  assert.equal(js.headers.get('content-type'), 'text/javascript; charset=utf-8');
  assert.equal(await js.text(), 'console.log(1)');
  const css = await fetch(`${fulcrum.adminUrl}/assets/app-1234.css`);
  assert.equal(css.headers.get('content-type'), 'text/css; charset=utf-8');
  assert.equal((await fetch(`${fulcrum.adminUrl}/assets/nope.js`)).status, 404);
  // The API is still there beside the files.
  assert.equal((await fetch(`${fulcrum.adminUrl}/api/pools`)).status, 200);
});

test('paths that climb out of the folder, plain or percent-encoded, or decode badly, are refused', async () => {
  const { request } = await import('node:http');
  // fetch normalizes "..": send the raw path with node:http.
  const rawGet = (path: string) =>
    new Promise<number>((resolve, reject) => {
      const { hostname, port } = new URL(fulcrum.adminUrl);
      const req = request({ hostname, port, path, method: 'GET' }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
  const secret = `secret-${process.pid}.txt`;
  for (const path of [`/assets/../../${secret}`, `/assets/%2e%2e/%2e%2e/${secret}`, `/assets/..%2f..%2f${secret}`, '/assets/%E0%A4%A', '/assets/a%00.js']) {
    const status = await rawGet(path);
    assert.ok(status === 400 || status === 404, `${path} answered ${status}`);
  }
});

test('without a built dashboard, GET / answers 404 JSON that says how to build it', async () => {
  const res = await fetch(`${missing.adminUrl}/`);
  assert.equal(res.status, 404);
  assert.equal(res.headers.get('content-type'), 'application/json');
  const body = (await res.json()) as { error: { code: string; message: string } };
  assert.equal(body.error.code, 'FUL_ERR_ADMIN_NOT_FOUND');
  assert.match(body.error.message, /npm run build:dashboard/);
});

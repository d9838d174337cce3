/**
 * Issue 13 #6, #8, #14a, #14d over raw sockets: the path and Host a request is routed, keyed, purged and forwarded
 * by are one normal form; what could be read two ways, and target forms Fulcrum does not serve, get 400.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startBackend, type TestBackend } from '../support/backend.ts';
import { rawExchange, statusOf } from '../support/client.ts';
import { startFulcrum, type InProcessFulcrum } from '../support/fulcrum.ts';

const TOKEN = 'test-admin-token-0123456789';
let origin: TestBackend;
let hosted: TestBackend;
let fulcrum: InProcessFulcrum;

before(async () => {
  origin = await startBackend('origin');
  // Says which Host and target reached it, so that a cached answer names the request that filled it.
  origin.handle((req, res) => {
    if (req.method === 'POST') {
      res.writeHead(201, { location: String(req.headers['x-location']), 'content-length': '0' }).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain', 'cache-control': 'max-age=60' });
    res.end(`${req.headers.host} ${req.url} #${origin.count()}`);
  });
  hosted = await startBackend('hosted');
  fulcrum = await startFulcrum({
    admin: { listen: '127.0.0.1:0', token: TOKEN },
    pools: {
      p: { backends: [{ url: origin.url }], retries: { attempts: 0 } },
      h: { backends: [{ url: hosted.url }], retries: { attempts: 0 } },
    },
    routes: [
      { match: { host: 'hosted.example' }, pool: 'h' },
      { match: {}, pool: 'p', cache: { ttl: '60s', stale_if_error: '0s' } },
    ],
  });
});

after(async () => {
  await fulcrum.stop();
  await origin.close();
  await hosted.close();
});

interface RawReply {
  readonly status: number;
  readonly headers: ReadonlyMap<string, string>;
  readonly body: string;
}

/** One request written as is on its own connection (no client library normalises the target on the way). */
async function raw(method: string, target: string, host = 'shop.example', extra = ''): Promise<RawReply> {
  const text = await rawExchange(fulcrum.proxyPort, `${method} ${target} HTTP/1.1\r\nHost: ${host}\r\n${extra}Connection: close\r\n\r\n`);
  const end = text.indexOf('\r\n\r\n');
  const headers = new Map<string, string>();
  for (const line of text.slice(0, end).split('\r\n').slice(1)) {
    const colon = line.indexOf(':');
    headers.set(line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim());
  }
  const body = text.slice(end + 4);
  return { status: statusOf(text), headers, body: headers.get('transfer-encoding') === 'chunked' ? unchunk(body) : body };
}

function unchunk(body: string): string {
  let out = '';
  for (let at = 0; ; ) {
    const eol = body.indexOf('\r\n', at);
    const size = parseInt(body.slice(at, eol), 16);
    if (!(size > 0)) return out;
    out += body.slice(eol + 2, eol + 2 + size);
    at = eol + 2 + size + 2;
  }
}

async function purge(body: Record<string, string>): Promise<number> {
  const res = await fetch(`${fulcrum.adminUrl}/api/cache/purge`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  await res.arrayBuffer();
  return res.status;
}

let n = 0;
/** A fresh path segment per test, so that tests do not see each other's entries. */
const fresh = (name: string) => `${name}-${++n}`;

describe('one normal form for the path', () => {
  test('issue 13 #6: the backend is sent the normalised target, not the dot segments the client wrote', async () => {
    const dir = fresh('fwd');
    const reply = await raw('GET', `/anything/../${dir}/./item2?a=/../b`);
    assert.equal(reply.status, 200);
    assert.equal(origin.requests.at(-1)!.url, `/${dir}/item2?a=/../b`, 'the query goes as it came');
  });

  test('issue 13 #6: a dot-segment request is cached under the normalised URL, which a purge by URL or prefix removes', async () => {
    const dir = fresh('cat');
    const first = await raw('GET', `/anything/../${dir}/item2`);
    assert.match(first.headers.get('cache-status')!, /stored/);
    const hit = await raw('GET', `/${dir}/item2`);
    assert.match(hit.headers.get('cache-status')!, /hit/);
    assert.equal(hit.body, first.body);

    assert.equal(await purge({ url: `http://shop.example/${dir}/item2` }), 202);
    const afterUrlPurge = await raw('GET', `/x/../${dir}/item2`);
    assert.match(afterUrlPurge.headers.get('cache-status')!, /fwd=uri-miss/, 'the purge by URL removed it');

    assert.equal(await purge({ prefix: `shop.example/${dir}/` }), 202);
    const afterPrefixPurge = await raw('GET', `/${dir}/item2`);
    assert.match(afterPrefixPurge.headers.get('cache-status')!, /fwd=uri-miss/, 'the purge by prefix removed it');
  });

  test('issue 13 #6: encoded dot segments, encoded slashes, backslashes and climbs above the root get 400, unforwarded', async () => {
    const before = origin.count();
    for (const target of ['/a/%2e%2e/admin', '/a/.%2E/admin', '/admin%2fx', '/admin%5Cx', '/a\\..\\admin', '/../admin', '/public/..;/admin/']) {
      const reply = await raw('GET', target);
      assert.equal(reply.status, 400, target);
      assert.match(reply.body, /FUL_ERR_BAD_REQUEST/, target);
    }
    assert.equal(origin.count(), before);
  });

  test('issue 13 #6: a purge naming a path no request can have is refused', async () => {
    assert.equal(await purge({ url: 'http://shop.example/a/%2e%2e/b' }), 400);
  });
});

describe('one normal form for the Host', () => {
  test('issue 13 #8: Host example.com:8081 and example.com:8082 are cached apart, as they are forwarded', async () => {
    const path = `/${fresh('port')}`;
    const a = await raw('GET', path, 'example.com:8081');
    const b = await raw('GET', path, 'example.com:8082');
    assert.match(a.body, /^example\.com:8081 /);
    assert.match(b.body, /^example\.com:8082 /, 'not the entry of the other port');
    assert.match(b.headers.get('cache-status')!, /fwd=uri-miss/);
    const again = await raw('GET', path, 'Example.com:8081');
    assert.equal(again.body, a.body);
    assert.match(again.headers.get('cache-status')!, /hit/);
  });

  test('issue 13 #8: a purge by URL finds the entry of a non-default port, and only that one', async () => {
    const path = `/${fresh('portpurge')}`;
    const a = await raw('GET', path, 'example.com:8081');
    const b = await raw('GET', path, 'example.com:8082');
    assert.equal(await purge({ url: `http://example.com:8081${path}` }), 202);
    assert.notEqual((await raw('GET', path, 'example.com:8081')).body, a.body, 'purged');
    assert.equal((await raw('GET', path, 'example.com:8082')).body, b.body, 'kept');
  });

  test('issue 13 #8: default port, letter case and a trailing dot name one entry', async () => {
    const path = `/${fresh('default')}`;
    const first = await raw('GET', path, 'Shop.Example.:80');
    assert.match(first.body, /^shop\.example /, 'forwarded in normal form');
    const again = await raw('GET', path, 'shop.example');
    assert.equal(again.body, first.body);
    assert.match(again.headers.get('cache-status')!, /hit/);
  });

  test('issue 13 #8: a POST invalidates its same-origin Location on a non-default port', async () => {
    const dir = fresh('loc');
    const cached = await raw('GET', `/${dir}/y`, 'example.com:8081');
    assert.equal((await raw('POST', `/${dir}/x`, 'example.com:8081', `x-location: /${dir}/y\r\ncontent-length: 0\r\n`)).status, 201);
    const after = await raw('GET', `/${dir}/y`, 'example.com:8081');
    assert.notEqual(after.body, cached.body);
    assert.match(after.headers.get('cache-status')!, /fwd=uri-miss/);
  });

  test('issue 13 #14a: a Host with a trailing dot takes its host route and is forwarded without the dot', async () => {
    const before = hosted.count();
    const reply = await raw('GET', '/', 'hosted.example.');
    assert.equal(reply.status, 200);
    assert.equal(reply.body, 'hosted');
    assert.equal(hosted.count(), before + 1);
    assert.equal(hosted.requests.at(-1)!.headers.host, 'hosted.example');
  });
});

describe('request-target forms', () => {
  test('issue 13 #14d: GET * is refused with 400 and never forwarded; OPTIONS * still is', async () => {
    const before = origin.count();
    assert.equal((await raw('GET', '*')).status, 400);
    assert.equal(origin.count(), before);
    assert.equal((await raw('OPTIONS', '*')).status, 200);
    assert.equal(origin.count(), before + 1);
    assert.equal(origin.requests.at(-1)!.method, 'OPTIONS');
    assert.equal(origin.requests.at(-1)!.url, '*');
  });

  test('issue 13 #14d: CONNECT, and absolute targets of other schemes than http and https, get 400', async () => {
    const before = origin.count();
    assert.equal((await raw('CONNECT', 'shop.example:443')).status, 400);
    assert.equal((await raw('CONNECT', '/tunnel')).status, 400);
    assert.equal((await raw('GET', 'ftp://shop.example/file')).status, 400);
    assert.equal(origin.count(), before);
  });
});

/**
 * No secret of the config leaves through the admin listener or the logs (issue 13 #10): a config with credentials in
 * every place a config can hold one, read back through /api/config, the events, the live stream and the log lines.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startBackends, type TestBackend } from '../support/backend.ts';
import { eventually } from '../support/eventually.ts';
import { startFulcrum, type InProcessFulcrum } from '../support/fulcrum.ts';

const TOKEN = 'admin-s3cret-token-0123456789';
/** Every secret below contains this; none may be seen. */
const MARK = 's3cret';

let bs: TestBackend[];
let fulcrum: InProcessFulcrum;

before(async () => {
  bs = await startBackends(3);
  const withUser = (url: string, user: string) => url.replace('http://', `http://${user}:${MARK}-${user}@`);
  fulcrum = await startFulcrum({
    admin: { listen: '127.0.0.1:0', token: TOKEN },
    cache: {
      store: 'memory',
      redis: { url: `redis://fulcrum:${MARK}-redis@127.0.0.1:6390/0` },
      memcached: { servers: [`mc:${MARK}-memcached@127.0.0.1:11211`, '127.0.0.1:11212'] },
    },
    pools: {
      web: {
        algorithm: 'sticky',
        sticky: { cookie: 'fulcrum_backend' },
        backends: [{ url: withUser(bs[0]!.url, 'bob') }, { url: bs[1]!.url }],
      },
    },
    routes: [
      { match: { headers: { authorization: `Bearer ${MARK}-route`, 'x-api-key': `${MARK}-apikey`, cookie: `session=${MARK}-cookie` } }, pool: 'web' },
      { match: { path_prefix: '/' }, pool: 'web' },
    ],
  });
});

after(async () => {
  await fulcrum?.stop();
  for (const b of bs ?? []) await b.close();
});

const admin = (path: string) => fetch(`${fulcrum.adminUrl}${path}`);

test('issue 13 #10: /api/config redacts the admin token, URL passwords in every URL, and credential header values', async () => {
  const text = await (await admin('/api/config')).text();
  assert.ok(!text.includes(MARK), `a secret in /api/config: ${text.slice(Math.max(0, text.indexOf(MARK) - 80), text.indexOf(MARK) + 40)}`);
  assert.ok(!text.includes(TOKEN));
  const config = JSON.parse(text) as {
    admin: { token: string };
    cache: { redis: { url: string }; memcached: { servers: string[] } };
    pools: { web: { sticky: { cookie: string }; backends: Array<{ url: string }> } };
    routes: Array<{ match: { headers?: Record<string, string> } }>;
  };
  assert.equal(config.admin.token, '[redacted]');
  assert.equal(config.cache.redis.url, 'redis://fulcrum:[redacted]@127.0.0.1:6390/0');
  assert.deepEqual(config.cache.memcached.servers, ['mc:[redacted]@127.0.0.1:11211', '127.0.0.1:11212']);
  assert.equal(config.pools.web.backends[0]!.url, bs[0]!.url.replace('http://', 'http://bob:[redacted]@'));
  assert.equal(config.pools.web.backends[1]!.url, bs[1]!.url, 'a URL without credentials is shown as it is');
  assert.deepEqual(config.routes[0]!.match.headers, { authorization: '[redacted]', 'x-api-key': '[redacted]', cookie: '[redacted]' });
  assert.equal(config.pools.web.sticky.cookie, 'fulcrum_backend', 'a cookie name is not a secret');
});

test('issue 13 #10: a backend added with a password in its URL shows in no event, live stream message or log line', async () => {
  const messages: string[] = [];
  const stream = http.get(`${fulcrum.adminUrl}/api/events/stream`, (res) => res.on('data', (c: Buffer) => messages.push(c.toString())));
  try {
    await eventually(async () => messages.join('').includes(': connected'), 2000, 'the stream to open');
    const url = bs[2]!.url.replace('http://', `http://carol:${MARK}-added@`);
    const res = await fetch(`${fulcrum.adminUrl}/api/pools/web/backends`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify({ url }),
    });
    assert.equal(res.status, 200);
    await eventually(async () => messages.join('').includes('runtime-change'), 2000, 'the runtime-change message');
    const events = await (await admin('/api/events')).text();
    assert.ok(events.includes('carol:[redacted]@'), events);
    assert.ok(!events.includes(MARK), 'a secret in /api/events');
    assert.ok(!messages.join('').includes(MARK), 'a secret in the live stream');
    const logged = fulcrum.logs.filter((l) => l.msg === 'runtime change' || l.msg === 'admin mutation');
    assert.ok(logged.length >= 2, 'the change is logged');
    assert.ok(!JSON.stringify(fulcrum.logs).includes(MARK), 'a secret in the logs');
  } finally {
    stream.destroy();
  }
});

/** Backend affinity end to end: sticky sessions by cookie, and consistent hashing on a request header. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startBackends, type TestBackend } from '../support/backend.ts';
import { request } from '../support/client.ts';
import { startFulcrum, type InProcessFulcrum } from '../support/fulcrum.ts';

let backends: TestBackend[];
let fulcrum: InProcessFulcrum;

before(async () => {
  backends = await startBackends(3);
  const members = backends.map((b) => ({ url: b.url }));
  fulcrum = await startFulcrum({
    pools: {
      sticky: { algorithm: 'sticky', backends: members },
      named: { algorithm: 'sticky', sticky: { cookie: 'srv', ttl: '1h' }, backends: members },
      hashed: { algorithm: 'consistent-hash', hash: { key: 'header:X-User' }, backends: members },
      sessions: { algorithm: 'consistent-hash', hash: { key: 'cookie:session' }, backends: members },
    },
    routes: [
      { match: { path_prefix: '/sticky' }, pool: 'sticky' },
      { match: { path_prefix: '/named' }, pool: 'named' },
      { match: { path_prefix: '/hashed' }, pool: 'hashed' },
      { match: { path_prefix: '/sessions' }, pool: 'sessions' },
    ],
  });
});

after(async () => {
  await fulcrum?.stop();
  for (const b of backends ?? []) await b.close();
});

/** `name=value` of the first Set-Cookie, or undefined. */
function cookieOf(setCookie: string[] | undefined): string | undefined {
  return setCookie?.[0]?.split(';')[0];
}

describe('sticky', () => {
  test('the first response to a new client sets the sticky cookie', async () => {
    const res = await request(`${fulcrum.url}/sticky`);
    assert.equal(res.status, 200);
    assert.equal(res.headers['set-cookie']?.length, 1);
    assert.match(res.headers['set-cookie']![0]!, /^fulcrum_backend=[0-9a-f]{16}; Path=\/; HttpOnly; SameSite=Lax$/);
  });

  test('a client that sends the cookie keeps reaching the backend that set it', async () => {
    const first = await request(`${fulcrum.url}/sticky`);
    const cookie = cookieOf(first.headers['set-cookie'])!;
    const pinned = backends.find((b) => b.name === first.text)!;
    const before = pinned.count();
    for (let i = 0; i < 9; i++) {
      const res = await request(`${fulcrum.url}/sticky/${i}`, { headers: { cookie: `theme=dark; ${cookie}` } });
      assert.equal(res.text, pinned.name);
    }
    assert.equal(pinned.count(), before + 9);
  });

  test('a client that sends the cookie of its backend gets no new Set-Cookie', async () => {
    const first = await request(`${fulcrum.url}/sticky`);
    const res = await request(`${fulcrum.url}/sticky`, { headers: { cookie: cookieOf(first.headers['set-cookie'])! } });
    assert.equal(res.headers['set-cookie'], undefined);
  });

  test('new clients without the cookie are spread over the backends in turn', async () => {
    const answers = new Set<string>();
    for (let i = 0; i < 3; i++) answers.add((await request(`${fulcrum.url}/sticky`)).text);
    assert.equal(answers.size, 3);
  });

  test('a cookie that names no backend of the pool is replaced by one that does', async () => {
    const res = await request(`${fulcrum.url}/sticky`, { headers: { cookie: 'fulcrum_backend=0123456789abcdef' } });
    assert.equal(res.status, 200);
    const cookie = cookieOf(res.headers['set-cookie']);
    assert.ok(cookie !== undefined && cookie !== 'fulcrum_backend=0123456789abcdef', String(cookie));
    const again = await request(`${fulcrum.url}/sticky`, { headers: { cookie } });
    assert.equal(again.text, res.text);
  });

  test('the sticky cookie is added next to the backend\'s own Set-Cookie fields', async (t) => {
    for (const b of backends) {
      b.handle((_req, res) => {
        res.setHeader('set-cookie', ['session=abc; Path=/', 'lang=en']);
        res.end(b.name);
      });
    }
    t.after(() => {
      for (const b of backends) b.handle((_req, res) => res.end(b.name));
    });
    const res = await request(`${fulcrum.url}/sticky`);
    const cookies = res.headers['set-cookie']!;
    assert.equal(cookies.length, 3, cookies.join(' | '));
    assert.deepEqual(cookies.slice(0, 2), ['session=abc; Path=/', 'lang=en']);
    assert.match(cookies[2]!, /^fulcrum_backend=/);
  });

  test('sticky.cookie names the cookie and sticky.ttl sets its Max-Age', async () => {
    const res = await request(`${fulcrum.url}/named`);
    assert.match(res.headers['set-cookie']![0]!, /^srv=[0-9a-f]{16}; Path=\/; HttpOnly; SameSite=Lax; Max-Age=3600$/);
    const cookie = cookieOf(res.headers['set-cookie'])!;
    for (let i = 0; i < 3; i++) assert.equal((await request(`${fulcrum.url}/named`, { headers: { cookie } })).text, res.text);
  });
});

describe('consistent-hash on header:X-User', () => {
  const users = Array.from({ length: 48 }, (_, i) => `user-${i}`);

  /** user → the backend that answered each of its requests. */
  async function placements(url: string, times: number): Promise<Map<string, Set<string>>> {
    const seen = new Map<string, Set<string>>();
    for (let i = 0; i < times; i++) {
      for (const user of users) {
        const res = await request(`${url}/hashed/${i}`, { headers: { 'x-user': user } });
        assert.equal(res.status, 200);
        (seen.get(user) ?? seen.set(user, new Set()).get(user)!).add(res.text);
      }
    }
    return seen;
  }

  test('requests with the same X-User always reach the same backend', async () => {
    for (const [user, answered] of await placements(fulcrum.url, 3)) {
      assert.equal(answered.size, 1, `${user} reached ${[...answered].join(', ')}`);
    }
  });

  test('different users are spread over all the backends', async () => {
    const used = new Set([...(await placements(fulcrum.url, 1)).values()].flatMap((s) => [...s]));
    assert.equal(used.size, 3);
  });

  test('another Fulcrum with the same backends sends each user to the same backend', async (t) => {
    const twin = await startFulcrum({
      pools: { hashed: { algorithm: 'consistent-hash', hash: { key: 'header:X-User' }, backends: backends.map((b) => ({ url: b.url })) } },
    });
    t.after(() => twin.stop());
    const here = await placements(fulcrum.url, 1);
    const there = await placements(twin.url, 1);
    for (const user of users) assert.deepEqual(there.get(user), here.get(user), user);
  });

  test('requests without X-User are spread over the backends', async () => {
    const answers = new Set<string>();
    for (let i = 0; i < 6; i++) answers.add((await request(`${fulcrum.url}/hashed`)).text);
    assert.ok(answers.size > 1, [...answers].join(', '));
  });
});

test('consistent-hash on cookie:session sends the same session to the same backend', async () => {
  const used = new Set<string>();
  for (let s = 0; s < 12; s++) {
    const answers = new Set<string>();
    for (let i = 0; i < 3; i++) {
      answers.add((await request(`${fulcrum.url}/sessions`, { headers: { cookie: `theme=dark; session=s${s}; lang=en` } })).text);
    }
    assert.equal(answers.size, 1, `session s${s} reached ${[...answers].join(', ')}`);
    used.add([...answers][0]!);
  }
  assert.ok(used.size > 1, 'all sessions on one backend');
});

/**
 * Coalescing of concurrent misses: waiters take the leader's response whatever its framing, and only when that
 * response is one their own lookup would select (Vary).
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { startBackend, type TestBackend } from '../support/backend.ts';
import { request } from '../support/client.ts';
import { eventually } from '../support/eventually.ts';
import { startFulcrum, type InProcessFulcrum } from '../support/fulcrum.ts';

let backend: TestBackend;
let fulcrum: InProcessFulcrum;
/** Answers held back until the test releases them, so that every request of a burst is in flight together. */
const held: Array<() => void> = [];
/** While false, answers go at once (requests after the burst: waiters sent back to the backend). */
let holding = true;
const answer = (send: () => void) => (holding ? held.push(send) : send());

/** Answers what is held, and from now on at once. */
function releaseAll(): void {
  holding = false;
  for (const send of held.splice(0)) send();
}

before(async () => {
  backend = await startBackend('origin');
  backend.handle((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    const send = () => {
      if (path.startsWith('/vary')) {
        // Chunked: the framing that coalesced before issue 13 #12, so that this shows Vary alone.
        res.writeHead(200, { 'cache-control': 'max-age=60', vary: 'Cookie', 'transfer-encoding': 'chunked' });
        res.end(`page for ${req.headers.cookie ?? 'nobody'}`);
      } else if (path.startsWith('/length')) {
        const body = `${path} with a length`;
        res.writeHead(200, { 'cache-control': 'max-age=60', 'content-length': Buffer.byteLength(body) });
        res.end(body);
      } else {
        res.writeHead(200, { 'cache-control': 'max-age=60', 'transfer-encoding': 'chunked' });
        res.write(`${path} `);
        res.end('in chunks');
      }
    };
    answer(send);
  });
  fulcrum = await startFulcrum({
    pools: { p: { backends: [{ url: backend.url }], retries: { attempts: 0 } } },
    routes: [{ match: {}, pool: 'p', cache: { ttl: '60s' } }],
  });
});

after(async () => {
  await fulcrum.stop();
  await backend.close();
});

const hits = (path: string) => backend.requests.filter((r) => r.url === path).length;

/** Waits until the proxy has taken `n` requests in (they then wait on the flight or go to the backend). */
const coalescedAtLeast = async (n: number) =>
  eventually(async () => {
    const text = await (await fetch(`${fulcrum.adminUrl}/metrics`)).text();
    const m = /^fulcrum_cache_requests_total\{result="coalesced"\} (\d+)/m.exec(text);
    return m !== null && Number(m[1]) >= n;
  }, 5000, `${n} coalesced`);

let coalescedSoFar = 0;

describe('coalescing', () => {
  beforeEach(() => {
    holding = true;
  });

  for (const [framing, prefix] of [
    ['Content-Length', '/length'],
    ['chunked', '/chunked'],
  ] as const) {
    test(`issue 13 #12: N concurrent misses for a response framed by ${framing} make one backend request and all get the body`, async () => {
      const path = `${prefix}-12`;
      const n = 20;
      const all = Promise.all(Array.from({ length: n }, () => request(`${fulcrum.url}${path}`)));
      await eventually(() => hits(path) === 1, 5000, 'the leader at the backend');
      coalescedSoFar += n - 1;
      await coalescedAtLeast(coalescedSoFar);
      releaseAll();
      const replies = await all;
      assert.equal(hits(path), 1);
      const body = framing === 'chunked' ? `${path} in chunks` : `${path} with a length`;
      for (const r of replies) {
        assert.equal(r.status, 200);
        assert.equal(r.text, body);
      }
      assert.equal(replies.filter((r) => /collapsed/.test(String(r.headers['cache-status']))).length, n - 1);
    });
  }

  test('issue 13 #4: a coalesced waiter whose Vary headers differ from the leader\'s fetches its own', async () => {
    const path = '/vary-4';
    const get = (cookie?: string) => request(`${fulcrum.url}${path}`, { headers: cookie === undefined ? {} : { cookie } });
    const leader = get('user=alice');
    await eventually(() => hits(path) === 1, 5000, 'the leader at the backend');
    const waiters = [get('user=alice'), get('user=bob'), get('user=carol'), get()];
    coalescedSoFar += waiters.length;
    await coalescedAtLeast(coalescedSoFar);
    // Those that do not match the leader's response come back to the backend: answered as they arrive.
    releaseAll();
    const [alice, alice2, bob, carol, nobody] = await Promise.all([leader, ...waiters]);
    assert.equal(alice!.text, 'page for user=alice');
    assert.equal(alice2!.text, 'page for user=alice');
    assert.match(String(alice2!.headers['cache-status']), /collapsed/);
    assert.equal(bob!.text, 'page for user=bob');
    assert.equal(carol!.text, 'page for user=carol');
    assert.equal(nobody!.text, 'page for nobody');
    assert.equal(hits(path), 4, 'alice once; bob, carol and the cookieless request each their own');
  });

  test('issue 13 #4: a waiter never takes a response with Vary: *', async () => {
    backend.handle((_req, res) => {
      answer(() => {
        res.writeHead(200, { 'cache-control': 'max-age=60', vary: '*', 'transfer-encoding': 'chunked' });
        res.end('ok');
      });
    });
    const path = '/star-4';
    const first = request(`${fulcrum.url}${path}`);
    await eventually(() => hits(path) === 1, 5000, 'the leader at the backend');
    const second = request(`${fulcrum.url}${path}`);
    coalescedSoFar += 1;
    await coalescedAtLeast(coalescedSoFar);
    releaseAll();
    const replies = await Promise.all([first, second]);
    assert.ok(replies.every((r) => r.status === 200 && r.text === 'ok'));
    assert.equal(hits(path), 2);
  });
});

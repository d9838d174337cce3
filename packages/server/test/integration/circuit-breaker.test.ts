/**
 * The circuit breaker end to end: a backend at max_connections takes no more; requests beyond wait in the pool's
 * pending queue while it has room, and beyond that get 503 FUL_ERR_CIRCUIT_OPEN at once.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type http from 'node:http';
import { startBackend, type TestBackend } from '../support/backend.ts';
import { pools, request, sample, scrape, type Reply } from '../support/client.ts';
import { eventually } from '../support/eventually.ts';
import { startFulcrum, type InProcessFulcrum } from '../support/fulcrum.ts';

/** A backend that answers only when told to: the requests it holds are its open connections' work. */
async function holdingBackend(name: string): Promise<{ backend: TestBackend; release(): number }> {
  const backend = await startBackend(name);
  const held: http.ServerResponse[] = [];
  backend.handle((_req, res) => void held.push(res));
  return {
    backend,
    release() {
      const n = held.length;
      for (const res of held.splice(0)) res.end(name);
      return n;
    },
  };
}

describe('max_connections 2, max_pending 0', () => {
  let slow: Awaited<ReturnType<typeof holdingBackend>>;
  let fulcrum: InProcessFulcrum;

  before(async () => {
    slow = await holdingBackend('slow');
    fulcrum = await startFulcrum({
      pools: { web: { backends: [{ url: slow.backend.url }], circuit_breaker: { max_connections: 2, max_pending: 0 } } },
    });
  });

  after(async () => {
    slow?.release();
    await fulcrum?.stop();
    await slow?.backend.close();
  });

  test('the third concurrent request gets 503 FUL_ERR_CIRCUIT_OPEN while the first two succeed', async () => {
    const first = request(`${fulcrum.url}/1`);
    const second = request(`${fulcrum.url}/2`);
    await eventually(() => slow.backend.count() === 2, 2000, 'two requests at the backend');
    const third = await request(`${fulcrum.url}/3`);
    assert.equal(third.status, 503);
    assert.match(third.text, /code: FUL_ERR_CIRCUIT_OPEN/);
    assert.equal(slow.release(), 2);
    const answers: Reply[] = await Promise.all([first, second]);
    assert.deepEqual(
      answers.map((r) => [r.status, r.text]),
      [
        [200, 'slow'],
        [200, 'slow'],
      ],
    );
    assert.equal(slow.backend.count(), 2, 'the shed request never reached the backend');
  });

  test('a request shed by the circuit breaker is counted in /metrics with its code', async () => {
    const text = await scrape(fulcrum.adminUrl);
    assert.equal(sample(text, 'fulcrum_proxy_errors_total', { pool: 'web', code: 'FUL_ERR_CIRCUIT_OPEN' }), 1);
  });

  test('once requests finish, the backend takes new ones again', async () => {
    await eventually(async () => (await pools(fulcrum.adminUrl))[0]!.backends[0]!.inFlight === 0, 2000, 'nothing in flight');
    const pending = request(`${fulcrum.url}/4`);
    await eventually(() => slow.backend.count() === 3, 2000, 'the request at the backend');
    slow.release();
    assert.equal((await pending).status, 200);
  });
});

describe('max_connections 2, max_pending 1', () => {
  let slow: Awaited<ReturnType<typeof holdingBackend>>;
  let fulcrum: InProcessFulcrum;

  before(async () => {
    slow = await holdingBackend('slow');
    fulcrum = await startFulcrum({
      pools: { web: { backends: [{ url: slow.backend.url }], circuit_breaker: { max_connections: 2, max_pending: 1 } } },
    });
  });

  after(async () => {
    slow?.release();
    await fulcrum?.stop();
    await slow?.backend.close();
  });

  test('the third concurrent request waits for a connection and succeeds, the fourth gets 503', async () => {
    const inFlight = async () => (await pools(fulcrum.adminUrl))[0]!.backends[0]!.inFlight;
    const first = request(`${fulcrum.url}/1`);
    const second = request(`${fulcrum.url}/2`);
    await eventually(() => slow.backend.count() === 2, 2000, 'two requests at the backend');
    const third = request(`${fulcrum.url}/3`);
    await eventually(async () => (await inFlight()) === 3, 2000, 'the third request queued');
    assert.equal(slow.backend.count(), 2, 'the queued request waits in Fulcrum, not at the backend');

    const fourth = await request(`${fulcrum.url}/4`);
    assert.equal(fourth.status, 503);
    assert.match(fourth.text, /code: FUL_ERR_CIRCUIT_OPEN/);

    assert.equal(slow.release(), 2);
    assert.deepEqual((await Promise.all([first, second])).map((r) => r.status), [200, 200]);
    await eventually(() => slow.backend.count() === 3, 2000, 'the queued request sent');
    assert.equal(slow.release(), 1);
    const answer = await third;
    assert.equal(answer.status, 200);
    assert.equal(answer.text, 'slow');
    assert.equal(slow.backend.count(), 3);
    await eventually(async () => (await inFlight()) === 0, 2000, 'nothing in flight');
  });

  test('a queued request whose client gives up frees its place in the queue', async () => {
    const inFlight = async () => (await pools(fulcrum.adminUrl))[0]!.backends[0]!.inFlight;
    const before = slow.backend.count();
    const first = request(`${fulcrum.url}/1`);
    const second = request(`${fulcrum.url}/2`);
    await eventually(() => slow.backend.count() === before + 2, 2000, 'two requests at the backend');
    const giveUp = new AbortController();
    const abandoned = request(`${fulcrum.url}/abandoned`, { signal: giveUp.signal }).catch((err: Error) => err);
    await eventually(async () => (await inFlight()) === 3, 2000, 'the third request queued');
    giveUp.abort();
    assert.ok((await abandoned) instanceof Error);
    await eventually(async () => (await inFlight()) === 2, 2000, 'the abandoned request out of the queue');

    const queued = request(`${fulcrum.url}/queued`);
    await eventually(async () => (await inFlight()) === 3, 2000, 'a new request queued in its place');
    slow.release();
    await eventually(() => slow.backend.count() === before + 3, 2000, 'the queued request sent');
    slow.release();
    assert.deepEqual((await Promise.all([first, second, queued])).map((r) => r.status), [200, 200, 200]);
    assert.equal(slow.backend.requests.at(-1)!.url, '/queued', 'the abandoned request never reached the backend');
  });
});

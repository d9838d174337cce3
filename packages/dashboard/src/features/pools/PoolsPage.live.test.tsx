/**
 * The pools page under a live stream: figures that move with each tick come from the stream, rendered row by row;
 * GET /api/pools is fetched when the page opens and again only when an event says the pools changed.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { screen, waitFor, within } from '@testing-library/react';
import { http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import { createApi } from '../../lib/api.ts';
import type { BackendState, Counters, FulcrumEvent } from '../../lib/types.ts';
import { backend, counters, pool, sample, snapshot } from '../../test-fixtures.ts';
import { deliver, liveStore, renderLive, tick } from '../../test-live.tsx';
import { renders, resetRenders } from '../../test-renders.ts';
import { PoolsPage } from './PoolsPage.tsx';

const BASE = 'http://admin.test/';
const IDS = ['http://b0', 'http://b1', 'http://b2'];
/** GET /api/pools as the server saw them. */
let fetches = 0;
let b1State: BackendState = 'healthy';
const server = setupServer(
  http.get(`${BASE}api/pools`, () => {
    fetches++;
    return HttpResponse.json([pool('web', [backend(IDS[0]!), backend(IDS[1]!, b1State), backend(IDS[2]!)])]);
  }),
);

beforeAll(() => server.listen({ onUnhandledFrame: 'error' }));
afterEach(() => {
  server.resetHandlers();
  fetches = 0;
  asked = 0;
  b1State = 'healthy';
});
afterAll(() => server.close());

const api = createApi(() => '', BASE);
/** The store's fetches as it asks for them (synchronously: an absent fetch needs no waiting to be seen absent). */
let asked = 0;
const counted = { pools: (signal?: AbortSignal) => (asked++, api.pools(signal)) };

/** Second `n` of even traffic: 10 requests a second to each backend; `change` alters some backends' counters. */
function second(n: number, change: Record<string, Counters> = {}) {
  return sample(n * 1000, snapshot({ ...Object.fromEntries(IDS.map((id) => [id, counters(10 * n)])), ...change }));
}

const row = (id: string) => screen.getByRole('button', { name: new RegExp(`rain ${id}$`) }).closest('tr')!;

async function openPage() {
  const store = liveStore({ api: counted, samples: [second(1), second(2)] });
  renderLive(<PoolsPage api={api} />, store);
  await screen.findByText(IDS[2]!);
  return store;
}

describe('PoolsPage with the live stream', () => {
  test('a tick that changes one backend\'s figures re-renders that row and no other', async () => {
    const store = await openPage();
    resetRenders();
    // Even traffic: every row shows the same figures as before (a third of the traffic each); the pool's request
    // count in the heading moves.
    for (let n = 3; n <= 6; n++) tick(store, second(n));
    expect(IDS.map((id) => renders(`BackendRow:${id}`))).toEqual([0, 0, 0]);
    expect(renders('PoolHeading')).toBe(4);
    expect(renders('PoolTable:web') + renders('PoolsPage')).toBe(0);
    expect(within(screen.getByRole('region', { name: 'pool web' })).getByRole('heading').textContent).toContain('180 requests');

    // b1 answers 5xx to half of its requests in the next second: its error figure changes, nothing else does.
    resetRenders();
    tick(store, second(7, { [IDS[1]!]: counters(70, 5) }));
    expect(IDS.map((id) => renders(`BackendRow:${id}`))).toEqual([0, 1, 0]);
    expect(row(IDS[1]!).textContent).toContain('(7.1 % 5xx)');
    expect(row(IDS[0]!).textContent).toContain('(0.0 % 5xx)');
  });

  test('GET /api/pools is fetched once across ticks, again after a backend-state event, not after a cache purge', async () => {
    const store = await openPage();
    for (let n = 3; n <= 12; n++) tick(store, second(n));
    expect([asked, fetches]).toEqual([1, 1]);

    b1State = 'ejected';
    const ejected: FulcrumEvent = { at: '2026-11-26T10:00:00.000Z', type: 'backend-state', pool: 'web', backend: IDS[1]!, from: 'healthy', to: 'ejected', reason: 'ejected' };
    deliver(store, ejected);
    await waitFor(() => expect(row(IDS[1]!).textContent).toContain('ejected'));
    expect([asked, fetches]).toEqual([2, 2]);

    deliver(store, { at: '2026-11-26T10:00:01.000Z', type: 'cache-purge', kind: 'tag', value: 'red' });
    for (let n = 13; n <= 15; n++) tick(store, second(n));
    expect(asked).toBe(2);
  });
});

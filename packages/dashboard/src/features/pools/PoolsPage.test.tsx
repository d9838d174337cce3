import { afterAll, afterEach, beforeAll, describe, expect, test, vi } from 'vitest';
import { fireEvent, screen, waitFor } from '@testing-library/react';
import { http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import { createApi } from '../../lib/api.ts';
import type { BackendState } from '../../lib/types.ts';
import { backend, pool } from '../../test-fixtures.ts';
import { renderLive } from '../../test-live.tsx';
import { PoolsPage } from './PoolsPage.tsx';

const BASE = 'http://admin.test/';
const drains: Array<{ url: string; auth: string | null }> = [];
const posts: Array<{ url: string; auth: string | null; body: unknown }> = [];
const record = async (request: Request) => posts.push({ url: request.url, auth: request.headers.get('authorization'), body: await request.json() });
let state: BackendState = 'healthy';
const server = setupServer(
  http.get(`${BASE}api/pools`, () => HttpResponse.json([pool('web', [backend('http://b0'), backend('http://b1', state)])])),
  http.post(`${BASE}api/pools/:pool/backends/:id/drain`, ({ request }) => {
    drains.push({ url: request.url, auth: request.headers.get('authorization') });
    state = 'draining';
    return HttpResponse.json({ pool: 'web', backend: 'http://b1', state: 'draining', persisted: false });
  }),
  http.post(`${BASE}api/pools/:pool/backends/:id/weight`, async ({ request }) => {
    await record(request);
    return HttpResponse.json({ pool: 'web', backend: 'http://b1', weight: 7, persisted: false });
  }),
  http.post(`${BASE}api/pools/:pool/algorithm`, async ({ request }) => {
    await record(request);
    return HttpResponse.json({ pool: 'web', algorithm: 'least-connections', persisted: false });
  }),
);

beforeAll(() => server.listen({ onUnhandledFrame: 'error' }));
afterEach(() => {
  server.resetHandlers();
  drains.length = 0;
  posts.length = 0;
  state = 'healthy';
});
afterAll(() => server.close());

const api = createApi(() => 'the-token', BASE);

describe('PoolsPage', () => {
  test('lists each backend of a pool with its state and says runtime changes are not persisted', async () => {
    renderLive(<PoolsPage api={api} />, { api });
    expect(await screen.findByText('http://b1')).toBeTruthy();
    expect(screen.getAllByText('healthy')).toHaveLength(2);
    expect(screen.getByText(/not written to the config file/)).toBeTruthy();
  });

  test('a backend that registered itself is listed like the others, marked registered', async () => {
    server.use(http.get(`${BASE}api/pools`, () => HttpResponse.json([pool('web', [backend('http://b0'), { ...backend('http://b2'), registered: true }])])));
    renderLive(<PoolsPage api={api} />, { api });
    const row = (await screen.findByRole('button', { name: 'Drain http://b2' })).closest('tr')!;
    expect(row.textContent).toContain('registered');
    expect(screen.getAllByText('registered')).toHaveLength(1);
  });

  test('Drain asks for confirmation, then POSTs the drain with the token and shows the new state', async () => {
    const confirm = vi.fn(() => true);
    renderLive(<PoolsPage api={api} confirm={confirm} />, { api });
    fireEvent.click(await screen.findByRole('button', { name: 'Drain http://b1' }));
    expect(confirm).toHaveBeenCalledWith(expect.stringContaining('http://b1'));
    await waitFor(() => expect(drains).toHaveLength(1));
    expect(drains[0]).toEqual({ url: `${BASE}api/pools/web/backends/http%3A%2F%2Fb1/drain`, auth: 'Bearer the-token' });
    expect(await screen.findByText('http://b1 is now draining.')).toBeTruthy();
    expect(await screen.findByRole('button', { name: 'Undrain http://b1' })).toBeTruthy();
  });

  test('a drain that is not confirmed sends nothing', async () => {
    const drain = vi.fn(api.drain);
    renderLive(<PoolsPage api={{ ...api, drain }} confirm={() => false} />, { api });
    fireEvent.click(await screen.findByRole('button', { name: 'Drain http://b1' }));
    expect(drain).not.toHaveBeenCalled();
    expect(screen.getByRole('button', { name: 'Drain http://b1' })).toBeTruthy();
  });

  test('Set posts the typed weight for that backend with the token and shows the new weight', async () => {
    renderLive(<PoolsPage api={api} />, { api });
    const input = await screen.findByRole('spinbutton', { name: 'Weight of http://b1' });
    fireEvent.change(input, { target: { value: '7' } });
    fireEvent.click(screen.getByRole('button', { name: 'Set weight of http://b1' }));
    await waitFor(() => expect(posts).toHaveLength(1));
    expect(posts[0]).toEqual({ url: `${BASE}api/pools/web/backends/http%3A%2F%2Fb1/weight`, auth: 'Bearer the-token', body: { weight: 7 } });
    expect(await screen.findByText('http://b1 now has weight 7.')).toBeTruthy();
  });

  test('a weight outside 1..1000 is refused inline and sends nothing', async () => {
    const setWeight = vi.fn(api.setWeight);
    renderLive(<PoolsPage api={{ ...api, setWeight }} />, { api });
    fireEvent.change(await screen.findByRole('spinbutton', { name: 'Weight of http://b1' }), { target: { value: '1001' } });
    fireEvent.click(screen.getByRole('button', { name: 'Set weight of http://b1' }));
    expect(screen.getByRole('alert').textContent).toContain('from 1 to 1000');
    expect(setWeight).not.toHaveBeenCalled();
  });

  test('a weight the server rejects shows its problems inline in the pool', async () => {
    server.use(
      http.post(`${BASE}api/pools/:pool/backends/:id/weight`, () =>
        HttpResponse.json({ error: { code: 'INVALID', message: 'invalid weight', details: [{ path: 'weight', message: 'must be ≤ 1000' }] } }, { status: 422 }),
      ),
    );
    renderLive(<PoolsPage api={api} />, { api });
    fireEvent.click(await screen.findByRole('button', { name: 'Set weight of http://b0' }));
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('Setting the weight failed: invalid weight');
    expect(alert.textContent).toContain('weight: must be ≤ 1000');
  });

  test('switching the algorithm asks for confirmation, warning of lost affinity, then posts it with the token', async () => {
    const confirm = vi.fn(() => true);
    renderLive(<PoolsPage api={api} confirm={confirm} />, { api });
    fireEvent.change(await screen.findByRole('combobox', { name: 'Algorithm of pool web' }), { target: { value: 'least-connections' } });
    expect(confirm).toHaveBeenCalledWith(expect.stringMatching(/round-robin to least-connections.*affinity/));
    await waitFor(() => expect(posts).toHaveLength(1));
    expect(posts[0]).toEqual({ url: `${BASE}api/pools/web/algorithm`, auth: 'Bearer the-token', body: { algorithm: 'least-connections' } });
    expect(await screen.findByText('Pool web now balances with least-connections.')).toBeTruthy();
  });

  test('an algorithm switch that is not confirmed sends nothing and keeps the select on the current algorithm', async () => {
    const setAlgorithm = vi.fn(api.setAlgorithm);
    renderLive(<PoolsPage api={{ ...api, setAlgorithm }} confirm={() => false} />, { api });
    const select = await screen.findByRole('combobox', { name: 'Algorithm of pool web' });
    fireEvent.change(select, { target: { value: 'sticky' } });
    expect(setAlgorithm).not.toHaveBeenCalled();
    expect((select as HTMLSelectElement).value).toBe('round-robin');
  });

  test('offers every algorithm the server knows', async () => {
    renderLive(<PoolsPage api={api} />, { api });
    const select = await screen.findByRole('combobox', { name: 'Algorithm of pool web' });
    expect([...(select as HTMLSelectElement).options].map((o) => o.value)).toEqual([
      'round-robin',
      'weighted-round-robin',
      'least-connections',
      'random',
      'p2c-ewma',
      'consistent-hash',
      'sticky',
      'least-load',
    ]);
  });
});

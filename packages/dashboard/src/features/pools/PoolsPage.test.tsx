import { afterAll, afterEach, beforeAll, describe, expect, test, vi } from 'vitest';
import { fireEvent, render, screen, waitFor } from '@testing-library/react';
import { http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import { createApi } from '../../lib/api.ts';
import { backend, pool } from '../../test-fixtures.ts';
import { PoolsPage } from './PoolsPage.tsx';

const BASE = 'http://admin.test/';
const drains: Array<{ url: string; auth: string | null }> = [];
let state = 'healthy';
const server = setupServer(
  http.get(`${BASE}api/pools`, () => HttpResponse.json([pool('web', [backend('http://b0'), backend('http://b1', state)])])),
  http.post(`${BASE}api/pools/:pool/backends/:id/drain`, ({ request }) => {
    drains.push({ url: request.url, auth: request.headers.get('authorization') });
    state = 'draining';
    return HttpResponse.json({ pool: 'web', backend: 'http://b1', state: 'draining', persisted: false });
  }),
);

beforeAll(() => server.listen({ onUnhandledFrame: 'error' }));
afterEach(() => {
  server.resetHandlers();
  drains.length = 0;
  state = 'healthy';
});
afterAll(() => server.close());

const api = createApi(() => 'the-token', BASE);

describe('PoolsPage', () => {
  test('lists each backend of a pool with its state and says runtime changes are not persisted', async () => {
    render(<PoolsPage api={api} samples={[]} />);
    expect(await screen.findByText('http://b1')).toBeTruthy();
    expect(screen.getAllByText('healthy')).toHaveLength(2);
    expect(screen.getByText(/not written to the config file/)).toBeTruthy();
  });

  test('Drain asks for confirmation, then POSTs the drain with the token and shows the new state', async () => {
    const confirm = vi.fn(() => true);
    render(<PoolsPage api={api} samples={[]} confirm={confirm} />);
    fireEvent.click(await screen.findByRole('button', { name: 'Drain http://b1' }));
    expect(confirm).toHaveBeenCalledWith(expect.stringContaining('http://b1'));
    await waitFor(() => expect(drains).toHaveLength(1));
    expect(drains[0]).toEqual({ url: `${BASE}api/pools/web/backends/http%3A%2F%2Fb1/drain`, auth: 'Bearer the-token' });
    expect(await screen.findByText('http://b1 is now draining.')).toBeTruthy();
    expect(await screen.findByRole('button', { name: 'Undrain http://b1' })).toBeTruthy();
  });

  test('a drain that is not confirmed sends nothing', async () => {
    const drain = vi.fn(api.drain);
    render(<PoolsPage api={{ ...api, drain }} samples={[]} confirm={() => false} />);
    fireEvent.click(await screen.findByRole('button', { name: 'Drain http://b1' }));
    expect(drain).not.toHaveBeenCalled();
    expect(screen.getByRole('button', { name: 'Drain http://b1' })).toBeTruthy();
  });
});

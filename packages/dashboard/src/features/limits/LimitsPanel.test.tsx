import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { render, screen, within } from '@testing-library/react';
import { http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import { createApi } from '../../lib/api.ts';
import type { LimitsView } from '../../lib/types.ts';
import { fmtLimitRate, LimitsPanel } from './LimitsPanel.tsx';

const BASE = 'http://admin.test/';
const VIEW: LimitsView = {
  store: 'redis',
  fallbacks: 3,
  routes: [
    { name: 'api', route: 0, pool: 'web', match: { path_prefix: '/api/' }, rate: { count: 100, periodSeconds: 60 }, burst: 20, key: 'ip', headers: false, allowed: 950, limited: 42, limitedLastMinute: 7 },
    { name: 'login', route: 1, pool: 'web', match: {}, rate: { count: 5, periodSeconds: 10 }, burst: 5, key: 'header:x-api-key', headers: true, allowed: 12, limited: 0, limitedLastMinute: 0 },
  ],
  connections: { max: 10_000, maxPerIp: 0, open: 12, refused: { maxConnections: 1, maxConnectionsPerIp: 0 } },
};
let answer: LimitsView = VIEW;
const server = setupServer(http.get(`${BASE}api/limits`, () => HttpResponse.json(answer)));

beforeAll(() => server.listen({ onUnhandledFrame: 'error' }));
afterEach(() => {
  server.resetHandlers();
  answer = VIEW;
});
afterAll(() => server.close());

const api = createApi(() => '', BASE);

describe('LimitsPanel', () => {
  test("shows each route's limit with its 429s in the last minute and since start, read from GET /api/limits", async () => {
    render(<LimitsPanel api={api} />);
    const table = await screen.findByRole('table');
    const rows = within(table).getAllByRole('row').slice(1).map((row) => within(row).getAllByRole('cell').map((c) => c.textContent));
    expect(rows).toEqual([
      ['api', 'web', '100 / min', '20', 'ip', '950', '7', '42'],
      ['login', 'web', '5 / 10 s', '5', 'header:x-api-key', '12', '0', '0'],
    ]);
    expect(screen.getByRole('region', { name: 'Rate limits' }).textContent).toContain('3 decisions taken by this instance alone');
  });

  test('shows the connection limits, "none" where unset, and what they refused', async () => {
    render(<LimitsPanel api={api} />);
    const region = await screen.findByRole('region', { name: 'Connection limits' });
    expect(region.textContent).toContain('10000max in all');
    expect(region.textContent).toContain('nonemax per address');
    expect(region.textContent).toContain('1refused: over max');
  });

  test('says so when no route has a rate limit', async () => {
    answer = { ...VIEW, store: 'memory', fallbacks: 0, routes: [] };
    render(<LimitsPanel api={api} />);
    expect(await screen.findByText('No route has a rate limit.')).toBeTruthy();
  });

  test('rates read as configured', () => {
    expect(fmtLimitRate({ count: 100, periodSeconds: 1 })).toBe('100 / s');
    expect(fmtLimitRate({ count: 1000, periodSeconds: 3600 })).toBe('1000 / h');
    expect(fmtLimitRate({ count: 3, periodSeconds: 120 })).toBe('3 / 2 min');
    expect(fmtLimitRate({ count: 10_000, periodSeconds: 86_400 })).toBe('10000 / day');
    expect(fmtLimitRate({ count: 9, periodSeconds: 90 })).toBe('9 / 90 s');
  });
});

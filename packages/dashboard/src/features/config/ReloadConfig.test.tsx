import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { fireEvent, render, screen } from '@testing-library/react';
import { http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import { createApi } from '../../lib/api.ts';
import { ReloadConfig } from './ReloadConfig.tsx';

const BASE = 'http://admin.test/';
const reloads: Array<string | null> = [];
const server = setupServer(
  http.post(`${BASE}api/reload`, ({ request }) => {
    reloads.push(request.headers.get('authorization'));
    return HttpResponse.json({ ok: true });
  }),
);

beforeAll(() => server.listen({ onUnhandledFrame: 'error' }));
afterEach(() => {
  server.resetHandlers();
  reloads.length = 0;
});
afterAll(() => server.close());

const api = createApi(() => 'the-token', BASE);

describe('ReloadConfig', () => {
  test('Reload config posts the reload with the token and says it was applied', async () => {
    render(<ReloadConfig api={api} />);
    fireEvent.click(screen.getByRole('button', { name: 'Reload config' }));
    expect(await screen.findByRole('status')).toBeTruthy();
    expect(screen.getByRole('status').textContent).toContain('Config reloaded');
    expect(reloads).toEqual(['Bearer the-token']);
    expect(screen.queryByRole('alert')).toBeNull();
  });

  test('a rejected config shows "Config rejected" and each problem as path: message', async () => {
    server.use(
      http.post(`${BASE}api/reload`, () =>
        HttpResponse.json(
          {
            error: {
              code: 'CONFIG_INVALID',
              // As the server says it: the first problem restated.
              message: 'config rejected, keeping the running one: pools.web.algorithm: must be one of round-robin, …',
              details: [
                { path: 'pools.web.algorithm', message: 'must be one of round-robin, …' },
                { path: 'listen.port', message: 'must be ≤ 65535' },
              ],
            },
          },
          { status: 422 },
        ),
      ),
    );
    render(<ReloadConfig api={api} />);
    fireEvent.click(screen.getByRole('button', { name: 'Reload config' }));
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('Config rejected: 2 problems in the file. The running config stays.');
    expect(alert.textContent!.split('pools.web.algorithm').length - 1, 'each problem said once').toBe(1);
    const items = [...alert.querySelectorAll('li')].map((li) => li.textContent);
    expect(items).toEqual(['pools.web.algorithm: must be one of round-robin, …', 'listen.port: must be ≤ 65535']);
    expect(screen.queryByRole('status')).toBeNull();
  });

  test('a second reload clears the previous rejection when it succeeds', async () => {
    let bad = true;
    server.use(
      http.post(`${BASE}api/reload`, () =>
        bad ? HttpResponse.json({ error: { code: 'CONFIG_INVALID', message: 'bad', details: [{ path: 'x', message: 'y' }] } }, { status: 422 }) : HttpResponse.json({ ok: true }),
      ),
    );
    render(<ReloadConfig api={api} />);
    fireEvent.click(screen.getByRole('button', { name: 'Reload config' }));
    await screen.findByRole('alert');
    bad = false;
    fireEvent.click(screen.getByRole('button', { name: 'Reload config' }));
    expect((await screen.findByRole('status')).textContent).toContain('Config reloaded');
    expect(screen.queryByRole('alert')).toBeNull();
  });
});

import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import { createApi, type Api } from './api.ts';

const BASE = 'http://admin.test/';
const seen: Array<{ method: string; path: string; contentType: string | null; authorization: string | null }> = [];
const record = ({ request }: { request: Request }) => {
  seen.push({
    method: request.method,
    path: new URL(request.url).pathname,
    contentType: request.headers.get('content-type'),
    authorization: request.headers.get('authorization'),
  });
  return HttpResponse.json(request.method === 'GET' ? [] : { ok: true });
};
const server = setupServer(http.get(`${BASE}*`, record), http.post(`${BASE}*`, record));

beforeAll(() => server.listen({ onUnhandledFrame: 'error' }));
afterEach(() => {
  server.resetHandlers();
  seen.length = 0;
});
afterAll(() => server.close());

const api = createApi(() => 'the-token', BASE);

/** Every mutation of the client, those without a body included. */
const MUTATIONS: Record<string, (api: Api) => Promise<unknown>> = {
  drain: (a) => a.drain('web', 'http://127.0.0.1:1'),
  undrain: (a) => a.undrain('web', 'http://127.0.0.1:1'),
  setWeight: (a) => a.setWeight('web', 'http://127.0.0.1:1', 3),
  setAlgorithm: (a) => a.setAlgorithm('web', 'least-connections'),
  reloadConfig: (a) => a.reloadConfig(),
  purge: (a) => a.purge('tag', 'product-3'),
};

describe('createApi', () => {
  test('issue 13 #9: every mutation, with a body or without, is sent as application/json with the token', async () => {
    for (const [name, call] of Object.entries(MUTATIONS)) {
      await call(api);
      const last = seen.at(-1)!;
      expect(last.method, name).toBe('POST');
      expect(last.contentType, name).toBe('application/json');
      expect(last.authorization, name).toBe('Bearer the-token');
    }
    expect(seen).toHaveLength(Object.keys(MUTATIONS).length);
  });

  test('reads send no Content-Type and no token', async () => {
    await api.pools();
    await api.events();
    expect(seen.map((s) => [s.contentType, s.authorization])).toEqual([
      [null, null],
      [null, null],
    ]);
  });
});

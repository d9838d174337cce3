/**
 * The one client of the admin API: fetch, relative to the page (the admin listener serves both), with the admin
 * token as a bearer token on mutations. Errors carry the API's `{ error: { code, message } }`.
 */
import type { FulcrumEvent, PoolView } from './types.ts';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export type PurgeKind = 'url' | 'prefix' | 'tag';

export interface Api {
  pools(signal?: AbortSignal): Promise<PoolView[]>;
  events(signal?: AbortSignal): Promise<FulcrumEvent[]>;
  drain(pool: string, backend: string): Promise<{ state: string; persisted: boolean }>;
  undrain(pool: string, backend: string): Promise<{ state: string; persisted: boolean }>;
  purge(kind: PurgeKind, value: string): Promise<unknown>;
}

export function createApi(getToken: () => string, base: string = document.baseURI): Api {
  async function call<T>(method: 'GET' | 'POST', path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    const token = getToken();
    if (method === 'POST' && token !== '') headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(new URL(path, base), { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal });
    const data: unknown = await res.json().catch(() => undefined);
    if (!res.ok) {
      const err = (data as { error?: { code?: string; message?: string } } | undefined)?.error;
      throw new ApiError(res.status, err?.code ?? 'HTTP', err?.message ?? `${method} ${path}: ${res.status}`);
    }
    return data as T;
  }
  const backendPath = (pool: string, backend: string, action: string) =>
    `api/pools/${encodeURIComponent(pool)}/backends/${encodeURIComponent(backend)}/${action}`;
  return {
    pools: (signal) => call('GET', 'api/pools', undefined, signal),
    events: (signal) => call('GET', 'api/events', undefined, signal),
    drain: (pool, backend) => call('POST', backendPath(pool, backend, 'drain')),
    undrain: (pool, backend) => call('POST', backendPath(pool, backend, 'undrain')),
    purge: (kind, value) => call('POST', 'api/cache/purge', { [kind]: value }),
  };
}

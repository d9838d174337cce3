/**
 * The one client of the admin API: fetch, relative to the page (the admin listener serves both), with the admin
 * token as a bearer token and `Content-Type: application/json` on every mutation. Errors carry the API's `{ error: { code, message, details } }`.
 */
import type { Algorithm, FulcrumEvent, LimitsView, PoolView } from './types.ts';

/** One problem of an invalid input or config, by path (`pools.web.backends[0].url`). */
export interface Problem {
  path: string;
  message: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: readonly Problem[] = [],
  ) {
    super(message);
  }
}

/** What a runtime change answers: never written to the config file. */
export interface RuntimeReply {
  pool: string;
  persisted: false;
}

export type PurgeKind = 'url' | 'prefix' | 'tag';

export interface Api {
  pools(signal?: AbortSignal): Promise<PoolView[]>;
  events(signal?: AbortSignal): Promise<FulcrumEvent[]>;
  /** GET /api/limits: each route's rate limit and its 429s, and the connection limits. */
  limits(signal?: AbortSignal): Promise<LimitsView>;
  drain(pool: string, backend: string): Promise<{ state: string; persisted: boolean }>;
  undrain(pool: string, backend: string): Promise<{ state: string; persisted: boolean }>;
  setWeight(pool: string, backend: string, weight: number): Promise<RuntimeReply & { backend: string; weight: number }>;
  setAlgorithm(pool: string, algorithm: Algorithm): Promise<RuntimeReply & { algorithm: Algorithm }>;
  /** POST /api/reload: re-reads the config file; a bad one throws an ApiError (422) with every problem. */
  reloadConfig(): Promise<{ ok: boolean }>;
  purge(kind: PurgeKind, value: string): Promise<unknown>;
}

export function createApi(getToken: () => string, base: string = document.baseURI): Api {
  async function call<T>(method: 'GET' | 'POST', path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    const token = getToken();
    if (method === 'POST' && token !== '') headers.authorization = `Bearer ${token}`;
    // The admin listener takes a mutation only as JSON, with a body or without one (its CSRF defence: a page
    // elsewhere cannot send this type without a CORS preflight, which it never grants).
    if (method !== 'GET') headers['content-type'] = 'application/json';
    const res = await fetch(new URL(path, base), { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal });
    const data: unknown = await res.json().catch(() => undefined);
    if (!res.ok) {
      const err = (data as { error?: { code?: string; message?: string; details?: Problem[] } } | undefined)?.error;
      const details = Array.isArray(err?.details) ? err.details : [];
      throw new ApiError(res.status, err?.code ?? 'HTTP', err?.message ?? `${method} ${path}: ${res.status}`, details);
    }
    return data as T;
  }
  const backendPath = (pool: string, backend: string, action: string) =>
    `api/pools/${encodeURIComponent(pool)}/backends/${encodeURIComponent(backend)}/${action}`;
  return {
    pools: (signal) => call('GET', 'api/pools', undefined, signal),
    events: (signal) => call('GET', 'api/events', undefined, signal),
    limits: (signal) => call('GET', 'api/limits', undefined, signal),
    drain: (pool, backend) => call('POST', backendPath(pool, backend, 'drain')),
    undrain: (pool, backend) => call('POST', backendPath(pool, backend, 'undrain')),
    setWeight: (pool, backend, weight) => call('POST', backendPath(pool, backend, 'weight'), { weight }),
    setAlgorithm: (pool, algorithm) => call('POST', `api/pools/${encodeURIComponent(pool)}/algorithm`, { algorithm }),
    reloadConfig: () => call('POST', 'api/reload'),
    purge: (kind, value) => call('POST', 'api/cache/purge', { [kind]: value }),
  };
}

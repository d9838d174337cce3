import { useCallback, useState } from 'react';

const KEY = 'fulcrum.adminToken';

/** The token as last set: what the API client sends (read per request, so a new token needs no new client). */
export function storedToken(): string {
  return sessionStorage.getItem(KEY) ?? '';
}

/** The admin token typed by the operator, kept for this tab only (sessionStorage), never in the URL. */
export function useToken(): [string, (token: string) => void] {
  const [token, setTokenState] = useState(storedToken);
  const setToken = useCallback((next: string) => {
    if (next === '') sessionStorage.removeItem(KEY);
    else sessionStorage.setItem(KEY, next);
    setTokenState(next);
  }, []);
  return [token, setToken];
}

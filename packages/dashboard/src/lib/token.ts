import { useCallback, useState } from 'react';

const KEY = 'fulcrum.adminToken';

/** The admin token typed by the operator, kept for this tab only (sessionStorage), never in the URL. */
export function useToken(): [string, (token: string) => void] {
  const [token, setTokenState] = useState(() => sessionStorage.getItem(KEY) ?? '');
  const setToken = useCallback((next: string) => {
    if (next === '') sessionStorage.removeItem(KEY);
    else sessionStorage.setItem(KEY, next);
    setTokenState(next);
  }, []);
  return [token, setToken];
}

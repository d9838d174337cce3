import { useCallback, useEffect, useState } from 'react';
import type { Api } from '../../lib/api.ts';
import type { PoolView } from '../../lib/types.ts';

export interface PoolsState {
  pools: PoolView[] | undefined;
  error: string | undefined;
  reload(): void;
}

/** GET /api/pools, again whenever `tick` changes (the page passes the time of the latest statistics sample). */
export function usePools(api: Api, tick: unknown): PoolsState {
  const [pools, setPools] = useState<PoolView[] | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [nonce, setNonce] = useState(0);
  useEffect(() => {
    const ctl = new AbortController();
    api.pools(ctl.signal).then(
      (p) => {
        setPools(p);
        setError(undefined);
      },
      (e: unknown) => {
        if (!ctl.signal.aborted) setError(e instanceof Error ? e.message : String(e));
      },
    );
    return () => ctl.abort();
  }, [api, tick, nonce]);
  const reload = useCallback(() => setNonce((n) => n + 1), []);
  return { pools, error, reload };
}

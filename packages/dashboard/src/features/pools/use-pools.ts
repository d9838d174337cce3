import { useEffect } from 'react';
import { selectPools, useLive, useLiveStore } from '../../lib/live-context.ts';
import type { PoolsSlice } from '../../lib/live-store.ts';

/** The pools as GET /api/pools last answered, kept fresh by the live store while the component is mounted. */
export function usePools(): PoolsSlice {
  const store = useLiveStore();
  useEffect(() => store.watchPools(), [store]);
  return useLive(selectPools);
}

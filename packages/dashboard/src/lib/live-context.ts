/** The live store as React context, and the hooks through which components read their slice of it. */
import { createContext, useContext } from 'react';
import type { LiveState, LiveStore } from './live-store.ts';
import { useSelector } from './store.ts';

export const LiveContext = createContext<LiveStore | undefined>(undefined);

export function useLiveStore(): LiveStore {
  const store = useContext(LiveContext);
  if (store === undefined) throw new Error('useLiveStore: no LiveContext above this component');
  return store;
}

/** A slice of the live state; the component re-renders only when `equal` says the slice changed. */
export function useLive<T>(select: (state: LiveState) => T, equal?: (a: T, b: T) => boolean): T {
  return useSelector(useLiveStore(), select, equal);
}

export const selectSamples = (s: LiveState) => s.samples;
export const selectEvents = (s: LiveState) => s.events;
export const selectStatus = (s: LiveState) => s.status;
export const selectPools = (s: LiveState) => s.pools;

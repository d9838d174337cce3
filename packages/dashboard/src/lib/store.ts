/**
 * A small external store, read with useSyncExternalStore. Its state is replaced, never mutated, and each change
 * notifies once. Components read slices through selectors and re-render only when their slice changes: a slice is
 * compared with `Object.is`, or with `shallowEqual` when the selector builds a new object from the state.
 */
import { useMemo, useSyncExternalStore } from 'react';

export interface ReadableStore<S> {
  get(): S;
  subscribe(listener: () => void): () => void;
}

export class Store<S> implements ReadableStore<S> {
  private readonly listeners = new Set<() => void>();

  constructor(private state: S) {}

  readonly get = (): S => this.state;

  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  };

  /** Replaces the state and notifies every subscriber; the same state again notifies no one. */
  protected set(next: S): void {
    if (next === this.state) return;
    this.state = next;
    for (const listener of this.listeners) listener();
  }
}

/** Equal when both hold the same keys with `Object.is`-equal values. */
export function shallowEqual<T>(a: T, b: T): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((k) => Object.hasOwn(b, k) && Object.is((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/**
 * A getSnapshot for useSyncExternalStore: the slice `select` takes from the store, kept as the same reference
 * while `equal` says it did not change (the same state always answers the same value, as React requires).
 */
function selection<S, T>(store: ReadableStore<S>, select: (state: S) => T, equal: (a: T, b: T) => boolean): () => T {
  let last: { state: S; value: T } | undefined;
  return () => {
    const state = store.get();
    if (last !== undefined && last.state === state) return last.value;
    const next = select(state);
    last = { state, value: last !== undefined && equal(last.value, next) ? last.value : next };
    return last.value;
  };
}

/**
 * A slice of the store; the component re-renders only when `equal` says the slice changed (useSyncExternalStore
 * compares snapshots with `Object.is`, and the same reference skips the render). Give a selector that builds an
 * object a stable identity (useCallback): a new selector starts afresh.
 */
export function useSelector<S, T>(store: ReadableStore<S>, select: (state: S) => T, equal: (a: T, b: T) => boolean = Object.is): T {
  const getSnapshot = useMemo(() => selection(store, select, equal), [store, select, equal]);
  return useSyncExternalStore(store.subscribe, getSnapshot);
}

/**
 * Times each live update: from the store's change to the end of the commit it caused. React renders an update of
 * an external store synchronously (in a microtask of the same task), then runs its effects, a chart's redraw among
 * them. One `fulcrum:update` performance measure per update, for the end-to-end tests' PerformanceObserver; the
 * buffer is cleared at once, so that a page left open for days keeps no entries. Rendered after the views, so that
 * its effect runs after theirs.
 */
import { useEffect, useRef } from 'react';
import type { LiveStore } from './live-store.ts';
import { useSelector } from './store.ts';

export const UPDATE_MEASURE = 'fulcrum:update';

const everything = <S>(s: S): S => s;

export function UpdateTiming({ store }: { store: LiveStore }) {
  const state = useSelector(store, everything);
  /** When the first change not yet committed came (performance.now()). */
  const since = useRef<number | undefined>(undefined);
  useEffect(() => store.subscribe(() => void (since.current ??= performance.now())), [store]);
  useEffect(() => {
    if (since.current === undefined) return;
    performance.measure(UPDATE_MEASURE, { start: since.current, end: performance.now() });
    performance.clearMeasures(UPDATE_MEASURE);
    since.current = undefined;
  }, [state]);
  return null;
}

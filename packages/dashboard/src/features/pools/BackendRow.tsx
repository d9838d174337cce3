/** One backend's row: state, weight (settable), share of traffic, in-flight, latency, errors, Drain/Undrain. */
import { memo, useCallback } from 'react';
import { useLive } from '../../lib/live-context.ts';
import type { LiveState } from '../../lib/live-store.ts';
import { shallowEqual } from '../../lib/store.ts';
import type { Algorithm, BackendView } from '../../lib/types.ts';
import { rowFigures } from './figures.ts';
import { WeightControl } from './WeightControl.tsx';

/** What the pools page does for its tables; the same object across renders, so that memoized rows stay put. */
export interface PoolActions {
  drain(pool: string, backend: string): void;
  undrain(pool: string, backend: string): void;
  setWeight(pool: string, backend: string, weight: number): void;
  setAlgorithm(pool: string, from: string, to: Algorithm): void;
}

export interface BackendRowProps {
  pool: string;
  /** From GET /api/pools: the same object until the pools are fetched again. */
  backend: BackendView;
  busy: boolean;
  actions: PoolActions;
}

/** Memo, and the live figures through a selector: a tick re-renders the row only when what it shows changed. */
export const BackendRow = memo(function BackendRow({ pool, backend: b, busy, actions }: BackendRowProps) {
  const select = useCallback((s: LiveState) => rowFigures(s, pool, b), [pool, b]);
  const figures = useLive(select, shallowEqual);
  const setWeight = useCallback((w: number) => actions.setWeight(pool, b.id, w), [actions, pool, b.id]);
  const draining = b.state === 'draining';
  return (
    <tr data-backend={b.id}>
      <td className="mono">
        {b.id}
        {b.registered && (
          <span className="registered" title="Registered itself through the admin API: removed when its heartbeats stop">
            registered
          </span>
        )}
      </td>
      <td>
        <span className={`state state-${b.state}`}>{b.state}</span>
      </td>
      <td>
        <WeightControl backend={b.id} weight={b.weight} busy={busy} onSet={setWeight} />
      </td>
      <td>{figures.share}</td>
      <td>{figures.inFlight}</td>
      <td>{figures.latency}</td>
      <td>{figures.errors}</td>
      <td>
        <button
          type="button"
          disabled={busy}
          onClick={() => (draining ? actions.undrain(pool, b.id) : actions.drain(pool, b.id))}
          aria-label={`${draining ? 'Undrain' : 'Drain'} ${b.id}`}
        >
          {draining ? 'Undrain' : 'Drain'}
        </button>
      </td>
    </tr>
  );
});

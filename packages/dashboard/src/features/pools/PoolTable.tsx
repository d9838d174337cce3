/** One pool's backends (a row each) and the pool's algorithm (switchable), with the outcome of the last change to
 * this pool shown inline. */
import { memo, useCallback } from 'react';
import { useLive } from '../../lib/live-context.ts';
import type { LiveState } from '../../lib/live-store.ts';
import type { PoolView } from '../../lib/types.ts';
import { AlgorithmSelect } from './AlgorithmSelect.tsx';
import { BackendRow, type PoolActions } from './BackendRow.tsx';
import { poolSummary } from './figures.ts';

/** The outcome of the last runtime change, shown in its pool's card. */
export interface Note {
  pool: string;
  ok: boolean;
  text: string;
  details?: readonly string[];
}

export interface PoolTableProps {
  /** From GET /api/pools: the same object until the pools are fetched again. */
  pool: PoolView;
  /** The backend id or pool name whose change is under way. */
  busy: string | undefined;
  actions: PoolActions;
  /** The last change's outcome, when it was to this pool. */
  note?: Note | undefined;
}

/** Memo: re-rendered when its pool is fetched again or a change starts or ends, not on statistics ticks. */
export const PoolTable = memo(function PoolTable({ pool, busy, actions, note }: PoolTableProps) {
  return (
    <section className="card" aria-label={`pool ${pool.name}`}>
      <PoolHeading pool={pool} />
      <AlgorithmSelect pool={pool.name} algorithm={pool.algorithm} busy={busy === pool.name} onSwitch={(to) => actions.setAlgorithm(pool.name, pool.algorithm, to)} />
      {note && <NoteLine note={note} />}
      {pool.backends.length === 0 ? (
        <p className="empty">No backends in this pool.</p>
      ) : (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th>Backend</th>
                <th>State</th>
                <th>Weight</th>
                <th>Share</th>
                <th>In flight</th>
                <th>p50 / p99</th>
                <th>Errors</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {pool.backends.map((b) => (
                <BackendRow key={b.id} pool={pool.name} backend={b} busy={busy === b.id} actions={actions} />
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
});

/** The pool's name, algorithm, requests and error rate: the part of the card that moves with each tick. */
function PoolHeading({ pool }: { pool: PoolView }) {
  const select = useCallback((s: LiveState) => poolSummary(s, pool), [pool]);
  const summary = useLive(select);
  return (
    <h2>
      {pool.name} <small>{summary}</small>
    </h2>
  );
}

function NoteLine({ note }: { note: Note }) {
  return (
    <div className={note.ok ? 'ok' : 'error'} role={note.ok ? 'status' : 'alert'}>
      {note.text}
      {note.details && note.details.length > 0 && (
        <ul>
          {note.details.map((d) => (
            <li key={d}>{d}</li>
          ))}
        </ul>
      )}
    </div>
  );
}

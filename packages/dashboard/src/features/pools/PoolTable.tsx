/** One pool's backends: state, weight (settable), share of traffic, in-flight, latency, errors, Drain/Undrain; and
 * the pool's algorithm (switchable), with the outcome of the last change to this pool shown inline. */
import { fmtMs, fmtPct } from '../../lib/format.ts';
import type { Algorithm, PoolView } from '../../lib/types.ts';
import { AlgorithmSelect } from './AlgorithmSelect.tsx';
import { WeightControl } from './WeightControl.tsx';

/** The outcome of the last runtime change, shown in its pool's card. */
export interface Note {
  pool: string;
  ok: boolean;
  text: string;
  details?: readonly string[];
}

export interface PoolTableProps {
  pool: PoolView;
  /** Share of the pool's recent requests per backend id (0..1), when there was traffic. */
  shares: Record<string, number> | undefined;
  busy: string | undefined;
  onDrain(pool: string, backend: string): void;
  onUndrain(pool: string, backend: string): void;
  onWeight(pool: string, backend: string, weight: number): void;
  onAlgorithm(pool: string, algorithm: Algorithm): void;
  /** The last change's outcome, when it was to this pool. */
  note?: Note | undefined;
}

export function PoolTable({ pool, shares, busy, onDrain, onUndrain, onWeight, onAlgorithm, note }: PoolTableProps) {
  return (
    <section className="card" aria-label={`pool ${pool.name}`}>
      <h2>
        {pool.name} <small>{pool.algorithm} · {pool.requests} requests · errors {fmtPct(pool.errorRate)}</small>
      </h2>
      <AlgorithmSelect pool={pool.name} algorithm={pool.algorithm} busy={busy === pool.name} onSwitch={(a) => onAlgorithm(pool.name, a)} />
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
              {pool.backends.map((b) => {
                const errors = Object.values(b.errors).reduce((a, n) => a + n, 0);
                const draining = b.state === 'draining';
                return (
                  <tr key={b.id} data-backend={b.id}>
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
                      <WeightControl backend={b.id} weight={b.weight} busy={busy === b.id} onSet={(w) => onWeight(pool.name, b.id, w)} />
                    </td>
                    <td>{shares?.[b.id] === undefined ? '—' : fmtPct(shares[b.id])}</td>
                    <td>{b.inFlight}</td>
                    <td>
                      {fmtMs(b.latencyMs.p50)} / {fmtMs(b.latencyMs.p99)}
                    </td>
                    <td>
                      {errors} ({fmtPct(b.errorRate)} 5xx)
                    </td>
                    <td>
                      <button
                        type="button"
                        disabled={busy === b.id}
                        onClick={() => (draining ? onUndrain(pool.name, b.id) : onDrain(pool.name, b.id))}
                        aria-label={`${draining ? 'Undrain' : 'Drain'} ${b.id}`}
                      >
                        {draining ? 'Undrain' : 'Drain'}
                      </button>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </section>
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

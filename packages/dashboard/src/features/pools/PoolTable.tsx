/** One pool's backends: state, weight, share of traffic, in-flight, latency, errors, and Drain/Undrain. */
import { fmtMs, fmtPct } from '../../lib/format.ts';
import type { PoolView } from '../../lib/types.ts';

export interface PoolTableProps {
  pool: PoolView;
  /** Share of the pool's recent requests per backend id (0..1), when there was traffic. */
  shares: Record<string, number> | undefined;
  busy: string | undefined;
  onDrain(pool: string, backend: string): void;
  onUndrain(pool: string, backend: string): void;
}

export function PoolTable({ pool, shares, busy, onDrain, onUndrain }: PoolTableProps) {
  return (
    <section className="card" aria-label={`pool ${pool.name}`}>
      <h2>
        {pool.name} <small>{pool.algorithm} · {pool.requests} requests · errors {fmtPct(pool.errorRate)}</small>
      </h2>
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
                    <td className="mono">{b.id}</td>
                    <td>
                      <span className={`state state-${b.state}`}>{b.state}</span>
                    </td>
                    <td>{b.weight}</td>
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

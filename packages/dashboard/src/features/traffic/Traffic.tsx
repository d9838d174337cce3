/** Where requests go right now: each backend's share of its pool over the last seconds, as bars. */
import { useMemo } from 'react';
import { Empty } from '../../components/States.tsx';
import { fmtPct } from '../../lib/format.ts';
import { selectSamples, useLive } from '../../lib/live-context.ts';
import { backendShares } from '../../lib/rates.ts';

const WINDOW = 5;

export function Traffic() {
  const samples = useLive(selectSamples);
  const shares = useMemo(() => backendShares(samples, WINDOW), [samples]);
  if (samples.length < 2) return <Empty>Waiting for two statistics snapshots…</Empty>;
  const pools = Object.entries(shares);
  if (pools.length === 0) return <Empty>No requests in the last {WINDOW} seconds.</Empty>;
  return (
    <section aria-label="Traffic">
      <p className="note">Share of each pool's requests in the last {WINDOW} seconds.</p>
      {pools.map(([pool, byId]) => (
        <div className="card" key={pool}>
          <h2>{pool}</h2>
          <ul className="bars">
            {Object.entries(byId).map(([id, share]) => (
              <li key={id}>
                <span className="mono bar-label">{id}</span>
                <span className="bar">
                  <span className="bar-fill" style={{ width: `${(share * 100).toFixed(1)}%` }} />
                </span>
                <span className="bar-value">{fmtPct(share)}</span>
              </li>
            ))}
          </ul>
        </div>
      ))}
    </section>
  );
}

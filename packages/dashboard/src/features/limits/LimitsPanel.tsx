/**
 * Rate and connection limits, from GET /api/limits (polled: the live stream carries no limits view): each route's
 * rate, burst and key, its 429s in the last minute and since start; the connection limits and what they refused.
 */
import { useEffect, useState } from 'react';
import { Stat } from '../../components/Stat.tsx';
import { Empty, ErrorNote, Loading } from '../../components/States.tsx';
import type { Api } from '../../lib/api.ts';
import type { LimitsView, RouteLimitView } from '../../lib/types.ts';

const POLL_MS = 2000;

function useLimits(api: Api, intervalMs: number): { view: LimitsView | undefined; error: string | undefined } {
  const [view, setView] = useState<LimitsView>();
  const [error, setError] = useState<string>();
  useEffect(() => {
    const aborts = new AbortController();
    const load = () =>
      api.limits(aborts.signal).then(
        (v) => (setView(v), setError(undefined)),
        (err: unknown) => aborts.signal.aborted || setError(err instanceof Error ? err.message : String(err)),
      );
    void load();
    const timer = setInterval(() => void load(), intervalMs);
    return () => {
      clearInterval(timer);
      aborts.abort();
    };
  }, [api, intervalMs]);
  return { view, error };
}

/** "100 / min", "5 / 10 s": the rate as configured. */
export function fmtLimitRate({ count, periodSeconds }: RouteLimitView['rate']): string {
  const units: Array<[number, string]> = [[86_400, 'day'], [3600, 'h'], [60, 'min'], [1, 's']];
  for (const [s, unit] of units) {
    if (periodSeconds % s !== 0) continue;
    const n = periodSeconds / s;
    return `${count} / ${n === 1 ? '' : `${n} `}${unit}`;
  }
  return `${count} / ${periodSeconds} s`;
}

const limitText = (n: number) => (n === 0 ? 'none' : String(n));

export function LimitsPanel({ api, intervalMs = POLL_MS }: { api: Api; intervalMs?: number }) {
  const { view, error } = useLimits(api, intervalMs);
  if (view === undefined) return error === undefined ? <Loading what="limits" /> : <ErrorNote>Could not load the limits: {error}</ErrorNote>;
  const { connections } = view;
  return (
    <section aria-label="Limits">
      {error !== undefined && <ErrorNote>Could not refresh the limits: {error}</ErrorNote>}
      <div className="card" role="region" aria-label="Rate limits">
        <h2>
          Rate limits <small>counters in {view.store === 'redis' ? 'Redis, shared by the instances' : "this instance's memory"}</small>
        </h2>
        {view.store === 'redis' && view.fallbacks > 0 && (
          <p className="error">{view.fallbacks} decisions taken by this instance alone while Redis did not answer.</p>
        )}
        {view.routes.length === 0 ? (
          <Empty>No route has a rate limit.</Empty>
        ) : (
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th>Policy</th>
                  <th>Pool</th>
                  <th>Rate</th>
                  <th>Burst</th>
                  <th>Key</th>
                  <th>Allowed</th>
                  <th>429 last minute</th>
                  <th>429 total</th>
                </tr>
              </thead>
              <tbody>
                {view.routes.map((r) => (
                  <tr key={r.name}>
                    <td>{r.name}</td>
                    <td>{r.pool}</td>
                    <td>{fmtLimitRate(r.rate)}</td>
                    <td>{r.burst}</td>
                    <td>{r.key}</td>
                    <td>{r.allowed}</td>
                    <td className={r.limitedLastMinute > 0 ? 'error' : undefined}>{r.limitedLastMinute}</td>
                    <td>{r.limited}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </div>
      <div className="card" role="region" aria-label="Connection limits">
        <h2>Connections</h2>
        <div className="stats">
          <Stat label="open" value={String(connections.open)} />
          <Stat label="max in all" value={limitText(connections.max)} />
          <Stat label="max per address" value={limitText(connections.maxPerIp)} />
          <Stat label="refused: over max" value={String(connections.refused.maxConnections)} />
          <Stat label="refused: over per address" value={String(connections.refused.maxConnectionsPerIp)} />
        </div>
      </div>
    </section>
  );
}

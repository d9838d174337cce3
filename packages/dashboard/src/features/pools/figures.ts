/**
 * What the pools page shows that moves with every tick, taken from the live stream's latest snapshot with the
 * server's own helpers, so that it matches what GET /api/pools would answer without fetching it each second.
 * Display strings: a row or heading re-renders only when what it shows changes. Before the first snapshot that
 * holds the pool or backend, the fetched view's figures.
 */
import { errorRate, latencyFigures } from '../../lib/server-api.ts';
import { fmtMs, fmtPct } from '../../lib/format.ts';
import type { LiveState } from '../../lib/live-store.ts';
import { backendShares } from '../../lib/rates.ts';
import type { BackendView, Counters, PoolView, Sample } from '../../lib/types.ts';

export interface RowFigures {
  /** Share of the pool's requests over the last few seconds. */
  share: string;
  inFlight: string;
  latency: string;
  errors: string;
}

/** `fn` remembering its last argument and answer: every row of a tick asks with the same samples array. */
function lastOf<A, R>(fn: (a: A) => R): (a: A) => R {
  let last: { arg: A; result: R } | undefined;
  return (arg) => {
    if (last === undefined || last.arg !== arg) last = { arg, result: fn(arg) };
    return last.result;
  };
}

const sharesOf = lastOf((samples: readonly Sample[]) => backendShares(samples));

const countersOf = (s: LiveState, pool: string): Sample['stats']['pools'][string] | undefined => s.samples.at(-1)?.stats.pools[pool];

const sum = (errors: Record<string, number>) => Object.values(errors).reduce((a, n) => a + n, 0);

export function rowFigures(s: LiveState, pool: string, b: BackendView): RowFigures {
  const c: Counters | undefined = countersOf(s, pool)?.backends[b.id];
  const share = sharesOf(s.samples)[pool]?.[b.id];
  const latency = c ? latencyFigures(c) : b.latencyMs;
  return {
    share: share === undefined ? '—' : fmtPct(share),
    inFlight: String(c ? c.inFlight : b.inFlight),
    latency: `${fmtMs(latency.p50)} / ${fmtMs(latency.p99)}`,
    errors: `${sum(c ? c.errors : b.errors)} (${fmtPct(c ? errorRate(c) : b.errorRate)} 5xx)`,
  };
}

/** The pool's heading line after its name: algorithm, requests, error rate. */
export function poolSummary(s: LiveState, pool: PoolView): string {
  const c = countersOf(s, pool.name);
  return `${pool.algorithm} · ${c ? c.requests : pool.requests} requests · errors ${fmtPct(c ? errorRate(c) : pool.errorRate)}`;
}

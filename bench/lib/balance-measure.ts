/**
 * The two ways `npm run bench:balance` loads a target, in interleaved rounds (round 1 runs every target, then
 * round 2, so that noise spreads evenly), and how each run is summed up in a table row:
 * - closed loop: wrk, each connection sending its next request when the answer is in (users at saturation);
 *   medians of the rounds. wrk reads no headers, so each backend's share comes from its own request counter.
 * - open loop: lib/steady-load.ts at a fixed rate; percentiles over every request of every round.
 */
import { servedCounts, type StartedBackend } from './balance-targets.ts';
import type { ProcessGroup } from './processes.ts';
import { median, percentile, ratio } from './stats.ts';
import { steadyLoad, type SteadyLoadOptions } from './steady-load.ts';
import { fmtInt, fmtMs, fmtPercent } from './table.ts';
import { ensureAnswering, type Target } from './targets.ts';
import { runWrk } from './wrk.ts';

/** One run of one target. */
export interface Run {
  readonly requestsPerSec: number;
  readonly p50Ms: number | undefined;
  readonly p99Ms: number | undefined;
  /** Requests the client made (closed loop) or that fell due (open loop). */
  readonly requests: number;
  /** Answers that were not 2xx/3xx, socket errors, timeouts, requests left unanswered. */
  readonly errors: number;
  /** Requests each backend served during the run: retries included. */
  readonly byBackend: Readonly<Record<string, number>>;
  readonly errorKinds: Readonly<Record<string, number>>;
  /** Open loop only: every latency of the run, ascending. */
  readonly latenciesMs?: Float64Array;
}

export interface Row {
  readonly target: Target;
  readonly runs: readonly Run[];
  readonly requestsPerSec: number | undefined;
  readonly p50Ms: number | undefined;
  readonly p99Ms: number | undefined;
  /** Share of the backends' requests that went to the backend the scenario watches. */
  readonly watchedShare: number | undefined;
  readonly errorRate: number | undefined;
  readonly errorKinds: Readonly<Record<string, number>>;
}

export interface ClosedLoop {
  readonly kind: 'closed';
  readonly wrk: string;
  readonly connections: number;
  readonly durationSec: number;
  readonly warmupSec: number;
}

export interface OpenLoop {
  readonly kind: 'open';
  readonly load: Omit<SteadyLoadOptions, 'origin'>;
}

export type Load = ClosedLoop | OpenLoop;

/** Interleaved rounds over the live targets; each target's runs. */
export async function measure(
  group: ProcessGroup,
  live: readonly Target[],
  backends: readonly StartedBackend[],
  load: Load,
  rounds: number,
  watched: string,
  path: string,
): Promise<Map<Target, Run[]>> {
  const once = (url: string, durationSec = 0) => (load.kind === 'closed' ? closedRun(group, load, backends, url + path, durationSec) : openRun(load, url));
  if (load.kind === 'closed') {
    // Warm-up: the JIT, the connections, and what a latency-aware balancer learns before it is measured.
    for (const t of live) if (await ensureAnswering(t, 'before the warm-up')) await once(t.url!, load.warmupSec).catch(() => {});
  }
  const results = new Map<Target, Run[]>(live.map((t) => [t, []]));
  for (let round = 1; round <= rounds; round++) {
    for (const t of live) {
      if (!(await ensureAnswering(t, `before round ${round}`))) continue;
      try {
        const r = await once(t.url!, load.kind === 'closed' ? load.durationSec : 0);
        results.get(t)!.push(r);
        const share = ratio(r.byBackend[watched] ?? 0, sum(Object.values(r.byBackend)));
        process.stderr.write(
          `  round ${round}/${rounds} ${t.name}: ${fmtInt(r.requestsPerSec)} req/s, p50 ${fmtMs(r.p50Ms)}, p99 ${fmtMs(r.p99Ms)}, ` +
            `errors ${r.errors}/${r.requests}, to ${watched} ${fmtPercent(share, 2)}\n`,
        );
      } catch (err) {
        const reason = (err as Error).message.split('\n').slice(0, 2).join(' ');
        t.events.push(`round ${round} failed: ${reason}`);
        process.stderr.write(`  round ${round}/${rounds} ${t.name}: failed: ${reason}\n`);
      }
    }
  }
  return results;
}

async function closedRun(group: ProcessGroup, load: ClosedLoop, backends: readonly StartedBackend[], url: string, durationSec: number): Promise<Run> {
  const before = await servedCounts(backends);
  const r = await runWrk(group, { wrk: load.wrk, url, threads: 1, connections: load.connections, durationSec });
  const after = await servedCounts(backends);
  const byBackend: Record<string, number> = {};
  for (const b of backends) byBackend[b.name] = after[b.name]! - before[b.name]!;
  return { ...r, byBackend, errorKinds: r.errors > 0 ? { 'wrk errors': r.errors } : {} };
}

async function openRun(load: OpenLoop, origin: string): Promise<Run> {
  const r = await steadyLoad({ ...load.load, origin });
  return {
    requestsPerSec: r.ok / load.load.durationSec,
    p50Ms: r.p50Ms,
    p99Ms: r.p99Ms,
    requests: r.requests,
    errors: r.errors,
    byBackend: r.byBackend,
    errorKinds: r.errorKinds,
    latenciesMs: r.latenciesMs,
  };
}

/**
 * A table row: closed loop, the medians of the rounds' req/s, p50 and p99; open loop, percentiles over every
 * request of every round (more samples behind p99 than one round has). Shares and errors are over all rounds.
 */
export function summarize(target: Target, runs: readonly Run[], watched: string): Row {
  const errorKinds: Record<string, number> = {};
  for (const r of runs) for (const [k, n] of Object.entries(r.errorKinds)) errorKinds[k] = (errorKinds[k] ?? 0) + n;
  const pooled = runs.length > 0 && runs.every((r) => r.latenciesMs !== undefined) ? pool(runs.map((r) => r.latenciesMs!)) : undefined;
  return {
    target,
    runs,
    requestsPerSec: median(runs.map((r) => r.requestsPerSec)),
    p50Ms: pooled !== undefined ? percentile(pooled, 50) : median(runs.flatMap((r) => (r.p50Ms === undefined ? [] : [r.p50Ms]))),
    p99Ms: pooled !== undefined ? percentile(pooled, 99) : median(runs.flatMap((r) => (r.p99Ms === undefined ? [] : [r.p99Ms]))),
    watchedShare: ratio(sum(runs.map((r) => r.byBackend[watched] ?? 0)), sum(runs.map((r) => sum(Object.values(r.byBackend))))),
    errorRate: ratio(sum(runs.map((r) => r.errors)), sum(runs.map((r) => r.requests))),
    errorKinds,
  };
}

function pool(parts: readonly Float64Array[]): Float64Array {
  const all = new Float64Array(sum(parts.map((p) => p.length)));
  let offset = 0;
  for (const p of parts) {
    all.set(p, offset);
    offset += p.length;
  }
  return all.sort();
}

function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

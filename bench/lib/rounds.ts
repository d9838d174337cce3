/** Interleaved wrk rounds over several targets: the measuring loop that throughput.ts and python.ts share. */
import type { ProcessGroup } from './processes.ts';
import { median } from './stats.ts';
import { fmtInt, fmtMs } from './table.ts';
import { ensureAnswering, type Target } from './targets.ts';
import { runWrk, type WrkResult } from './wrk.ts';

export interface RoundsOptions {
  readonly wrk: string;
  /** Requested on every target: its URL followed by this path. */
  readonly path: string;
  readonly threads: number;
  readonly connections: number;
  readonly durationSec: number;
  readonly warmupSec: number;
  readonly rounds: number;
}

/**
 * A warm-up per target, then rounds: round 1 measures every target, then round 2, so noise spreads evenly. A
 * target that stops answering is started again once (ensureAnswering); a failed round is noted on the target.
 */
export async function measureRounds(group: ProcessGroup, live: readonly Target[], o: RoundsOptions): Promise<Map<Target, WrkResult[]>> {
  const run = (url: string, durationSec: number) =>
    runWrk(group, { wrk: o.wrk, url: `${url}${o.path}`, threads: o.threads, connections: o.connections, durationSec });
  for (const t of live) {
    if (!(await ensureAnswering(t, 'before the warm-up'))) continue;
    process.stderr.write(`warm-up ${t.name} (${o.warmupSec}s)\n`);
    await run(t.url!, o.warmupSec).catch(() => {});
  }
  const results = new Map<Target, WrkResult[]>(live.map((t) => [t, []]));
  for (let round = 1; round <= o.rounds; round++) {
    for (const t of live) {
      if (!(await ensureAnswering(t, `before round ${round}`))) continue;
      try {
        const r = await run(t.url!, o.durationSec);
        results.get(t)!.push(r);
        const errors = r.errors ? `, ${r.errors} errors` : '';
        process.stderr.write(`round ${round}/${o.rounds} ${t.name}: ${fmtInt(r.requestsPerSec)} req/s, p50 ${fmtMs(r.p50Ms)}, p99 ${fmtMs(r.p99Ms)}${errors}\n`);
      } catch (err) {
        const reason = (err as Error).message.split('\n').slice(0, 2).join(' ');
        t.events.push(`round ${round} failed: ${reason}`);
        process.stderr.write(`round ${round}/${o.rounds} ${t.name}: failed: ${reason}\n`);
      }
    }
  }
  return results;
}

/** One target's rounds summed up for a table row: medians of req/s and latencies, totals of errors and requests. */
export interface RoundsRow {
  readonly target: Target;
  readonly rounds: readonly WrkResult[];
  readonly requestsPerSec: number | undefined;
  readonly p50Ms: number | undefined;
  readonly p99Ms: number | undefined;
  /** wrk's socket errors (connect, read, write, timeout) and non-2xx/3xx answers, over all rounds. */
  readonly errors: number;
  readonly requests: number;
}

export function summarizeRounds(targets: readonly Target[], results: ReadonlyMap<Target, WrkResult[]>): RoundsRow[] {
  return targets.map((target) => {
    const rounds = results.get(target) ?? [];
    return {
      target,
      rounds,
      requestsPerSec: median(rounds.map((r) => r.requestsPerSec)),
      p50Ms: median(rounds.map((r) => r.p50Ms)),
      p99Ms: median(rounds.map((r) => r.p99Ms)),
      errors: rounds.reduce((sum, r) => sum + r.errors, 0),
      requests: rounds.reduce((sum, r) => sum + r.requests, 0),
    };
  });
}

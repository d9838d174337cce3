/**
 * Passive health reports from a worker, batched for IPC without losing their meaning: per backend, whether a
 * success came in the batch and how many failures followed the last success. The primary replays them as
 * "success, then N failures", which gives the monitor the same consecutive-failure count as one by one.
 */
export type OutcomeReport = readonly [pool: string, backendId: string, sawSuccess: boolean, trailingFailures: number];

export class OutcomeBatch {
  private readonly entries = new Map<string, { pool: string; id: string; success: boolean; failures: number }>();

  add(pool: string, id: string, outcome: 'success' | 'failure'): void {
    const key = `${pool} ${id}`;
    let e = this.entries.get(key);
    if (e === undefined) this.entries.set(key, (e = { pool, id, success: false, failures: 0 }));
    if (outcome === 'success') {
      e.success = true;
      e.failures = 0;
    } else e.failures++;
  }

  get size(): number {
    return this.entries.size;
  }

  take(): OutcomeReport[] {
    const out = [...this.entries.values()].map((e) => [e.pool, e.id, e.success, e.failures] as const);
    this.entries.clear();
    return out;
  }
}

export function replay(report: OutcomeReport, apply: (pool: string, id: string, outcome: 'success' | 'failure') => void): void {
  const [pool, id, sawSuccess, failures] = report;
  if (sawSuccess) apply(pool, id, 'success');
  for (let i = 0; i < failures; i++) apply(pool, id, 'failure');
}

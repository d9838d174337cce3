/**
 * The cache benchmark's report: one table of every target at 64 connections (ratios against nginx proxy_cache's
 * hit), one of the single-connection latencies, and the three comparisons the cache work is judged by, spelled
 * out: hit rates against nginx, a miss through the cache against the cache off, a Redis hit against a 5 ms backend.
 */
import { machine, machineHeader, writeResults } from './report.ts';
import { median, ratio } from './stats.ts';
import { fmtInt, fmtMs, fmtRatio, markdownTable } from './table.ts';
import { targetNotes, type Target } from './targets.ts';
import type { WrkResult } from './wrk.ts';

/** What one measurement compares. `latency`: the same target over a single connection. */
export type Section = 'hit' | 'miss' | 'slow' | 'latency';

/** A target measured at one path and one number of connections. */
export interface Measurement {
  readonly name: string;
  readonly target: Target;
  readonly section: Section;
  readonly path: string;
  readonly connections: number;
  /** Every measured request should be a cache hit: the backend must not be reached. */
  readonly hit: boolean;
  /** Origin of the backend whose request counter is read around each run; undefined: not counted. */
  readonly countOrigin: string | undefined;
}

/** One run's result, with how many requests reached the backend during it (undefined: not counted). */
export interface Run {
  readonly round: number;
  /** 1, or 2 for the miss pair's second run in the round. */
  readonly pass: number;
  readonly wrk: WrkResult;
  readonly backendRequests: number | undefined;
}

export interface Row extends Measurement {
  readonly runs: readonly Run[];
  readonly requestsPerSec: number | undefined;
  readonly p50Ms: number | undefined;
  readonly p99Ms: number | undefined;
  readonly errors: number;
  /** Requests that reached the backend over all measured runs. */
  readonly backendRequests: number | undefined;
}

export interface CacheSettings {
  readonly durationSec: number;
  readonly rounds: number;
  readonly warmupSec: number;
  readonly threads: number;
  readonly connections: number;
  readonly backends: string;
}

/** The miss target's allowance against the cache off, and how a ratio reads against it. */
const MISS_TARGET = 0.95;

export async function reportCache(rows: readonly Row[], s: CacheSettings): Promise<void> {
  const find = (name: string, connections = s.connections) =>
    rows.find((r) => r.name.startsWith(name) && r.connections === connections);
  const nginxRps = find('nginx proxy_cache')?.requestsPerSec;
  const notes = (r: Row) => {
    const extra: string[] = [];
    if (r.errors > 0) extra.push(`${r.errors} errors over all rounds`);
    if (r.hit && r.backendRequests !== undefined && r.backendRequests > 0) {
      extra.push('the backend was reached during the runs: not every request was a hit');
    }
    return targetNotes(r.target, extra);
  };
  const main = markdownTable<Row>(
    [
      { title: 'Target', cell: (r) => r.name },
      { title: 'Path', cell: (r) => r.path },
      { title: 'req/s (median)', align: 'right', cell: (r) => fmtInt(r.requestsPerSec) },
      { title: 'p50', align: 'right', cell: (r) => fmtMs(r.p50Ms) },
      { title: 'p99', align: 'right', cell: (r) => fmtMs(r.p99Ms) },
      { title: 'vs nginx proxy_cache hit', align: 'right', cell: (r) => fmtRatio(ratio(r.requestsPerSec, nginxRps)) },
      { title: 'Backend reached', align: 'right', cell: (r) => fmtInt(r.backendRequests) },
      { title: 'Notes', cell: notes },
    ],
    rows.filter((r) => r.section !== 'latency'),
  );
  const latency = markdownTable<Row>(
    [
      { title: 'Target (1 connection)', cell: (r) => r.name },
      { title: 'p50', align: 'right', cell: (r) => fmtMs(r.p50Ms) },
      { title: 'p99', align: 'right', cell: (r) => fmtMs(r.p99Ms) },
      { title: 'req/s (median)', align: 'right', cell: (r) => fmtInt(r.requestsPerSec) },
      { title: 'Notes', cell: notes },
    ],
    rows.filter((r) => r.section === 'latency'),
  );
  const comparisons = compare(find, nginxRps);
  const m = machine();
  const markdown = [
    machineHeader(
      'Cache',
      m,
      `BENCH_CACHE_DURATION=${s.durationSec} BENCH_CACHE_ROUNDS=${s.rounds} npm run bench`,
      [
        `Load: \`wrk -t${s.threads} -c${s.connections} -d${s.durationSec}s\` on one URL, ${s.rounds} interleaved rounds`,
        `(order reversed every other round; the miss pair twice per round, ABBA) after a ${s.warmupSec}s warm-up;`,
        'medians of the runs.',
        'Every target has one worker.',
        'Backend: 1 KB body, `Cache-Control: max-age=3600` on /cached and `no-store` on /nostore,',
        `${s.backends}; the 5 ms backend is a Node process. "Backend reached": requests the backend counted during the`,
        'measured runs (0 for a true hit).',
      ].join(' '),
    ),
    '',
    main,
    '',
    latency,
    '',
    '## The three comparisons',
    '',
    ...comparisons.lines.map((l, i) => `${i + 1}. ${l}`),
    '',
  ].join('\n');
  process.stdout.write(`${markdown}\n`);
  const files = await writeResults('cache', markdown, {
    machine: m,
    settings: s,
    comparisons: comparisons.values,
    rows: rows.map((r) => ({
      target: r.name,
      section: r.section,
      path: r.path,
      connections: r.connections,
      note: r.target.note,
      events: r.target.events,
      requestsPerSec: r.requestsPerSec,
      p50Ms: r.p50Ms,
      p99Ms: r.p99Ms,
      vsNginxProxyCacheHit: ratio(r.requestsPerSec, nginxRps),
      backendRequests: r.backendRequests,
      errors: r.errors,
      runs: r.runs,
    })),
  });
  process.stderr.write(`written: ${files.join(', ')}\n`);
}

type Find = (name: string, connections?: number) => Row | undefined;

const HIT_ROWS = ['Fulcrum memory: hit', 'Fulcrum redis: hit', 'Fulcrum memcached: hit', 'Varnish: hit', 'Node: stored buffer'];

/** The three comparisons, as sentences and as numbers for the JSON file. */
function compare(find: Find, nginxRps: number | undefined): { lines: string[]; values: Record<string, unknown> } {
  const rps = (name: string) => find(name)?.requestsPerSec;

  const hits = Object.fromEntries(HIT_ROWS.map((n) => [n, ratio(rps(n), nginxRps)]));
  const hitPart = (n: string) =>
    hits[n] === undefined ? `${n.replace(': hit', '')} not measured` : `${n.replace(': hit', '')} ${fmtRatio(hits[n])} (${fmtInt(rps(n))})`;
  const ofNode = ratio(rps('Fulcrum memory: hit'), rps('Node: stored buffer'));
  const hitLine =
    `Cache hit, req/s against nginx proxy_cache's hit (${fmtInt(nginxRps)} req/s): ${HIT_ROWS.map(hitPart).join(', ')}. ` +
    `Fulcrum memory reaches ${fmtRatio(ofNode)} of the bare Node responder.`;

  const on = find('Fulcrum memory: miss');
  const off = find('Fulcrum: cache off (no-store)');
  const missRatio = ratio(on?.requestsPerSec, off?.requestsPerSec);
  // Adjacent runs (same round and pass) share the machine's state of the moment: their ratio is the fairer one.
  const paired = (on?.runs ?? [])
    .map((r) => ratio(r.wrk.requestsPerSec, off?.runs.find((o) => o.round === r.round && o.pass === r.pass)?.wrk.requestsPerSec))
    .filter((x): x is number => x !== undefined);
  const pairedMedian = median(paired);
  let missLine = 'Miss through the cache against the cache off: not measured (see the Notes of both rows).';
  if (pairedMedian !== undefined) {
    const change = `${Math.abs((1 - pairedMedian) * 100).toFixed(1)}% ${pairedMedian <= 1 ? 'slower' : 'faster'}`;
    const verdict = pairedMedian >= MISS_TARGET ? 'within' : 'outside';
    missLine =
      'Miss through the cache (the backend answers no-store: key, lookup, coalescing, admission refused) against ' +
      `the cache off, req/s: median of ${paired.length} adjacent pairs ${fmtRatio(pairedMedian)}, ${change}, ${verdict} ` +
      `the target of at most 5% slower (pairs: ${paired.map(fmtRatio).join(', ')}; ratio of the medians ` +
      `${fmtInt(on?.requestsPerSec)} / ${fmtInt(off?.requestsPerSec)} = ${fmtRatio(missRatio)}). ` +
      `p50 ${fmtMs(on?.p50Ms)} vs ${fmtMs(off?.p50Ms)}, p99 ${fmtMs(on?.p99Ms)} vs ${fmtMs(off?.p99Ms)}.`;
  }

  const hit = find('Fulcrum redis: hit');
  const slow = find('Fulcrum: cache off, 5 ms backend');
  const hit1 = find('Fulcrum redis: hit', 1);
  const slow1 = find('Fulcrum: cache off, 5 ms backend', 1);
  const faster = (a: number | undefined, b: number | undefined) =>
    a === undefined || b === undefined ? 'not measured' : a < b ? 'faster' : 'not faster';
  const redisLine =
    `Redis hit against a 5 ms backend without cache: at ${hit?.connections ?? 64} connections ` +
    `p50 ${fmtMs(hit?.p50Ms)} vs ${fmtMs(slow?.p50Ms)} (${faster(hit?.p50Ms, slow?.p50Ms)}), ` +
    `${fmtInt(hit?.requestsPerSec)} vs ${fmtInt(slow?.requestsPerSec)} req/s ` +
    `(${fmtRatio(ratio(hit?.requestsPerSec, slow?.requestsPerSec))}); ` +
    `over one connection p50 ${fmtMs(hit1?.p50Ms)} vs ${fmtMs(slow1?.p50Ms)} (${faster(hit1?.p50Ms, slow1?.p50Ms)}), ` +
    `p99 ${fmtMs(hit1?.p99Ms)} vs ${fmtMs(slow1?.p99Ms)}. Target: the Redis hit is faster.`;

  return {
    lines: [hitLine, missLine, redisLine],
    values: {
      hitVsNginxProxyCache: hits,
      missVsCacheOff: { pairedMedian, paired, ratioOfMedians: missRatio, target: MISS_TARGET },
      redisHitVs5msBackend: {
        p50Ms: { redisHit: hit?.p50Ms, backend5ms: slow?.p50Ms },
        requestsPerSec: { redisHit: hit?.requestsPerSec, backend5ms: slow?.requestsPerSec },
        singleConnectionP50Ms: { redisHit: hit1?.p50Ms, backend5ms: slow1?.p50Ms },
      },
    },
  };
}

/**
 * `npm run bench:balance`: how well each balancing algorithm keeps latency down when one backend of three is
 * slow, failing or small, against nginx and HAProxy. Four scenarios, each with its own backends and targets
 * (started for it and stopped after it), measured in interleaved rounds; `BALANCE_SCENARIOS=closed,fail-fast`
 * runs some of them. See bench/README.md.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { measure, summarize, type Load, type Row } from './lib/balance-measure.ts';
import { Scenery, type BackendSpec, type FulcrumRow } from './lib/balance-targets.ts';
import { baselineCheckouts, type Baseline } from './lib/baseline.ts';
import { FULCRUM_BIN } from './lib/fulcrum.ts';
import { findExecutable, ProcessGroup } from './lib/processes.ts';
import { envNumber, machine, machineHeader, writeResults } from './lib/report.ts';
import { ratio } from './lib/stats.ts';
import { fmtInt, fmtMs, fmtPercent, fmtRatio, markdownTable } from './lib/table.ts';
import { targetNotes } from './lib/targets.ts';

const optional = (name: string): number | undefined => (process.env[name] ? envNumber(name, 1) : undefined);
const settings = {
  scenarios: (process.env.BALANCE_SCENARIOS ?? 'closed,fail-fast,queueing,open').split(',').map((s) => s.trim()),
  /** Overrides every scenario's rounds. */
  rounds: optional('BALANCE_ROUNDS'),
  wrkConnections: Math.round(envNumber('BALANCE_WRK_CONNECTIONS', 30)),
  /** Overrides every closed-loop scenario's duration. */
  wrkDurationSec: optional('BALANCE_WRK_DURATION'),
  wrkWarmupSec: envNumber('BALANCE_WRK_WARMUP', 2),
  ratePerSec: envNumber('BALANCE_RATE', 600),
  connections: Math.round(envNumber('BALANCE_CONNECTIONS', 32)),
  durationSec: envNumber('BALANCE_DURATION', 6),
  warmupSec: envNumber('BALANCE_WARMUP', 1),
  fastMs: envNumber('BALANCE_FAST_MS', 2),
  slowMs: envNumber('BALANCE_SLOW_MS', 20),
  slowShare: envNumber('BALANCE_SLOW_SHARE', 0.5),
};

/** Every algorithm: the hash-based ones only where the client varies paths and keeps cookies (open loop). */
const ALL: readonly FulcrumRow[] = [
  { algorithm: 'round-robin' },
  { algorithm: 'weighted-round-robin', weighted: true, note: 'weights 2, 2, 1' },
  { algorithm: 'least-connections' },
  { algorithm: 'random' },
  { algorithm: 'p2c-ewma' },
  { algorithm: 'least-load', note: 'no load reports: its latency view' },
];
const HASHED: readonly FulcrumRow[] = [
  { algorithm: 'consistent-hash', hash: { key: 'path' }, note: 'key path, 1024 paths' },
  { algorithm: 'sticky', note: 'cookie; one jar per connection' },
];
const ADAPTIVE: readonly FulcrumRow[] = ALL.filter((r) => ['round-robin', 'least-connections', 'p2c-ewma', 'least-load'].includes(r.algorithm));
/** The floor on this machine: what the proxy gives over the good backends alone, with no third one to avoid. */
const FLOOR: FulcrumRow = { algorithm: 'round-robin', label: 'fast backends only', only: ['fast-1', 'fast-2'], note: 'reference: no slow or failing backend in the pool' };

interface Scenario {
  readonly name: string;
  readonly title: string;
  readonly describe: (load: Load, rounds: number) => string;
  readonly backends: readonly BackendSpec[];
  /** The backend whose share is reported. */
  readonly watched: string;
  readonly rows: readonly FulcrumRow[];
  readonly load: (wrk: string | undefined) => Load;
  readonly rounds: number;
  /** nginx and HAProxy pass a 503 on to another server (Fulcrum retries failed connections and resets, not answers). */
  readonly retry503: boolean;
}

const backend = (name: string, args: string[], weight = 2): BackendSpec => ({ name, args, weight });
const closedLoop = (durationSec: number) => (wrk: string | undefined): Load => {
  if (wrk === undefined) throw new Error('wrk is not installed (apt-get install wrk): the closed-loop scenarios cannot run');
  return { kind: 'closed', wrk, connections: settings.wrkConnections, durationSec: settings.wrkDurationSec ?? durationSec, warmupSec: settings.wrkWarmupSec };
};
const wrkText = (load: Load, rounds: number) =>
  load.kind === 'closed' ? `wrk -t1 -c${load.connections} -d${load.durationSec}s (closed loop) after a ${load.warmupSec}s warm-up, ${rounds} interleaved rounds, medians` : '';

const SCENARIOS: readonly Scenario[] = [
  {
    name: 'closed',
    title: 'One always-slow backend, closed loop',
    describe: (load, rounds) => `${wrkText(load, rounds)}. Backends answer after 5, 5 and 50 ms (a timer per request: no queueing of their own).`,
    backends: [backend('fast-1', ['--fast-ms', '5']), backend('fast-2', ['--fast-ms', '5']), backend('slow', ['--fast-ms', '50'], 1)],
    watched: 'slow',
    rows: [...ALL, FLOOR],
    load: closedLoop(8),
    rounds: 3,
    retry503: false,
  },
  {
    name: 'fail-fast',
    title: 'A backend failing fast, closed loop',
    describe: (load, rounds) =>
      `${wrkText(load, rounds)}. Backends: two answer 200 after 5 ms, one answers 503 at once. nginx and HAProxy retry a 503 on another server (proxy_next_upstream http_503; retry-on 503 with redispatch); Fulcrum's retries (2 attempts) cover failed connections and resets, not answers.`,
    backends: [backend('fast-1', ['--fast-ms', '5']), backend('fast-2', ['--fast-ms', '5']), backend('failing', ['--fast-ms', '0', '--status', '503'], 1)],
    watched: 'failing',
    rows: [...ADAPTIVE, FLOOR],
    load: closedLoop(4),
    rounds: 2,
    retry503: true,
  },
  {
    name: 'queueing',
    title: 'A small queueing backend, closed loop',
    describe: (load, rounds) =>
      `${wrkText(load, rounds)}. Backends that queue, as Python servers with few workers do: each request takes 5 ms of a worker; two have 4 workers, one has 1 (a quarter of the capacity), the rest waits in a FIFO queue.`,
    backends: [
      backend('big-1', ['--fast-ms', '5', '--workers', '4']),
      backend('big-2', ['--fast-ms', '5', '--workers', '4']),
      backend('small', ['--fast-ms', '5', '--workers', '1'], 1),
    ],
    watched: 'small',
    rows: ADAPTIVE,
    load: closedLoop(5),
    rounds: 2,
    retry503: false,
  },
  {
    name: 'open',
    title: 'A backend slow on half its requests, open loop',
    describe: (load, rounds) =>
      load.kind !== 'open'
        ? ''
        : `${load.load.ratePerSec} req/s steady (open loop, lib/steady-load.ts) over ${load.load.connections} keep-alive connections, ${load.load.durationSec}s per target and round after ${load.load.warmupSec}s of warm-up, ${rounds} interleaved rounds; percentiles over all rounds' requests, from when each request was due. Backends: two answering in ${settings.fastMs} ms, one taking ${settings.slowMs} ms on ${fmtPercent(settings.slowShare, 0)} of its requests.`,
    backends: [
      backend('fast-1', ['--fast-ms', String(settings.fastMs)]),
      backend('fast-2', ['--fast-ms', String(settings.fastMs)]),
      backend('slow', ['--fast-ms', String(settings.fastMs), '--slow-ms', String(settings.slowMs), '--slow-share', String(settings.slowShare)], 1),
    ],
    watched: 'slow',
    rows: [...ALL, ...HASHED, FLOOR],
    load: () => ({
      kind: 'open',
      load: {
        ratePerSec: settings.ratePerSec,
        connections: settings.connections,
        durationSec: settings.durationSec,
        warmupSec: settings.warmupSec,
        path: (i) => `/item/${(Math.imul(i + 1, 2654435761) >>> 0) % 1024}`,
        cookies: true,
        timeoutMs: 5000,
      },
    }),
    rounds: 2,
    retry503: false,
  },
];

interface Measured {
  readonly scenario: Scenario;
  readonly load: Load;
  readonly rounds: number;
  readonly rows: readonly Row[];
}

const group = new ProcessGroup();
await group.run(async () => {
  const unknown = settings.scenarios.filter((s) => !SCENARIOS.some((sc) => sc.name === s));
  if (unknown.length > 0) throw new Error(`BALANCE_SCENARIOS: unknown ${unknown.join(', ')}; known: ${SCENARIOS.map((s) => s.name).join(', ')}`);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'fulcrum-bench-'));
  group.onCleanup(() => rm(dir, { recursive: true, force: true }));
  const wrk = findExecutable('wrk');
  const baseline = baselineCheckouts(group, dir)[0];
  const measured: Measured[] = [];
  for (const scenario of SCENARIOS.filter((s) => settings.scenarios.includes(s.name))) {
    process.stderr.write(`scenario ${scenario.name}: ${scenario.title}\n`);
    const load = scenario.load(wrk);
    const rounds = settings.rounds ?? scenario.rounds;
    const scenery = new Scenery(group, path.join(dir, scenario.name));
    try {
      const backends = await scenery.backends(scenario.backends);
      const requestPath = load.kind === 'open' ? '/item/0' : '/';
      const rows = [...scenario.rows, ...baselineRows(baseline)];
      const targets = await scenery.targets(rows, backends, scenario.backends, { retry503: scenario.retry503, path: requestPath });
      const live = targets.filter((t) => t.url !== undefined);
      const runs = await measure(group, live, backends, load, rounds, scenario.watched, requestPath);
      measured.push({ scenario, load, rounds, rows: targets.map((t) => summarize(t, runs.get(t) ?? [], scenario.watched)) });
    } finally {
      await scenery.stop();
    }
  }
  await report(measured);
});

/** With BENCH_BASELINE: the latency-aware algorithms as they were at that revision, in the same rounds. */
function baselineRows(baseline: Baseline | undefined): FulcrumRow[] {
  if (baseline === undefined) return [];
  return ['p2c-ewma', 'least-load'].map((algorithm) => ({ algorithm, label: `at ${baseline.revision}`, root: baseline.root }));
}

function notes(r: Row): string {
  const errors = Object.entries(r.errorKinds).map(([kind, n]) => `${kind} ×${n}`);
  return targetNotes(r.target, errors.length > 0 ? [`errors: ${errors.join(', ')}`] : []);
}

function table(m: Measured): string {
  const baseline = m.rows.find((r) => r.target.name === 'nginx round robin')?.p99Ms;
  return markdownTable<Row>(
    [
      { title: 'Target', cell: (r) => r.target.name },
      { title: 'req/s', align: 'right', cell: (r) => fmtInt(r.requestsPerSec) },
      { title: 'p50', align: 'right', cell: (r) => fmtMs(r.p50Ms) },
      { title: 'p99', align: 'right', cell: (r) => fmtMs(r.p99Ms) },
      { title: 'p99 / nginx RR', align: 'right', cell: (r) => fmtRatio(ratio(r.p99Ms, baseline)) },
      { title: `to ${m.scenario.watched}`, align: 'right', cell: (r) => fmtPercent(r.watchedShare, 2) },
      { title: 'errors', align: 'right', cell: (r) => fmtPercent(r.errorRate) },
      { title: 'Notes', cell: notes },
    ],
    m.rows,
  );
}

/** The goals of issue 9, checked on the figures of this run. */
function goals(m: Measured): string[] {
  const row = (name: string) => m.rows.find((r) => r.target.name === name);
  const lines: string[] = [];
  for (const name of ['Fulcrum p2c-ewma', 'Fulcrum least-load']) {
    const r = row(name);
    if (r === undefined || r.runs.length === 0) continue;
    if (m.scenario.name === 'closed') {
      const p99 = ratio(r.p99Ms, row('nginx round robin')?.p99Ms);
      const floor = ratio(r.p99Ms, row('Fulcrum round-robin, fast backends only')?.p99Ms);
      const rps = ratio(r.requestsPerSec, row('nginx least_conn')?.requestsPerSec);
      lines.push(
        `- ${name}: p99 ${fmtRatio(p99)} nginx round robin's (goal ≤ 0.20×; ${fmtRatio(floor)} the fast backends alone), ${fmtPercent(r.watchedShare, 2)} to the slow backend (goal < 1%), req/s ${fmtRatio(rps)} nginx least_conn's (goal ≥ 1.00×)`,
      );
    } else if (m.scenario.name === 'fail-fast') {
      lines.push(`- ${name}: ${fmtPercent(r.errorRate, 2)} of client requests failed (goal < 1%)`);
    }
  }
  return lines;
}

async function report(measured: readonly Measured[]): Promise<void> {
  const m = machine();
  const base = process.env.BENCH_BASELINE ? ` BENCH_BASELINE=${process.env.BENCH_BASELINE}` : '';
  const command = `BALANCE_SCENARIOS=${measured.map((x) => x.scenario.name).join(',')}${base} npm run bench:balance`;
  const sections = measured.flatMap((x) => {
    const goalLines = goals(x);
    return [`## ${x.scenario.title} (\`${x.scenario.name}\`)`, '', x.scenario.describe(x.load, x.rounds), '', table(x), '', ...(goalLines.length > 0 ? [...goalLines, ''] : [])];
  });
  const markdown = [
    machineHeader('Balancing under a slow, failing or small backend', m, command, 'Fulcrum, nginx and HAProxy with one worker each; every Fulcrum algorithm in its own process. Shares count the requests each backend served (retries included).'),
    '',
    ...sections,
  ].join('\n');
  process.stdout.write(`${markdown}\n`);
  const files = await writeResults('balance', markdown, {
    machine: m,
    settings: { ...settings, fulcrum: FULCRUM_BIN },
    scenarios: measured.map((x) => ({
      name: x.scenario.name,
      title: x.scenario.title,
      backends: x.scenario.backends,
      load: x.load.kind === 'closed' ? { ...x.load, wrk: undefined } : { ...x.load.load, path: undefined },
      rounds: x.rounds,
      rows: x.rows.map((r) => ({
        target: r.target.name,
        note: r.target.note,
        events: r.target.events,
        requestsPerSec: r.requestsPerSec,
        p50Ms: r.p50Ms,
        p99Ms: r.p99Ms,
        watchedShare: r.watchedShare,
        errorRate: r.errorRate,
        errorKinds: r.errorKinds,
        runs: r.runs.map(({ latenciesMs, ...rest }) => ({ ...rest, answered: latenciesMs?.length })),
      })),
    })),
  });
  process.stderr.write(`written: ${files.join(', ')}\n`);
}

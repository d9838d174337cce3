/**
 * `npm run bench:balance`: how well each balancing algorithm keeps latency down when one backend of three is
 * sometimes slow. A steady request rate well under capacity (open loop, see lib/steady-load.ts) goes through
 * each Fulcrum algorithm and through nginx and HAProxy, in interleaved rounds; the client's p50/p99 and error
 * rate are reported, with p99 as a ratio against Fulcrum round-robin. See bench/README.md.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { FULCRUM_BIN, fulcrumMissing, startFulcrum, type FulcrumPool } from './lib/fulcrum.ts';
import { haproxyConf, startHaproxy } from './lib/haproxy.ts';
import { get } from './lib/http-check.ts';
import { nginxProxyConf, startNginx } from './lib/nginx.ts';
import { freePorts } from './lib/ports.ts';
import { findExecutable, ProcessGroup } from './lib/processes.ts';
import { envNumber, machine, machineHeader, writeResults } from './lib/report.ts';
import { percentile, ratio } from './lib/stats.ts';
import { steadyLoad, type SteadyLoadResult } from './lib/steady-load.ts';
import { fmtMs, fmtPercent, fmtRatio, markdownTable } from './lib/table.ts';
import { ensureAnswering, prepare, skipped, targetNotes, type Target } from './lib/targets.ts';

const settings = {
  ratePerSec: envNumber('BALANCE_RATE', 600),
  connections: Math.round(envNumber('BALANCE_CONNECTIONS', 32)),
  durationSec: envNumber('BALANCE_DURATION', 10),
  warmupSec: envNumber('BALANCE_WARMUP', 1),
  rounds: Math.round(envNumber('BALANCE_ROUNDS', 2)),
  fastMs: envNumber('BALANCE_FAST_MS', 2),
  slowMs: envNumber('BALANCE_SLOW_MS', 20),
  slowShare: envNumber('BALANCE_SLOW_SHARE', 0.5),
  timeoutMs: 5000,
};

const BACKENDS = [
  { name: 'fast-1', slowShare: 0, weight: 2 },
  { name: 'fast-2', slowShare: 0, weight: 2 },
  { name: 'slow', slowShare: settings.slowShare, weight: 1 },
] as const;

/** Varied paths, the same sequence for every target: consistent-hash by path spreads them over the backends. */
const PATHS = 1024;
const pathOf = (i: number) => `/item/${(Math.imul(i + 1, 2654435761) >>> 0) % PATHS}`;

interface Row {
  readonly target: Target;
  readonly rounds: readonly SteadyLoadResult[];
  readonly requests: number;
  readonly errorRate: number | undefined;
  readonly p50Ms: number | undefined;
  readonly p99Ms: number | undefined;
  /** Share of the answers that came from the slow backend. */
  readonly slowShare: number | undefined;
  readonly errorKinds: Readonly<Record<string, number>>;
}

const group = new ProcessGroup();
await group.run(async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'fulcrum-bench-'));
  group.onCleanup(() => rm(dir, { recursive: true, force: true }));
  const backendPorts = await startBackends();
  const targets = await startTargets(backendPorts, dir);
  const results = await measure(targets.filter((t) => t.url !== undefined));
  const rows = targets.map((target) => summarize(target, results.get(target) ?? []));
  await report(rows);
});

/** Three Node backends, each in its own process: two fast, one slow on a share of its requests. */
async function startBackends(): Promise<number[]> {
  const ports = await freePorts(BACKENDS.length);
  const file = path.join(import.meta.dirname, 'servers', 'balance-backend.ts');
  await Promise.all(
    BACKENDS.map((b, i) => {
      const args = [file, '--name', b.name, '--port', String(ports[i]), '--fast-ms', String(settings.fastMs)];
      args.push('--slow-ms', String(settings.slowMs), '--slow-share', String(b.slowShare), '--seed', String(i + 1));
      return group.startListening({ name: `backend ${b.name}`, command: process.execPath, args }, ports[i]!);
    }),
  );
  return ports;
}

async function startTargets(backendPorts: readonly number[], dir: string): Promise<Target[]> {
  const backendUrls = backendPorts.map((p) => `http://127.0.0.1:${p}`);
  const checked = (name: string, start: () => Promise<string>, note = '') => prepare(name, start, answersWithBackend, note);

  const fulcrumPools: { name: string; pool: FulcrumPool; note?: string }[] = [
    { name: 'round-robin', pool: pool('round-robin') },
    { name: 'weighted-round-robin', pool: pool('weighted-round-robin', true), note: 'weights 2, 2, 1 (slow)' },
    { name: 'least-connections', pool: pool('least-connections') },
    { name: 'random', pool: pool('random') },
    { name: 'p2c-ewma', pool: pool('p2c-ewma') },
    { name: 'consistent-hash', pool: { ...pool('consistent-hash'), hash: { key: 'path' } }, note: `key path, ${PATHS} paths` },
    { name: 'sticky', pool: pool('sticky'), note: `cookie; one jar per connection (${settings.connections} clients)` },
    { name: 'least-load', pool: pool('least-load'), note: 'these backends send no load reports: its own in-flight view' },
  ];
  function pool(algorithm: string, weighted = false): FulcrumPool {
    return { algorithm, backends: backendUrls.map((url, i) => (weighted ? { url, weight: BACKENDS[i]!.weight } : { url })) };
  }

  const targets: Target[] = [];
  const missing = await fulcrumMissing();
  for (const f of fulcrumPools) {
    const name = `Fulcrum ${f.name}`;
    targets.push(
      missing !== undefined
        ? skipped(name, missing)
        : await checked(name, () => startFulcrum(group, `fulcrum-${f.name}`, dir, { workers: 1, pool: f.pool }), f.note),
    );
  }

  const nginxPorts = await freePorts(2);
  const nginxHome = path.join(dir, 'nginx-balance');
  const nginxServers = (['round-robin', 'least_conn'] as const).map((method, i) => ({ port: nginxPorts[i]!, method, backendPorts }));
  targets.push(
    ...(await sharedProcess('nginx', ['nginx round robin', 'nginx least_conn'], nginxPorts, (binary) =>
      startNginx(group, binary, 'nginx', nginxHome, nginxProxyConf(nginxHome, nginxServers), nginxPorts[0]!),
    )),
  );

  const haproxyPorts = await freePorts(2);
  const frontends = (['roundrobin', 'leastconn'] as const).map((balance, i) => ({ port: haproxyPorts[i]!, balance, backendPorts }));
  targets.push(
    ...(await sharedProcess('haproxy', ['HAProxy roundrobin', 'HAProxy leastconn'], haproxyPorts, (binary) =>
      startHaproxy(group, binary, 'haproxy', path.join(dir, 'haproxy-balance'), haproxyConf(frontends), haproxyPorts[0]!),
    )),
  );
  return targets;
}

/**
 * Targets served by one process on several ports (one nginx, one HAProxy): `names[i]` listens on `ports[i]`.
 * Each is checked on its own; if the process cannot start, every one of them is skipped with the reason.
 */
async function sharedProcess(
  program: string,
  names: readonly string[],
  ports: readonly number[],
  start: (binary: string) => Promise<unknown>,
): Promise<Target[]> {
  const binary = findExecutable(program);
  if (binary === undefined) return names.map((name) => skipped(name, `skipped: ${program} is not installed`));
  const started = await prepare(program, async () => (await start(binary), ''), async () => {});
  const targets: Target[] = [];
  for (const [i, name] of names.entries()) {
    const url = `http://127.0.0.1:${ports[i]}`;
    targets.push(started.url === undefined ? skipped(name, started.note) : await prepare(name, async () => url, answersWithBackend));
  }
  return targets;
}

/** Rejects unless `url` answers 200 and names the backend that served it. */
async function answersWithBackend(url: string): Promise<void> {
  const reply = await get(`${url}${pathOf(0)}`);
  if (reply.status !== 200 || reply.headers['x-backend'] === undefined) {
    throw new Error(`GET ${url}${pathOf(0)}: status ${reply.status}, x-backend ${reply.headers['x-backend']}`);
  }
}

/** Interleaved rounds: round 1 runs every target, then round 2, so that noise spreads evenly. */
async function measure(live: readonly Target[]): Promise<Map<Target, SteadyLoadResult[]>> {
  const results = new Map<Target, SteadyLoadResult[]>(live.map((t) => [t, []]));
  for (let round = 1; round <= settings.rounds; round++) {
    for (const t of live) {
      if (!(await ensureAnswering(t, `before round ${round}`))) continue;
      const r = await steadyLoad({
        origin: t.url!,
        ratePerSec: settings.ratePerSec,
        connections: settings.connections,
        durationSec: settings.durationSec,
        warmupSec: settings.warmupSec,
        path: pathOf,
        cookies: true,
        timeoutMs: settings.timeoutMs,
      });
      results.get(t)!.push(r);
      const slow = ratio(r.byBackend.slow ?? 0, r.ok);
      const kinds = r.errors > 0 ? ` ${JSON.stringify(r.errorKinds)}` : '';
      process.stderr.write(
        `round ${round}/${settings.rounds} ${t.name}: p50 ${fmtMs(r.p50Ms)}, p99 ${fmtMs(r.p99Ms)}, errors ${r.errors}/${r.requests}${kinds}, slow share ${fmtPercent(slow, 1)}\n`,
      );
    }
  }
  return results;
}

/** Percentiles over every measured request of every round (more samples behind p99 than one round has). */
function summarize(target: Target, rounds: readonly SteadyLoadResult[]): Row {
  const all = new Float64Array(rounds.reduce((n, r) => n + r.latenciesMs.length, 0));
  let offset = 0;
  for (const r of rounds) {
    all.set(r.latenciesMs, offset);
    offset += r.latenciesMs.length;
  }
  all.sort();
  const requests = rounds.reduce((n, r) => n + r.requests, 0);
  const ok = rounds.reduce((n, r) => n + r.ok, 0);
  const errorKinds: Record<string, number> = {};
  for (const r of rounds) for (const [k, n] of Object.entries(r.errorKinds)) errorKinds[k] = (errorKinds[k] ?? 0) + n;
  return {
    errorKinds,
    target,
    rounds,
    requests,
    errorRate: ratio(rounds.reduce((n, r) => n + r.errors, 0), requests),
    p50Ms: percentile(all, 50),
    p99Ms: percentile(all, 99),
    slowShare: ratio(rounds.reduce((n, r) => n + (r.byBackend.slow ?? 0), 0), ok),
  };
}

function notes(r: Row): string {
  const errors = Object.entries(r.errorKinds).map(([kind, n]) => `${kind} ×${n}`);
  return targetNotes(r.target, errors.length > 0 ? [`errors: ${errors.join(', ')}`] : []);
}

async function report(rows: readonly Row[]): Promise<void> {
  const baseline = rows.find((r) => r.target.name === 'Fulcrum round-robin')?.p99Ms;
  const table = markdownTable<Row>(
    [
      { title: 'Target', cell: (r) => r.target.name },
      { title: 'p50', align: 'right', cell: (r) => fmtMs(r.p50Ms) },
      { title: 'p99', align: 'right', cell: (r) => fmtMs(r.p99Ms) },
      { title: 'p99 vs Fulcrum RR', align: 'right', cell: (r) => fmtRatio(ratio(r.p99Ms, baseline)) },
      { title: 'errors', align: 'right', cell: (r) => fmtPercent(r.errorRate) },
      { title: 'to slow backend', align: 'right', cell: (r) => fmtPercent(r.slowShare, 1) },
      { title: 'Notes', cell: notes },
    ],
    rows,
  );
  const m = machine();
  const s = settings;
  const command =
    `BALANCE_RATE=${s.ratePerSec} BALANCE_CONNECTIONS=${s.connections} BALANCE_DURATION=${s.durationSec} ` +
    `BALANCE_ROUNDS=${s.rounds} npm run bench:balance`;
  const markdown = [
    machineHeader(
      'Balancing under a partly slow backend',
      m,
      command,
      `Load: ${s.ratePerSec} req/s steady (open loop) over ${s.connections} keep-alive connections, ${s.durationSec}s per target and round after ${s.warmupSec}s of warm-up, ${s.rounds} interleaved rounds; percentiles over all rounds' requests, from when each request was due. Backends: 3 Node processes, two answering in ${s.fastMs} ms, one taking ${s.slowMs} ms on ${fmtPercent(s.slowShare, 0)} of its requests. Fulcrum, nginx and HAProxy with one worker each.`,
    ),
    '',
    table,
    '',
    ...(baseline === undefined ? ['p99 ratios need the Fulcrum round-robin row, which did not run.', ''] : []),
  ].join('\n');
  process.stdout.write(`${markdown}\n`);
  const files = await writeResults('balance', markdown, {
    machine: m,
    settings: { ...s, backends: BACKENDS, fulcrum: FULCRUM_BIN },
    rows: rows.map((r) => ({
      target: r.target.name,
      note: r.target.note,
      events: r.target.events,
      requests: r.requests,
      errorRate: r.errorRate,
      p50Ms: r.p50Ms,
      p99Ms: r.p99Ms,
      p99VsFulcrumRoundRobin: ratio(r.p99Ms, baseline),
      slowShare: r.slowShare,
      errorKinds: r.errorKinds,
      rounds: r.rounds.map(({ latenciesMs, ...rest }) => ({ ...rest, answered: latenciesMs.length })),
    })),
  });
  process.stderr.write(`written: ${files.join(', ')}\n`);
}

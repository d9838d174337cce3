/**
 * `npm run bench:ratelimit` (and the last part of `npm run bench`): what limits cost. CPU per request of Fulcrum's
 * whole process group, from /proc, with and without a rate limit on its one route (a rate so high that nothing is
 * refused: the cost of deciding, not of refusing), for each store: this process's memory, Redis (Lua GCRA), and
 * with two workers the primary's counters over IPC. Then the connection limits' cost at accept, with a new
 * connection per request (`Connection: close`): the per-address count asks the cluster's primary once per
 * connection, the cap in all (the default) is counted by each worker alone.
 * Rows are measured in interleaved rounds against the same three nginx backends (1 KB body); medians reported.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { BODY, BODY_TEXT } from './lib/body.ts';
import { startRedis } from './lib/cache-services.ts';
import { groupCpuSeconds } from './lib/cpu.ts';
import { startFulcrumProcess, type FulcrumOptions } from './lib/fulcrum.ts';
import { expectBody } from './lib/http-check.ts';
import { nginxBackendConf, startNginx } from './lib/nginx.ts';
import { freePorts } from './lib/ports.ts';
import { findExecutable, ProcessGroup, type Managed } from './lib/processes.ts';
import { envNumber, machine, machineHeader, writeResults } from './lib/report.ts';
import { median } from './lib/stats.ts';
import { fmtInt, markdownTable } from './lib/table.ts';
import { runWrk } from './lib/wrk.ts';
import { BlockList } from 'node:net';
import { gcra } from '../packages/server/src/limits/gcra.ts';
import { RouteLimiter } from '../packages/server/src/limits/limiter.ts';
import { MemoryLimiterStore } from '../packages/server/src/limits/memory-store.ts';
import { compilePolicy, rateLimitFields } from '../packages/server/src/limits/policy.ts';
import { LimitStats } from '../packages/server/src/observability/limit-stats.ts';
import { monotonicClock } from '../packages/server/src/time.ts';

const settings = {
  durationSec: envNumber('BENCH_DURATION', 5),
  rounds: Math.round(envNumber('BENCH_ROUNDS', 3)),
  connections: 64,
  /** BENCH_MICRO_ONLY=1: only the in-process decision costs (seconds, not minutes). */
  microOnly: process.env.BENCH_MICRO_ONLY === '1',
};

/** Never reached by wrk on this machine: every request is decided, none refused. */
const UNREACHED = { rate: '100000000/s', key: 'ip' };

interface Row {
  readonly name: string;
  /** The row this one's cost is measured against. */
  readonly against: string | undefined;
  readonly close: boolean;
  readonly url: string;
  readonly managed: Managed;
  readonly cpuUs: number[];
  readonly rps: number[];
}

/**
 * The decision alone, in this process: CPU per call of what phase 2b runs, without sockets (which the whole-process
 * rows include, with the machine's noise). Median of `runs` runs of `n` calls, in ns.
 */
function microCosts(runs = 7, n = 500_000): Array<{ name: string; ns: number }> {
  const stats = new LimitStats(monotonicClock);
  const store = new MemoryLimiterStore(monotonicClock, 100_000);
  const trusted = new BlockList();
  trusted.addSubnet('10.0.0.0', 8, 'ipv4');
  const isTrusted = (ip: string) => trusted.check(ip, 'ipv4');
  const byIp = new RouteLimiter(compilePolicy('bench', { rate: { count: 100_000_000, periodMs: 1000 }, key: 'ip', headers: false }), store, stats);
  const byHeader = new RouteLimiter(compilePolicy('bench-h', { rate: { count: 100_000_000, periodMs: 1000 }, key: 'header:x-api-key', headers: true }), store, stats);
  const direct = { clientIp: '192.0.2.1', forwardedFor: undefined, header: () => undefined };
  const proxied = { clientIp: '10.0.0.1', forwardedFor: '198.51.100.7, 10.1.1.1', header: () => undefined };
  const keyed = { clientIp: '192.0.2.1', forwardedFor: undefined, header: (name: string) => (name === 'x-api-key' ? 'key-0123456789' : undefined) };
  const never = () => false;
  const policy = { intervalMs: 0.5, burst: 10 };
  let tat = 0;
  let now = 0;
  const cases: Array<[string, () => unknown]> = [
    ['gcra() alone', () => (tat = gcra(tat, (now += 0.7), policy).tat)],
    ['check, key ip, memory store', () => byIp.check(direct, never)],
    ['check, key ip through a trusted proxy (X-Forwarded-For walked)', () => byIp.check(proxied, isTrusted)],
    ['check, key header, memory store, + RateLimit fields', () => rateLimitFields(byHeader.policy, byHeader.check(keyed, never) as never)],
  ];
  const out = [];
  for (const [name, fn] of cases) {
    const samples = [];
    for (let r = 0; r < runs; r++) {
      const before = process.cpuUsage();
      for (let i = 0; i < n; i++) fn();
      const used = process.cpuUsage(before);
      samples.push(((used.user + used.system) * 1000) / n);
    }
    out.push({ name, ns: median(samples)! });
  }
  void store.close();
  return out;
}

if (settings.microOnly) {
  for (const m of microCosts()) process.stdout.write(`${m.name}: ${m.ns.toFixed(0)} ns\n`);
  process.exit(0);
}

const group = new ProcessGroup();
await group.run(async () => {
  const wrk = findExecutable('wrk');
  const nginx = findExecutable('nginx');
  const redisBinary = findExecutable('redis-server');
  if (wrk === undefined || nginx === undefined) throw new Error('bench:ratelimit needs wrk and nginx (apt-get install wrk nginx)');
  const host = machine();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'fulcrum-bench-ratelimit-'));
  group.onCleanup(() => rm(dir, { recursive: true, force: true }));
  const ports = await freePorts(3);
  const home = path.join(dir, 'nginx-backends');
  await startNginx(group, nginx, 'nginx backends', home, nginxBackendConf(home, ports, BODY_TEXT), ports[0]!);
  const pool = { algorithm: 'round-robin', backends: ports.map((p) => ({ url: `http://127.0.0.1:${p}` })) };
  const redis = redisBinary === undefined ? undefined : await startRedis(group, redisBinary, dir);

  const rows: Row[] = [];
  const add = async (name: string, against: string | undefined, close: boolean, opts: Omit<FulcrumOptions, 'pool'>) => {
    const { url, managed } = await startFulcrumProcess(group, name, dir, { ...opts, pool });
    await expectBody(`${url}/`, BODY);
    rows.push({ name, against, close, url, managed, cpuUs: [], rps: [] });
  };
  const plain = [{ match: {}, pool: 'bench' }];
  const limited = (extra: object = {}) => [{ match: {}, pool: 'bench', rate_limit: { ...UNREACHED, ...extra } }];
  await add('workers=1, no rate limit', undefined, false, { workers: 1, routes: plain });
  await add('workers=1, rate limit (memory)', 'workers=1, no rate limit', false, { workers: 1, routes: limited() });
  await add('workers=1, rate limit (memory) + RateLimit fields', 'workers=1, no rate limit', false, { workers: 1, routes: limited({ headers: true }) });
  if (redis !== undefined) {
    await add('workers=1, rate limit (Redis)', 'workers=1, no rate limit', false, {
      workers: 1,
      routes: limited(),
      extra: { rate_limit: { store: 'redis', redis: { url: `redis://127.0.0.1:${redis.port}` } } },
    });
  }
  await add('workers=2, no rate limit', undefined, false, { workers: 2, routes: plain });
  await add('workers=2, rate limit (primary over IPC)', 'workers=2, no rate limit', false, { workers: 2, routes: limited() });
  await add('workers=2, new connection per request, no connection limit', undefined, true, { workers: 2, routes: plain, extra: { limits: { max_connections: 0 } } });
  await add('workers=2, new connection per request, max_connections_per_ip (primary over IPC)', 'workers=2, new connection per request, no connection limit', true, {
    workers: 2,
    routes: plain,
    extra: { limits: { max_connections: 10_000, max_connections_per_ip: 1000 } },
  });
  await add('workers=2, new connection per request, max_connections only (the default: each worker its share)', 'workers=2, new connection per request, no connection limit', true, {
    workers: 2,
    routes: plain,
  });

  const wrkOf = (r: Row, durationSec: number) =>
    runWrk(group, { wrk, url: `${r.url}/`, threads: 1, connections: r.close ? 16 : settings.connections, durationSec, headers: r.close ? ['Connection: close'] : [] });
  for (const r of rows) await wrkOf(r, 2);
  for (let round = 1; round <= settings.rounds; round++) {
    for (const r of rows) {
      const before = groupCpuSeconds(r.managed.child.pid!);
      const w = await wrkOf(r, settings.durationSec);
      const cpu = groupCpuSeconds(r.managed.child.pid!) - before;
      r.cpuUs.push((cpu * 1e6) / w.requests);
      r.rps.push(w.requestsPerSec);
      process.stderr.write(`round ${round} ${r.name}: ${fmtInt(w.requestsPerSec)} req/s, ${((cpu * 1e6) / w.requests).toFixed(1)} µs CPU/request, ${w.errors} errors\n`);
    }
  }
  const byName = new Map(rows.map((r) => [r.name, r]));
  /** The cost per round, against the same round of the row it is compared with: noise moves both alike. */
  const deltas = (r: Row) => (r.against === undefined ? [] : r.cpuUs.map((us, i) => us - byName.get(r.against!)!.cpuUs[i]!));
  const table = markdownTable<Row>(
    [
      { title: 'Fulcrum', cell: (r) => r.name },
      { title: 'req/s (median)', align: 'right', cell: (r) => fmtInt(median(r.rps)) },
      { title: 'µs CPU per request (median)', align: 'right', cell: (r) => median(r.cpuUs)!.toFixed(1) },
      { title: 'cost (µs, median of per-round differences)', align: 'right', cell: (r) => (r.against === undefined ? '' : `${median(deltas(r))!.toFixed(1)}`) },
      { title: 'ratio', align: 'right', cell: (r) => (r.against === undefined ? '' : `${(median(r.cpuUs)! / median(byName.get(r.against)!.cpuUs)!).toFixed(2)}x`) },
      { title: 'rounds (µs)', cell: (r) => r.cpuUs.map((x) => x.toFixed(1)).join(' / ') },
    ],
    rows,
  );
  const micro = microCosts();
  const microTable = markdownTable<{ name: string; ns: number }>(
    [
      { title: 'In this process, no sockets', cell: (m) => m.name },
      { title: 'ns CPU per call (median of 7 × 500,000)', align: 'right', cell: (m) => m.ns.toFixed(0) },
    ],
    micro,
  );
  const s = settings;
  const markdown = [
    machineHeader(
      'What limits cost',
      host,
      `BENCH_ROUNDS=${s.rounds} npm run bench:ratelimit`,
      `wrk -t1 -c${s.connections} -d${s.durationSec}s GET / (1 KB; -c16 with Connection: close), ${s.rounds} interleaved rounds, unpinned; CPU of Fulcrum's process group from /proc; a rate limit of ${UNREACHED.rate} keyed by ip (nothing refused).`,
    ),
    '',
    table,
    '',
    microTable,
  ].join('\n');
  process.stdout.write(`${markdown}\n`);
  await writeResults('ratelimit', markdown, { settings: s, rows: rows.map((r) => ({ name: r.name, cpuUs: r.cpuUs, rps: r.rps })), micro });
});

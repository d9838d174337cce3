/**
 * The cache part of `npm run bench` (after throughput.ts): requests per second of a cache hit in Fulcrum with
 * each store (memory, Redis, memcached) beside nginx proxy_cache, Varnish when installed, and a bare Node
 * responder; what the cache machinery costs on a miss (a `no-store` backend, cache on vs off); and a Redis hit
 * against a 5 ms backend; and a memory hit after many purges of other URLs (the bans every lookup checks). Every target
 * has one worker; wrk in interleaved rounds; medians. See bench/README.md.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { BODY, BODY_TEXT } from './lib/body.ts';
import { reportCache, type Measurement, type Row, type Run, type Section } from './lib/cache-report.ts';
import { backendRequests, startMemcached, startRedis, startVarnish } from './lib/cache-services.ts';
import { fulcrumMissing, startFulcrumProcess, type FulcrumOptions, type StartedFulcrum } from './lib/fulcrum.ts';
import { get, type Reply } from './lib/http-check.ts';
import { nginxCacheBackendConf, nginxCacheProxyConf, startNginx } from './lib/nginx.ts';
import { freePort } from './lib/ports.ts';
import { findExecutable, indent, type Managed, ProcessGroup } from './lib/processes.ts';
import { envNumber } from './lib/report.ts';
import { median } from './lib/stats.ts';
import { fmtInt, fmtMs } from './lib/table.ts';
import { ensureAnswering, prepare, skipped, type Target } from './lib/targets.ts';
import { runWrk } from './lib/wrk.ts';

const settings = {
  durationSec: envNumber('BENCH_CACHE_DURATION', 5),
  rounds: Math.round(envNumber('BENCH_CACHE_ROUNDS', 3)),
  warmupSec: envNumber('BENCH_CACHE_WARMUP', 2),
  threads: 1,
  connections: 64,
  /** The Redis hit and the 5 ms backend are also measured over one connection: latency without queueing. */
  singleConnection: 1,
  /** Purges applied before the purge-heavy hit is measured: URL, prefix and tag bans, a third each. */
  purges: Math.round(envNumber('BENCH_CACHE_PURGES', 10_000)),
};

const CACHED = '/cached';
const NO_STORE = '/nostore';

/**
 * Starts the backend that answers /cached (max-age=3600) and /nostore (no-store): nginx when its binary is given,
 * else the Node backend, which waits `delayMs` before each answer. Resolves to its origin once both paths answer
 * with the 1 KB body and its request counter works.
 */
async function startBackend(nginx: string | undefined, dir: string, delayMs: number): Promise<string> {
  const port = await freePort();
  if (nginx !== undefined) {
    const home = path.join(dir, 'nginx-backend');
    await startNginx(group, nginx, 'nginx backend', home, nginxCacheBackendConf(home, port, BODY_TEXT), port);
  } else {
    const file = path.join(import.meta.dirname, 'servers', 'cache-backend.ts');
    const args = [file, '--port', String(port), '--delay-ms', String(delayMs)];
    await group.startListening({ name: `node backend (${delayMs} ms)`, command: process.execPath, args }, port);
  }
  const origin = `http://127.0.0.1:${port}`;
  for (const p of [CACHED, NO_STORE]) expectOk(await get(`${origin}${p}`), `${origin}${p}`);
  await backendRequests(origin); // fails early when the counter does not work
  return origin;
}

function expectOk(reply: Reply, url: string): void {
  if (reply.status !== 200) {
    throw new Error(`GET ${url}: status ${reply.status}: ${reply.body.toString('utf8', 0, 200)}`);
  }
  if (!reply.body.equals(BODY)) {
    throw new Error(`GET ${url}: expected the ${BODY.length}-byte body, got ${reply.body.length} bytes`);
  }
}

/** Fulcrum's own Cache-Status member (RFC 9211), e.g. `fulcrum; hit; ttl=3599`, or '' when there is none. */
function fulcrumStatus(reply: Reply): string {
  const all = String(reply.headers['cache-status'] ?? '');
  return all.split(',').map((m) => m.trim()).find((m) => m.startsWith('fulcrum')) ?? '';
}
const params = (member: string) => member.split(';').slice(1).map((p) => p.trim());
const shown = (value: unknown) => (value === undefined || value === '' ? '(none)' : String(value));

/** What a target's second request must show; a string says what was wrong. */
type Expect = (second: Reply) => string | undefined;

const EXPECT = {
  fulcrumHit: (r: Reply) =>
    params(fulcrumStatus(r)).includes('hit') ? undefined : `cache-status: ${shown(fulcrumStatus(r))}, not a hit`,
  fulcrumMiss: (r: Reply) => {
    const p = params(fulcrumStatus(r));
    const unstoredMiss = p.some((x) => x.startsWith('fwd=') && x.endsWith('miss')) && !p.includes('hit') && !p.includes('stored');
    return unstoredMiss ? undefined : `cache-status: ${shown(fulcrumStatus(r))}, not an unstored miss`;
  },
  noCache: (r: Reply) =>
    r.headers['cache-status'] === undefined ? undefined : `cache-status: ${r.headers['cache-status']} with the cache off`,
  nginxHit: (r: Reply) =>
    r.headers['x-cache-status'] === 'HIT' ? undefined : `X-Cache-Status: ${shown(r.headers['x-cache-status'])}, not HIT`,
  // Varnish names two transactions on a hit: this request's and the one that stored the object.
  varnishHit: (r: Reply) =>
    /^\d+ \d+$/.test(String(r.headers['x-varnish'] ?? '')) ? undefined : `X-Varnish: ${shown(r.headers['x-varnish'])}, not a hit`,
  any: () => undefined,
} satisfies Record<string, Expect>;

/**
 * Two GETs of `url + path`: both 200 with the 1 KB body, the second as `expect` wants (a hit, or a miss). The
 * first fills the cache for the hit targets; before each round the check runs again, so a target that lost its
 * entry is noticed rather than measured as a miss. `tail` adds the process's last output to a failure.
 */
function checkOf(path: string, expect: Expect, tail: () => string = () => '') {
  return async (url: string): Promise<void> => {
    try {
      expectOk(await get(`${url}${path}`), `${url}${path}`);
      const second = await get(`${url}${path}`);
      expectOk(second, `${url}${path}`);
      const problem = expect(second);
      if (problem !== undefined) throw new Error(`second GET ${path}: ${problem}`);
    } catch (err) {
      const out = tail();
      throw out === '' ? err : new Error(`${(err as Error).message}\n${indent(out)}`, { cause: err });
    }
  };
}

/**
 * Stores /cached, then purges `count` other URLs, prefixes below /cached and tags through the admin API (8 at a
 * time). The entry is older than every ban, so each hit checks them all: what a purge-heavy site's hits cost.
 */
async function storeThenPurge(started: StartedFulcrum, count: number): Promise<void> {
  expectOk(await get(`${started.url}${CACHED}`), `${started.url}${CACHED}`);
  const origin = started.url.replace(/^http:\/\//, '');
  const body = (i: number) =>
    i % 3 === 0 ? { url: `http://${origin}${CACHED}?v=${i}` } : i % 3 === 1 ? { prefix: `http://${origin}${CACHED}/${i}/` } : { tag: `t-${i}` };
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      const res = await fetch(`${started.adminUrl}/api/cache/purge`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body(i)),
      });
      await res.arrayBuffer();
      if (res.status !== 202) throw new Error(`purge ${i}: status ${res.status}`);
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
}

/** Starts a service (redis-server, memcached) when installed; a string says why it is not there. */
async function service<T>(binaryName: string, start: (binary: string) => Promise<T>): Promise<T | string> {
  const binary = findExecutable(binaryName);
  if (binary === undefined) return `skipped: ${binaryName} is not installed`;
  try {
    return await start(binary);
  } catch (err) {
    return `skipped: ${binaryName} did not start: ${String((err as Error).message).split('\n')[0]}`;
  }
}

/** Every target, started and checked; each appears in one or two measurements (64 connections, and 1). */
async function startTargets(
  backend: string,
  slowBackend: string,
  nginx: string | undefined,
  dir: string,
): Promise<Measurement[]> {
  const missing = await fulcrumMissing();
  const backendPort = Number(new URL(backend).port);
  const poolOf = (origin: string) => ({ algorithm: 'round-robin', backends: [{ url: origin }] });
  const caching = { pool: poolOf(backend), routes: [{ match: {}, pool: 'bench', cache: {} }] };
  const plain = (origin: string) => ({ pool: poolOf(origin), routes: [{ match: {}, pool: 'bench' }] });
  const fulcrum = async (
    name: string,
    path: string,
    expect: Expect,
    opts: Omit<FulcrumOptions, 'workers'>,
    then: (started: StartedFulcrum) => Promise<void> = async () => {},
  ) => {
    if (missing !== undefined) return skipped(name, missing);
    let managed: Managed | undefined;
    const start = async () => {
      const started = await startFulcrumProcess(group, name, dir, { workers: 1, ...opts });
      managed = started.managed;
      await then(started);
      return started.url;
    };
    return prepare(name, start, checkOf(path, expect, () => managed?.tail() ?? ''));
  };
  const redis = await service('redis-server', (bin) => startRedis(group, bin, dir));
  const memcached = await service('memcached', (bin) => startMemcached(group, bin));
  const varnishd = findExecutable('varnishd');

  const nginxHit =
    nginx === undefined
      ? skipped('nginx proxy_cache: hit', 'skipped: nginx is not installed')
      : await prepare(
          'nginx proxy_cache: hit',
          async () => {
            const port = await freePort();
            const home = path.join(dir, `nginx-cache-${port}`);
            await startNginx(group, nginx, 'nginx proxy_cache', home, nginxCacheProxyConf(home, port, backendPort), port);
            return `http://127.0.0.1:${port}`;
          },
          checkOf(CACHED, EXPECT.nginxHit),
        );
  const varnishHit =
    varnishd === undefined
      ? skipped('Varnish: hit', 'skipped: varnishd is not installed')
      : await prepare(
          'Varnish: hit',
          async () => `http://127.0.0.1:${(await startVarnish(group, varnishd, path.join(dir, 'varnish'), backendPort)).port}`,
          checkOf(CACHED, EXPECT.varnishHit),
        );
  const memoryHit = await fulcrum('Fulcrum memory: hit', CACHED, EXPECT.fulcrumHit, { ...caching, cache: { store: 'memory' } });
  const purgedHit = await fulcrum(
    `Fulcrum memory: hit after ${fmtInt(settings.purges)} purges`,
    CACHED,
    EXPECT.fulcrumHit,
    { ...caching, cache: { store: 'memory' } },
    (started) => storeThenPurge(started, settings.purges),
  );
  const redisHit =
    typeof redis === 'string'
      ? skipped('Fulcrum redis: hit', redis)
      : await fulcrum('Fulcrum redis: hit', CACHED, EXPECT.fulcrumHit, {
          ...caching,
          cache: { store: 'redis', redis: { url: `redis://127.0.0.1:${redis.port}` } },
        });
  const memcachedHit =
    typeof memcached === 'string'
      ? skipped('Fulcrum memcached: hit', memcached)
      : await fulcrum('Fulcrum memcached: hit', CACHED, EXPECT.fulcrumHit, {
          ...caching,
          cache: { store: 'memcached', memcached: { servers: [`127.0.0.1:${memcached.port}`] } },
        });
  const stored = await prepare(
    'Node: stored buffer (no cache)',
    async () => {
      const port = await freePort();
      const args = [path.join(import.meta.dirname, 'servers', 'stored-response.ts'), '--port', String(port)];
      await group.startListening({ name: 'node stored response', command: process.execPath, args }, port);
      return `http://127.0.0.1:${port}`;
    },
    checkOf(CACHED, EXPECT.any),
  );
  const missOn = await fulcrum('Fulcrum memory: miss (no-store)', NO_STORE, EXPECT.fulcrumMiss, {
    ...caching,
    cache: { store: 'memory' },
  });
  const missOff = await fulcrum('Fulcrum: cache off (no-store)', NO_STORE, EXPECT.noCache, plain(backend));
  const slow = await fulcrum('Fulcrum: cache off, 5 ms backend', CACHED, EXPECT.noCache, plain(slowBackend));

  // Which backend's counter is read around each run, and whether every request must be a hit.
  const hits = { origin: backend, hit: true };
  const misses = { origin: backend, hit: false };
  const slowOnes = { origin: slowBackend, hit: false };
  const m = (
    target: Target,
    section: Section,
    path: string,
    count: { readonly origin?: string; readonly hit: boolean },
    connections = settings.connections,
  ): Measurement => ({
    name: connections === settings.connections ? target.name : `${target.name}, ${connections} connection${connections > 1 ? 's' : ''}`,
    target,
    section,
    path,
    connections,
    hit: count.hit,
    countOrigin: count.origin,
  });
  return [
    m(nginxHit, 'hit', CACHED, hits),
    m(varnishHit, 'hit', CACHED, hits),
    m(memoryHit, 'hit', CACHED, hits),
    m(purgedHit, 'hit', CACHED, hits),
    m(redisHit, 'hit', CACHED, hits),
    m(memcachedHit, 'hit', CACHED, hits),
    m(stored, 'hit', CACHED, { hit: false }), // no backend behind it
    m(missOn, 'miss', NO_STORE, misses),
    m(missOff, 'miss', NO_STORE, misses),
    m(slow, 'slow', CACHED, slowOnes),
    m(redisHit, 'latency', CACHED, hits, settings.singleConnection),
    m(slow, 'latency', CACHED, slowOnes, settings.singleConnection),
  ];
}

/**
 * The order of one round: reversed every other round, so that drift on the noisy machine does not always favour
 * the same neighbour. The miss pair (cache on, cache off) runs twice, there and back (ABBA), side by side: its
 * ratio is the finest one asked for (5%), and pairs of adjacent runs share the machine's state of the moment.
 */
function roundOrder(live: readonly Measurement[], round: number): { m: Measurement; pass: number }[] {
  const order = (round % 2 === 0 ? [...live].reverse() : [...live]).map((m) => ({ m, pass: 1 }));
  const pair = order.filter((o) => o.m.section === 'miss');
  if (pair.length > 0) order.splice(order.indexOf(pair.at(-1)!) + 1, 0, ...pair.reverse().map((o) => ({ m: o.m, pass: 2 })));
  return order;
}

/**
 * A warm-up per target, then rounds (see roundOrder). Around each run the backend's request counter is read: a
 * hit target must not have let anything through.
 */
async function measure(wrk: string, measurements: readonly Measurement[]): Promise<Map<Measurement, Run[]>> {
  const run = (m: Measurement, durationSec: number) =>
    runWrk(group, { wrk, url: `${m.target.url!}${m.path}`, threads: settings.threads, connections: m.connections, durationSec });
  const live = measurements.filter((m) => m.target.url !== undefined);
  const warmed = new Set<Target>();
  for (const m of live) {
    if (warmed.has(m.target)) continue; // its single-connection run: the target is warm already
    warmed.add(m.target);
    if (!(await ensureAnswering(m.target, 'before the warm-up'))) continue;
    process.stderr.write(`warm-up ${m.name} (${settings.warmupSec}s)\n`);
    await run(m, settings.warmupSec).catch(() => {});
  }
  const results = new Map<Measurement, Run[]>(live.map((m) => [m, []]));
  for (let round = 1; round <= settings.rounds; round++) {
    for (const { m, pass } of roundOrder(live, round)) {
      if (!(await ensureAnswering(m.target, `before round ${round}`))) continue;
      try {
        const before = m.countOrigin === undefined ? undefined : await backendRequests(m.countOrigin);
        const r = await run(m, settings.durationSec);
        const after = m.countOrigin === undefined ? undefined : await backendRequests(m.countOrigin);
        const reached = before === undefined || after === undefined ? undefined : after - before - 1;
        results.get(m)!.push({ round, pass, wrk: r, backendRequests: reached });
        const errors = r.errors ? `, ${r.errors} errors` : '';
        const count = reached === undefined ? '' : `, backend reached ${fmtInt(reached)} times`;
        const latency = `p50 ${fmtMs(r.p50Ms)}, p99 ${fmtMs(r.p99Ms)}`;
        process.stderr.write(`round ${round}/${settings.rounds} ${m.name}: ${fmtInt(r.requestsPerSec)} req/s, ${latency}${errors}${count}\n`);
      } catch (err) {
        const reason = (err as Error).message.split('\n').slice(0, 2).join(' ');
        m.target.events.push(`round ${round} failed: ${reason}`);
        process.stderr.write(`round ${round}/${settings.rounds} ${m.name}: failed: ${reason}\n`);
      }
    }
  }
  return results;
}

const group = new ProcessGroup();

// Last, after every declaration above is initialized: the top-level await runs the whole benchmark.
await group.run(async () => {
  const wrk = findExecutable('wrk');
  if (wrk === undefined) throw new Error('wrk is not installed (apt-get install wrk): nothing can be measured');
  const nginx = findExecutable('nginx');
  const dir = await mkdtemp(path.join(os.tmpdir(), 'fulcrum-bench-cache-'));
  group.onCleanup(() => rm(dir, { recursive: true, force: true }));

  const backend = await startBackend(nginx, dir, 0);
  const slowBackend = await startBackend(undefined, dir, 5);
  const backendKind = nginx ? 'nginx (worker_processes 1, `return 200`)' : 'a Node process (nginx not installed)';
  process.stderr.write(`backend: ${backend}, served by ${backendKind}; 5 ms backend: ${slowBackend}\n`);

  const measurements = await startTargets(backend, slowBackend, nginx, dir);
  const results = await measure(wrk, measurements);
  const rows: Row[] = measurements.map((m) => {
    const runs = results.get(m) ?? [];
    const counted = runs.map((r) => r.backendRequests).filter((n): n is number => n !== undefined);
    return {
      ...m,
      runs,
      requestsPerSec: median(runs.map((r) => r.wrk.requestsPerSec)),
      p50Ms: median(runs.map((r) => r.wrk.p50Ms)),
      p99Ms: median(runs.map((r) => r.wrk.p99Ms)),
      errors: runs.reduce((sum, r) => sum + r.wrk.errors, 0),
      backendRequests: counted.length === 0 ? undefined : counted.reduce((a, b) => a + b, 0),
    };
  });
  await reportCache(rows, { ...settings, backends: backendKind });
});

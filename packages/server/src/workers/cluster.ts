/**
 * workers: N — a primary and N worker processes sharing the listener (node:cluster). The primary runs the control
 * plane (health decided once, reloads, admin API) and sends each worker the config and backend states; workers
 * proxy, and report outcomes (batched) and statistics (every 500 ms), which the primary sums into one truth.
 */
import cluster, { type Worker } from 'node:cluster';
import { AdminServer } from '../admin/server.ts';
import type { Config } from '../config/schema.ts';
import { createLogger, type Logger } from '../observability/logger.ts';
import { createMetricsRegistry } from '../observability/metrics.ts';
import { sumSnapshots, type StatsSnapshot } from '../observability/stats.ts';
import { ControlPlane } from './control-plane.ts';
import { OutcomeBatch, replay, type OutcomeReport } from './outcome-batch.ts';
import { ProxyProcess, type BackendStateUpdate } from './proxy-process.ts';
import type { RunningFulcrum } from './single.ts';
import type { ChallengeSet } from '../acme/answers.ts';
import { listenersOf } from '../config/listeners.ts';
import type { TlsMaterial } from '../tls/material.ts';

type ToWorker =
  | { t: 'config'; config: Config; states: readonly BackendStateUpdate[]; tls: TlsMaterial }
  | { t: 'tls'; material: TlsMaterial }
  | { t: 'challenges'; id: number; set: ChallengeSet }
  | { t: 'states'; states: readonly BackendStateUpdate[] }
  | { t: 'drain'; deadlineMs: number }
  | { t: 'purge'; kind: 'url' | 'prefix' | 'tag'; value: string };

type ToPrimary =
  | { t: 'ready'; ports: number[] }
  | { t: 'challenges-applied'; id: number }
  | { t: 'outcomes'; reports: OutcomeReport[] }
  | { t: 'stats'; snapshot: StatsSnapshot }
  | { t: 'failed'; message: string };

const STATS_INTERVAL_MS = 500;
const OUTCOME_FLUSH_MS = 50;
const RESPAWN_DELAY_MS = 1000;

export async function startPrimary(config: Config, configFile: string | undefined, log: Logger, count: number): Promise<RunningFulcrum> {
  const control = new ControlPlane(config, configFile, log);
  const snapshots = new Map<Worker, StatsSnapshot>();
  /** Counters of workers that exited, so that totals never go down. */
  let retired: StatsSnapshot = { pools: {}, connections: 0 };
  let stopping = false;
  /** Challenge sets sent and not yet acknowledged by every worker: id → workers still to answer, and the waiter. */
  const pendingChallenges = new Map<number, { waiting: Set<Worker>; done: () => void }>();
  let challengeId = 0;

  const broadcast = (msg: ToWorker) => {
    for (const w of Object.values(cluster.workers ?? {})) if (w?.isConnected()) w.send(msg);
  };
  control.attach({
    applyConfig: (c, states) => broadcast({ t: 'config', config: c, states, tls: control.tls.material }),
    applyBackendStates: (states) => broadcast({ t: 'states', states }),
    stats: () => sumSnapshots([retired, ...snapshots.values()]),
    purge: (kind, value) => broadcast({ t: 'purge', kind, value }),
  });
  control.tls.attach({
    applyTls: (material) => broadcast({ t: 'tls', material }),
    applyChallenges: (set) =>
      new Promise<void>((resolve) => {
        const id = ++challengeId;
        const waiting = new Set(Object.values(cluster.workers ?? {}).filter((w): w is Worker => w?.isConnected() === true));
        if (waiting.size === 0) return resolve();
        pendingChallenges.set(id, { waiting, done: resolve });
        broadcast({ t: 'challenges', id, set });
      }),
  });
  const acknowledge = (worker: Worker, id?: number) => {
    for (const [key, pending] of pendingChallenges) {
      if (id !== undefined && key !== id) continue;
      pending.waiting.delete(worker);
      if (pending.waiting.size > 0) continue;
      pendingChallenges.delete(key);
      pending.done();
    }
  };
  await control.tls.init();

  const fork = (): Promise<number[]> =>
    new Promise((resolve, reject) => {
      const worker = cluster.fork({ FULCRUM_WORKER: '1' });
      worker.on('online', () => {
        worker.send({ t: 'config', config: control.config, states: statesOf(control), tls: control.tls.material } satisfies ToWorker);
      });
      worker.on('message', (msg: ToPrimary) => {
        switch (msg.t) {
          case 'ready':
            resolve(msg.ports);
            break;
          case 'challenges-applied':
            acknowledge(worker, msg.id);
            break;
          case 'outcomes':
            for (const r of msg.reports) replay(r, (pool, id, outcome) => control.report(pool, id, outcome));
            break;
          case 'stats':
            snapshots.set(worker, msg.snapshot);
            break;
          case 'failed':
            reject(new Error(msg.message));
            break;
        }
      });
      worker.on('exit', (code, signal) => {
        const last = snapshots.get(worker);
        if (last) retired = sumSnapshots([retired, { ...last, connections: 0, pools: zeroInFlight(last.pools) }]);
        snapshots.delete(worker);
        acknowledge(worker); // a worker that died answers nothing: no longer waited for
        if (stopping) return;
        log.error({ worker: worker.process.pid, code, signal }, 'worker exited; starting another');
        setTimeout(() => void fork().catch((err: unknown) => log.error({ err }, 'worker failed to start')), RESPAWN_DELAY_MS);
      });
    });

  const admin = new AdminServer(control, createMetricsRegistry(control), log);
  const adminPort = await admin.listen(config.admin.listen);
  const ports = (await Promise.all(Array.from({ length: count }, fork)))[0]!;
  const proxyPort = ports[0]!;
  control.tls.startAcme();
  log.info({ listen: listenersOf(config).map((l) => l.listen), port: proxyPort, ports, admin: adminPort, workers: count }, 'fulcrum ready');

  return {
    proxyPort,
    ports,
    adminPort,
    control,
    reload: () => control.reload(),
    async stop() {
      stopping = true;
      const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);
      const exited = Promise.all(workers.map((w) => new Promise<void>((r) => (w.isDead() ? r() : w.once('exit', () => r())))));
      broadcast({ t: 'drain', deadlineMs: control.config.drain_timeout });
      const killAt = setTimeout(() => workers.forEach((w) => w.process.kill('SIGKILL')), control.config.drain_timeout + 5000);
      await exited;
      clearTimeout(killAt);
      control.stop();
      await admin.close();
    },
  };
}

function statesOf(control: ControlPlane): BackendStateUpdate[] {
  const out: BackendStateUpdate[] = [];
  for (const pool of Object.keys(control.config.pools)) {
    for (const b of control.backendsOf(pool)) out.push({ pool, id: b.id, state: b.state, warmth: b.warmth });
  }
  return out;
}

function zeroInFlight(pools: StatsSnapshot['pools']): StatsSnapshot['pools'] {
  const copy = structuredClone(pools);
  for (const p of Object.values(copy)) {
    p.inFlight = 0;
    for (const b of Object.values(p.backends)) b.inFlight = 0;
  }
  return copy;
}

/** The worker side: waits for its config, proxies, reports. Signals are the primary's business. */
export function runWorker(): void {
  let proxy: ProxyProcess | undefined;
  let booting = false;
  /** A config that arrived while booting, applied once ready. */
  let queued: Extract<ToWorker, { t: 'config' }> | undefined;
  /** TLS material and challenges that arrived before the proxy was built. */
  let tls: TlsMaterial | undefined;
  let challenges: ChallengeSet | undefined;
  const outcomes = new OutcomeBatch();
  const send = (msg: ToPrimary) => process.send?.(msg);
  // The primary handles SIGINT/SIGTERM (a terminal's ^C reaches every process of the group): ignore them here.
  process.on('SIGINT', () => {});
  process.on('SIGTERM', () => {});
  process.on('message', (msg: ToWorker) => {
    switch (msg.t) {
      case 'config':
        if (proxy !== undefined) proxy.applyConfig(msg.config, msg.states);
        else if (booting) queued = msg;
        else void boot(msg.config, msg.states, msg.tls);
        break;
      case 'tls':
        if (proxy !== undefined) proxy.applyTls(msg.material);
        else tls = msg.material;
        break;
      case 'challenges':
        challenges = msg.set;
        proxy?.applyChallenges(msg.set);
        send({ t: 'challenges-applied', id: msg.id });
        break;
      case 'states':
        proxy?.applyBackendStates(msg.states);
        break;
      case 'purge':
        void proxy?.purge(msg.kind, msg.value);
        break;
      case 'drain':
        void proxy?.drain(msg.deadlineMs).finally(() => {
          if (outcomes.size > 0) send({ t: 'outcomes', reports: outcomes.take() });
          if (proxy) send({ t: 'stats', snapshot: proxy.snapshot() });
          process.disconnect?.();
          setTimeout(() => process.exit(0), 50).unref();
        });
        break;
    }
  });

  async function boot(config: Config, states: readonly BackendStateUpdate[], material: TlsMaterial): Promise<void> {
    booting = true;
    const log = createLogger(config.log.level);
    try {
      proxy = new ProxyProcess(config, log, (pool, backend, outcome) => outcomes.add(pool, backend.id, outcome));
      proxy.applyBackendStates(states);
      proxy.applyTls(tls ?? material);
      if (challenges) proxy.applyChallenges(challenges);
      const ports = await proxy.listen();
      setInterval(() => send({ t: 'stats', snapshot: proxy!.snapshot() }), STATS_INTERVAL_MS).unref();
      setInterval(() => outcomes.size > 0 && send({ t: 'outcomes', reports: outcomes.take() }), OUTCOME_FLUSH_MS).unref();
      if (queued) proxy.applyConfig(queued.config, queued.states);
      send({ t: 'ready', ports });
    } catch (err) {
      send({ t: 'failed', message: (err as Error).message });
      process.exit(1);
    }
  }
}

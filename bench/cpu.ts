/**
 * `npm run bench:cpu`: CPU per request of each proxy in front of the same three nginx backends (1 KB body), the
 * proxy pinned to core 0 and wrk with the backends to core 1 (BENCH_PIN=0: unpinned). CPU is read from /proc for
 * the proxy's whole process group, so helper threads count. This is the measurement behind issue 13's choice of
 * HTTP/1.1 codec: Fulcrum's own wire code against llhttp-based Node proxies, with nginx for scale.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { BODY, BODY_TEXT } from './lib/body.ts';
import { baselineCheckouts } from './lib/baseline.ts';
import { groupCpuSeconds, pinGroup } from './lib/cpu.ts';
import { startFulcrumProcess } from './lib/fulcrum.ts';
import { expectBody } from './lib/http-check.ts';
import { nginxBackendConf, nginxProxyConf, startNginx } from './lib/nginx.ts';
import { freePort, freePorts } from './lib/ports.ts';
import { findExecutable, ProcessGroup, type Managed } from './lib/processes.ts';
import { envNumber, machine, machineHeader, writeResults } from './lib/report.ts';
import { median } from './lib/stats.ts';
import { fmtInt, markdownTable } from './lib/table.ts';
import { runWrk } from './lib/wrk.ts';

const settings = {
  durationSec: envNumber('BENCH_DURATION', 5),
  rounds: Math.round(envNumber('BENCH_ROUNDS', 3)),
  connections: 64,
  pin: process.env.BENCH_PIN !== '0',
};

interface Target {
  readonly name: string;
  readonly url: string;
  readonly managed: Managed;
  readonly cpuUs: number[];
  readonly rps: number[];
}

const group = new ProcessGroup();
await group.run(async () => {
  const wrk = findExecutable('wrk');
  const nginx = findExecutable('nginx');
  if (wrk === undefined || nginx === undefined) throw new Error('bench:cpu needs wrk and nginx (apt-get install wrk nginx)');
  const host = machine(); // before pinning, which hides the other core from os.availableParallelism()
  // The driver, and so wrk and the backends it starts, on core 1; each proxy is moved to core 0 once started.
  if (settings.pin) execFileSync('taskset', ['-a', '-p', '-c', '1', String(process.pid)], { stdio: 'ignore' });
  const dir = await mkdtemp(path.join(os.tmpdir(), 'fulcrum-bench-cpu-'));
  group.onCleanup(() => rm(dir, { recursive: true, force: true }));
  const ports = await freePorts(3);
  const home = path.join(dir, 'nginx-backends');
  await startNginx(group, nginx, 'nginx backends', home, nginxBackendConf(home, ports, BODY_TEXT), ports[0]!);
  const backendUrls = ports.map((p) => `http://127.0.0.1:${p}`);

  const targets: Target[] = [];
  const add = async (name: string, start: () => Promise<{ url: string; managed: Managed }>) => {
    const { url, managed } = await start();
    await expectBody(`${url}/`, BODY);
    if (settings.pin) pinGroup(managed.child.pid!, 0);
    targets.push({ name, url, managed, cpuUs: [], rps: [] });
  };
  const pool = { algorithm: 'round-robin', backends: backendUrls.map((url) => ({ url })) };
  await add('Fulcrum workers=1', () => startFulcrumProcess(group, 'fulcrum', dir, { workers: 1, pool }));
  const baselines = baselineCheckouts(group, dir);
  for (const [i, b] of baselines.entries()) {
    await add(`Fulcrum workers=1 (${b.revision})`, () => startFulcrumProcess(group, `fulcrum-baseline-${i}`, dir, { workers: 1, pool, root: b.root }));
  }
  await add('node:http + undici Pool.dispatch', async () => {
    const port = await freePort();
    const args = [path.join(import.meta.dirname, 'proxies', 'undici-proxy.ts'), '--port', String(port), '--backends', backendUrls.join(',')];
    const managed = await group.startListening({ name: 'undici proxy', command: process.execPath, args }, port);
    return { url: `http://127.0.0.1:${port}`, managed };
  });
  await add('nginx', async () => {
    const port = await freePort();
    const nginxHome = path.join(dir, 'nginx-proxy');
    const managed = await startNginx(group, nginx, 'nginx proxy', nginxHome, nginxProxyConf(nginxHome, [{ port, method: 'round-robin', backendPorts: ports }]), port);
    return { url: `http://127.0.0.1:${port}`, managed };
  });

  for (const t of targets) await runWrk(group, { wrk, url: `${t.url}/`, threads: 1, connections: settings.connections, durationSec: 2 });
  for (let round = 1; round <= settings.rounds; round++) {
    for (const t of targets) {
      const before = groupCpuSeconds(t.managed.child.pid!);
      const r = await runWrk(group, { wrk, url: `${t.url}/`, threads: 1, connections: settings.connections, durationSec: settings.durationSec });
      const cpu = groupCpuSeconds(t.managed.child.pid!) - before;
      t.cpuUs.push((cpu * 1e6) / r.requests);
      t.rps.push(r.requestsPerSec);
      process.stderr.write(`round ${round} ${t.name}: ${fmtInt(r.requestsPerSec)} req/s, ${((cpu * 1e6) / r.requests).toFixed(1)} µs CPU/request, ${r.errors} errors\n`);
    }
  }
  const fulcrum = median(targets[0]!.cpuUs)!;
  const table = markdownTable<Target>(
    [
      { title: 'Proxy', cell: (t) => t.name },
      { title: 'req/s (median)', align: 'right', cell: (t) => fmtInt(median(t.rps)) },
      { title: 'µs CPU per request (median)', align: 'right', cell: (t) => median(t.cpuUs)!.toFixed(1) },
      { title: 'rounds (µs)', cell: (t) => t.cpuUs.map((x) => x.toFixed(1)).join(' / ') },
      { title: 'CPU vs Fulcrum', align: 'right', cell: (t) => `${(median(t.cpuUs)! / fulcrum).toFixed(2)}x` },
    ],
    targets,
  );
  const s = settings;
  const markdown = [
    machineHeader(
      'CPU per request',
      host,
      `BENCH_PIN=${s.pin ? 1 : 0} BENCH_ROUNDS=${s.rounds}${baselines.length > 0 ? ` BENCH_BASELINE=${baselines.map((b) => b.revision).join(',')}` : ''} npm run bench:cpu`,
      `wrk -t1 -c${s.connections} -d${s.durationSec}s GET / (1 KB), ${s.rounds} interleaved rounds; ${s.pin ? 'proxy pinned to core 0, wrk and 3 nginx backends to core 1' : 'unpinned'}; CPU of the proxy's process group from /proc.`,
    ),
    '',
    table,
  ].join('\n');
  process.stdout.write(`${markdown}\n`);
  await writeResults(`cpu-${s.pin ? 'pinned' : 'unpinned'}`, markdown, { settings: s, targets: targets.map((t) => ({ name: t.name, cpuUs: t.cpuUs, rps: t.rps })) });
});

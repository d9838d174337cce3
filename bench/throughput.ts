/**
 * `npm run bench`: the most requests per second each proxy gets through on this machine, in front of the same
 * three fast backends (1 KB body), measured with wrk in interleaved rounds; medians reported as ratios against
 * nginx and against the backend alone. See bench/README.md.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startBackends, backendKindOf } from './lib/backends.ts';
import { BODY } from './lib/body.ts';
import { baselineCheckouts, type Baseline } from './lib/baseline.ts';
import { FULCRUM_BIN, fulcrumMissing, startFulcrum } from './lib/fulcrum.ts';
import { haproxyConf, startHaproxy } from './lib/haproxy.ts';
import { expectBody } from './lib/http-check.ts';
import { nginxProxyConf, startNginx } from './lib/nginx.ts';
import { freePort } from './lib/ports.ts';
import { findExecutable, ProcessGroup } from './lib/processes.ts';
import { envNumber, machine, machineHeader, writeResults } from './lib/report.ts';
import { ratio } from './lib/stats.ts';
import { fmtInt, fmtMs, fmtRatio, markdownTable } from './lib/table.ts';
import { prepare, skipped, targetNotes, type Target } from './lib/targets.ts';
import { measureRounds, summarizeRounds, type RoundsRow as Row } from './lib/rounds.ts';

const settings = {
  durationSec: envNumber('BENCH_DURATION', 5),
  rounds: Math.round(envNumber('BENCH_ROUNDS', 5)),
  warmupSec: envNumber('BENCH_WARMUP', 2),
  threads: 1,
  connections: 64,
};


const NODE_PROXIES = [
  { name: 'Node: undici Pool.dispatch', file: 'undici-proxy.ts' },
  { name: 'Node: http-proxy', file: 'http-proxy.ts' },
  { name: 'Node: fastify + @fastify/reply-from', file: 'reply-from.ts' },
] as const;

const group = new ProcessGroup();
await group.run(async () => {
  const wrk = findExecutable('wrk');
  if (wrk === undefined) throw new Error('wrk is not installed (apt-get install wrk): nothing can be measured');
  const nginx = findExecutable('nginx');
  const dir = await mkdtemp(path.join(os.tmpdir(), 'fulcrum-bench-'));
  group.onCleanup(() => rm(dir, { recursive: true, force: true }));

  const baseline = baselineCheckouts(group, dir)[0]; // the first only: every Fulcrum row here is two targets
  const backendPorts = await startBackends(group, nginx, dir);
  const backendKind = backendKindOf(nginx);
  process.stderr.write(`backends: ports ${backendPorts.join(', ')}, served by ${backendKind}\n`);
  const targets = await startTargets(backendPorts, nginx, findExecutable('haproxy'), dir, baseline);
  const results = await measureRounds(group, targets.filter((t) => t.url !== undefined), { wrk, path: '/', ...settings });
  const rows = summarizeRounds(targets, results);
  await report(rows, backendKind);
});

/** Starts every target, each checked to answer 200 with the 1 KB body; one that cannot is a skipped row. */
async function startTargets(
  backendPorts: readonly number[],
  nginx: string | undefined,
  haproxy: string | undefined,
  dir: string,
  baseline: Baseline | undefined,
): Promise<Target[]> {
  const backendUrls = backendPorts.map((p) => `http://127.0.0.1:${p}`);
  const checked = (name: string, start: () => Promise<string>) =>
    prepare(name, start, (url) => expectBody(`${url}/`, BODY));
  const missing = await fulcrumMissing();
  const fulcrum = (workers: 1 | 'auto', root?: string) => {
    const name = `Fulcrum workers=${workers}${root === undefined ? '' : ` (${baseline!.revision})`}`;
    if (missing !== undefined) return Promise.resolve(skipped(name, missing));
    const pool = { algorithm: 'round-robin', backends: backendUrls.map((url) => ({ url })) };
    return checked(name, () => startFulcrum(group, `fulcrum-${workers}${root === undefined ? '' : '-baseline'}`, dir, { workers, pool, root }));
  };

  const targets: Target[] = [
    await checked('direct (one backend)', async () => backendUrls[0]!),
    await fulcrum(1),
    ...(baseline === undefined ? [] : [await fulcrum(1, baseline.root)]),
    await fulcrum('auto'),
    ...(baseline === undefined ? [] : [await fulcrum('auto', baseline.root)]),
    nginx === undefined
      ? skipped('nginx', 'skipped: nginx is not installed')
      : await checked('nginx', async () => {
          const port = await freePort();
          const home = path.join(dir, 'nginx-proxy');
          const conf = nginxProxyConf(home, [{ port, method: 'round-robin', backendPorts }]);
          await startNginx(group, nginx, 'nginx proxy', home, conf, port);
          return `http://127.0.0.1:${port}`;
        }),
    haproxy === undefined
      ? skipped('HAProxy', 'skipped: haproxy is not installed')
      : await checked('HAProxy', async () => {
          const port = await freePort();
          const conf = haproxyConf([{ port, balance: 'roundrobin', backendPorts }]);
          await startHaproxy(group, haproxy, 'haproxy', path.join(dir, 'haproxy'), conf, port);
          return `http://127.0.0.1:${port}`;
        }),
  ];
  for (const proxy of NODE_PROXIES) {
    targets.push(
      await checked(proxy.name, async () => {
        const port = await freePort();
        const file = path.join(import.meta.dirname, 'proxies', proxy.file);
        const args = [file, '--port', String(port), '--backends', backendUrls.join(',')];
        await group.startListening({ name: proxy.name, command: process.execPath, args }, port);
        return `http://127.0.0.1:${port}`;
      }),
    );
  }
  return targets;
}

async function report(rows: readonly Row[], backendKind: string): Promise<void> {
  const nginxRps = rows.find((r) => r.target.name === 'nginx')?.requestsPerSec;
  const directRps = rows.find((r) => r.target.name.startsWith('direct'))?.requestsPerSec;
  const notes = (r: Row) => targetNotes(r.target, r.errors > 0 ? [`${r.errors} errors over all rounds`] : []);
  const table = markdownTable<Row>(
    [
      { title: 'Target', cell: (r) => r.target.name },
      { title: 'req/s (median)', align: 'right', cell: (r) => fmtInt(r.requestsPerSec) },
      { title: 'p50', align: 'right', cell: (r) => fmtMs(r.p50Ms) },
      { title: 'p99', align: 'right', cell: (r) => fmtMs(r.p99Ms) },
      { title: 'vs nginx', align: 'right', cell: (r) => fmtRatio(ratio(r.requestsPerSec, nginxRps)) },
      { title: 'vs direct', align: 'right', cell: (r) => fmtRatio(ratio(r.requestsPerSec, directRps)) },
      { title: 'Notes', cell: notes },
    ],
    rows,
  );
  const m = machine();
  const s = settings;
  const markdown = [
    machineHeader(
      'Throughput',
      m,
      `BENCH_DURATION=${s.durationSec} BENCH_ROUNDS=${s.rounds}${process.env.BENCH_BASELINE ? ` BENCH_BASELINE=${process.env.BENCH_BASELINE}` : ''} npm run bench`,
      `Load: \`wrk -t${s.threads} -c${s.connections} -d${s.durationSec}s\` GET /, ${s.rounds} interleaved rounds after a ${s.warmupSec}s warm-up per target; medians of the rounds. Backends: 3, 1 KB body, ${backendKind}. Ratios are of req/s.`,
    ),
    '',
    table,
    '',
    ...(nginxRps === undefined ? ['Ratios vs nginx need the nginx row, which did not run.', ''] : []),
  ].join('\n');
  process.stdout.write(`${markdown}\n`);
  const files = await writeResults('throughput', markdown, {
    machine: m,
    settings: { ...s, backends: backendKind, fulcrum: FULCRUM_BIN },
    rows: rows.map((r) => ({
      target: r.target.name,
      note: r.target.note,
      events: r.target.events,
      requestsPerSec: r.requestsPerSec,
      p50Ms: r.p50Ms,
      p99Ms: r.p99Ms,
      vsNginx: ratio(r.requestsPerSec, nginxRps),
      vsDirect: ratio(r.requestsPerSec, directRps),
      errors: r.errors,
      rounds: r.rounds,
    })),
  });
  process.stderr.write(`written: ${files.join(', ')}\n`);
}

/**
 * `npm run bench:python`: Fulcrum, nginx and HAProxy in front of real Python services, the example catalogue
 * service (examples/python) run three ways: FastAPI on uvicorn, Flask on Werkzeug, Django on its own server. Each
 * proxy balances GET /api/ping over the three instances with one worker; each instance is also measured alone.
 * wrk in interleaved rounds, medians reported with req/s as a ratio against nginx. See bench/README.md.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { FULCRUM_BIN, REPO_ROOT, fulcrumMissing, startFulcrum } from './lib/fulcrum.ts';
import { haproxyConf, startHaproxy } from './lib/haproxy.ts';
import { get } from './lib/http-check.ts';
import { nginxProxyConf, startNginx } from './lib/nginx.ts';
import { freePort } from './lib/ports.ts';
import { findExecutable, ProcessGroup } from './lib/processes.ts';
import { envNumber, machine, machineHeader, writeResults } from './lib/report.ts';
import { ratio } from './lib/stats.ts';
import { fmtInt, fmtMs, fmtPercent, fmtRatio, markdownTable } from './lib/table.ts';
import { prepare, skipped, targetNotes, type Target } from './lib/targets.ts';
import { measureRounds, summarizeRounds, type RoundsRow as Row } from './lib/rounds.ts';

const settings = {
  durationSec: envNumber('BENCH_DURATION', 5),
  rounds: Math.round(envNumber('BENCH_ROUNDS', 3)),
  warmupSec: envNumber('BENCH_WARMUP', 2),
  threads: 1,
  // Each Python server works on about one request at a time (uvicorn's one event loop; the GIL in the threaded
  // WSGI servers), so connections beyond a few per instance only wait in its queue and the run measures the
  // queue, not the proxy. 16 over three instances keeps every instance and the proxy busy (5 or so in flight
  // each) while the latencies are still mostly service time. The same count is used for the direct rows.
  connections: Math.round(envNumber('BENCH_CONNECTIONS', 16)),
};

const PATH = '/api/ping';

/** Debian's python3 sees the python3-* packages; a pyenv or venv python3 first on PATH may not (as the tests do). */
const PYTHON = process.env.FULCRUM_PYTHON ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');
const EXAMPLES = path.join(REPO_ROOT, 'examples', 'python');

const FRAMEWORKS = [
  { name: 'fastapi', label: 'FastAPI (uvicorn)' },
  { name: 'flask', label: 'Flask (Werkzeug, threaded)' },
  { name: 'django', label: 'Django (its threaded server)' },
] as const;

interface Instance {
  readonly label: string;
  /** What it answers in X-Served-By. */
  readonly name: string;
  readonly port: number;
  readonly url: string;
}


const group = new ProcessGroup();
await group.run(async () => {
  const wrk = findExecutable('wrk');
  if (wrk === undefined) throw new Error('wrk is not installed (apt-get install wrk): nothing can be measured');
  const dir = await mkdtemp(path.join(os.tmpdir(), 'fulcrum-bench-'));
  group.onCleanup(() => rm(dir, { recursive: true, force: true }));

  const instances = await startInstances();
  process.stderr.write(`instances (${PYTHON}): ${instances.map((i) => `${i.name} :${i.port}`).join(', ')}\n`);
  const targets = await startTargets(instances, dir);
  const results = await measureRounds(group, targets.filter((t) => t.url !== undefined), { wrk, path: PATH, ...settings });
  const rows = summarizeRounds(targets, results);
  await report(rows);
});

/**
 * The three Python instances, each its own process on a free port (another port is tried, three in all, when
 * one cannot listen), ready once /healthz/ready answers 200. `--drain-notice 0`: on SIGTERM they stop at once.
 */
async function startInstances(): Promise<Instance[]> {
  return Promise.all(
    FRAMEWORKS.map(async (f) => {
      for (let attempt = 1; ; attempt++) {
        const port = await freePort();
        const name = `${f.name}:${port}`;
        const args = [path.join(EXAMPLES, `${f.name}_app.py`), '--port', String(port), '--name', name, '--drain-notice', '0'];
        try {
          await group.startListening(
            {
              name: `python ${f.name}`,
              command: PYTHON,
              args,
              cwd: REPO_ROOT,
              env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1', PYTHONUNBUFFERED: '1' },
            },
            port,
            20_000,
          );
          const instance = { label: f.label, name, port, url: `http://127.0.0.1:${port}` };
          await expectReady(instance);
          return instance;
        } catch (err) {
          if (attempt >= 3 || !/EADDRINUSE|address already in use/i.test((err as Error).message)) {
            throw new Error(
              `${f.label} did not start with ${PYTHON} (Debian: apt-get install python3-fastapi python3-uvicorn ` +
                `python3-flask python3-django; or set FULCRUM_PYTHON): ${(err as Error).message}`,
              { cause: err },
            );
          }
        }
      }
    }),
  );
}

/** Rejects unless the instance says it is ready and answers /api/ping as itself. */
async function expectReady(instance: Instance): Promise<void> {
  const ready = await get(`${instance.url}/healthz/ready`);
  if (ready.status !== 200) throw new Error(`GET ${instance.url}/healthz/ready: status ${ready.status}`);
  const servedBy = await pingServedBy(instance.url);
  if (servedBy !== instance.name) throw new Error(`GET ${instance.url}${PATH}: X-Served-By ${servedBy}, not ${instance.name}`);
}

/** GET /api/ping: rejects unless 200; resolves to the X-Served-By that answered. */
async function pingServedBy(url: string): Promise<string | undefined> {
  const reply = await get(`${url}${PATH}`);
  if (reply.status !== 200) throw new Error(`GET ${url}${PATH}: status ${reply.status}: ${reply.body.toString('utf8', 0, 200)}`);
  const servedBy = reply.headers['x-served-by'];
  return Array.isArray(servedBy) ? servedBy[0] : servedBy;
}

/**
 * A proxy's check: three GETs must answer 200 from the instances; with round robin they must reach all three
 * (least-load may keep sending an idle client to the same one).
 */
function answersFromInstances(instances: readonly Instance[], spread: boolean): (url: string) => Promise<void> {
  return async (url) => {
    const seen = new Set<string | undefined>();
    for (let i = 0; i < instances.length; i++) seen.add(await pingServedBy(url));
    const unknown = [...seen].filter((s) => !instances.some((inst) => inst.name === s));
    if (unknown.length > 0) throw new Error(`GET ${url}${PATH}: answered by ${unknown.join(', ')}, not one of the instances`);
    if (spread && seen.size !== instances.length) {
      throw new Error(`GET ${url}${PATH} three times: answered by ${[...seen].join(', ')} only, not round robin over the three`);
    }
  };
}

/** The direct rows, one per instance, then Fulcrum (two algorithms), nginx and HAProxy, each over all three. */
async function startTargets(instances: readonly Instance[], dir: string): Promise<Target[]> {
  const backendPorts = instances.map((i) => i.port);
  const targets: Target[] = [];
  for (const instance of instances) {
    // No restart for these: the proxies point at this very process.
    targets.push(await prepare(`direct: ${instance.label}`, async () => instance.url, () => expectReady(instance)));
  }

  const missing = await fulcrumMissing();
  for (const algorithm of ['round-robin', 'least-load'] as const) {
    const name = `Fulcrum ${algorithm}`;
    const note = algorithm === 'least-load' ? "from the instances' X-Fulcrum-Load reports" : '';
    const pool = { algorithm, backends: instances.map((i) => ({ url: i.url })) };
    targets.push(
      missing !== undefined
        ? skipped(name, missing)
        : await prepare(
            name,
            () => startFulcrum(group, `fulcrum-${algorithm}`, dir, { workers: 1, pool }),
            answersFromInstances(instances, algorithm === 'round-robin'),
            note,
          ),
    );
  }

  const nginx = findExecutable('nginx');
  targets.push(
    nginx === undefined
      ? skipped('nginx round robin', 'skipped: nginx is not installed')
      : await prepare(
          'nginx round robin',
          async () => {
            const port = await freePort();
            const home = path.join(dir, 'nginx-proxy');
            const conf = nginxProxyConf(home, [{ port, method: 'round-robin', backendPorts }]);
            await startNginx(group, nginx, 'nginx proxy', home, conf, port);
            return `http://127.0.0.1:${port}`;
          },
          answersFromInstances(instances, true),
        ),
  );

  const haproxy = findExecutable('haproxy');
  targets.push(
    haproxy === undefined
      ? skipped('HAProxy roundrobin', 'skipped: haproxy is not installed')
      : await prepare(
          'HAProxy roundrobin',
          async () => {
            const port = await freePort();
            const conf = haproxyConf([{ port, balance: 'roundrobin', backendPorts }]);
            await startHaproxy(group, haproxy, 'haproxy', path.join(dir, 'haproxy'), conf, port);
            return `http://127.0.0.1:${port}`;
          },
          answersFromInstances(instances, true),
        ),
  );
  return targets;
}

async function report(rows: readonly Row[]): Promise<void> {
  const find = (name: string) => rows.find((r) => r.target.name === name);
  const nginxRps = find('nginx round robin')?.requestsPerSec;
  const fulcrum = find('Fulcrum round-robin');
  const leastLoad = find('Fulcrum least-load');
  const haproxy = find('HAProxy roundrobin');
  const errorsCell = (r: Row) =>
    r.rounds.length === 0 ? '–' : r.errors === 0 ? '0' : `${fmtInt(r.errors)} (${fmtPercent(ratio(r.errors, r.requests))})`;
  const table = markdownTable<Row>(
    [
      { title: 'Target', cell: (r) => r.target.name },
      { title: 'req/s (median)', align: 'right', cell: (r) => fmtInt(r.requestsPerSec) },
      { title: 'p50', align: 'right', cell: (r) => fmtMs(r.p50Ms) },
      { title: 'p99', align: 'right', cell: (r) => fmtMs(r.p99Ms) },
      { title: 'vs nginx', align: 'right', cell: (r) => fmtRatio(ratio(r.requestsPerSec, nginxRps)) },
      { title: 'errors', align: 'right', cell: errorsCell },
      { title: 'Notes', cell: (r) => targetNotes(r.target) },
    ],
    rows,
  );

  const m = machine();
  const s = settings;
  const nginx = find('nginx round robin');
  const slowest = rows
    .filter((r) => r.target.name.startsWith('direct: ') && r.requestsPerSec !== undefined)
    .sort((a, b) => a.requestsPerSec! - b.requestsPerSec!)[0];
  const vs = (a: Row | undefined, b: Row | undefined) => fmtRatio(ratio(a?.requestsPerSec, b?.requestsPerSec));
  const headline =
    fulcrum?.requestsPerSec === undefined
      ? 'Fulcrum round-robin was not measured (see its Notes), so there are no headline ratios.'
      : `Fulcrum round-robin does ${vs(fulcrum, nginx)} nginx's requests per second and ${vs(fulcrum, haproxy)} ` +
        `HAProxy's (${fmtInt(fulcrum.requestsPerSec)} vs ${fmtInt(nginx?.requestsPerSec)} vs ` +
        `${fmtInt(haproxy?.requestsPerSec)} req/s; p50 ${fmtMs(fulcrum.p50Ms)} vs ${fmtMs(nginx?.p50Ms)} ` +
        `vs ${fmtMs(haproxy?.p50Ms)}); Fulcrum least-load does ${vs(leastLoad, nginx)} nginx's.`;
  const caveat =
    `The proxy, the three Python processes and wrk share this machine's ${m.cores} cores, so a proxy's own CPU ` +
    'cost shows up as lower throughput. Round robin gives every instance a third of the requests, so the slowest ' +
    'instance bounds it; least-load follows what the instances report.' +
    (slowest === undefined
      ? ''
      : ` The slowest here: ${slowest.target.name.replace('direct: ', '')}, ${fmtInt(slowest.requestsPerSec)} req/s ` +
        `and p50 ${fmtMs(slowest.p50Ms)} alone.`);

  const markdown = [
    machineHeader(
      'Python backends',
      m,
      `BENCH_DURATION=${s.durationSec} BENCH_ROUNDS=${s.rounds} BENCH_CONNECTIONS=${s.connections} npm run bench:python`,
      `Load: \`wrk -t${s.threads} -c${s.connections} -d${s.durationSec}s\` GET ${PATH} (no-store), ${s.rounds} interleaved rounds after a ${s.warmupSec}s warm-up per target; medians of the rounds. Backends: the example catalogue service (examples/python), one instance each of ${FRAMEWORKS.map((f) => f.label).join(', ')}, ${PYTHON}. Every proxy has one worker and balances over all three. Errors: wrk's socket errors and non-2xx answers over all rounds.`,
    ),
    '',
    table,
    '',
    headline,
    '',
    caveat,
    '',
    ...(nginxRps === undefined ? ['Ratios vs nginx need the nginx row, which did not run.', ''] : []),
  ].join('\n');
  process.stdout.write(`${markdown}\n`);
  const files = await writeResults('python', markdown, {
    machine: m,
    settings: { ...s, path: PATH, python: PYTHON, frameworks: FRAMEWORKS, fulcrum: FULCRUM_BIN },
    rows: rows.map((r) => ({
      target: r.target.name,
      note: r.target.note,
      events: r.target.events,
      requestsPerSec: r.requestsPerSec,
      p50Ms: r.p50Ms,
      p99Ms: r.p99Ms,
      vsNginx: ratio(r.requestsPerSec, nginxRps),
      requests: r.requests,
      errors: r.errors,
      rounds: r.rounds,
    })),
  });
  process.stderr.write(`written: ${files.join(', ')}\n`);
}

/**
 * `npm run bench`, third part (`npm run bench:h2` alone): HTTP/2 to the proxy, HTTP/1.1 keep-alive behind it.
 * Fulcrum (one worker) against nginx (one worker) with HTTP/2 over TLS (ALPN h2, the same certificate) and h2c
 * with prior knowledge, in front of the same three fast backends (1 KB body); h2load as the client, in interleaved
 * rounds; medians, and the proxy's CPU per request read from /proc. See bench/README.md.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { backendKindOf, startBackends } from './lib/backends.ts';
import { groupCpuSeconds } from './lib/cpu.ts';
import { FULCRUM_BIN, fulcrumMissing, startFulcrumProcess } from './lib/fulcrum.ts';
import { runH2load, type H2loadResult } from './lib/h2load.ts';
import { nginxH2ProxyConf, startNginx } from './lib/nginx.ts';
import { freePort } from './lib/ports.ts';
import { findExecutable, ProcessGroup, type Managed } from './lib/processes.ts';
import { envNumber, machine, machineHeader, writeResults } from './lib/report.ts';
import { median, ratio } from './lib/stats.ts';
import { fmtInt, fmtMs, fmtRatio, markdownTable } from './lib/table.ts';

const settings = {
  durationSec: envNumber('BENCH_DURATION', 5),
  rounds: Math.round(envNumber('BENCH_ROUNDS', 3)),
  warmupSec: envNumber('BENCH_WARMUP', 2),
  clients: Math.round(envNumber('BENCH_H2_CLIENTS', 16)),
  streams: Math.round(envNumber('BENCH_H2_STREAMS', 8)),
};

interface Target {
  readonly name: string;
  /** The nginx row this one is compared with (same protocol, same transport). */
  readonly peer: string | undefined;
  readonly url: string;
  readonly h1: boolean;
  readonly managed: Managed;
  readonly runs: Array<H2loadResult & { cpuUsPerRequest: number }>;
  /** Rounds that failed, for the Notes column. */
  readonly failures: string[];
}

interface Skipped {
  readonly name: string;
  readonly note: string;
}

const group = new ProcessGroup();
await group.run(async () => {
  const h2load = findExecutable('h2load');
  const nginx = findExecutable('nginx');
  if (h2load === undefined) {
    process.stdout.write('HTTP/2: skipped: h2load is not installed (apt-get install nghttp2-client)\n');
    return;
  }
  const dir = await mkdtemp(path.join(os.tmpdir(), 'fulcrum-bench-h2-'));
  group.onCleanup(() => rm(dir, { recursive: true, force: true }));
  const tls = certificate(dir);
  const backendPorts = await startBackends(group, nginx, dir);
  const backendUrls = backendPorts.map((p) => `http://127.0.0.1:${p}`);
  const targets: Target[] = [];
  const skipped: Skipped[] = [];
  const add = async (name: string, peer: string | undefined, h1: boolean, start: () => Promise<{ url: string; managed: Managed }>) => {
    try {
      const { url, managed } = await start();
      const check = await runH2load(group, { h2load, url: `${url}/`, clients: 1, streams: 1, durationSec: 1, warmupSec: 0, h1 });
      if (check.requests === 0 || check.errors > 0) throw new Error(`answers badly: ${check.requests} requests, ${check.errors} errors`);
      targets.push({ name, peer, url, h1, managed, runs: [], failures: [] });
    } catch (err) {
      const note = `skipped: ${(err as Error).message.split('\n')[0]}`;
      process.stderr.write(`${name}: ${note}\n`);
      skipped.push({ name, note });
    }
  };
  const missing = await fulcrumMissing();
  const pool = { algorithm: 'round-robin', backends: backendUrls.map((url) => ({ url })) };
  const fulcrum = (tag: string, secure: boolean) => async () => {
    if (missing !== undefined) throw new Error(missing);
    const started = await startFulcrumProcess(group, `fulcrum-${tag}`, dir, {
      workers: 1,
      pool,
      http2: { h2c: !secure },
      ...(secure ? { tls } : {}),
    });
    return { url: started.url, managed: started.managed };
  };
  const nginxH2 = (tag: string, secure: boolean) => async () => {
    if (nginx === undefined) throw new Error('nginx is not installed');
    const port = await freePort();
    const home = path.join(dir, `nginx-${tag}`);
    const managed = await startNginx(group, nginx, `nginx ${tag}`, home, nginxH2ProxyConf(home, port, backendPorts, secure ? tls : undefined), port);
    return { url: `${secure ? 'https' : 'http'}://127.0.0.1:${port}`, managed };
  };
  await add('Fulcrum h2 over TLS', 'nginx h2 over TLS', false, fulcrum('tls', true));
  await add('nginx h2 over TLS', undefined, false, nginxH2('tls', true));
  await add('Fulcrum h2c', 'nginx h2c', false, fulcrum('h2c', false));
  await add('nginx h2c', undefined, false, nginxH2('h2c', false));
  // The same h2c Fulcrum, read over HTTP/1.1 with as many requests in flight: what HTTP/2 costs or saves it.
  const h2c = targets.find((t) => t.name === 'Fulcrum h2c');
  if (h2c !== undefined) targets.push({ ...h2c, name: 'Fulcrum HTTP/1.1 (same listener)', peer: undefined, h1: true, runs: [], failures: [] });

  const run = (t: Target, durationSec: number) =>
    runH2load(group, {
      h2load,
      url: `${t.url}/`,
      clients: t.h1 ? settings.clients * settings.streams : settings.clients,
      streams: settings.streams,
      durationSec,
      warmupSec: 0,
      h1: t.h1,
    });
  for (const t of targets) {
    process.stderr.write(`warm-up ${t.name} (${settings.warmupSec}s)\n`);
    await run(t, settings.warmupSec).catch(() => {});
  }
  for (let round = 1; round <= settings.rounds; round++) {
    for (const t of targets) {
      const pgid = t.managed.child.pid!;
      const cpuBefore = groupCpuSeconds(pgid);
      try {
        const r = await run(t, settings.durationSec);
        const cpuUsPerRequest = ((groupCpuSeconds(pgid) - cpuBefore) * 1e6) / Math.max(1, r.requests);
        t.runs.push({ ...r, cpuUsPerRequest });
        const errors = r.errors ? `, ${r.errors} errors` : '';
        process.stderr.write(`round ${round}/${settings.rounds} ${t.name}: ${fmtInt(r.requestsPerSec)} req/s, mean ${fmtMs(r.meanMs)}, ${cpuUsPerRequest.toFixed(0)} µs CPU/req${errors}\n`);
      } catch (err) {
        const reason = (err as Error).message.split('\n')[0]!;
        t.failures.push(`round ${round} failed: ${reason}`);
        process.stderr.write(`round ${round}/${settings.rounds} ${t.name}: failed: ${reason}\n`);
      }
    }
  }
  await report(targets, skipped, backendKindOf(nginx));
});

/** A self-signed ECDSA P-256 certificate for 127.0.0.1, used by both TLS targets (h2load does not verify). */
function certificate(dir: string): { cert: string; key: string } {
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert,
    '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
  ], { stdio: 'ignore' });
  return { cert, key };
}

interface Row {
  readonly name: string;
  readonly rps: number | undefined;
  readonly meanMs: number | undefined;
  readonly cpuUs: number | undefined;
  readonly vsNginx: number | undefined;
  readonly cpuVsNginx: number | undefined;
  readonly errors: number;
  readonly note: string;
}

async function report(targets: readonly Target[], skipped: readonly Skipped[], backendKind: string): Promise<void> {
  const summary = (t: Target) => ({
    rps: median(t.runs.map((r) => r.requestsPerSec)),
    meanMs: median(t.runs.map((r) => r.meanMs)),
    cpuUs: median(t.runs.map((r) => r.cpuUsPerRequest)),
  });
  const rows: Row[] = targets.map((t) => {
    const own = summary(t);
    const peer = targets.find((p) => p.name === t.peer);
    const theirs = peer === undefined ? undefined : summary(peer);
    const errors = t.runs.reduce((n, r) => n + r.errors, 0);
    return {
      name: t.name,
      ...own,
      vsNginx: ratio(own.rps, theirs?.rps),
      cpuVsNginx: ratio(own.cpuUs, theirs?.cpuUs),
      errors,
      note: [...(errors > 0 ? [`${errors} errors over all rounds`] : []), ...t.failures].join('; '),
    };
  });
  for (const s of skipped) rows.push({ name: s.name, rps: undefined, meanMs: undefined, cpuUs: undefined, vsNginx: undefined, cpuVsNginx: undefined, errors: 0, note: s.note });
  const table = markdownTable<Row>(
    [
      { title: 'Target', cell: (r) => r.name },
      { title: 'req/s (median)', align: 'right', cell: (r) => fmtInt(r.rps) },
      { title: 'mean latency', align: 'right', cell: (r) => fmtMs(r.meanMs) },
      { title: 'CPU µs/req', align: 'right', cell: (r) => fmtInt(r.cpuUs) },
      { title: 'req/s vs nginx', align: 'right', cell: (r) => fmtRatio(r.vsNginx) },
      { title: 'CPU vs nginx', align: 'right', cell: (r) => fmtRatio(r.cpuVsNginx) },
      { title: 'Notes', cell: (r) => r.note },
    ],
    rows,
  );
  const m = machine();
  const s = settings;
  const markdown = [
    machineHeader(
      'HTTP/2',
      m,
      `BENCH_DURATION=${s.durationSec} BENCH_ROUNDS=${s.rounds} npm run bench:h2`,
      `Load: \`h2load -t1 -c${s.clients} -m${s.streams} -D${s.durationSec}\` GET / (HTTP/1.1 row: \`--h1 -c${s.clients * s.streams}\`, as many requests in flight), ${s.rounds} interleaved rounds after a ${s.warmupSec}s warm-up per target; medians. One worker each; upstream HTTP/1.1 keep-alive. Backends: 3, 1 KB body, ${backendKind}. CPU: the proxy's process group, from /proc. Ratios: against nginx on the same transport.`,
    ),
    '',
    table,
    '',
  ].join('\n');
  process.stdout.write(`${markdown}\n`);
  const files = await writeResults('h2', markdown, { machine: m, settings: { ...s, backends: backendKind, fulcrum: FULCRUM_BIN }, rows });
  process.stderr.write(`written: ${files.join(', ')}\n`);
}

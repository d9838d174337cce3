/** Runs wrk (closed loop: each connection sends its next request when the previous answer is in) and parses it. */
import path from 'node:path';
import type { ProcessGroup } from './processes.ts';

export interface WrkOptions {
  /** Path of the wrk binary (see findExecutable). */
  readonly wrk: string;
  readonly url: string;
  readonly threads: number;
  readonly connections: number;
  readonly durationSec: number;
  /** A request slower than this counts as a timeout. */
  readonly timeoutSec?: number;
  /** Request fields, as wrk's -H takes them (`Connection: close`: a new connection per request). */
  readonly headers?: readonly string[];
}

export interface WrkResult {
  readonly requests: number;
  readonly requestsPerSec: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** Socket errors (connect, read, write, timeout) plus responses that were not 2xx or 3xx. */
  readonly errors: number;
}

const REPORT_SCRIPT = path.join(import.meta.dirname, 'wrk-report.lua');

/** Runs one wrk measurement. Bounded: wrk is killed if it overruns its duration by 15 s. */
export async function runWrk(group: ProcessGroup, opts: WrkOptions): Promise<WrkResult> {
  const args = [
    `-t${opts.threads}`,
    `-c${opts.connections}`,
    `-d${opts.durationSec}s`,
    `--timeout`,
    `${opts.timeoutSec ?? 5}s`,
    ...(opts.headers ?? []).flatMap((h) => ['-H', h]),
    '-s',
    REPORT_SCRIPT,
    opts.url,
  ];
  const wrk = group.start({ name: 'wrk', command: opts.wrk, args, quiet: true });
  let stdout = '';
  wrk.child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  const watchdog = setTimeout(() => void group.stop(wrk), (opts.durationSec + 15) * 1000);
  await wrk.exited;
  clearTimeout(watchdog);
  return parseWrk(stdout, wrk.tail());
}

export function parseWrk(stdout: string, context = stdout): WrkResult {
  const line = stdout.split('\n').find((l) => l.startsWith('WRK_JSON '));
  if (line === undefined) throw new Error(`wrk printed no summary:\n${context}`);
  const s = JSON.parse(line.slice('WRK_JSON '.length)) as Record<string, number>;
  const n = (key: string) => s[key] ?? 0;
  return {
    requests: n('requests'),
    requestsPerSec: n('requests') / (n('duration_us') / 1e6),
    p50Ms: n('p50_us') / 1000,
    p90Ms: n('p90_us') / 1000,
    p99Ms: n('p99_us') / 1000,
    maxMs: n('max_us') / 1000,
    errors: n('connect_errors') + n('read_errors') + n('write_errors') + n('timeouts') + n('status_errors'),
  };
}

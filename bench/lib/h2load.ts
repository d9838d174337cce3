/**
 * Runs h2load (nghttp2's load generator, Debian package nghttp2-client): `clients` connections, each with up to
 * `streams` requests in flight (HTTP/2 multiplexing), for a fixed duration after a warm-up; or HTTP/1.1 (`h1`),
 * where each connection has one request in flight, as wrk's.
 */
import type { ProcessGroup } from './processes.ts';

export interface H2loadOptions {
  readonly h2load: string;
  /** http:// (h2c with prior knowledge) or https:// (h2 by ALPN). */
  readonly url: string;
  readonly clients: number;
  readonly streams: number;
  readonly durationSec: number;
  readonly warmupSec: number;
  /** HTTP/1.1 instead of HTTP/2. */
  readonly h1?: boolean;
}

export interface H2loadResult {
  readonly requests: number;
  readonly requestsPerSec: number;
  /** h2load prints no percentiles: its mean time per request. */
  readonly meanMs: number;
  /** Failed, errored and timed-out requests, and answers that were not 2xx. */
  readonly errors: number;
}

/** One measurement. Bounded: h2load is stopped if it overruns its duration by 15 s. */
export async function runH2load(group: ProcessGroup, o: H2loadOptions): Promise<H2loadResult> {
  const args = [
    '-t1',
    `-c${o.clients}`,
    `-m${o.h1 ? 1 : o.streams}`,
    `-D${o.durationSec}`,
    `--warm-up-time=${o.warmupSec}`,
    ...(o.h1 ? ['--h1'] : []),
    o.url,
  ];
  const run = group.start({ name: 'h2load', command: o.h2load, args, quiet: true });
  let stdout = '';
  run.child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  const watchdog = setTimeout(() => void group.stop(run), (o.durationSec + o.warmupSec + 15) * 1000);
  await run.exited;
  clearTimeout(watchdog);
  return parseH2load(stdout, run.tail());
}

const UNIT_MS: Record<string, number> = { us: 1e-3, ms: 1, s: 1000 };

export function parseH2load(stdout: string, context = stdout): H2loadResult {
  const finished = /finished in [\d.]+m?s, ([\d.]+) req\/s/.exec(stdout);
  const counts = /requests: (\d+) total, \d+ started, \d+ done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/.exec(stdout);
  const codes = /status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/.exec(stdout);
  const time = /time for request:\s+\S+\s+\S+\s+([\d.]+)(us|ms|s)\s/.exec(stdout);
  if (!finished || !counts || !codes || !time) throw new Error(`h2load printed no summary:\n${context}`);
  const done = Number(counts[1]);
  return {
    requests: done,
    requestsPerSec: Number(finished[1]),
    meanMs: Number(time[1]) * UNIT_MS[time[2]!]!,
    errors: Number(counts[3]) + Number(counts[4]) + Number(counts[5]) + Number(codes[3]) + Number(codes[4]),
  };
}

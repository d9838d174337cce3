/**
 * An open-loop load generator: requests are due at a fixed rate whatever the answers, and go out over a fixed
 * set of keep-alive connections (one undici Client each, no pipelining). When every connection is busy, a due
 * request waits in a queue and that wait counts in its latency, so a stalled target cannot hide its stall by
 * slowing the client down (coordinated omission).
 *
 * Why not autocannon's `overallRate`: it gives each connection a per-second quota that it sends back to back at
 * the start of every second, so the load comes in bursts of `connections` concurrent requests; its histogram
 * also keeps whole milliseconds, too coarse for 2 ms backends.
 */
import { Client, type Dispatcher } from 'undici';
import { percentile } from './stats.ts';

export interface SteadyLoadOptions {
  /** http://host:port */
  readonly origin: string;
  readonly ratePerSec: number;
  readonly connections: number;
  readonly durationSec: number;
  /** Sent at the same rate before the measurement, not counted: opens connections, warms the JIT. */
  readonly warmupSec: number;
  /** The path of the i-th request. */
  readonly path: (i: number) => string;
  /** One cookie jar per connection, as if each connection were a browser (for sticky sessions). */
  readonly cookies: boolean;
  /** A request not answered within this time is an error. */
  readonly timeoutMs: number;
}

export interface SteadyLoadResult {
  /** Requests due in the measured window. */
  readonly requests: number;
  /** 2xx answers among them. */
  readonly ok: number;
  /** Non-2xx answers, failures and requests left unanswered at the end. */
  readonly errors: number;
  /** Latencies of the 2xx answers, ms, ascending: from when a request was due (and the generator saw it). */
  readonly latenciesMs: Float64Array;
  /** Errors by kind: `status 502`, an error code such as `ECONNREFUSED`, or `unanswered`. */
  readonly errorKinds: Readonly<Record<string, number>>;
  /** 2xx answers per `x-backend` response header value. */
  readonly byBackend: Readonly<Record<string, number>>;
  readonly p50Ms: number | undefined;
  readonly p99Ms: number | undefined;
}

interface Connection {
  readonly client: Client;
  readonly jar: Map<string, string>;
}

/** Runs the load; bounded: issuing stops after warmup + duration, and stragglers get `timeoutMs` + 1 s. */
export async function steadyLoad(opts: SteadyLoadOptions): Promise<SteadyLoadResult> {
  const intervalMs = 1000 / opts.ratePerSec;
  const warmupCount = Math.round(opts.warmupSec * opts.ratePerSec);
  const total = warmupCount + Math.round(opts.durationSec * opts.ratePerSec);
  const connections: Connection[] = Array.from({ length: opts.connections }, () => ({
    client: new Client(opts.origin, {
      pipelining: 1,
      headersTimeout: opts.timeoutMs,
      bodyTimeout: opts.timeoutMs,
      keepAliveTimeout: 60_000,
    }),
    jar: new Map(),
  }));
  const idle = [...connections];
  const queue: number[] = []; // indexes of due requests waiting for a connection
  let queueHead = 0;
  const dueAt = new Float64Array(total);
  const latencies = new Float64Array(total - warmupCount);
  let okCount = 0;
  let errors = 0;
  let finished = 0;
  let stopped = false;
  const byBackend: Record<string, number> = {};
  const errorKinds: Record<string, number> = {};

  let allDone: () => void = () => {};
  const done = new Promise<void>((resolve) => (allDone = resolve));

  const complete = (conn: Connection, i: number, status: number, backend: string | undefined, error?: Error) => {
    const end = performance.now();
    if (i >= warmupCount) {
      if (status >= 200 && status < 300) {
        latencies[okCount++] = end - dueAt[i]!;
        if (backend !== undefined) byBackend[backend] = (byBackend[backend] ?? 0) + 1;
      } else {
        errors++;
        const kind = error ? ((error as NodeJS.ErrnoException).code ?? error.name) : `status ${status}`;
        errorKinds[kind] = (errorKinds[kind] ?? 0) + 1;
      }
    }
    finished++;
    if (stopped) return;
    if (queueHead < queue.length) send(conn, queue[queueHead++]!);
    else idle.push(conn);
    if (finished === total) allDone();
  };

  const send = (conn: Connection, i: number) => {
    const headers: Record<string, string> = {};
    if (conn.jar.size > 0) headers.cookie = [...conn.jar].map(([k, v]) => `${k}=${v}`).join('; ');
    let status = 0;
    let backend: string | undefined;
    const handler: Dispatcher.DispatchHandler = {
      onRequestStart() {}, // required by undici 8, even when unused
      onResponseStart(_c, statusCode, responseHeaders) {
        status = statusCode;
        const b = responseHeaders['x-backend'];
        backend = Array.isArray(b) ? b[0] : b;
        if (opts.cookies) storeCookies(conn.jar, responseHeaders['set-cookie']);
      },
      onResponseData() {},
      onResponseEnd() {
        complete(conn, i, status, backend);
      },
      onResponseError(_c, err) {
        complete(conn, i, 0, undefined, err);
      },
    };
    conn.client.dispatch({ path: opts.path(i), method: 'GET', headers }, handler);
  };

  const start = performance.now();
  let next = 0;
  // A 1 ms ticker rather than a busy loop: the machine has few cores, and the target needs them.
  const ticker = setInterval(() => {
    const now = performance.now();
    while (next < total && start + next * intervalMs <= now) {
      const i = next++;
      dueAt[i] = now;
      const conn = idle.pop();
      if (conn) send(conn, i);
      else queue.push(i);
    }
    if (next >= total) clearInterval(ticker);
  }, 1);

  const budgetMs = (opts.warmupSec + opts.durationSec) * 1000 + opts.timeoutMs + 1000;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([done, new Promise<void>((resolve) => (timer = setTimeout(resolve, budgetMs)))]);
  clearTimeout(timer);
  clearInterval(ticker);
  stopped = true;
  await Promise.all(connections.map((c) => c.client.destroy().catch(() => {})));

  const measured = total - warmupCount;
  const unanswered = Math.max(0, measured - okCount - errors);
  if (unanswered > 0) errorKinds.unanswered = unanswered;
  const sorted = latencies.slice(0, okCount).sort();
  return {
    requests: measured,
    ok: okCount,
    errors: errors + unanswered,
    latenciesMs: sorted,
    errorKinds,
    byBackend,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
  };
}

/** Keeps the `name=value` of each Set-Cookie (RFC 6265 §5.2); attributes are irrelevant for one origin. */
function storeCookies(jar: Map<string, string>, header: string | string[] | undefined): void {
  if (header === undefined) return;
  for (const line of Array.isArray(header) ? header : [header]) {
    const pair = line.split(';', 1)[0]!;
    const eq = pair.indexOf('=');
    if (eq > 0) jar.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
  }
}

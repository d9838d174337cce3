/** A small bounded load generator for tests: keep-alive clients on loopback, counting every outcome. */
import http from 'node:http';

export interface LoadResult {
  sent: number;
  /** status code → count */
  statuses: Map<number, number>;
  /** Transport errors (reset, refused) by message. */
  errors: string[];
  ok(): number;
  failed(): number;
}

export interface LoadOptions {
  readonly url: string;
  readonly concurrency: number;
  /** Stops after this many requests… */
  readonly total?: number;
  /** …or when this resolves (whichever first); always bounded by `maxMs`. */
  readonly until?: Promise<unknown>;
  readonly maxMs?: number;
  readonly method?: string;
  readonly path?: (i: number) => string;
  /** A JSON body for each request (then sent with Content-Length). */
  readonly body?: (i: number) => string;
}

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.concurrency });
  const result: LoadResult = {
    sent: 0,
    statuses: new Map(),
    errors: [],
    ok() {
      let n = 0;
      for (const [status, count] of this.statuses) if (status >= 200 && status < 300) n += count;
      return n;
    },
    failed() {
      return this.sent - this.ok();
    },
  };
  const target = new URL(options.url);
  let stop = false;
  void options.until?.then(() => (stop = true));
  const deadline = setTimeout(() => (stop = true), options.maxMs ?? 20_000);
  const total = options.total ?? Number.POSITIVE_INFINITY;
  const one = (i: number) =>
    new Promise<void>((resolve) => {
      const body = options.body?.(i);
      const req = http.request(
        {
          host: target.hostname,
          port: target.port,
          path: options.path?.(i) ?? target.pathname + target.search,
          method: options.method ?? 'GET',
          agent,
          headers: body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          res.resume();
          res.on('end', () => {
            result.statuses.set(res.statusCode!, (result.statuses.get(res.statusCode!) ?? 0) + 1);
            resolve();
          });
          res.on('error', (err) => {
            result.errors.push(err.message);
            resolve();
          });
        },
      );
      req.on('error', (err) => {
        result.errors.push(err.message);
        resolve();
      });
      req.end(body);
    });
  const worker = async () => {
    while (!stop && result.sent < total) {
      const i = result.sent++;
      await one(i);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  clearTimeout(deadline);
  agent.destroy();
  return result;
}

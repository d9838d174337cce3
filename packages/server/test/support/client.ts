/**
 * Clients for integration tests: a node:http request that collects the whole reply (fetch forbids hop-by-hop
 * headers and Host, which these tests must send), a raw socket exchange for malformed input, and readers of
 * the admin API and /metrics.
 */
import http from 'node:http';
import net from 'node:net';
import type { PoolView } from '../../src/admin/views.ts';

export interface Reply {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
  readonly text: string;
}

export interface RequestOptions {
  readonly method?: string;
  /** An object, or a flat [name, value, …] list to send repeated or oddly cased fields as they are. */
  readonly headers?: http.OutgoingHttpHeaders | readonly string[];
  /** Sent whole, or chunk by chunk (then chunked, unless a Content-Length header is given). */
  readonly body?: string | Buffer | readonly (string | Buffer)[];
  /** Aborting destroys the connection, as a client that gives up does. */
  readonly signal?: AbortSignal;
}

/** One request on its own connection; resolves with the whole response. */
export function request(url: string, options: RequestOptions = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: options.method ?? 'GET', headers: options.headers, agent: false, signal: options.signal }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        resolve({ status: res.statusCode!, headers: res.headers, body, text: body.toString() });
      });
    });
    req.on('error', reject);
    const { body } = options;
    try {
      if (Array.isArray(body)) {
        for (const chunk of body) req.write(chunk);
        req.end();
      } else req.end(body as string | Buffer | undefined);
    } catch (err) {
      req.destroy(); // node:http refused the request (e.g. a Trailer field without chunked): do not leave the socket
      reject(err);
    }
  });
}

/** Writes `data` on a fresh connection and resolves with everything received until the server closes it. */
export function rawExchange(port: number, data: string | Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    // A reset after the server answered (it closed while we were still sending) still counts as an answer.
    socket.on('error', (err) => (chunks.length > 0 ? resolve(Buffer.concat(chunks).toString()) : reject(err)));
    socket.on('close', () => resolve(Buffer.concat(chunks).toString()));
    socket.write(data);
  });
}

/** The status code of a raw HTTP/1.1 response. */
export function statusOf(raw: string): number {
  return Number(/^HTTP\/1\.1 (\d{3}) /.exec(raw)?.[1] ?? NaN);
}

export async function getJson<T>(url: string): Promise<{ status: number; body: T }> {
  const res = await fetch(url);
  return { status: res.status, body: (await res.json()) as T };
}

export async function pools(adminUrl: string): Promise<PoolView[]> {
  return (await getJson<PoolView[]>(`${adminUrl}/api/pools`)).body;
}

export async function scrape(adminUrl: string): Promise<string> {
  const res = await fetch(`${adminUrl}/metrics`);
  return res.text();
}

/**
 * The value of a sample in Prometheus text format whose labels include all of `labels`; undefined when absent.
 * Several matches are summed (e.g. a counter over all backends of a pool).
 */
export function sample(text: string, name: string, labels: Readonly<Record<string, string>> = {}): number | undefined {
  let total: number | undefined;
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (m === null || m[1] !== name) continue;
    const found = new Map<string, string>();
    for (const [, k, v] of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) found.set(k!, v!);
    if (Object.entries(labels).every(([k, v]) => found.get(k) === v)) total = (total ?? 0) + Number(m[3]);
  }
  return total;
}

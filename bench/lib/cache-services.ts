/**
 * What the cache benchmark runs beside the proxies: a fresh redis-server and memcached on free loopback ports
 * (never one already running; like test/support/redis.ts, but owned by the benchmark's ProcessGroup so that
 * they stop with it), Varnish when installed, and the backend's request counter.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { get } from './http-check.ts';
import { REQUEST_COUNT_PATH } from './nginx.ts';
import { freePort } from './ports.ts';
import type { Managed, ProcessGroup, ProcessSpec } from './processes.ts';

export interface Service {
  readonly managed: Managed;
  readonly port: number;
}

/** Starts `spec(port)` on a free port; another port is tried (three in all) when the process cannot listen. */
async function startOnFreePort(group: ProcessGroup, spec: (port: number) => ProcessSpec): Promise<Service> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    try {
      return { managed: await group.startListening(spec(port), port, 10_000), port };
    } catch (err) {
      if (attempt >= 3) throw err;
    }
  }
}

/** redis-server without persistence, working in `dir`. */
export function startRedis(group: ProcessGroup, binary: string, dir: string): Promise<Service> {
  return startOnFreePort(group, (port) => ({
    name: 'redis-server',
    command: binary,
    args: ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
  }));
}

/** memcached with 64 MB, UDP off. */
export function startMemcached(group: ProcessGroup, binary: string): Promise<Service> {
  // memcached refuses to run as root unless told which user to be.
  const asRoot = process.getuid?.() === 0 ? ['-u', 'root'] : [];
  return startOnFreePort(group, (port) => ({
    name: 'memcached',
    command: binary,
    args: ['-l', '127.0.0.1', '-p', String(port), '-U', '0', '-m', '64', ...asRoot],
  }));
}

/**
 * Varnish in the foreground with its built-in VCL (which honours the backend's Cache-Control), one backend,
 * 64 MB of malloc storage, its working folder in `dir`. Untested here: no machine this was written on had it.
 */
export async function startVarnish(group: ProcessGroup, binary: string, dir: string, backendPort: number): Promise<Service> {
  await mkdir(dir, { recursive: true });
  // As root, the default jail wants the varnish and vcache users; "none" needs nothing.
  const jail = process.getuid?.() === 0 ? ['-j', 'none'] : [];
  return startOnFreePort(group, (port) => ({
    name: 'varnishd',
    command: binary,
    args: ['-F', '-n', path.join(dir, `varnish-${port}`), '-a', `127.0.0.1:${port}`, '-b', `127.0.0.1:${backendPort}`,
      '-s', 'malloc,64m', ...jail],
  }));
}

/**
 * Reads how many requests the backend at `origin` has received, the read itself included (nginx stub_status's
 * `requests`, or the Node backend's plain number). Between two reads, the backend saw `after - before - 1`.
 */
export async function backendRequests(origin: string): Promise<number> {
  const reply = await get(`${origin}${REQUEST_COUNT_PATH}`);
  const text = reply.body.toString('utf8');
  const stub = /server accepts handled requests\s+\d+\s+\d+\s+(\d+)/.exec(text);
  const value = Number(stub?.[1] ?? text.trim());
  if (reply.status !== 200 || !Number.isInteger(value)) {
    throw new Error(`GET ${origin}${REQUEST_COUNT_PATH}: status ${reply.status}, not a request count: ${text.slice(0, 120)}`);
  }
  return value;
}

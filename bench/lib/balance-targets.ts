/**
 * What `npm run bench:balance` starts for one scenario: its three backends (servers/balance-backend.ts), one
 * Fulcrum process per algorithm, one nginx (round robin and least_conn on two ports) and one HAProxy (roundrobin
 * and leastconn); and stops them all when the scenario is done, so that scenarios do not share the CPU.
 */
import path from 'node:path';
import { fulcrumMissing, startFulcrumProcess, type FulcrumPool } from './fulcrum.ts';
import { haproxyConf, startHaproxy } from './haproxy.ts';
import { get } from './http-check.ts';
import { nginxProxyConf, startNginx } from './nginx.ts';
import { freePorts } from './ports.ts';
import { findExecutable, type Managed, type ProcessGroup } from './processes.ts';
import { prepare, skipped, type Target } from './targets.ts';

export interface BackendSpec {
  /** Its `x-backend` value. */
  readonly name: string;
  /** Arguments of servers/balance-backend.ts besides name, port and seed. */
  readonly args: readonly string[];
  /** Its weight in the weighted-round-robin pool. */
  readonly weight: number;
}

export interface StartedBackend {
  readonly name: string;
  readonly url: string;
}

export interface FulcrumRow {
  /** The algorithm, as in the config. */
  readonly algorithm: string;
  /** Shown after the algorithm's name. */
  readonly label?: string;
  /** Only these backends (by name) in the pool; all of them when undefined. */
  readonly only?: readonly string[];
  /** Fulcrum as it was at another revision: its checkout (lib/baseline.ts). */
  readonly root?: string;
  readonly weighted?: boolean;
  readonly hash?: { readonly key: string };
  readonly note?: string;
}

/** The processes of one scenario, stopped together. */
export class Scenery {
  private readonly managed: Managed[] = [];
  private readonly group: ProcessGroup;
  private readonly dir: string;

  constructor(group: ProcessGroup, dir: string) {
    this.group = group;
    this.dir = dir;
  }

  /** Three (or more) Node backends, each in its own process. */
  async backends(specs: readonly BackendSpec[]): Promise<StartedBackend[]> {
    const ports = await freePorts(specs.length);
    const file = path.join(import.meta.dirname, '..', 'servers', 'balance-backend.ts');
    await Promise.all(
      specs.map(async (b, i) => {
        const args = [file, '--name', b.name, '--port', String(ports[i]), '--seed', String(i + 1), ...b.args];
        this.managed.push(await this.group.startListening({ name: `backend ${b.name}`, command: process.execPath, args }, ports[i]!));
      }),
    );
    return specs.map((b, i) => ({ name: b.name, url: `http://127.0.0.1:${ports[i]}` }));
  }

  /** One Fulcrum (one worker) per row, then nginx and HAProxy, each checked to answer through a backend. */
  async targets(
    rows: readonly FulcrumRow[],
    backends: readonly StartedBackend[],
    specs: readonly BackendSpec[],
    opts: { readonly retry503: boolean; readonly path: string },
  ): Promise<Target[]> {
    const check = (url: string) => answersWithBackend(`${url}${opts.path}`);
    const targets: Target[] = [];
    const missing = await fulcrumMissing();
    for (const row of rows) {
      const name = `Fulcrum ${row.algorithm}${row.label === undefined ? '' : `, ${row.label}`}`;
      const members = backends.flatMap((b, i) => (row.only === undefined || row.only.includes(b.name) ? [{ url: b.url, weight: specs[i]!.weight }] : []));
      if (missing !== undefined) {
        targets.push(skipped(name, missing));
        continue;
      }
      const pool: FulcrumPool = {
        algorithm: row.algorithm,
        ...(row.hash === undefined ? {} : { hash: row.hash }),
        backends: members.map((m) => (row.weighted === true ? m : { url: m.url })),
      };
      const start = async () => {
        const file = `fulcrum-${row.algorithm}${row.only === undefined ? '' : '-subset'}${row.root === undefined ? '' : '-baseline'}`;
        const started = await startFulcrumProcess(this.group, file, this.dir, { workers: 1, pool, ...(row.root === undefined ? {} : { root: row.root }) });
        this.managed.push(started.managed);
        return started.url;
      };
      targets.push(await prepare(name, start, check, row.note ?? ''));
    }
    const backendPorts = backends.map((b) => Number(new URL(b.url).port));
    const nginxPorts = await freePorts(2);
    const nginxHome = path.join(this.dir, `nginx-${nginxPorts[0]}`);
    const servers = (['round-robin', 'least_conn'] as const).map((method, i) => ({ port: nginxPorts[i]!, method, backendPorts, retry503: opts.retry503 }));
    targets.push(
      ...(await this.shared('nginx', ['nginx round robin', 'nginx least_conn'], nginxPorts, check, (binary) =>
        startNginx(this.group, binary, 'nginx', nginxHome, nginxProxyConf(nginxHome, servers), nginxPorts[0]!),
      )),
    );
    const haproxyPorts = await freePorts(2);
    const frontends = (['roundrobin', 'leastconn'] as const).map((balance, i) => ({ port: haproxyPorts[i]!, balance, backendPorts, retry503: opts.retry503 }));
    const haproxyHome = path.join(this.dir, `haproxy-${haproxyPorts[0]}`);
    targets.push(
      ...(await this.shared('haproxy', ['HAProxy roundrobin', 'HAProxy leastconn'], haproxyPorts, check, (binary) =>
        startHaproxy(this.group, binary, 'haproxy', haproxyHome, haproxyConf(frontends), haproxyPorts[0]!),
      )),
    );
    return targets;
  }

  async stop(): Promise<void> {
    await Promise.all(this.managed.splice(0).map((m) => this.group.stop(m)));
  }

  /**
   * Targets served by one process on several ports (one nginx, one HAProxy): `names[i]` listens on `ports[i]`.
   * Each is checked on its own; if the process cannot start, every one of them is skipped with the reason.
   */
  private async shared(
    program: string,
    names: readonly string[],
    ports: readonly number[],
    check: (url: string) => Promise<void>,
    start: (binary: string) => Promise<Managed>,
  ): Promise<Target[]> {
    const binary = findExecutable(program);
    if (binary === undefined) return names.map((name) => skipped(name, `skipped: ${program} is not installed`));
    const started = await prepare(program, async () => (this.managed.push(await start(binary)), ''), async () => {});
    const targets: Target[] = [];
    for (const [i, name] of names.entries()) {
      const url = `http://127.0.0.1:${ports[i]}`;
      targets.push(started.url === undefined ? skipped(name, started.note) : await prepare(name, async () => url, check));
    }
    return targets;
  }
}

/**
 * Rejects unless `url` answers 200 naming the backend that served it, within a few tries (a backend of the
 * scenario may answer 503 on purpose).
 */
async function answersWithBackend(url: string): Promise<void> {
  let last = '';
  for (let i = 0; i < 6; i++) {
    const reply = await get(url);
    if (reply.status === 200 && reply.headers['x-backend'] !== undefined) return;
    last = `status ${reply.status}, x-backend ${reply.headers['x-backend']}`;
  }
  throw new Error(`GET ${url}: ${last}`);
}

/** Requests each backend has served so far (its `/__requests` counter). */
export async function servedCounts(backends: readonly StartedBackend[]): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  await Promise.all(
    backends.map(async (b) => {
      const reply = await get(`${b.url}/__requests`);
      counts[b.name] = Number(reply.body.toString('utf8'));
    }),
  );
  return counts;
}

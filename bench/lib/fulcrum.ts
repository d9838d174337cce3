/**
 * Fulcrum itself, started the way a user would: `fulcrum start --config FILE` in the foreground, stopped with
 * SIGTERM. Until the binary exists, or when it fails to start, its rows are skipped with the reason.
 */
import { access, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Managed, ProcessGroup } from './processes.ts';
import { freePorts } from './ports.ts';

export const REPO_ROOT = path.resolve(import.meta.dirname, '..', '..');
export const FULCRUM_BIN = path.join(REPO_ROOT, 'packages', 'server', 'bin', 'fulcrum.ts');

export interface FulcrumPool {
  readonly algorithm: string;
  readonly hash?: { readonly key: string };
  readonly backends: readonly { readonly url: string; readonly weight?: number }[];
}

export interface FulcrumOptions {
  readonly workers: number | 'auto';
  /** The one pool, named `bench`. */
  readonly pool: FulcrumPool;
  /** `routes` as in the config (pool `bench`); left out when undefined. */
  readonly routes?: readonly object[];
  /** The top-level `cache` section (store and its settings); left out when undefined. */
  readonly cache?: object;
  /** A checkout of another revision to run instead of this one (see baseline.ts). */
  readonly root?: string;
  /** The one listener is TLS, with this certificate (PEM files). */
  readonly tls?: { readonly cert: string; readonly key: string };
  /** The top-level `http2` section; left out when undefined. */
  readonly http2?: object;
  /** More top-level sections (`rate_limit`, `limits`), as in the config. */
  readonly extra?: Readonly<Record<string, unknown>>;
}

/** The reason Fulcrum cannot run at all, or undefined when its binary is there. */
export async function fulcrumMissing(): Promise<string | undefined> {
  try {
    await access(FULCRUM_BIN);
    return undefined;
  } catch {
    return `skipped: ${path.relative(REPO_ROOT, FULCRUM_BIN)} does not exist yet`;
  }
}

/**
 * Writes a config and starts Fulcrum on free ports; resolves to its URL. The config is JSON, which is YAML
 * too, so that no YAML library is needed here. A port taken by someone else between picking and binding
 * (other programs share the machine) is retried with new ports, up to three times.
 */
export async function startFulcrum(group: ProcessGroup, name: string, dir: string, opts: FulcrumOptions): Promise<string> {
  return (await startFulcrumProcess(group, name, dir, opts)).url;
}

/** A started Fulcrum: its proxy and admin URLs, and the process. */
export interface StartedFulcrum {
  readonly url: string;
  readonly adminUrl: string;
  readonly managed: Managed;
}

/** As startFulcrum, also giving the admin URL and the process, whose output tail tells why a later check failed. */
export async function startFulcrumProcess(
  group: ProcessGroup,
  name: string,
  dir: string,
  opts: FulcrumOptions,
): Promise<StartedFulcrum> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(group, name, dir, opts);
    } catch (err) {
      if (attempt >= 3 || !/EADDRINUSE/.test((err as Error).message)) throw err;
    }
  }
}

async function startOnce(
  group: ProcessGroup,
  name: string,
  dir: string,
  opts: FulcrumOptions,
): Promise<StartedFulcrum> {
  const [port, adminPort] = await freePorts(2);
  const listen = `127.0.0.1:${port}`;
  const config = {
    ...(opts.tls === undefined ? { listen } : { listeners: [{ listen, tls: { certificates: [opts.tls] } }] }),
    admin: { listen: `127.0.0.1:${adminPort}` },
    workers: opts.workers,
    log: { level: 'warn', access: false },
    drain_timeout: '2s',
    pools: { bench: opts.pool },
    ...(opts.routes === undefined ? {} : { routes: opts.routes }),
    ...(opts.cache === undefined ? {} : { cache: opts.cache }),
    ...(opts.http2 === undefined ? {} : { http2: opts.http2 }),
    ...opts.extra,
  };
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, `${name.replace(/[^A-Za-z0-9_-]+/g, '-')}.yaml`);
  await writeFile(file, `${JSON.stringify(config, null, 2)}\n`);
  const root = opts.root ?? REPO_ROOT;
  const managed = await group.startListening(
    {
      name,
      command: 'sh',
      args: [path.join(root, 'scripts', 'node.sh'), path.relative(REPO_ROOT, FULCRUM_BIN), 'start', '--config', file],
      cwd: root,
    },
    port!,
    20_000,
  );
  return { url: `${opts.tls === undefined ? 'http' : 'https'}://127.0.0.1:${port}`, adminUrl: `http://127.0.0.1:${adminPort}`, managed };
}

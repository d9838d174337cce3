/** HAProxy as a proxy: one thread, keep-alive on both sides, idle backend connections shared between clients. */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Managed, ProcessGroup } from './processes.ts';

export type HaproxyBalance = 'roundrobin' | 'leastconn';

export interface HaproxyFrontend {
  readonly port: number;
  readonly balance: HaproxyBalance;
  readonly backendPorts: readonly number[];
  /** Also retry, on another server, a request answered 503 (`retry-on 503` with `option redispatch`). */
  readonly retry503?: boolean;
}

export function haproxyConf(frontends: readonly HaproxyFrontend[]): string {
  const sections = frontends.map((f) => {
    const retry = f.retry503 === true ? '  retries 2\n  retry-on conn-failure empty-response 503\n  option redispatch 1\n' : '';
    const servers = f.backendPorts.map((p, i) => `  server b${i + 1} 127.0.0.1:${p}`).join('\n');
    return `frontend fe_${f.port}
  bind 127.0.0.1:${f.port}
  default_backend be_${f.port}

backend be_${f.port}
  balance ${f.balance}
${retry}${servers}
`;
  });
  return `global
  nbthread 1
  maxconn 8192

defaults
  mode http
  option http-keep-alive
  http-reuse always
  timeout connect 5s
  timeout client 60s
  timeout server 60s
  timeout http-keep-alive 60s

${sections.join('\n')}`;
}

/** Writes the config into `dir` and starts HAProxy in the foreground (-db); resolves once `waitPort` accepts. */
export async function startHaproxy(
  group: ProcessGroup,
  binary: string,
  name: string,
  dir: string,
  conf: string,
  waitPort: number,
): Promise<Managed> {
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, 'haproxy.cfg');
  await writeFile(file, conf);
  return group.startListening({ name, command: binary, args: ['-db', '-f', file] }, waitPort);
}

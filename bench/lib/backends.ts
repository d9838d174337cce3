/** The three fast backends the throughput benchmarks share: nginx answering the 1 KB body, or a Node stand-in. */
import path from 'node:path';
import { BODY, BODY_TEXT } from './body.ts';
import { expectBody } from './http-check.ts';
import { nginxBackendConf, startNginx } from './nginx.ts';
import { freePorts, waitForPort } from './ports.ts';
import type { ProcessGroup } from './processes.ts';

/** Starts the three backends (nginx if installed, else Node) and checks that each serves the 1 KB body. */
export async function startBackends(group: ProcessGroup, nginx: string | undefined, dir: string): Promise<number[]> {
  const ports = await freePorts(3);
  if (nginx !== undefined) {
    const home = path.join(dir, 'nginx-backends');
    await startNginx(group, nginx, 'nginx backends', home, nginxBackendConf(home, ports, BODY_TEXT), ports[0]!);
  } else {
    const file = path.join(import.meta.dirname, '..', 'servers', 'fast-backend.ts');
    await group.startListening({ name: 'node backends', command: process.execPath, args: [file, ...ports.map(String)] }, ports[0]!);
  }
  for (const port of ports) {
    await waitForPort(port, 5000);
    await expectBody(`http://127.0.0.1:${port}/`, BODY);
  }
  return ports;
}

export const backendKindOf = (nginx: string | undefined) =>
  nginx ? 'nginx (worker_processes 1, `return 200`)' : 'one Node process (nginx not installed)';

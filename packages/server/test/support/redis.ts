/**
 * A real redis-server on a free loopback port, as a child process, for tests: started fresh (never one already
 * running), and able to crash (`kill`), come back on the same port (`restart`) or hang (`freeze`).
 * `startService` is the generic part, shared with memcached.ts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import { closedPort } from './backend.ts';
import { eventually } from './eventually.ts';

export interface TestService {
  readonly port: number;
  /** Stops it as a crash would (SIGKILL): its connections drop at once. */
  kill(): Promise<void>;
  /** Starts it again on the same port (after kill or stop) and waits until it answers. */
  restart(): Promise<void>;
  /** SIGSTOP: the process stays, its sockets stay open, nothing answers. For timeouts. Resolves once stopped. */
  freeze(): Promise<void>;
  /** SIGCONT: undoes freeze. */
  thaw(): void;
  stop(): Promise<void>;
}

export interface ServiceSpec {
  readonly name: string;
  readonly command: string;
  readonly args: (port: number) => string[];
  /** Sent on a fresh connection to ask whether it is up. */
  readonly probe: string;
  /** The start of the answer when it is. */
  readonly expect: string;
}

const READY_TIMEOUT_MS = 5000;

/** Starts the service on a free port, trying another port if that one was taken in between. */
export async function startService(spec: ServiceSpec): Promise<TestService> {
  for (let attempt = 1; ; attempt++) {
    const port = await closedPort();
    try {
      return await startOn(spec, port);
    } catch (err) {
      if (attempt >= 3) throw err;
    }
  }
}

async function startOn(spec: ServiceSpec, port: number): Promise<TestService> {
  let child = await launch(spec, port);
  const exitOnce = (c: ChildProcess) =>
    new Promise<void>((resolve) => {
      if (c.exitCode !== null || c.signalCode !== null) resolve();
      else c.once('exit', () => resolve());
    });
  const killChild = async (c: ChildProcess, signal: NodeJS.Signals) => {
    const exited = exitOnce(c);
    c.kill('SIGCONT');
    c.kill(signal);
    await exited;
  };
  return {
    port,
    kill: () => killChild(child, 'SIGKILL'),
    async restart() {
      await killChild(child, 'SIGKILL');
      child = await launch(spec, port);
    },
    async freeze() {
      child.kill('SIGSTOP');
      await stopped(child);
    },
    thaw: () => void child.kill('SIGCONT'),
    stop: () => killChild(child, 'SIGKILL'),
  };
}

/**
 * Waits until the kernel shows every thread of the process stopped: a signal is delivered asynchronously, and on
 * a busy machine a server thread could otherwise answer a request sent just after SIGSTOP.
 */
async function stopped(child: ChildProcess): Promise<void> {
  const state = (stat: string) => stat.charAt(stat.lastIndexOf(')') + 2); // field 3, after "(comm)"
  await eventually(
    async () => {
      const tasks = await readdir(`/proc/${child.pid}/task`);
      const states = await Promise.all(tasks.map(async (t) => state(await readFile(`/proc/${child.pid}/task/${t}/stat`, 'latin1'))));
      return states.every((s) => s === 'T');
    },
    READY_TIMEOUT_MS,
    `process ${child.pid} to stop`,
  );
}

/** Spawns the process and resolves once it answers the probe; rejects if it exits first or stays silent. */
async function launch(spec: ServiceSpec, port: number): Promise<ChildProcess> {
  const child = spawn(spec.command, spec.args(port), { stdio: 'ignore', cwd: os.tmpdir() });
  // A test run that dies halfway must not leave servers behind.
  const reap = () => child.kill('SIGKILL');
  process.once('exit', reap);
  child.once('exit', () => process.off('exit', reap));
  let exited = false;
  child.once('exit', () => (exited = true));
  const spawnError = new Promise<never>((_, reject) => child.once('error', reject));
  spawnError.catch(() => {});
  // Its own loop rather than eventually: an exit ends the wait early, and a failure to spawn is thrown as it is.
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (!exited) {
    if (await Promise.race([answers(port, spec.probe, spec.expect), spawnError])) return child;
    if (Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 10));
  }
  child.kill('SIGKILL');
  throw new Error(`${spec.name} did not start on port ${port}${exited ? ` (exited with ${child.exitCode})` : ''}`);
}

/** One connection: sends the probe, true when the reply starts as expected. */
function answers(port: number, probe: string, expect: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let got = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write(probe));
    socket.on('data', (d: Buffer) => {
      got += d.toString('latin1');
      if (got.length >= expect.length) done(got.startsWith(expect));
    });
  });
}

export interface TestRedis extends TestService {
  /** redis://127.0.0.1:port */
  readonly url: string;
}

export async function startRedis(): Promise<TestRedis> {
  const service = await startService({
    name: 'redis-server',
    command: 'redis-server',
    args: (port) => ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', os.tmpdir()],
    probe: 'PING\r\n',
    expect: '+PONG',
  });
  return Object.assign(service, { url: `redis://127.0.0.1:${service.port}` });
}

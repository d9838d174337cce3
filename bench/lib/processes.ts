/**
 * The processes a benchmark starts: each in its own process group (so that nginx and Fulcrum workers go with
 * their parent), with the tail of its output kept for error messages, and all of them stopped on the way out:
 * normal end, thrown error, SIGINT or SIGTERM.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import { waitForPort } from './ports.ts';

export interface ProcessSpec {
  /** Shown in messages. */
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Signal for a graceful stop; SIGKILL follows after `stopTimeoutMs`. */
  readonly stopSignal?: NodeJS.Signals;
  /** Exits on its own are expected (a client such as wrk): do not report them. */
  readonly quiet?: boolean;
}

export interface Managed {
  readonly name: string;
  readonly child: ChildProcess;
  readonly stopSignal: NodeJS.Signals;
  /** Whether the process is still running. */
  alive(): boolean;
  /** Last lines of its stdout and stderr, for error messages. */
  tail(): string;
  /** Resolves when the process has exited. */
  readonly exited: Promise<void>;
}

const TAIL_BYTES = 4096;

export class ProcessGroup {
  private readonly running = new Set<Managed>();
  private readonly stopping = new Set<Managed>();
  private readonly cleanups: (() => Promise<void>)[] = [];
  private readonly stopTimeoutMs: number;

  constructor(stopTimeoutMs = 5000) {
    this.stopTimeoutMs = stopTimeoutMs;
  }

  start(spec: ProcessSpec): Managed {
    const child = spawn(spec.command, spec.args, {
      cwd: spec.cwd,
      env: spec.env ?? process.env,
      detached: true, // its own process group: stop() signals the whole group
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString('utf8')).slice(-TAIL_BYTES);
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    let running = true;
    const exited = new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        running = false;
        if (!this.stopping.has(managed) && spec.quiet !== true) {
          // Said at once: a target dying mid-run otherwise only shows as errors in its row. The short wait
          // lets its last output arrive through the pipes.
          setTimeout(() => {
            const tail = managed.tail();
            process.stderr.write(`${spec.name} exited unexpectedly (${signal ?? `code ${code}`})${tail ? `:\n${indent(tail)}` : ''}\n`);
          }, 50);
        }
        resolve();
      });
      child.once('error', (err) => {
        keep(Buffer.from(`spawn failed: ${err.message}\n`));
        running = false;
        resolve();
      });
    });
    const managed: Managed = {
      name: spec.name,
      child,
      stopSignal: spec.stopSignal ?? 'SIGTERM',
      alive: () => running,
      tail: () => output.trim().split('\n').slice(-12).join('\n'),
      exited,
    };
    this.running.add(managed);
    void exited.then(() => this.running.delete(managed));
    return managed;
  }

  /** Starts a process and waits until it accepts connections on `port`; stops it again if it never does. */
  async startListening(spec: ProcessSpec, port: number, timeoutMs = 15_000): Promise<Managed> {
    const managed = this.start(spec);
    try {
      await waitForPort(port, timeoutMs, managed.alive);
      return managed;
    } catch (err) {
      await this.stop(managed);
      const tail = managed.tail();
      throw new Error(`${spec.name}: ${(err as Error).message}${tail ? `\n${indent(tail)}` : ''}`, { cause: err });
    }
  }

  async stop(managed: Managed): Promise<void> {
    if (!managed.alive()) return;
    this.stopping.add(managed);
    signalGroup(managed.child, managed.stopSignal);
    const timer = setTimeout(() => signalGroup(managed.child, 'SIGKILL'), this.stopTimeoutMs);
    await managed.exited;
    clearTimeout(timer);
    // The leader is gone; make sure nothing of its group (workers) outlives it.
    signalGroup(managed.child, 'SIGKILL');
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.running].map((m) => this.stop(m)));
  }

  /** Work to do once every process is stopped (removing a temporary folder), also after Ctrl-C. */
  onCleanup(fn: () => Promise<void>): void {
    this.cleanups.push(fn);
  }

  private async finish(): Promise<void> {
    await this.stopAll();
    for (const fn of this.cleanups.splice(0)) await fn().catch(() => {});
  }

  /** Last resort for `process.on('exit')`, which cannot wait: SIGKILL to every group still running. */
  killAllNow(): void {
    for (const m of this.running) signalGroup(m.child, 'SIGKILL');
  }

  /**
   * Runs `main` and stops every process afterwards, whether it returned, threw, or the user pressed Ctrl-C.
   * Sets the exit code; never calls process.exit while a child may still be running.
   */
  async run(main: () => Promise<void>): Promise<void> {
    let interrupted = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (interrupted) return;
      interrupted = true;
      process.stderr.write(`\n${signal}: stopping everything started by the benchmark...\n`);
      void this.finish().then(() => process.exit(signal === 'SIGINT' ? 130 : 143));
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    process.on('exit', () => this.killAllNow());
    try {
      await main();
    } catch (err) {
      process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
      process.exitCode = 1;
    } finally {
      await this.finish();
    }
  }
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // ESRCH: the group is already gone.
  }
}

export function indent(text: string, prefix = '    '): string {
  return text
    .split('\n')
    .map((line) => prefix + line)
    .join('\n');
}

/** Full path of an executable on PATH or in the sbin folders (where Debian puts nginx and haproxy). */
export function findExecutable(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter), '/usr/local/sbin', '/usr/sbin', '/sbin'];
  for (const dir of dirs) {
    if (dir === '') continue;
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

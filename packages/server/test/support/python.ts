/**
 * The example catalogue service (examples/python) as real Python processes for tests: FastAPI on uvicorn, Flask on
 * Werkzeug, Django on its threaded server, each on a free loopback port, with the companion wired in.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { closedPort } from './backend.ts';

export type Framework = 'fastapi' | 'flask' | 'django';

export const EXAMPLES = new URL('../../../../examples/python/', import.meta.url).pathname;

/** Debian's python3 sees the python3-* packages; a pyenv or venv python3 first on PATH may not. */
export const PYTHON = process.env.FULCRUM_PYTHON ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');

const START_TIMEOUT_MS = 15_000;

export interface PythonInstance {
  readonly framework: Framework;
  readonly port: number;
  readonly url: string;
  /** What it answers in X-Served-By. */
  readonly name: string;
  /** When it printed that it listens (after registering, when it registers). */
  readonly listeningAt: number;
  readonly child: ChildProcess;
  output(): string;
  /** SIGTERM (the companion drains, then the server stops) and waits for the exit. */
  stop(): Promise<void>;
  /** SIGKILL, as a crash: nothing is drained, nothing deregistered. */
  kill(): Promise<void>;
}

export interface PythonOptions {
  readonly port?: number;
  readonly name?: string;
  readonly args?: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
}

/** Starts `examples/python/<framework>_app.py` and waits for its "listening" line. */
export async function startPython(framework: Framework, options: PythonOptions = {}): Promise<PythonInstance> {
  const port = options.port ?? (await closedPort());
  const name = options.name ?? `${framework}:${port}`;
  const child = spawn(PYTHON, [`${EXAMPLES}${framework}_app.py`, '--port', String(port), '--name', name, ...(options.args ?? [])], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1', PYTHONUNBUFFERED: '1', ...options.env },
  });
  let out = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const listeningAt = await new Promise<number>((resolve, reject) => {
    // A child left running would hold the test process (and the whole suite) open for ever: it is killed.
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${name} did not start in ${START_TIMEOUT_MS} ms:\n${out}`));
    }, START_TIMEOUT_MS);
    const onData = (d: Buffer) => {
      out += d.toString();
      if (out.includes(`${name} listening on`)) {
        clearTimeout(timer);
        resolve(Date.now());
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code} before listening:\n${out}`));
    });
  });
  const signal = async (sig: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(sig);
    await exited;
  };
  return {
    framework,
    port,
    url: `http://127.0.0.1:${port}`,
    name,
    listeningAt,
    child,
    output: () => out,
    stop: () => signal('SIGTERM'),
    kill: () => signal('SIGKILL'),
  };
}

/**
 * Starting Fulcrum for tests: in-process (startFulcrum: fast, one process) or as the real command in child
 * processes (spawnFulcrum: cluster mode, signals, reload from a file). Both listen on free loopback ports.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { stringify } from 'yaml';
import { formatProblems, parseConfig } from '../../src/config/load.ts';
import type { ConfigInput } from '../../src/config/schema.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { startSingle, type RunningFulcrum } from '../../src/workers/single.ts';

export const BIN = new URL('../../bin/fulcrum.ts', import.meta.url).pathname;

/** Log lines captured from an in-process Fulcrum, parsed. */
export type LogLine = Record<string, unknown> & { msg?: string; level: number };

export interface InProcessFulcrum extends RunningFulcrum {
  readonly url: string;
  readonly adminUrl: string;
  readonly logs: LogLine[];
}

/** Fills what every test config shares: free ports, one process, quiet logs. */
export function testConfig(input: Partial<ConfigInput> & Pick<ConfigInput, 'pools'>): ConfigInput {
  return {
    ...(input.listeners === undefined ? { listen: '127.0.0.1:0' } : {}),
    admin: { listen: '127.0.0.1:0' },
    workers: 1,
    log: { level: 'info', access: false },
    drain_timeout: '5s',
    ...input,
  };
}

export async function startFulcrum(
  input: Partial<ConfigInput> & Pick<ConfigInput, 'pools'>,
  configFile?: string,
): Promise<InProcessFulcrum> {
  const result = parseConfig(testConfig(input));
  if (!result.ok) throw new Error(formatProblems(result.problems));
  const logs: LogLine[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString().split('\n')) if (line) logs.push(JSON.parse(line) as LogLine);
      cb();
    },
  });
  const running = await startSingle(result.config, configFile, createLogger(result.config.log.level, sink));
  return {
    ...running,
    url: `http://127.0.0.1:${running.proxyPort}`,
    adminUrl: `http://127.0.0.1:${running.adminPort}`,
    logs,
  };
}

export interface SpawnedFulcrum {
  readonly url: string;
  /** Every listener's port, in config order. */
  readonly ports: readonly number[];
  readonly adminUrl: string;
  readonly child: ChildProcess;
  readonly configFile: string;
  /** Everything the process printed so far. */
  output(): string;
  writeConfig(input: ConfigInput): Promise<void>;
  /** Sends SIGTERM and waits for the exit code. */
  stop(): Promise<number | null>;
}

export async function writeConfigFile(input: ConfigInput, file?: string): Promise<string> {
  const path = file ?? join(await mkdtemp(join(tmpdir(), 'fulcrum-test-')), 'fulcrum.yaml');
  await writeFile(path, stringify(input));
  return path;
}

/** Runs `fulcrum start --config FILE` and waits for its "fulcrum ready" line. */
export async function spawnFulcrum(input: ConfigInput, timeoutMs = 15_000): Promise<SpawnedFulcrum> {
  const configFile = await writeConfigFile(input);
  const child = spawn(process.execPath, [BIN, 'start', '--config', configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const ready = await new Promise<{ port: number; ports: number[]; admin: number }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`fulcrum did not start in time:\n${out}`)), timeoutMs);
    const onData = () => {
      for (const line of out.split('\n')) {
        if (!line.includes('"fulcrum ready"')) continue;
        const parsed = JSON.parse(line) as { port: number; ports: number[]; admin: number };
        clearTimeout(timer);
        child.stdout!.off('data', onData);
        resolve(parsed);
        return;
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`fulcrum exited with ${code}:\n${out}`));
    });
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    url: `http://127.0.0.1:${ready.port}`,
    ports: ready.ports,
    adminUrl: `http://127.0.0.1:${ready.admin}`,
    child,
    configFile,
    output: () => out,
    writeConfig: async (next) => void (await writeConfigFile(next, configFile)),
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

/** Polls `check` until it returns true or the deadline passes (no fixed sleeps). */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The header every result file starts with, and writing results to bench/results/. */
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

export interface Machine {
  readonly cpu: string;
  readonly cores: number;
  readonly memoryGiB: number;
  readonly os: string;
  readonly node: string;
  readonly date: string;
}

export function machine(): Machine {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: os.availableParallelism(),
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    date: new Date().toISOString(),
  };
}

export function machineHeader(title: string, m: Machine, command: string, settings: string): string {
  return [
    `# ${title}`,
    '',
    `- Machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.os}`,
    `- Node ${m.node}, ${m.date}`,
    `- Command: \`${command}\``,
    `- ${settings}`,
  ].join('\n');
}

export const RESULTS_DIR = path.join(import.meta.dirname, '..', 'results');

/** Writes `<name>.md` and `<name>.json` into bench/results/ and returns their paths. */
export async function writeResults(name: string, markdown: string, json: unknown): Promise<string[]> {
  await mkdir(RESULTS_DIR, { recursive: true });
  const md = path.join(RESULTS_DIR, `${name}.md`);
  const js = path.join(RESULTS_DIR, `${name}.json`);
  await writeFile(md, `${markdown}\n`);
  await writeFile(js, `${JSON.stringify(json, null, 2)}\n`);
  return [md, js];
}

/** A positive number from the environment, or the default; a bad value is an error, not silently ignored. */
export function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, got ${JSON.stringify(raw)}`);
  return value;
}

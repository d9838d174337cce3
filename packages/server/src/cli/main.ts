/**
 * The `fulcrum` command: start, validate, demo, schema. Exit codes: 0 ok, 1 invalid config, 2 usage or start error.
 */
import cluster from 'node:cluster';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { formatProblems, loadConfigFile, parseConfig, type ConfigResult } from '../config/load.ts';
import { readCertificateFiles } from '../tls/material.ts';
import { configJsonSchema, type Config } from '../config/schema.ts';
import { createLogger } from '../observability/logger.ts';
import { runWorker, startPrimary } from '../workers/cluster.ts';
import { installLifecycle } from '../workers/lifecycle.ts';
import { startSingle, type RunningFulcrum } from '../workers/single.ts';
import { demoConfig, DEMO_BACKENDS, startDemoBackends } from './demo.ts';

const USAGE = `Usage:
  fulcrum start --config FILE      run with a config file (YAML or JSON)
  fulcrum validate --config FILE   check a config file; prints every problem, exits 1 if any
  fulcrum demo                     three local demo backends behind Fulcrum on 127.0.0.1:8080, admin on :9090
  fulcrum schema                   print the config's JSON Schema (for editors)

Signals: SIGHUP (or saving the config file) reloads; SIGTERM / SIGINT drain and exit.`;

export async function main(argv: string[]): Promise<number> {
  if (cluster.isWorker) {
    runWorker();
    return -1; // keeps running
  }
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { config: { type: 'string', short: 'c' }, help: { type: 'boolean', short: 'h' } },
  });
  const command = positionals[0] ?? 'demo';
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  switch (command) {
    case 'schema':
      console.log(JSON.stringify(configJsonSchema(), null, 2));
      return 0;
    case 'validate': {
      if (values.config === undefined) return usageError('validate needs --config FILE');
      const result = await loadChecked(values.config);
      if (!result.ok) {
        console.error(`${values.config}: ${result.problems.length} problem(s)\n${formatProblems(result.problems)}`);
        return 1;
      }
      console.log(`${values.config}: ok`);
      return 0;
    }
    case 'start': {
      if (values.config === undefined) return usageError('start needs --config FILE');
      const result = await loadChecked(values.config);
      if (!result.ok) {
        console.error(`${values.config}: ${result.problems.length} problem(s)\n${formatProblems(result.problems)}`);
        return 1;
      }
      await run(result.config, values.config);
      return -1;
    }
    case 'demo': {
      await startDemoBackends();
      const result = parseConfig(demoConfig(DEMO_BACKENDS));
      if (!result.ok) throw new Error(formatProblems(result.problems));
      await run(result.config, undefined);
      console.error(
        'Fulcrum demo: proxy on http://127.0.0.1:8080 (try: curl -i localhost:8080/, and localhost:8080/catalogue/1 for the cache), ' +
          'dashboard on http://127.0.0.1:9090/, admin API on /api/pools, metrics on /metrics',
      );
      return -1;
    }
    default:
      return usageError(`unknown command: ${command}`);
  }
}

async function run(config: Config, configFile: string | undefined): Promise<void> {
  const log = createLogger(config.log.level);
  const workers = config.workers === 'auto' ? availableParallelism() : config.workers;
  let running: RunningFulcrum;
  try {
    running = workers === 1 ? await startSingle(config, configFile, log) : await startPrimary(config, configFile, log, workers);
  } catch (err) {
    log.fatal({ err }, 'failed to start');
    log.flush();
    process.exitCode = 2;
    setTimeout(() => process.exit(2), 100);
    return;
  }
  installLifecycle(configFile, {
    reload: () => running.reload(),
    shutdown: async () => {
      log.info('shutting down: draining');
      await running.stop();
      log.flush();
    },
  });
}

/** The config file, validated, and the certificate files it names, read and checked. */
async function loadChecked(file: string): Promise<ConfigResult> {
  const result = await loadConfigFile(file);
  if (!result.ok) return result;
  const files = await readCertificateFiles(result.config);
  return files.ok ? result : { ok: false, problems: files.problems };
}

function usageError(message: string): number {
  console.error(`${message}\n\n${USAGE}`);
  return 2;
}

/** Process signals and config file watching, shared by the single-process and cluster modes. */
import { unwatchFile, watchFile } from 'node:fs';

export interface LifecycleHooks {
  reload(): Promise<unknown>;
  shutdown(): Promise<void>;
}

/** SIGHUP and a change of the config file reload; SIGTERM and SIGINT drain and exit. */
export function installLifecycle(configFile: string | undefined, hooks: LifecycleHooks): () => void {
  let shuttingDown = false;
  let reloading: Promise<unknown> = Promise.resolve();
  const reload = () => {
    reloading = reloading.then(() => hooks.reload()).catch(() => {});
  };
  const shutdown = () => {
    if (shuttingDown) return;
    shuttingDown = true;
    void hooks.shutdown().finally(() => process.exit(0));
  };
  process.on('SIGHUP', reload);
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
  // Polling survives editors that replace the file (rename over it), which fs.watch loses track of.
  const onFileChange = (curr: { mtimeMs: number }, prev: { mtimeMs: number }) => {
    if (curr.mtimeMs !== prev.mtimeMs) reload();
  };
  if (configFile !== undefined) watchFile(configFile, { interval: 300, persistent: false }, onFileChange);
  return () => {
    process.off('SIGHUP', reload);
    process.off('SIGTERM', shutdown);
    process.off('SIGINT', shutdown);
    if (configFile !== undefined) unwatchFile(configFile, onFileChange);
  };
}

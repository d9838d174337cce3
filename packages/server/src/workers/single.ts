/**
 * workers: 1 — everything in one process: the control plane calls the proxy directly. This is also how tests
 * embed Fulcrum.
 */
import type { Config } from '../config/schema.ts';
import { AdminServer } from '../admin/server.ts';
import { createMetricsRegistry } from '../observability/metrics.ts';
import type { Logger } from '../observability/logger.ts';
import { ControlPlane, type ReloadResult } from './control-plane.ts';
import { ProxyProcess } from './proxy-process.ts';
import { listenersOf } from '../config/listeners.ts';

export interface RunningFulcrum {
  /** The first listener's port. */
  readonly proxyPort: number;
  /** Every listener's port, in config order. */
  readonly ports: readonly number[];
  readonly adminPort: number;
  readonly control: ControlPlane;
  reload(): Promise<ReloadResult>;
  /** Graceful stop: drains in-flight requests up to config.drain_timeout. */
  stop(): Promise<void>;
}

export async function startSingle(config: Config, configFile: string | undefined, log: Logger): Promise<RunningFulcrum> {
  const control = new ControlPlane(config, configFile, log);
  const proxy = new ProxyProcess(config, log, (pool, backend, outcome) => control.report(pool, backend.id, outcome));
  control.attach({
    applyConfig: (c, states) => proxy.applyConfig(c, states),
    applyBackendStates: (states) => proxy.applyBackendStates(states),
    stats: () => proxy.snapshot(),
    purge: (kind, value) => void proxy.purge(kind, value),
  });
  control.tls.attach({
    applyTls: (material) => proxy.applyTls(material),
    applyChallenges: async (set) => proxy.applyChallenges(set),
  });
  await control.tls.init();
  proxy.applyTls(control.tls.material);
  const admin = new AdminServer(control, createMetricsRegistry(control), log);
  const adminPort = await admin.listen(config.admin.listen);
  const ports = await proxy.listen();
  const proxyPort = ports[0]!;
  control.tls.startAcme();
  log.info({ listen: listenersOf(config).map((l) => l.listen), port: proxyPort, ports, admin: adminPort, workers: 1 }, 'fulcrum ready');
  return {
    proxyPort,
    ports,
    adminPort,
    control,
    reload: () => control.reload(),
    async stop() {
      const result = await proxy.drain(control.config.drain_timeout);
      log.info({ result }, 'drained');
      control.stop();
      await admin.close();
    },
  };
}

/** A ControlPlane on FakeTime with a recording data plane: what it decides, and when, without a socket or a sleep. */
import { Writable } from 'node:stream';
import { formatProblems, parseConfig } from '../../../src/config/load.ts';
import type { BackendConfig, ConfigInput } from '../../../src/config/schema.ts';
import { createLogger } from '../../../src/observability/logger.ts';
import { seededRandom } from '../../../src/time.ts';
import { ControlPlane, type FulcrumEvent } from '../../../src/workers/control-plane.ts';
import type { BackendStateUpdate } from '../../../src/workers/proxy-process.ts';
import { FakeTime } from '../../support/fake-time.ts';
import { testConfig } from '../../support/fulcrum.ts';

export interface Fixture {
  readonly control: ControlPlane;
  readonly time: FakeTime;
  readonly events: FulcrumEvent[];
  /** Every backend state sent to the proxies, in order (as applyBackendStates or with a new config). */
  readonly sent: BackendStateUpdate[];
  /** The backends of a pool in the control plane's running config, as origins. */
  backendsOf(pool: string): string[];
  /** The state the control plane holds for one backend of a pool. */
  stateOf(pool: string, origin: string): string | undefined;
}

export const origin = (port: number): string => `http://127.0.0.1:${port}`;

export function backendConfig(port: number, weight = 1): BackendConfig {
  return { url: origin(port), weight, drain: false };
}

/** Starts a control plane on `input` (ports in backend URLs are never dialled: no active checks are configured). */
export function controlPlane(input: Partial<ConfigInput> & Pick<ConfigInput, 'pools'>, configFile?: string): Fixture {
  const parsed = parseConfig(testConfig(input));
  if (!parsed.ok) throw new Error(formatProblems(parsed.problems));
  const time = new FakeTime();
  const quiet = new Writable({ write: (_chunk, _enc, cb) => cb() });
  const control = new ControlPlane(parsed.config, configFile, createLogger('info', quiet), { time, random: seededRandom(1) });
  const events: FulcrumEvent[] = [];
  control.subscribe((e) => events.push(e));
  const sent: BackendStateUpdate[] = [];
  control.attach({
    applyConfig: (_config, states) => sent.push(...states),
    applyBackendStates: (states) => sent.push(...states),
    stats: () => ({ pools: {}, connections: 0 }),
    purge: () => {},
  });
  return {
    control,
    time,
    events,
    sent,
    backendsOf: (pool) => (control.config.pools[pool]?.backends ?? []).map((b) => new URL(b.url).origin),
    stateOf: (pool, id) => control.backendsOf(pool).find((b) => b.id === id)?.state,
  };
}

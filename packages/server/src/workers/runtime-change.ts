/** Changes to the running pools, as the admin API and registrations ask the control plane for them. */
import type { ConfigProblem } from '../config/load.ts';
import type { AlgorithmName, BackendConfig, Config } from '../config/schema.ts';

/** An operator's change to one pool through the admin API; `backend` is an origin (the backend's id). */
export type RuntimeChange =
  | { readonly kind: 'weight'; readonly pool: string; readonly backend: string; readonly weight: number }
  | { readonly kind: 'add-backend'; readonly pool: string; readonly backend: string; readonly config: BackendConfig }
  | { readonly kind: 'remove-backend'; readonly pool: string; readonly backend: string }
  | { readonly kind: 'algorithm'; readonly pool: string; readonly algorithm: AlgorithmName };

export type RuntimeChangeResult =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: 'no-pool' | 'no-backend' | 'exists' }
  | { readonly ok: false; readonly reason: 'invalid'; readonly problems: readonly ConfigProblem[] };

/** What registrations need of the control plane: the config in force, and changes to it (no import cycle). */
export interface RuntimeEditor {
  readonly config: Config;
  change(change: RuntimeChange, by: string): RuntimeChangeResult;
}

/** A health checker for the monitor's tests: verdicts set by the test, probes recorded, nothing on the network. */
import type { HealthChecker } from '../../../src/health/checker.ts';
import type { Backend } from '../../../src/upstream/backend.ts';

export interface Call {
  readonly backend: Backend;
  readonly path: string;
  readonly signal: AbortSignal;
}

/** A checker whose verdicts the test sets per backend; `hang` leaves probes unanswered until aborted. */
export class ScriptedChecker implements HealthChecker {
  readonly calls: Call[] = [];
  readonly verdicts = new Map<string, boolean>();
  hang = false;

  check(backend: Backend, path: string, signal: AbortSignal): Promise<boolean> {
    this.calls.push({ backend, path, signal });
    if (this.hang) return new Promise(() => {});
    return Promise.resolve(this.verdicts.get(backend.id) ?? true);
  }
}

/**
 * BENCH_BASELINE=<git revision>: the same benchmark also runs Fulcrum as it was at that revision, side by side in
 * the same run, so that a change's effect is read from one table rather than from two runs on a noisy machine.
 * The revision is checked out into a temporary git worktree sharing this checkout's node_modules.
 */
import { execFileSync } from 'node:child_process';
import { symlinkSync } from 'node:fs';
import path from 'node:path';
import type { ProcessGroup } from './processes.ts';
import { REPO_ROOT } from './fulcrum.ts';

export interface Baseline {
  /** The revision as given, for row names. */
  readonly revision: string;
  /** Its checkout, to pass as FulcrumOptions.root. */
  readonly root: string;
}

/** The baseline checkout, or undefined when BENCH_BASELINE is not set; removed when the group cleans up. */
export function baselineCheckout(group: ProcessGroup, dir: string): Baseline | undefined {
  const revision = process.env.BENCH_BASELINE;
  if (revision === undefined || revision === '') return undefined;
  const root = path.join(dir, 'baseline');
  execFileSync('git', ['-C', REPO_ROOT, 'worktree', 'add', '--detach', '--quiet', root, revision], { stdio: 'inherit' });
  symlinkSync(path.join(REPO_ROOT, 'node_modules'), path.join(root, 'node_modules'));
  group.onCleanup(async () => void execFileSync('git', ['-C', REPO_ROOT, 'worktree', 'remove', '--force', root], { stdio: 'ignore' }));
  return { revision, root };
}

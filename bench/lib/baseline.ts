/**
 * BENCH_BASELINE=<git revision>[,<revision>…]: the same benchmark also runs Fulcrum as it was at each revision,
 * side by side in the same run, so that a change's effect is read from one table rather than from two runs on a
 * noisy machine. Each revision is checked out into a temporary git worktree sharing this checkout's node_modules.
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

/** The baseline checkouts (none when BENCH_BASELINE is not set); removed when the group cleans up. */
export function baselineCheckouts(group: ProcessGroup, dir: string): Baseline[] {
  const revisions = (process.env.BENCH_BASELINE ?? '').split(',').filter(Boolean);
  return revisions.map((revision, i) => {
    const root = path.join(dir, `baseline-${i}`);
    execFileSync('git', ['-C', REPO_ROOT, 'worktree', 'add', '--detach', '--quiet', root, revision], { stdio: 'inherit' });
    symlinkSync(path.join(REPO_ROOT, 'node_modules'), path.join(root, 'node_modules'));
    group.onCleanup(async () => void execFileSync('git', ['-C', REPO_ROOT, 'worktree', 'remove', '--force', root], { stdio: 'ignore' }));
    return { revision, root };
  });
}

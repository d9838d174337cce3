/**
 * Counts component renders for tests, through React's DevTools hook; a setup file, so that the hook is there
 * before react-dom loads. On each commit, every function component that ran is counted under its name and key
 * (React sets the PerformedWork flag, 1, on a fiber whose component ran; a subtree whose child pointer did not
 * change was not visited, and its flags are from an earlier commit, so it is skipped).
 */
interface Fiber {
  tag: number;
  flags: number;
  key: string | null;
  type: unknown;
  child: Fiber | null;
  sibling: Fiber | null;
  alternate: Fiber | null;
}

// FunctionComponent, ClassComponent, ForwardRef, MemoComponent, SimpleMemoComponent.
const COMPONENTS = new Set([0, 1, 11, 14, 15]);
const counts = new Map<string, number>();

function nameOf(type: unknown): string {
  if (typeof type === 'function') return (type as { displayName?: string }).displayName ?? type.name;
  const t = type as { type?: unknown; render?: unknown } | null;
  if (t?.type !== undefined) return nameOf(t.type);
  if (t?.render !== undefined) return nameOf(t.render);
  return '?';
}

function count(next: Fiber): void {
  const prev = next.alternate;
  if (COMPONENTS.has(next.tag) && (prev === null || (next.flags & 1) === 1)) {
    const id = next.key === null ? nameOf(next.type) : `${nameOf(next.type)}:${next.key}`;
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  if (prev !== null && next.child === prev.child) return;
  for (let c = next.child; c !== null; c = c.sibling) count(c);
}

let renderers = 0;
(globalThis as Record<string, unknown>).__REACT_DEVTOOLS_GLOBAL_HOOK__ = {
  renderers: new Map(),
  supportsFiber: true,
  isDisabled: false,
  inject: () => ++renderers,
  checkDCE: () => undefined,
  onScheduleFiberRoot: () => undefined,
  onCommitFiberUnmount: () => undefined,
  onPostCommitFiberRoot: () => undefined,
  setStrictMode: () => undefined,
  onCommitFiberRoot: (_id: number, root: { current: Fiber }) => count(root.current),
};

/** Renders since the last reset, by component name (`Name`) or name and key (`Name:key`). */
export function renders(id: string): number {
  return counts.get(id) ?? 0;
}

export function resetRenders(): void {
  counts.clear();
}

/**
 * A radix tree of string prefixes, each with a time: `latest(s)` is the latest time among the prefixes of `s`, found
 * by walking `s` once from the root (at most one node per character of `s`, usually one per stored prefix on the
 * way), whatever the number of prefixes stored. Edges hold whole substrings, so the tree has at most two nodes per
 * prefix, not one per character.
 */

const NONE = Number.NEGATIVE_INFINITY;

class Node {
  /** The substring on the edge from the parent (empty for the root). */
  label: string;
  /** The time of the prefix that ends here, or NONE when no stored prefix ends here. */
  at: number;
  /** Keyed by the first character code of the child's label. */
  children: Map<number, Node> | undefined;

  constructor(label: string, at: number, children?: Map<number, Node>) {
    this.label = label;
    this.at = at;
    this.children = children;
  }
}

/** Length of the common start of `a` (from `from`) and `label`. */
function common(a: string, from: number, label: string): number {
  const n = Math.min(a.length - from, label.length);
  let i = 0;
  while (i < n && a.charCodeAt(from + i) === label.charCodeAt(i)) i++;
  return i;
}

export class PrefixTree {
  private readonly root = new Node('', NONE);
  private count = 0;
  /** Nodes visited by `latest` since start: lets tests check that a lookup's cost follows its string, not the tree. */
  visited = 0;

  /** Prefixes stored. */
  get size(): number {
    return this.count;
  }

  /** Records `prefix` at time `at` (a prefix stored twice keeps the later time). */
  set(prefix: string, at: number): void {
    let node = this.root;
    let i = 0;
    for (;;) {
      if (i === prefix.length) {
        if (node.at === NONE) this.count++;
        if (at > node.at) node.at = at;
        return;
      }
      const code = prefix.charCodeAt(i);
      const child = node.children?.get(code);
      if (child === undefined) {
        (node.children ??= new Map()).set(code, new Node(prefix.slice(i), at));
        this.count++;
        return;
      }
      const n = common(prefix, i, child.label);
      if (n < child.label.length) {
        // The new prefix leaves the edge part way: split it at the point where they part.
        const rest = child.label.slice(n);
        child.label = rest;
        const mid = new Node(prefix.slice(i, i + n), NONE, new Map([[rest.charCodeAt(0), child]]));
        node.children!.set(code, mid);
        node = mid;
      } else node = child;
      i += n;
    }
  }

  /** The latest time among the stored prefixes of `s` (`s` itself included), or -Infinity when none is. */
  latest(s: string): number {
    let node = this.root;
    let best = node.at;
    let i = 0;
    let visited = 1;
    while (i < s.length) {
      const child = node.children?.get(s.charCodeAt(i));
      if (child === undefined || !s.startsWith(child.label, i)) break;
      visited++;
      i += child.label.length;
      if (child.at > best) best = child.at;
      node = child;
    }
    this.visited += visited;
    return best;
  }

  /** Forgets `prefix` if its time is at or before `horizon` (a later time for it is kept), merging emptied edges. */
  forget(prefix: string, horizon: number): void {
    const path: Node[] = [];
    let node = this.root;
    let i = 0;
    while (i < prefix.length) {
      const child = node.children?.get(prefix.charCodeAt(i));
      if (child === undefined || !prefix.startsWith(child.label, i)) return;
      path.push(node);
      i += child.label.length;
      node = child;
    }
    if (node.at === NONE || node.at > horizon) return;
    node.at = NONE;
    this.count--;
    // Tidy upwards: an empty leaf goes; a node with no prefix and one child merges with it.
    while (node !== this.root) {
      const parent = path.pop()!;
      const children = node.children;
      if (node.at === NONE && (children === undefined || children.size === 0)) {
        parent.children!.delete(node.label.charCodeAt(0));
        node = parent;
        continue;
      }
      if (node.at === NONE && children!.size === 1) {
        const only = children!.values().next().value!;
        node.label += only.label;
        node.at = only.at;
        node.children = only.children;
      }
      return;
    }
  }
}

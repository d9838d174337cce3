/**
 * A consistent-hash ring (Karger et al. 1997, as ketama spreads memcached keys): each server owns
 * `pointsPerServer` pseudo-random points on a 32-bit circle, and a key goes to the owner of the first point at or
 * after its hash. Adding or removing a server moves exactly the keys of the arcs it gains or loses (about 1/N of
 * them) and no other: the other points do not move. Maglev (balancing/maglev.ts) balances better and looks up in
 * one read, but a rebuild also moves a few keys between servers that stay (paper §5.3); for a cache, every moved
 * key is a miss, and server lists are short, so a ring's exact minimal disruption and a binary search win.
 */
import { hash32 } from '../../balancing/hash.ts';

/** ketama's count: with 160 points a server's share is within about ±10% of 1/N. */
export const DEFAULT_POINTS_PER_SERVER = 160;

export class HashRing {
  readonly ids: readonly string[];
  /** Sorted ascending. */
  private readonly points: Uint32Array;
  /** owners[i]: index in ids of the server owning points[i]. */
  private readonly owners: Uint32Array;

  /** The ring depends only on the set of ids (not their order); duplicates count once. */
  constructor(ids: readonly string[], pointsPerServer = DEFAULT_POINTS_PER_SERVER) {
    this.ids = ids;
    const unique = [...new Set(ids)];
    const all: { point: number; id: string; index: number }[] = [];
    for (const id of unique) {
      const index = ids.indexOf(id);
      for (let p = 0; p < pointsPerServer; p++) all.push({ point: hash32(`${id}-${p}`), id, index });
    }
    // Ties (two servers hashing one point) are broken by id, so every instance builds the same ring.
    all.sort((a, b) => a.point - b.point || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    this.points = Uint32Array.from(all, (x) => x.point);
    this.owners = Uint32Array.from(all, (x) => x.index);
  }

  /** Index in ids of the server that owns the key; -1 when the ring is empty. */
  pick(key: string): number {
    const points = this.points;
    const n = points.length;
    if (n === 0) return -1;
    const h = hash32(key);
    // The first point >= h, wrapping to the first point past the top of the circle.
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (points[mid]! < h) lo = mid + 1;
      else hi = mid;
    }
    return this.owners[lo === n ? 0 : lo]!;
  }
}
